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
from gigbridge.api.inputs import InputSchema
from gigbridge.people.expiring import expiring_during
from gigbridge.program.policy import DATA_CLASSIFICATIONS
from gigbridge.program.reach import kinds_described

from .actions import ENGAGEMENT_TRANSITIONS

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


class StartContractIn(InputSchema):
    """Start a direct hire's contract (engagements.direct); within the request's dates."""

    start: limits.PlanDate | None = Field(
        default=None, description="the first day (the request's start date when left out)"
    )
    end: limits.PlanDate | None = Field(
        default=None, description="the last day (the request's end date when left out)"
    )
