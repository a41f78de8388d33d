"""One request's facts, computed from the source tables, and what they contribute to the
rollups. ``rebuild`` computes the same with set-based SQL; docs/analytics.md defines each field.

A contribution is a dict {(rollup model, key tuple): {measure: value}}. The facts' own
contributions (request, decision, contract, access, end) are a function of the fact row only,
so the difference between the old and the new row is what a change moves. Payments, hours,
approval steps and refusals are rows of their own and contribute on their own
(``event_cells``), in the month of each row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min, Sum

from gigbridge.access.models import Grant
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.program import actions as program
from gigbridge.program.policy import UnknownCurrency
from gigbridge.sourcing.models import ContractEnd, MarketplaceOffer, Payment, TimeEntry

from .models import Adoption, ApprovalCycle, Country, MonthlyCube, Refusal, RequestFact
from .periods import month_of, seconds_between

# The audit actions that date an engagement's contract and a cancellation.
CONTRACT_ACTIONS = ("engagement.contracted", "engagement.active")
CANCEL_ACTION = "engagement.cancelled"
REFUSAL_ACTION = "compliance.refused"
# The grants that make up a freelancer's Microsoft 365 access (mails and notes are not access).
ACCESS_KINDS = (
    Grant.Kind.GUEST,
    Grant.Kind.TEAM_MEMBER,
    Grant.Kind.CHANNEL_MEMBER,
    Grant.Kind.FOLDER_SHARE,
)
ENDED_STATES = (
    Engagement.State.OFFBOARDING,
    Engagement.State.CLOSED,
    Engagement.State.CANCELLED,
)
DECIDED_STEP_STATES = (
    ApprovalStep.State.APPROVED,
    ApprovalStep.State.REJECTED,
    ApprovalStep.State.CHANGES_REQUESTED,
)
DIMENSIONS = ("cost_center_id", "task_category", "team_key")


def cents(amount) -> int:
    return int((Decimal(amount) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def centi(hours) -> int:
    return cents(hours)


def dims(fact: RequestFact) -> tuple:
    return tuple(getattr(fact, name) for name in DIMENSIONS)


def compute(request_id: int) -> RequestFact | None:
    """The request's facts now, from the source tables (None when the request is gone)."""
    request = WorkRequest.objects.filter(pk=request_id).first()
    if request is None:
        return None
    fact = RequestFact(
        request_id=request.pk,
        cost_center_id=request.cost_center_id,
        task_category=request.task_category,
        team_key=request.workspace_id or 0,
        requester_id=request.requester_id,
        freelancer_country=request.freelancer_country or "",
        created_at=request.created_at,
        submitted_at=request.submitted_at,
        request_state=request.state,
        budget_cents=cents(request.budget),
    )
    if request.state in (WorkRequest.State.APPROVED, WorkRequest.State.REJECTED):
        fact.decided_at = request.decided_at
    if request.state == WorkRequest.State.WITHDRAWN and request.submitted_at:
        fact.withdrawn_at = request.updated_at  # withdrawn is final: nothing updates it again
    engagement = (
        Engagement.objects.filter(request_id=request.pk).select_related("freelancer").first()
    )
    if engagement is not None:
        _engagement_facts(fact, request, engagement)
    return fact


def _engagement_facts(fact: RequestFact, request: WorkRequest, engagement: Engagement) -> None:
    fact.engagement_id = engagement.pk
    fact.engagement_state = engagement.state
    fact.contract_start, fact.contract_end = engagement.contract_start, engagement.contract_end
    if engagement.freelancer is not None:
        fact.freelancer_id = engagement.freelancer_id
        fact.freelancer_country = engagement.freelancer.country or fact.freelancer_country
    events = AuditEvent.objects.filter(object_type="engagement", object_id=str(engagement.pk))
    fact.contracted_at = events.filter(action__in=CONTRACT_ACTIONS).aggregate(at=Min("created_at"))[
        "at"
    ]
    if fact.contracted_at is None and engagement.state == Engagement.State.CANCELLED:
        fact.cancelled_at = events.filter(action=CANCEL_ACTION).aggregate(at=Min("created_at"))[
            "at"
        ]
    fact.paid_cents = cents(
        Payment.objects.filter(engagement=engagement).aggregate(s=Sum("amount_program"))["s"] or 0
    )
    fact.hours_centi = centi(
        TimeEntry.objects.filter(engagement=engagement).aggregate(s=Sum("hours"))["s"] or 0
    )
    if fact.contracted_at is None:
        return
    fact.committed_cents = _committed_cents(engagement, fact)
    if engagement.state in ENDED_STATES:
        ending = ContractEnd.objects.filter(engagement=engagement).first()
        fact.ended_on = ending.ended_on if ending else engagement.contract_end
        if fact.contract_start is None:
            fact.ended_on = None  # no length without a start
    if fact.ended_on is None:
        fact.outstanding_cents = max(fact.committed_cents - fact.paid_cents, 0)
    firsts = dict(
        Grant.objects.filter(engagement=engagement, kind__in=ACCESS_KINDS)
        .values("kind")
        .annotate(first=Min("applied_at"))
        .values_list("kind", "first")
    )
    if Grant.Kind.GUEST in firsts:
        fact.access_ready_at = max(firsts.values())
    if fact.freelancer_id is not None:
        fact.repeat_hire = (
            RequestFact.objects.filter(
                freelancer_id=fact.freelancer_id, contracted_at__isnull=False
            )
            .exclude(request_id=fact.request_id)
            .filter(
                models_q_earlier(fact.contracted_at, fact.request_id),
            )
            .exists()
        )


def models_q_earlier(at: dt.datetime, request_id: int):
    from django.db.models import Q

    return Q(contracted_at__lt=at) | Q(contracted_at=at, request_id__lt=request_id)


def _committed_cents(engagement: Engagement, fact: RequestFact) -> int:
    """The accepted offer's amount in the program currency (the latest accepted, converted at
    the policy's rate), or the request's budget (a direct hire, or no accepted offer)."""
    offer = (
        MarketplaceOffer.objects.filter(
            engagement=engagement, state=MarketplaceOffer.State.ACCEPTED
        )
        .order_by("-id")
        .first()
    )
    if offer is None:
        return fact.budget_cents
    try:
        return cents(program.current()[1].to_program_currency(offer.amount, offer.currency))
    except (UnknownCurrency, program.NoPolicyError):
        return fact.budget_cents


# --- contributions -------------------------------------------------------------------------


def fact_cells(fact: RequestFact | None) -> dict:
    """What one request's facts add to the rollups, each in the month of its event."""
    cells: dict = defaultdict(lambda: defaultdict(int))
    if fact is None:
        return cells
    key = dims(fact)

    def cube(when, **measures):
        month = month_of(when)
        if month is not None:
            for name, value in measures.items():
                cells[(MonthlyCube, (month, *key))][name] += value

    cube(fact.created_at, created=1)
    if fact.submitted_at:
        cube(fact.submitted_at, submitted=1)
        cells[(Adoption, (month_of(fact.submitted_at), fact.requester_id, *key))]["requests"] += 1
    if fact.decided_at and fact.submitted_at:
        outcome = "approved" if fact.request_state == WorkRequest.State.APPROVED else "rejected"
        cube(
            fact.decided_at,
            **{outcome: 1},
            decision_seconds=seconds_between(fact.submitted_at, fact.decided_at),
        )
    if fact.withdrawn_at:
        cube(fact.withdrawn_at, withdrawn=1)
    if fact.cancelled_at:
        cube(fact.cancelled_at, cancelled=1)
    if fact.contracted_at:
        cube(
            fact.contracted_at,
            engaged=1,
            engage_seconds=seconds_between(
                fact.submitted_at or fact.created_at, fact.contracted_at
            ),
            committed_cents=fact.committed_cents,
            engaged_paid_cents=fact.paid_cents,
            outstanding_cents=fact.outstanding_cents,
            repeat_hires=int(fact.repeat_hire),
        )
        country_key = (month_of(fact.contracted_at), *key, fact.freelancer_country or "")
        cells[(Country, country_key)]["engagements"] += 1
        if fact.access_ready_at:
            cube(
                fact.access_ready_at,
                access_ready=1,
                access_seconds=seconds_between(fact.contracted_at, fact.access_ready_at),
            )
        if fact.ended_on and fact.contract_start:
            cube(
                fact.ended_on,
                ended=1,
                duration_days=(fact.ended_on - fact.contract_start).days + 1,
            )
    return cells


def payment_cells(payment: Payment, key: tuple) -> dict:
    return {
        (MonthlyCube, (month_of(payment.paid_at), *key)): {
            "paid_cents": cents(payment.amount_program)
        }
    }


def time_cells(entry: TimeEntry, key: tuple) -> dict:
    return {(MonthlyCube, (month_of(entry.date), *key)): {"hours_centi": centi(entry.hours)}}


def step_cells(step: ApprovalStep, key: tuple) -> dict:
    if step.state not in DECIDED_STEP_STATES or not step.decided_at or not step.activated_at:
        return {}
    cell = (ApprovalCycle, (month_of(step.decided_at), *key, step.stage, step.role))
    return {cell: {"decisions": 1, "seconds": seconds_between(step.activated_at, step.decided_at)}}


def refusal_cells(event: AuditEvent, key: tuple) -> dict:
    return {(Refusal, (month_of(event.created_at), *key, event.rule)): {"refusals": 1}}


def event_cells(fact: RequestFact) -> dict:
    """Everything the request's own event rows (payments, hours, decided approval steps,
    refusals) contribute under its dimensions: what moves when a draft changes them."""
    key = dims(fact)
    cells: dict = {}
    rows = [step_cells(s, key) for s in ApprovalStep.objects.filter(request_id=fact.request_id)]
    rows += [
        refusal_cells(e, key)
        for e in AuditEvent.objects.filter(
            object_type="workrequest", object_id=str(fact.request_id), action=REFUSAL_ACTION
        )
    ]
    if fact.engagement_id:
        rows += [
            payment_cells(p, key) for p in Payment.objects.filter(engagement_id=fact.engagement_id)
        ]
        rows += [
            time_cells(t, key) for t in TimeEntry.objects.filter(engagement_id=fact.engagement_id)
        ]
    for contribution in rows:
        add(cells, contribution)
    return cells


def add(total: dict, more: dict, sign: int = 1) -> dict:
    for cell, values in more.items():
        target = total.setdefault(cell, {})
        for name, value in values.items():
            target[name] = target.get(name, 0) + sign * value
    return total
