"""Finishing a contract's work from Gigbridge, against the real sandbox marketplace (Upwork).

A fixed-price contract: the freelancer submits the first milestone; the hiring manager approves
part of it in Gigbridge, the job tells Upwork, the next sync brings the payment (spend, in the
budget's currency). A second milestone is funded from Gigbridge, submitted, sent back for
changes (active again on the marketplace), submitted anew and paid up to what is left of the
budget. An hourly contract: a week of hours that has ended is approved in Gigbridge, once.
Time passes by moving the sandbox clock and the product's clock together, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, RuleViolation
from gigbridge.engagements.models import Engagement
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import milestones
from gigbridge.sourcing.models import MilestoneDecision, Payment

from .conftest import run_jobs
from .marketplace_story import (
    DAY,
    HOUR,
    SUBMITTED_WITHIN,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

CONTRACT_MILESTONES = """query($id: String!) { contractDetails(id: $id) { offer { milestones {
  id state description } } } }"""


def contracted(people, market, **terms) -> Engagement:
    """rita's approved request, posted, a proposal picked, the offer accepted on Upwork."""
    engagement = sourced_and_posted(people, market, **terms.pop("request", {}))
    proposals_arrive(market, engagement)
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)
    marketplace.pick(people["rita"], chosen, **terms)
    run_jobs(marketplace.OFFER_JOB)
    market.advance(7 * HOUR)  # the freelancer accepts within hours
    pass_of_sync(market)
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    return engagement


def on_marketplace(market, engagement) -> dict[str, str]:
    """Each milestone's state as the marketplace itself has it, by description."""
    found = market.graphql(CONTRACT_MILESTONES, {"id": engagement.sourcing.contract_id})
    return {m["description"]: m["state"] for m in found["contractDetails"]["offer"]["milestones"]}


def test_milestones_are_paid_in_part_sent_back_and_funded_from_gigbridge(people, market):
    rita = people["rita"]
    engagement = contracted(people, market, amount=Decimal("3000.00"))  # 4000 EUR approved

    # The first milestone is funded on acceptance and submitted within days: rita is told.
    market.advance(SUBMITTED_WITHIN)
    pass_of_sync(market)
    design = engagement.milestones.get()
    assert (design.state, design.amount) == ("SUBMITTED", Decimal("3000.00"))
    [mail] = OutboxJob.objects.filter(payload__template="milestone_submitted")
    assert mail.payload["context"]["milestone_id"] == design.pk

    # Approved in part, in Gigbridge; more than the milestone, or twice, is refused.
    with pytest.raises(RuleViolation, match="more than the milestone's 3,000.00 USD"):
        milestones.approve(rita, design, Decimal("3000.01"))
    decision = milestones.approve(rita, design, Decimal("2000.00"), "Two of three concepts used")
    with pytest.raises(InvalidTransition, match="approved already"):
        milestones.approve(rita, design, Decimal("2000.00"))
    run_jobs(milestones.DECISION_JOB)
    decision.refresh_from_db()
    assert decision.state == MilestoneDecision.State.SENT, decision.error
    assert on_marketplace(market, engagement)[design.description] == "PAID"

    # The next pass brings the payment of the part approved: spend, at the policy's rate.
    market.advance(HOUR)
    assert pass_of_sync(market)["payments"] == 1
    payment = Payment.objects.get(engagement=engagement)
    assert (payment.amount, payment.currency, payment.kind) == (
        Decimal("2000.00"),
        "USD",
        "Fixed Price",
    )
    assert payment.amount_program == marketplace.spent(engagement) == Decimal("1840.00")
    design.refresh_from_db()
    assert design.state == "PAID" and design.approved_at is not None
    left = milestones.budget_left(engagement)
    assert (left.on_the_way, left.left, left.limit) == (
        Decimal("0.00"),
        Decimal("2160.00"),
        Decimal("2347.82"),
    )

    # rita adds a second milestone on Upwork; it is funded from Gigbridge, in order.
    from gigbridge.integrations.upwork import connection
    from gigbridge.integrations.upwork import operations as ops

    ops.create_milestone(
        connection.client(market.org),
        engagement.sourcing.contract_id,
        description="Brand guide",
        amount=ops.money("2500.00", "USD"),
    )
    pass_of_sync(market)
    guide = engagement.milestones.get(description="Brand guide")
    assert guide.state == "NOT_FUNDED" and milestones.next_to_fund(engagement) == guide
    milestones.activate(rita, guide, "Go ahead with the guide")
    run_jobs(milestones.DECISION_JOB)
    assert on_marketplace(market, engagement)["Brand guide"] == "ACTIVE"
    pass_of_sync(market)
    guide.refresh_from_db()
    assert (guide.state, guide.amount) == ("ACTIVE", Decimal("2500.00"))

    # Submitted, then sent back for changes: active again on the marketplace.
    market.advance(SUBMITTED_WITHIN)
    pass_of_sync(market)
    guide.refresh_from_db()
    assert guide.state == "SUBMITTED"
    with pytest.raises(RuleViolation) as refused:
        milestones.request_changes(rita, guide, "")
    assert refused.value.problems[0].field == "comment"
    changes = milestones.request_changes(rita, guide, "Add the dark colour variants")
    run_jobs(milestones.DECISION_JOB)
    changes.refresh_from_db()
    assert changes.state == MilestoneDecision.State.SENT, changes.error
    assert on_marketplace(market, engagement)["Brand guide"] == "ACTIVE"
    with pytest.raises(InvalidTransition, match="wait until the freelancer submits it again"):
        milestones.approve(rita, guide)
    pass_of_sync(market)
    guide.refresh_from_db()
    assert guide.state == "ACTIVE"

    # The freelancer submits again; rita hears of it; the rest of the budget pays for it.
    market.advance(SUBMITTED_WITHIN)
    pass_of_sync(market)
    guide.refresh_from_db()
    assert guide.state == "SUBMITTED"
    again = OutboxJob.objects.filter(payload__template="milestone_submitted").order_by("pk")
    assert [m.payload["context"].get("again", False) for m in again] == [False, False, True]
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(rita, guide)  # 2500 USD is 2300 EUR: more than the 2160 left
    assert "2,347.82 USD (2,160.00 EUR at the policy's exchange rate)" in str(refused.value)
    milestones.approve(rita, guide, Decimal("2347.82"), "The rest of the budget")
    run_jobs(milestones.DECISION_JOB)
    market.advance(HOUR)
    assert pass_of_sync(market)["payments"] == 1
    assert marketplace.spent(engagement) == Decimal("3999.99")  # 1840.00 + 2159.99
    assert milestones.budget_left(engagement).limit == Decimal("0.01")

    actions = list(
        AuditEvent.objects.filter(
            object_id=str(engagement.pk), action__startswith="marketplace.milestone_"
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions.count("marketplace.milestone_approved") == 2
    assert actions.count("marketplace.milestone_approval_refused") == 2
    assert actions.count("marketplace.milestone_decision_sent") == 4
    assert "marketplace.milestone_decision_failed" not in actions


def test_a_week_of_hours_is_approved_in_gigbridge_once_it_has_ended(people, market):
    engagement = contracted(
        people,
        market,
        request={
            "pricing": "hourly",
            "budget": "20000.00",
            "title": "Payments API hardening",
            "skills": ["Python", "Django"],
            "task_category": "software-development",
            "cost_center": "CC-ENG",
        },
        hourly_rate=Decimal("80"),
        weekly_hours=20,
    )
    # The freelancer logs each weekday. Within two weeks of the start a whole Monday-Sunday
    # week of logged days has ended, whatever the day, the hour and the program's time zone the
    # test starts on (nine days were not enough from a Thursday evening in UTC-10).
    market.advance(14 * DAY)
    pass_of_sync(market)
    weeks = milestones.weeks(engagement)
    ended = [w for w in weeks if w.ended and w.entries]
    assert ended, [(w.start, w.hours) for w in weeks]
    week = ended[0]
    assert week.start.weekday() == 0 and week.hours <= 20
    assert week.amount == week.hours * 80

    approval = milestones.approve_week(people["rita"], engagement, week.start, "Checked")
    assert (approval.hours, approval.amount) == (week.hours, week.amount)
    with pytest.raises(InvalidTransition, match="approved by Rita Requester"):
        milestones.approve_week(people["ada"], engagement, week.start)
    this_week = clock.today() - dt.timedelta(days=clock.today().weekday())
    with pytest.raises(RuleViolation, match="has not ended yet"):
        milestones.approve_week(people["rita"], engagement, this_week)
    # Nothing is sent to Upwork: it documents no timesheet approval.
    assert not OutboxJob.objects.filter(kind=milestones.DECISION_JOB).exists()
