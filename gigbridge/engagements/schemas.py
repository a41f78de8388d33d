"""API shapes of requests, approvals and engagements; the web forms validate the same fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, FilterSchema, Schema
from ninja.filter_schema import FilterLookup
from pydantic import ValidationInfo, create_model, field_validator
from pydantic_core import PydanticCustomError

from gigbridge import limits
from gigbridge.access.reach import kinds_described
from gigbridge.api.inputs import InputSchema
from gigbridge.program.policy import DATA_CLASSIFICATIONS

Pricing = Literal["fixed", "hourly"]
Classification = Literal[DATA_CLASSIFICATIONS]  # type: ignore[valid-type]
Sourcing = Literal["marketplace", "direct"]


class RequestIn(InputSchema):
    """A new request; every bound is in ``gigbridge.limits`` (the web form uses the same)."""

    title: limits.Title
    description: limits.Description
    deliverables: limits.Deliverables = Field(default_factory=list)
    skills: limits.Skills = Field(default_factory=list)
    task_category: limits.Code
    worker_category: limits.Code = "freelancer"
    cost_center: limits.Code = Field(description="cost center code, e.g. CC-MKT")
    pricing: Pricing
    budget: limits.Money
    currency: limits.Currency
    start_date: limits.PlanDate
    end_date: limits.PlanDate
    data_classification: Classification
    sourcing: Sourcing = "marketplace"
    freelancer_email: limits.Email = ""
    freelancer_country: limits.Country = ""
    workspace: limits.Name | None = Field(
        default=None,
        description="workspace name (see /workspaces: each one's `kind` and `guest_can_open`). "
        "What the freelancer will be able to open depends on the workspace's kind. "
        + kinds_described()
        + " Every workspace also shares its folder and Planner tasks until the contract ends "
        "plus the grace days. None: a guest account only.",
    )


def _partial(schema: type[Schema], name: str, nullable: set[str]) -> type[Schema]:
    """``schema`` with every field optional and the same bounds: what is left out stays as it
    is. An explicit ``null`` is refused by name, except for the ``nullable`` fields (defaults
    are not validated, so only a sent value meets the field's type)."""
    fields = {}
    for field, info in schema.model_fields.items():
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[field] = (kind, Field(default=None, description=info.description))

    def no_null(cls, value, info: ValidationInfo):
        if value is None and info.field_name not in nullable:
            raise PydanticCustomError(
                "null", "must not be null (leave the field out to keep its value)"
            )
        return value

    validator = field_validator("*", mode="before")(classmethod(no_null))
    return create_model(name, __base__=InputSchema, __validators__={"no_null": validator}, **fields)


# One schema for create and update: an edit has the same fields and bounds as RequestIn.
RequestPatch = _partial(RequestIn, "RequestPatch", nullable={"workspace"})


def _username(user) -> str | None:
    return user.username if user is not None else None


class StepOut(Schema):
    """Resolved from an ApprovalStep; select the related users and policy version with it."""

    id: int
    round: int
    stage: int
    role: str
    rule_id: str
    policy_version: int
    state: str
    assignee: str | None
    escalated_to: str | None
    decided_by: str | None
    on_behalf_of: str | None
    decided_at: dt.datetime | None
    comment: str

    @staticmethod
    def resolve_policy_version(step) -> int:
        return step.policy_version.number

    @staticmethod
    def resolve_assignee(step) -> str | None:
        return _username(step.assignee)

    @staticmethod
    def resolve_escalated_to(step) -> str | None:
        return _username(step.escalated_to)

    @staticmethod
    def resolve_decided_by(step) -> str | None:
        return _username(step.decided_by)

    @staticmethod
    def resolve_on_behalf_of(step) -> str | None:
        return _username(step.decided_on_behalf_of)


class RequestOut(Schema):
    """Resolved from a WorkRequest fetched with ``api.request_queryset`` (no query per row)."""

    id: int
    reference: str
    state: str
    requester: str
    title: str
    description: str
    deliverables: list[str]
    skills: list[str]
    task_category: str
    worker_category: str
    cost_center: str
    pricing: str
    budget: Decimal
    currency: str
    start_date: dt.date
    end_date: dt.date
    data_classification: str
    sourcing: str
    freelancer_email: str
    freelancer_country: str
    workspace: str | None
    policy_version: int | None
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    created_at: dt.datetime
    engagement_id: int | None
    steps: list[StepOut]

    @staticmethod
    def resolve_requester(request) -> str:
        return request.requester.username

    @staticmethod
    def resolve_cost_center(request) -> str:
        return request.cost_center.code

    @staticmethod
    def resolve_workspace(request) -> str | None:
        return request.workspace.name if request.workspace else None

    @staticmethod
    def resolve_policy_version(request) -> int | None:
        return request.policy_version.number if request.policy_version else None

    @staticmethod
    def resolve_engagement_id(request) -> int | None:
        engagement = getattr(request, "engagement", None)
        return engagement.pk if engagement is not None else None

    @staticmethod
    def resolve_steps(request) -> list:
        return list(request.steps.all())


class RequestFilter(FilterSchema):
    state: limits.Code | None = None
    cost_center: Annotated[limits.Code | None, FilterLookup("cost_center__code")] = None
    q: Annotated[
        limits.Search | None, FilterLookup(["title__icontains", "description__icontains"])
    ] = None


class DecisionIn(InputSchema):
    decision: Literal["approve", "reject", "request_changes"]
    comment: limits.Comment = ""


class ApprovalOut(Schema):
    """Resolved from an ApprovalStep: the step and its request."""

    step: StepOut
    request: RequestOut

    @staticmethod
    def resolve_step(step):
        return step


class EngagementOut(Schema):
    id: int
    reference: str
    state: str
    request_id: int
    request_reference: str
    title: str
    freelancer: str | None
    contract_start: dt.date | None
    contract_end: dt.date | None
    created_at: dt.datetime
    allowed_transitions: list[str]

    @staticmethod
    def resolve_request_reference(engagement) -> str:
        return engagement.request.reference

    @staticmethod
    def resolve_title(engagement) -> str:
        return engagement.request.title

    @staticmethod
    def resolve_freelancer(engagement) -> str | None:
        return engagement.freelancer.email if engagement.freelancer else None

    @staticmethod
    def resolve_allowed_transitions(engagement) -> list[str]:
        from .actions import ENGAGEMENT_TRANSITIONS

        return sorted(ENGAGEMENT_TRANSITIONS[engagement.state])


class ExpiringAgreementOut(Schema):
    id: int
    name: str
    signed_on: dt.date
    expires_on: dt.date


class EngagementDetailOut(EngagementOut):
    # The freelancer's required agreements that expire before the contract ends (renew them:
    # POST /agreements/send or POST /agreements).
    agreements_expiring: list[ExpiringAgreementOut]

    @staticmethod
    def resolve_agreements_expiring(engagement) -> list:
        from gigbridge.people.expiring import expiring_during

        return expiring_during(engagement)


class TransitionIn(InputSchema):
    state: limits.Code
    reason: limits.Reason = ""
    contract_start: limits.PlanDate | None = None
    contract_end: limits.PlanDate | None = None


class ChangeOut(Schema):
    field: str
    before: str
    after: str


class TimelineEventOut(Schema):
    seq: int
    created_at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    after: dict | None
    policy_version: int | None
    rule: str
    text: str = Field(
        description="The event as a sentence, names not ids "
        '("Paula Procurement approved WR-000001 as procurement")'
    )
    changes: list[ChangeOut] = Field(
        description="Only the fields that changed, before and after (long texts shortened)"
    )
    note: str = Field(description="The comment or reason given, if any")


class CostCenterOut(Schema):
    code: str
    name: str
    owner: str
    annual_budget: Decimal
    committed: Decimal
    available: Decimal
    actual: Decimal = Decimal("0")
    currency: str


class ProposalOut(Schema):
    id: int
    upwork_id: str
    freelancer_name: str
    freelancer_email: str
    profile_key: str
    profile_url: str
    country: str
    rate: Decimal | None
    cover_letter: str
    state: str
    shortlisted: bool
    picked: bool
    received_at: dt.datetime


class OfferOut(Schema):
    id: int
    upwork_id: str | None
    state: str
    contract_type: str
    amount: Decimal
    currency: str
    terms: dict
    error: str
    sent_at: dt.datetime | None


class MilestoneDecisionOut(Schema):
    """A decision on a milestone made in Gigbridge, and how telling Upwork went."""

    id: int
    kind: Literal["approve", "changes", "activate"]
    amount: Decimal | None = Field(description="what an approval pays, marketplace currency")
    currency: str
    comment: str
    by: str
    state: Literal["queued", "sent", "failed"] = Field(
        description="queued: Upwork is told soon; sent: Upwork has it (the next sync shows the "
        "milestone's state and payment); failed: Upwork refused, see error"
    )
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @staticmethod
    def resolve_by(decision) -> str:
        return decision.by.username


class MilestoneOut(Schema):
    id: int
    upwork_id: str
    sequence: int
    description: str
    amount: Decimal | None
    state: str
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    decisions: list[MilestoneDecisionOut] = Field(default_factory=list)

    @staticmethod
    def resolve_decisions(milestone) -> list:
        return list(milestone.decisions.all())


class WeekOut(Schema):
    """A week (Monday to Sunday) of hours, and the program's approval of it."""

    week_start: dt.date
    week_end: dt.date
    hours: Decimal
    amount: Decimal = Field(description="in the marketplace currency")
    ended: bool
    approved_by: str | None
    approved_at: dt.datetime | None
    comment: str

    @staticmethod
    def resolve_week_start(week) -> dt.date:
        return week.start

    @staticmethod
    def resolve_week_end(week) -> dt.date:
        return week.end

    @staticmethod
    def resolve_approved_by(week) -> str | None:
        return week.approval.approved_by.username if week.approval else None

    @staticmethod
    def resolve_approved_at(week) -> dt.datetime | None:
        return week.approval.approved_at if week.approval else None

    @staticmethod
    def resolve_comment(week) -> str:
        return week.approval.comment if week.approval else ""


class TimeEntryOut(Schema):
    date: dt.date
    hours: Decimal
    amount: Decimal


class PaymentOut(Schema):
    transaction_id: str
    kind: str
    amount: Decimal
    currency: str
    amount_program: Decimal = Field(description="what it counts against the budget")
    paid_at: dt.datetime


class MarketplaceOut(Schema):
    engagement_id: int
    organization_id: str
    job_posting_id: str
    posting_state: str
    contract_id: str
    contract_status: str
    last_error: str
    budget: Decimal
    currency: str
    spent: Decimal = Field(description="paid, in the budget's currency")
    marketplace_currency: str = Field(description="what offers and payments are made in")
    offer_limit: Decimal = Field(description="the approved budget in the marketplace currency")
    hours: Decimal
    approval_limit: Decimal = Field(
        description="the most milestone approvals may pay now, in the marketplace currency: "
        "what is left of the approved budget after payments and approvals on their way"
    )
    proposals: list[ProposalOut]
    offers: list[OfferOut]
    milestones: list[MilestoneOut]
    time_entries: list[TimeEntryOut]
    weeks: list[WeekOut] = Field(description="hours by week, newest first, with approvals")
    payments: list[PaymentOut]


class PickIn(InputSchema):
    """The bounds are limits.OFFER_FIELDS; marketplace.pick checks them again."""

    amount: limits.Money | None = Field(
        default=None, description="fixed price in USD; the approved budget when left out"
    )
    hourly_rate: limits.HourlyRate | None = Field(default=None, description="USD per hour")
    weekly_hours: limits.WeeklyHours | None = None
    message: limits.Comment = ""


class InviteIn(InputSchema):
    profile_key: limits.RequiredCode = Field(description="the freelancer's Upwork profile key")
    message: limits.Comment = ""


def _end_reasons():
    from gigbridge.sourcing.ending import REASONS

    return tuple(REASONS)


EndReason = Literal[_end_reasons()]  # type: ignore[valid-type]


class EndContractIn(InputSchema):
    """End the contract now; ``reason`` is one of the codes of ``sourcing.ending.REASONS``."""

    reason: EndReason = Field(description="why: " + ", ".join(_end_reasons()))
    feedback: limits.Comment = Field(default="", description="for the freelancer (optional)")


class MilestoneApproveIn(InputSchema):
    amount: limits.Money | None = Field(
        default=None,
        description="to pay, in USD (at most the milestone's amount and what is "
        "left of the budget); the milestone's amount when left out",
    )
    comment: limits.Comment = ""


class MilestoneChangesIn(InputSchema):
    comment: limits.RequiredComment = Field(description="what should change")


class MilestoneActivateIn(InputSchema):
    message: limits.Comment = ""


class WeekApproveIn(InputSchema):
    comment: limits.Comment = ""


class StartContractIn(InputSchema):
    """Start a direct hire's contract (engagements.direct); within the request's dates."""

    start: limits.PlanDate | None = Field(
        default=None, description="the first day (the request's start date when left out)"
    )
    end: limits.PlanDate | None = Field(
        default=None, description="the last day (the request's end date when left out)"
    )
