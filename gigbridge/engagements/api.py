"""REST endpoints for work requests, approvals, engagements and cost centers."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.pagination import paginate

from gigbridge import clock, limits
from gigbridge.api.pagination import Pagination
from gigbridge.audit.describe import describe_all
from gigbridge.program import actions as program
from gigbridge.program.models import CostCenter, Workspace
from gigbridge.sourcing import ending, marketplace, milestones
from gigbridge.sourcing.models import Milestone, MilestoneDecision, Proposal

from . import actions, compliance, direct, permissions
from .errors import Problem, RuleViolation
from .models import (
    ApprovalStep,
    Engagement,
    WorkRequest,
)
from .schemas import (
    ApprovalOut,
    CostCenterOut,
    DecisionIn,
    EndContractIn,
    EngagementDetailOut,
    EngagementOut,
    InviteIn,
    MarketplaceOut,
    MilestoneActivateIn,
    MilestoneApproveIn,
    MilestoneChangesIn,
    PickIn,
    RequestFilter,
    RequestIn,
    RequestOut,
    RequestPatch,
    StartContractIn,
    StepOut,
    TimelineEventOut,
    TransitionIn,
    WeekApproveIn,
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
    permissions.require(request.user, permissions.Capability.CREATE_REQUESTS, _what(request))
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
    permissions.require(
        request.user, permissions.Capability.MANAGE_ENGAGEMENTS, _what(request), engagement
    )
    return actions.transition_engagement(
        request.user,
        engagement,
        payload.state,
        payload.reason,
        contract_start=payload.contract_start,
        contract_end=payload.contract_end,
    )


def marketplace_view(engagement: Engagement) -> dict:
    """The engagement's marketplace side and spend (the web page shows the same)."""
    sourcing = getattr(engagement, "sourcing", None)
    entries = list(engagement.time_entries.all())
    budget = milestones.budget_left(engagement)
    return {
        "engagement_id": engagement.pk,
        "organization_id": sourcing.organization_id if sourcing else "",
        "job_posting_id": sourcing.job_posting_id if sourcing else "",
        "posting_state": sourcing.posting_state if sourcing else "none",
        "contract_id": sourcing.contract_id if sourcing else "",
        "contract_status": sourcing.contract_status if sourcing else "",
        "last_error": sourcing.last_error if sourcing else "",
        "budget": engagement.request.budget,
        "currency": engagement.request.currency,
        "spent": marketplace.spent(engagement),
        "marketplace_currency": marketplace.MARKETPLACE_CURRENCY,
        "offer_limit": marketplace.offer_limit(engagement.request),
        "hours": sum((e.hours for e in entries), Decimal("0")),
        "budget_left": budget,
        "approval_limit": budget.limit,
        "proposals": list(engagement.proposals.all()),
        "offers": list(engagement.offers.all()),
        "milestones": list(
            engagement.milestones.prefetch_related(
                Prefetch("decisions", queryset=MilestoneDecision.objects.select_related("by"))
            )
        ),
        "time_entries": entries,
        "weeks": milestones.weeks(engagement, entries),
        "payments": list(engagement.payments.all()),
    }


@engagements_router.get("/{engagement_id}/marketplace", response=MarketplaceOut)
def get_marketplace(request, engagement_id: int):
    engagement = _visible_engagement(request, engagement_id)
    return marketplace_view(engagement)


def _visible_proposal(request, engagement_id: int, proposal_id: int) -> Proposal:
    engagement = _visible_engagement(request, engagement_id)
    return get_object_or_404(Proposal, pk=proposal_id, engagement=engagement)


@engagements_router.post(
    "/{engagement_id}/proposals/{proposal_id}/shortlist",
    response=MarketplaceOut,
    summary="Shortlist a proposal (hiring manager or program admin)",
)
def shortlist_proposal(request, engagement_id: int, proposal_id: int):
    proposal = _visible_proposal(request, engagement_id, proposal_id)
    marketplace.shortlist(request.user, proposal)
    return marketplace_view(proposal.engagement)


@engagements_router.post(
    "/{engagement_id}/proposals/{proposal_id}/pick",
    response=MarketplaceOut,
    summary="Pick a proposal and send the offer with the approved terms",
)
def pick_proposal(request, engagement_id: int, proposal_id: int, payload: PickIn):
    proposal = _visible_proposal(request, engagement_id, proposal_id)
    marketplace.pick(
        request.user,
        proposal,
        amount=payload.amount,
        hourly_rate=payload.hourly_rate,
        weekly_hours=payload.weekly_hours,
        message=payload.message,
    )
    return marketplace_view(proposal.engagement)


@engagements_router.post(
    "/{engagement_id}/invite", response=MarketplaceOut, summary="Direct sourcing: invite"
)
def invite(request, engagement_id: int, payload: InviteIn):
    engagement = _visible_engagement(request, engagement_id)
    marketplace.invite(request.user, engagement, payload.profile_key, payload.message)
    return marketplace_view(engagement)


@engagements_router.post(
    "/{engagement_id}/post-job", response=MarketplaceOut, summary="Post the job on the marketplace"
)
def post_job(request, engagement_id: int):
    engagement = _visible_engagement(request, engagement_id)
    marketplace.post_job(request.user, engagement)
    return marketplace_view(engagement)


@engagements_router.post(
    "/{engagement_id}/end",
    response={202: MarketplaceOut},
    summary="End the contract now (hiring manager or program admin); Upwork is told after",
)
def end_contract(request, engagement_id: int, payload: EndContractIn):
    engagement = _visible_engagement(request, engagement_id)
    ending.end_contract(request.user, engagement, payload.reason, payload.feedback)
    return Status(202, marketplace_view(engagement))


# --- milestones and weekly hours (engagements.milestones) ---------------------------------


def _visible_milestone(request, engagement_id: int, milestone_id: int) -> Milestone:
    engagement = _visible_engagement(request, engagement_id)
    return get_object_or_404(Milestone, pk=milestone_id, engagement=engagement)


@engagements_router.post(
    "/{engagement_id}/milestones/{milestone_id}/approve",
    response={202: MarketplaceOut},
    summary="Approve submitted work and pay all or part of the milestone (hiring manager or "
    "program admin); Upwork is told soon after",
)
def approve_milestone(request, engagement_id: int, milestone_id: int, payload: MilestoneApproveIn):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.approve(request.user, milestone, payload.amount, payload.comment)
    return Status(202, marketplace_view(milestone.engagement))


@engagements_router.post(
    "/{engagement_id}/milestones/{milestone_id}/request-changes",
    response={202: MarketplaceOut},
    summary="Ask the freelancer for changes to submitted work (a comment is required)",
)
def request_milestone_changes(
    request, engagement_id: int, milestone_id: int, payload: MilestoneChangesIn
):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.request_changes(request.user, milestone, payload.comment)
    return Status(202, marketplace_view(milestone.engagement))


@engagements_router.post(
    "/{engagement_id}/milestones/{milestone_id}/activate",
    response={202: MarketplaceOut},
    summary="Fund the next milestone that is not funded yet",
)
def activate_milestone(
    request, engagement_id: int, milestone_id: int, payload: MilestoneActivateIn
):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.activate(request.user, milestone, payload.message)
    return Status(202, marketplace_view(milestone.engagement))


@engagements_router.post(
    "/{engagement_id}/hours/{week_start}/approve",
    response=MarketplaceOut,
    summary="Record the program's approval of a week of hours (week_start: its Monday); "
    "Upwork approves hours on its own and disputes are made there",
)
def approve_week(request, engagement_id: int, week_start: limits.PlanDate, payload: WeekApproveIn):
    engagement = _visible_engagement(request, engagement_id)
    milestones.approve_week(request.user, engagement, week_start, payload.comment)
    return marketplace_view(engagement)


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
