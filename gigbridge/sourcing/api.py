"""REST operations on an engagement's marketplace side, under /api/v1/engagements/{id}/ as
before sourcing became an app: the paths, and the operationIds they were published with
(ninja would derive new ones from this module's name), stay as they were."""

from django.shortcuts import get_object_or_404
from ninja import Router, Status

from gigbridge import limits
from gigbridge.engagements import permissions
from gigbridge.engagements.models import Engagement

from . import actions as marketplace
from . import ending, milestones
from .models import Milestone, Proposal
from .queries import marketplace_view
from .schemas import (
    EndContractIn,
    InviteIn,
    MarketplaceOut,
    MilestoneActivateIn,
    MilestoneApproveIn,
    MilestoneChangesIn,
    PickIn,
    WeekApproveIn,
)

router = Router(tags=["engagements"])


def _visible_engagement(request, engagement_id: int) -> Engagement:
    what = f"{request.method} {request.path}"  # the operation, as the security log names it
    return permissions.engagement_or_404(request.user, engagement_id, what)


@router.get(
    "/{engagement_id}/marketplace",
    response=MarketplaceOut,
    operation_id="gigbridge_engagements_api_get_marketplace",
)
def get_marketplace(request, engagement_id: int):
    engagement = _visible_engagement(request, engagement_id)
    return marketplace_view(engagement)


def _visible_proposal(request, engagement_id: int, proposal_id: int) -> Proposal:
    engagement = _visible_engagement(request, engagement_id)
    return get_object_or_404(Proposal, pk=proposal_id, engagement=engagement)


@router.post(
    "/{engagement_id}/proposals/{proposal_id}/shortlist",
    response=MarketplaceOut,
    summary="Shortlist a proposal (hiring manager or program admin)",
    operation_id="gigbridge_engagements_api_shortlist_proposal",
)
def shortlist_proposal(request, engagement_id: int, proposal_id: int):
    proposal = _visible_proposal(request, engagement_id, proposal_id)
    marketplace.shortlist(request.user, proposal)
    return marketplace_view(proposal.engagement)


@router.post(
    "/{engagement_id}/proposals/{proposal_id}/pick",
    response=MarketplaceOut,
    summary="Pick a proposal and send the offer with the approved terms",
    operation_id="gigbridge_engagements_api_pick_proposal",
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


@router.post(
    "/{engagement_id}/invite",
    response=MarketplaceOut,
    summary="Direct sourcing: invite",
    operation_id="gigbridge_engagements_api_invite",
)
def invite(request, engagement_id: int, payload: InviteIn):
    engagement = _visible_engagement(request, engagement_id)
    marketplace.invite(request.user, engagement, payload.profile_key, payload.message)
    return marketplace_view(engagement)


@router.post(
    "/{engagement_id}/post-job",
    response=MarketplaceOut,
    summary="Post the job on the marketplace",
    operation_id="gigbridge_engagements_api_post_job",
)
def post_job(request, engagement_id: int):
    engagement = _visible_engagement(request, engagement_id)
    marketplace.post_job(request.user, engagement)
    return marketplace_view(engagement)


@router.post(
    "/{engagement_id}/end",
    response={202: MarketplaceOut},
    summary="End the contract now (hiring manager or program admin); Upwork is told after",
    operation_id="gigbridge_engagements_api_end_contract",
)
def end_contract(request, engagement_id: int, payload: EndContractIn):
    engagement = _visible_engagement(request, engagement_id)
    ending.end_contract(request.user, engagement, payload.reason, payload.feedback)
    return Status(202, marketplace_view(engagement))


def _visible_milestone(request, engagement_id: int, milestone_id: int) -> Milestone:
    engagement = _visible_engagement(request, engagement_id)
    return get_object_or_404(Milestone, pk=milestone_id, engagement=engagement)


@router.post(
    "/{engagement_id}/milestones/{milestone_id}/approve",
    response={202: MarketplaceOut},
    summary="Approve submitted work and pay all or part of the milestone (hiring manager or "
    "program admin); Upwork is told soon after",
    operation_id="gigbridge_engagements_api_approve_milestone",
)
def approve_milestone(request, engagement_id: int, milestone_id: int, payload: MilestoneApproveIn):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.approve(request.user, milestone, payload.amount, payload.comment)
    return Status(202, marketplace_view(milestone.engagement))


@router.post(
    "/{engagement_id}/milestones/{milestone_id}/request-changes",
    response={202: MarketplaceOut},
    summary="Ask the freelancer for changes to submitted work (a comment is required)",
    operation_id="gigbridge_engagements_api_request_milestone_changes",
)
def request_milestone_changes(
    request, engagement_id: int, milestone_id: int, payload: MilestoneChangesIn
):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.request_changes(request.user, milestone, payload.comment)
    return Status(202, marketplace_view(milestone.engagement))


@router.post(
    "/{engagement_id}/milestones/{milestone_id}/activate",
    response={202: MarketplaceOut},
    summary="Fund the next milestone that is not funded yet",
    operation_id="gigbridge_engagements_api_activate_milestone",
)
def activate_milestone(
    request, engagement_id: int, milestone_id: int, payload: MilestoneActivateIn
):
    milestone = _visible_milestone(request, engagement_id, milestone_id)
    milestones.activate(request.user, milestone, payload.message)
    return Status(202, marketplace_view(milestone.engagement))


@router.post(
    "/{engagement_id}/hours/{week_start}/approve",
    response=MarketplaceOut,
    summary="Record the program's approval of a week of hours (week_start: its Monday); "
    "Upwork approves hours on its own and disputes are made there",
    operation_id="gigbridge_engagements_api_approve_week",
)
def approve_week(request, engagement_id: int, week_start: limits.PlanDate, payload: WeekApproveIn):
    engagement = _visible_engagement(request, engagement_id)
    milestones.approve_week(request.user, engagement, week_start, payload.comment)
    return marketplace_view(engagement)
