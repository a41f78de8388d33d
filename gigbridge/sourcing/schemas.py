"""The API's shapes of the marketplace side (``/api/v1/engagements/{id}/marketplace`` and the
operations on proposals, milestones, hours and the contract's end)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from gigbridge import limits
from gigbridge.api.inputs import InputSchema

from .ending import REASONS


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
