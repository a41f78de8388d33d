"""REST endpoints for work requests, approvals, engagements and cost centers."""

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from gigbridge import clock
from gigbridge.program import actions as program
from gigbridge.program.models import CostCenter

from . import actions, compliance, permissions
from .errors import RuleViolation
from .models import ApprovalStep, Engagement, WorkRequest
from .schemas import (
    ApprovalOut,
    CostCenterOut,
    DecisionIn,
    EngagementOut,
    EventOut,
    RequestFilter,
    RequestIn,
    RequestOut,
    RequestPatch,
    StepOut,
    TransitionIn,
)

requests_router = Router(tags=["requests"])
approvals_router = Router(tags=["approvals"])
engagements_router = Router(tags=["engagements"])
cost_centers_router = Router(tags=["program"])


def _username(user) -> str | None:
    return user.username if user else None


def step_out(step: ApprovalStep) -> StepOut:
    return StepOut(
        id=step.pk,
        round=step.round,
        stage=step.stage,
        role=step.role,
        rule_id=step.rule_id,
        policy_version=step.policy_version.number,
        state=step.state,
        assignee=_username(step.assignee),
        escalated_to=_username(step.escalated_to),
        decided_by=_username(step.decided_by),
        on_behalf_of=_username(step.decided_on_behalf_of),
        decided_at=step.decided_at,
        comment=step.comment,
    )


def request_out(req: WorkRequest) -> RequestOut:
    steps = req.steps.select_related(
        "policy_version", "assignee", "escalated_to", "decided_by", "decided_on_behalf_of"
    )
    engagement = Engagement.objects.filter(request=req).values_list("pk", flat=True).first()
    return RequestOut(
        id=req.pk,
        reference=req.reference,
        state=req.state,
        requester=req.requester.username,
        **{f: getattr(req, f) for f in actions.EDITABLE_FIELDS if f != "cost_center"},
        cost_center=req.cost_center.code,
        policy_version=req.policy_version.number if req.policy_version else None,
        submitted_at=req.submitted_at,
        decided_at=req.decided_at,
        created_at=req.created_at,
        engagement_id=engagement,
        steps=[step_out(s) for s in steps],
    )


def engagement_out(engagement: Engagement) -> EngagementOut:
    return EngagementOut(
        id=engagement.pk,
        reference=engagement.reference,
        state=engagement.state,
        request_id=engagement.request_id,
        request_reference=engagement.request.reference,
        title=engagement.request.title,
        freelancer=engagement.freelancer.email if engagement.freelancer else None,
        contract_start=engagement.contract_start,
        contract_end=engagement.contract_end,
        created_at=engagement.created_at,
        allowed_transitions=sorted(actions.ENGAGEMENT_TRANSITIONS[engagement.state]),
    )


def _cost_center(code: str) -> CostCenter:
    cost_center = CostCenter.objects.filter(code=code).first()
    if cost_center is None:
        raise RuleViolation(
            [actions.Problem("cost_center", f"unknown cost center {code!r}", "cost_centers")]
        )
    return cost_center


def _visible_request(request, request_id: int) -> WorkRequest:
    return get_object_or_404(permissions.visible_requests(request.user), pk=request_id)


# --- requests ------------------------------------------------------------------------------


@requests_router.get("", response=list[RequestOut], summary="Requests visible to me")
@paginate(LimitOffsetPagination)
def list_requests(request, filters: Query[RequestFilter], mine: bool = False):
    qs = filters.filter(permissions.visible_requests(request.user))
    if mine:
        qs = qs.filter(requester=request.user)
    return [request_out(r) for r in qs]


@requests_router.post("", response={201: RequestOut}, summary="Create a draft request")
def create_request(request, payload: RequestIn):
    data = payload.dict()
    data["cost_center"] = _cost_center(data["cost_center"])
    return Status(201, request_out(actions.create_request(request.user, data)))


@requests_router.get("/{request_id}", response=RequestOut)
def get_request(request, request_id: int):
    return request_out(_visible_request(request, request_id))


@requests_router.patch("/{request_id}", response=RequestOut, summary="Edit a draft")
def update_request(request, request_id: int, payload: RequestPatch):
    req = _visible_request(request, request_id)
    data = payload.dict(exclude_unset=True)
    if "cost_center" in data:
        data["cost_center"] = _cost_center(data["cost_center"])
    return request_out(actions.update_request(request.user, req, data))


@requests_router.post(
    "/{request_id}/submit",
    response=RequestOut,
    summary="Submit: the policy computes the approval chain",
)
def submit_request(request, request_id: int):
    req = _visible_request(request, request_id)
    return request_out(actions.submit_request(request.user, req))


@requests_router.post("/{request_id}/withdraw", response=RequestOut)
def withdraw_request(request, request_id: int):
    req = _visible_request(request, request_id)
    return request_out(actions.withdraw_request(request.user, req))


@requests_router.get("/{request_id}/timeline", response=list[EventOut])
def request_timeline(request, request_id: int):
    return list(actions.request_timeline(_visible_request(request, request_id)))


# --- approvals -----------------------------------------------------------------------------


@approvals_router.get("", response=list[ApprovalOut], summary="My approvals inbox")
@paginate(LimitOffsetPagination)
def inbox(request):
    steps = actions.inbox(request.user).select_related("policy_version")
    return [ApprovalOut(step=step_out(s), request=request_out(s.request)) for s in steps]


@approvals_router.post(
    "/{step_id}/decision",
    response=StepOut,
    summary="Approve, reject or request changes (with a comment)",
)
def decide(request, step_id: int, payload: DecisionIn):
    step = get_object_or_404(ApprovalStep, pk=step_id)
    step = actions.decide(request.user, step, payload.decision, payload.comment)
    return step_out(ApprovalStep.objects.select_related("policy_version").get(pk=step.pk))


# --- engagements ---------------------------------------------------------------------------


@engagements_router.get("", response=list[EngagementOut])
@paginate(LimitOffsetPagination)
def list_engagements(request, state: str | None = None):
    qs = permissions.visible_engagements(request.user)
    if state:
        qs = qs.filter(state=state)
    return [engagement_out(e) for e in qs]


@engagements_router.get("/{engagement_id}", response=EngagementOut)
def get_engagement(request, engagement_id: int):
    return engagement_out(
        get_object_or_404(permissions.visible_engagements(request.user), pk=engagement_id)
    )


@engagements_router.get("/{engagement_id}/timeline", response=list[EventOut])
def engagement_timeline(request, engagement_id: int):
    engagement = get_object_or_404(permissions.visible_engagements(request.user), pk=engagement_id)
    return list(actions.timeline(engagement))


@engagements_router.post(
    "/{engagement_id}/transitions",
    response=EngagementOut,
    summary="Move an engagement along its lifecycle (program admins)",
)
def transition(request, engagement_id: int, payload: TransitionIn):
    engagement = get_object_or_404(Engagement, pk=engagement_id)
    if not permissions.can_manage_engagements(request.user):
        raise HttpError(403, "only a program admin can change an engagement's state by hand")
    return engagement_out(
        actions.transition_engagement(
            request.user,
            engagement,
            payload.state,
            payload.reason,
            contract_start=payload.contract_start,
            contract_end=payload.contract_end,
        )
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
                currency=policy.program.currency,
            )
        )
    return rows
