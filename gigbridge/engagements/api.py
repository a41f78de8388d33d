"""REST endpoints for work requests, approvals, engagements and cost centers."""

from django.db.models import Prefetch, QuerySet
from ninja import Query, Router, Status
from ninja.pagination import paginate

from gigbridge import clock, limits
from gigbridge.api.pagination import Pagination
from gigbridge.audit.describe import describe_all
from gigbridge.domainerrors import Problem, RuleViolation
from gigbridge.people import capabilities
from gigbridge.program import actions as program
from gigbridge.program.models import CostCenter, Workspace
from gigbridge.sourcing import actions as marketplace

from . import actions, compliance, direct, permissions
from .models import (
    ApprovalStep,
    Engagement,
    WorkRequest,
)
from .schemas import (
    ApprovalOut,
    CostCenterOut,
    DecisionIn,
    EngagementDetailOut,
    EngagementOut,
    RequestFilter,
    RequestIn,
    RequestOut,
    RequestPatch,
    StartContractIn,
    StepOut,
    TimelineEventOut,
    TransitionIn,
)

requests_router = Router(tags=["requests"])
approvals_router = Router(tags=["approvals"])
engagements_router = Router(tags=["engagements"])
cost_centers_router = Router(tags=["program"])


STEP_RELATED = ["policy_version", "assignee", "escalated_to", "decided_by", "decided_on_behalf_of"]


def with_details(requests: QuerySet) -> QuerySet:
    """Everything RequestOut shows, fetched in a fixed number of queries per page."""
    return requests.select_related(
        "requester", "cost_center", "policy_version", "engagement", "workspace"
    ).prefetch_related(
        Prefetch("steps", queryset=ApprovalStep.objects.select_related(*STEP_RELATED))
    )


def detailed_request(request_id: int) -> WorkRequest:
    return with_details(WorkRequest.objects.filter(pk=request_id)).get()


def _cost_center(code: str) -> CostCenter:
    cost_center = CostCenter.objects.filter(code=code).first()
    if cost_center is None:
        raise RuleViolation(
            [Problem("cost_center", f"unknown cost center {code!r}", "cost_centers")]
        )
    return cost_center


def _workspace(name: str | None):
    if not name:
        return None
    workspace = Workspace.objects.filter(name=name).first()
    if workspace is None:
        raise RuleViolation([Problem("workspace", f"unknown workspace {name!r}")])
    return workspace


def _what(request) -> str:
    """The operation, as the security log names it."""
    return f"{request.method} {request.path}"


def _visible_request(request, request_id: int) -> WorkRequest:
    return permissions.request_or_404(request.user, request_id, _what(request))


def _visible_engagement(request, engagement_id: int) -> Engagement:
    return permissions.engagement_or_404(request.user, engagement_id, _what(request))


# --- requests ------------------------------------------------------------------------------


@requests_router.get("", response=list[RequestOut], summary="Requests visible to me")
@paginate(Pagination)
def list_requests(request, filters: Query[RequestFilter], mine: bool = False):
    qs = filters.filter(permissions.visible_requests(request.user))
    if mine:
        qs = qs.filter(requester=request.user)
    return with_details(qs)


@requests_router.post("", response={201: RequestOut}, summary="Create a draft request")
def create_request(request, payload: RequestIn):
    capabilities.require(request.user, capabilities.Capability.CREATE_REQUESTS, _what(request))
    data = payload.dict()
    data["cost_center"] = _cost_center(data["cost_center"])
    data["workspace"] = _workspace(data.get("workspace"))
    return Status(201, detailed_request(actions.create_request(request.user, data).pk))


@requests_router.get("/{request_id}", response=RequestOut)
def get_request(request, request_id: int):
    return detailed_request(_visible_request(request, request_id).pk)


@requests_router.patch("/{request_id}", response=RequestOut, summary="Edit a draft")
def update_request(request, request_id: int, payload: RequestPatch):
    req = _visible_request(request, request_id)
    data = payload.dict(exclude_unset=True)
    if "cost_center" in data:
        data["cost_center"] = _cost_center(data["cost_center"])
    if "workspace" in data:
        data["workspace"] = _workspace(data["workspace"])
    return detailed_request(actions.update_request(request.user, req, data).pk)


@requests_router.post(
    "/{request_id}/submit",
    response=RequestOut,
    summary="Submit: the policy computes the approval chain",
)
def submit_request(request, request_id: int):
    req = _visible_request(request, request_id)
    return detailed_request(actions.submit_request(request.user, req).pk)


@requests_router.post("/{request_id}/withdraw", response=RequestOut)
def withdraw_request(request, request_id: int):
    req = _visible_request(request, request_id)
    return detailed_request(actions.withdraw_request(request.user, req).pk)


@requests_router.get("/{request_id}/timeline", response=list[TimelineEventOut])
def request_timeline(request, request_id: int):
    return describe_all(actions.request_timeline(_visible_request(request, request_id)))


# --- approvals -----------------------------------------------------------------------------


@approvals_router.get("", response=list[ApprovalOut], summary="My approvals inbox")
@paginate(Pagination)
def inbox(request):
    # Few joins: PostgreSQL spends longer planning a ten-table join than running it, so the
    # (mostly empty) related rows come by prefetch instead.
    return actions.inbox(request.user).prefetch_related(
        *STEP_RELATED,
        "request__policy_version",
        "request__engagement",
        Prefetch("request__steps", queryset=ApprovalStep.objects.select_related(*STEP_RELATED)),
    )


@approvals_router.post(
    "/{step_id}/decision",
    response=StepOut,
    summary="Approve, reject or request changes (with a comment)",
)
def decide(request, step_id: int, payload: DecisionIn):
    step = permissions.step_or_404(request.user, step_id, _what(request))
    step = actions.decide(request.user, step, payload.decision, payload.comment)
    return ApprovalStep.objects.select_related(*STEP_RELATED).get(pk=step.pk)


# --- engagements ---------------------------------------------------------------------------


@engagements_router.get("", response=list[EngagementOut])
@paginate(Pagination)
def list_engagements(request, state: limits.Code | None = None):
    qs = permissions.visible_engagements(request.user)
    if state:
        qs = qs.filter(state=state)
    return qs


@engagements_router.get("/{engagement_id}", response=EngagementDetailOut)
def get_engagement(request, engagement_id: int):
    return _visible_engagement(request, engagement_id)


@engagements_router.get("/{engagement_id}/timeline", response=list[TimelineEventOut])
def engagement_timeline(request, engagement_id: int):
    engagement = _visible_engagement(request, engagement_id)
    return describe_all(actions.timeline(engagement))


@engagements_router.post(
    "/{engagement_id}/transitions",
    response=EngagementOut,
    summary="Move an engagement along its lifecycle (program admins)",
)
def transition(request, engagement_id: int, payload: TransitionIn):
    engagement = _visible_engagement(request, engagement_id)
    capabilities.require(
        request.user, capabilities.Capability.MANAGE_ENGAGEMENTS, _what(request), engagement
    )
    return actions.transition_engagement(
        request.user,
        engagement,
        payload.state,
        payload.reason,
        contract_start=payload.contract_start,
        contract_end=payload.contract_end,
    )


# --- cost centers --------------------------------------------------------------------------


@cost_centers_router.get(
    "", response=list[CostCenterOut], summary="Cost centers with budget committed this fiscal year"
)
def list_cost_centers(request):
    return cost_center_rows()


def cost_center_rows(today=None) -> list[CostCenterOut]:
    _, policy = program.current()
    today = today or clock.today()
    rows = []
    for cc in CostCenter.objects.filter(active=True):
        used = compliance.committed(cc, policy, today)
        rows.append(
            CostCenterOut(
                code=cc.code,
                name=cc.name,
                owner=cc.owner_email,
                annual_budget=cc.annual_budget,
                committed=used,
                available=cc.annual_budget - used,
                actual=marketplace.cost_center_actual(cc, policy, today),
                currency=policy.program.currency,
            )
        )
    return rows


# --- a direct hire's contract (engagements.direct) ------------------------------------------


@engagements_router.post(
    "/{engagement_id}/start",
    response=EngagementOut,
    summary="Start a direct hire's contract (hiring manager or program admin): contracted, "
    "active at once if it starts today or earlier, else on its start day",
)
def start_contract(request, engagement_id: int, payload: StartContractIn):
    engagement = _visible_engagement(request, engagement_id)
    return direct.start_contract(request.user, engagement, payload.start, payload.end)
