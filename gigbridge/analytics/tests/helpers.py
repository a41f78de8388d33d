"""Building a small program through the real actions, on a pinned clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gigbridge import clock
from gigbridge.access.models import Grant
from gigbridge.engagements import actions, direct
from gigbridge.engagements.models import ApprovalStep, Engagement
from gigbridge.engagements.tests.test_approvals import new_request, pending
from gigbridge.sourcing.models import MarketplaceOffer, Payment, TimeEntry


def submit(people, who="rita", **overrides):
    return actions.submit_request(people[who], new_request(people[who], **overrides))


def approve_all(people, request):
    """Every pending step approved by a holder of its role (max is rita's manager)."""
    by_role = {"manager": "max", "procurement": "paula", "legal": "lena", "finance": "fiona"}
    while steps := pending(request):
        for step in steps:
            actions.decide(people[by_role[step.role]], step, "approve")
        request.refresh_from_db()
    return Engagement.objects.get(request=request)


def direct_hire(people, **overrides):
    overrides = {
        "sourcing": "direct",
        "freelancer_email": "freya@freelancers.example",
        "freelancer_country": "PT",
        **overrides,
    }
    return approve_all(people, submit(people, **overrides))


def start(people, engagement):
    return direct.start_contract(people["rita"], engagement)


def end(people, engagement):
    engagement.refresh_from_db()
    states = ("offboarding", "closed")
    if engagement.state == "contracted":
        states = ("active", *states)
    for state in states:
        engagement = actions.transition_engagement(people["ada"], engagement, state)
    return engagement


def pay(engagement, amount, currency="EUR", amount_program=None, when=None, tx=None):
    return Payment.objects.create(
        engagement=engagement,
        transaction_id=tx or f"tx-{Payment.objects.count() + 1}",
        contract_id="c-1",
        amount=Decimal(amount),
        currency=currency,
        amount_program=Decimal(amount_program if amount_program is not None else amount),
        paid_at=when or clock.now(),
    )


def log_hours(engagement, day: dt.date, hours):
    return TimeEntry.objects.create(
        engagement=engagement,
        contract_id=f"c-{engagement.pk}",
        date=day,
        hours=Decimal(hours),
        amount=Decimal(hours) * 50,
        synced_at=clock.now(),
    )


def accepted_offer(engagement, amount, currency="USD"):
    return MarketplaceOffer.objects.create(
        engagement=engagement,
        state=MarketplaceOffer.State.ACCEPTED,
        contract_type="FIXED_PRICE",
        amount=Decimal(amount),
        currency=currency,
        created_at=clock.now(),
        answered_at=clock.now(),
    )


def grant(engagement, kind, when=None, target="t"):
    return Grant.objects.create(
        engagement=engagement,
        kind=kind,
        target=target,
        principal="freya@freelancers.example",
        reason="test",
        applied_at=when or clock.now(),
    )


def decided_steps(request):
    return list(request.steps.exclude(decided_at=None).order_by("id"))


__all__ = ["ApprovalStep", "pending"]
