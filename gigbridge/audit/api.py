import datetime as dt

from ninja import Field, FilterSchema, Query, Router, Schema
from ninja.pagination import paginate

from gigbridge import limits
from gigbridge.api.pagination import Pagination
from gigbridge.people.capabilities import Capability, require

from .actions import verify
from .models import AuditEvent

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    seq: int
    created_at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict | None
    after: dict | None
    policy_version: int | None
    rule: str
    hash: str


class EventFilter(FilterSchema):
    action: limits.Code | None = None
    object_type: limits.Code | None = None
    object_id: limits.Code | None = None
    actor: limits.Name | None = None


class VerifyOut(Schema):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str = Field(description="the first problem found (empty when intact)")
    problems: list[str] = Field(description="every problem found: chain and checkpoints")
    checkpoints: int = Field(description="signed checkpoints the chain was compared with")


def _require_auditor(request):
    require(request.user, Capability.READ_AUDIT, f"{request.method} {request.path}")


@router.get("/events", response=list[AuditEventOut], summary="Audit events, oldest first")
@paginate(Pagination)
def events(request, filters: Query[EventFilter]):
    _require_auditor(request)
    return filters.filter(AuditEvent.objects.all())


@router.get("/verify", response=VerifyOut, summary="Verify the hash chain")
def verify_chain(request):
    _require_auditor(request)
    result = verify()
    return VerifyOut(
        ok=result.ok,
        checked=result.checked,
        broken_seq=result.broken_seq,
        reason=result.reason,
        problems=result.problems,
        checkpoints=result.checkpoints,
    )
