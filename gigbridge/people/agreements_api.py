"""REST endpoints for agreements (NDA, MSA, ...) workers signed: list, record, revoke, and the
signed copy (evidence) uploaded and downloaded."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from gigbridge import clock, limits
from gigbridge.api.inputs import InputSchema
from gigbridge.api.pagination import Pagination
from gigbridge.people.capabilities import Capability, require

from . import actions, evidence
from .models import Agreement

router = Router(tags=["agreements"])


class AgreementOut(Schema):
    id: int
    email: str = Field(alias="person.email")
    person_name: str = Field(alias="person.display_name")
    name: str
    signed_on: dt.date
    expires_on: dt.date | None
    state: str  # signed, expired, revoked
    source: str
    evidence_url: str
    # The uploaded copy, if any (GET /agreements/{id}/evidence): its name and SHA-256.
    evidence_file: str = Field(alias="evidence_file_name")
    evidence_sha256: str
    recorded_by: str = Field(alias="recorded_by_label")
    recorded_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str = Field(alias="revoked_by_label")
    revoke_reason: str

    @staticmethod
    def resolve_state(a: Agreement) -> str:
        if a.revoked_at is not None:
            return "revoked"
        if a.expires_on is not None and a.expires_on < clock.today():
            return "expired"
        return "signed"


class AgreementIn(InputSchema):
    email: limits.Email
    name: limits.AgreementName
    signed_on: limits.PlanDate
    expires_on: limits.PlanDate | None = None
    evidence_url: limits.Url = ""
    display_name: limits.Name = ""  # for a freelancer Gigbridge does not know yet


class SendIn(InputSchema):
    email: limits.Email
    names: list[limits.AgreementName] = Field(default=[], max_length=50)  # default: missing
    display_name: limits.Name = ""


class SentOut(Schema):
    email: str
    names: list[str]
    expires_at: dt.datetime


class RevokeIn(InputSchema):
    reason: limits.RequiredReason


class AgreementFilter(Schema):
    email: limits.Search | None = None
    name: limits.Code | None = None
    include_revoked: bool = False


@router.get(
    "",
    response=list[AgreementOut],
    summary="Agreements workers signed (legal, HR, program admins, auditors)",
)
@paginate(Pagination)
def list_agreements(request, filters: Query[AgreementFilter]):
    require(request.user, Capability.VIEW_AGREEMENTS, f"{request.method} {request.path}")
    qs = Agreement.objects.select_related("person")
    if filters.email:
        qs = qs.filter(person__email__iexact=filters.email.strip())
    if filters.name:
        qs = qs.filter(name=filters.name)
    if not filters.include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs


@router.post(
    "",
    response={201: AgreementOut},
    summary="Record an agreement signed elsewhere (legal, HR, program admins)",
)
def record_agreement(request, payload: AgreementIn):
    require(request.user, Capability.RECORD_AGREEMENTS, f"{request.method} {request.path}")
    agreement = actions.record_agreement(request.user, **payload.dict())
    return Status(201, agreement)


@router.post(
    "/send",
    response={202: SentOut},
    summary="Mail a freelancer a single-use link to sign agreements (legal, HR, admins, "
    "hiring managers)",
)
def send_for_signature(request, payload: SendIn):
    require(request.user, Capability.SEND_FOR_SIGNATURE, f"{request.method} {request.path}")
    link = actions.send_for_signature(
        request.user,
        email=payload.email,
        names=list(payload.names) or None,
        display_name=payload.display_name,
    )
    return Status(
        202, SentOut(email=link.person.email, names=link.names, expires_at=link.expires_at)
    )


@router.post(
    "/{agreement_id}/revoke",
    response=AgreementOut,
    summary="Revoke an agreement; compliance then counts it as missing (legal, HR, admins)",
)
def revoke_agreement(request, agreement_id: int, payload: RevokeIn):
    require(request.user, Capability.RECORD_AGREEMENTS, f"{request.method} {request.path}")
    agreement = get_object_or_404(Agreement.objects.select_related("person"), pk=agreement_id)
    return actions.revoke_agreement(request.user, agreement, payload.reason)


EVIDENCE_TYPES = ", ".join(limits.EVIDENCE_FILE_TYPES)
EVIDENCE_MIB = limits.EVIDENCE_FILE_MAX // (1024 * 1024)


@router.post(
    "/{agreement_id}/evidence",
    response=AgreementOut,
    summary="Upload the signed copy of an agreement in force (legal, HR, program admins)",
    description=f"multipart/form-data with the file in `evidence_file`: a {EVIDENCE_TYPES} file "
    f"of at most {EVIDENCE_MIB} MiB. It replaces an earlier copy (the audit trail keeps both "
    "SHA-256s). A revoked agreement takes no evidence (409): record it again.",
)
def upload_evidence(request, agreement_id: int, evidence_file: File[UploadedFile]):
    require(request.user, Capability.RECORD_AGREEMENTS, f"{request.method} {request.path}")
    agreement = get_object_or_404(Agreement.objects.select_related("person"), pk=agreement_id)
    return actions.attach_evidence(request.user, agreement, evidence_file)


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/{agreement_id}/evidence",
    summary="Download the signed copy of an agreement (legal, HR, program admins, auditors)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The uploaded file, as an attachment",
                "content": dict.fromkeys(sorted(set(evidence.CONTENT_TYPES.values())), _BINARY),
            }
        }
    },
)
def download_evidence(request, agreement_id: int):
    require(request.user, Capability.VIEW_AGREEMENTS, f"{request.method} {request.path}")
    return evidence.download(get_object_or_404(Agreement, pk=agreement_id))
