"""The marketplace story end to end: the real sandbox marketplace (Upwork) and tenant (Graph).

A marketplace request is approved, its job is posted, proposals arrive on the sandbox clock, the
hiring manager picks one, the offer goes out, the freelancer accepts, the engagement is
contracted (Microsoft 365 access follows), work is paid, the contract ends on the marketplace
and access goes after the grace days. Time passes by moving the sandbox clock (and the
product's clock with it), never by sleeping.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.access.models import Grant
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements.models import Engagement
from gigbridge.jobs.models import OutboxJob
from gigbridge.program.models import Workspace
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import sync
from gigbridge.sourcing.models import MarketplaceOffer, Payment, TimeEntry

from .conftest import run_jobs
from .marketplace_story import (
    DAY,
    HOUR,
    SUBMITTED_WITHIN,
    Marketplace,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)
from .test_access import create_team, team_member

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_marketplace_story_from_request_to_access_removed(graph, people, market):
    team_id = create_team(graph, "Marketplace story", "max@contoso.example")
    workspace = Workspace.objects.create(name="Marketplace story", team_id=team_id)
    engagement = sourced_and_posted(people, market, workspace)

    proposals = proposals_arrive(market, engagement)
    assert 3 <= len(proposals) <= 5
    assert all(p.freelancer_email and p.profile_key for p in proposals)
    assert AuditEvent.objects.filter(action="marketplace.proposal_received").count() == len(
        proposals
    )

    chosen = good_proposal(engagement)
    freelancer = signed_freelancer(chosen)
    marketplace.shortlist(people["rita"], chosen)
    offer = marketplace.pick(people["rita"], chosen, amount=Decimal("3000.00"))
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFERED
    run_jobs(marketplace.SHORTLIST_JOB)
    run_jobs(marketplace.OFFER_JOB)
    offer.refresh_from_db()
    assert offer.state == MarketplaceOffer.State.OPEN and offer.upwork_id, offer.error

    # The freelancer answers within hours; the next pass finds the contract.
    market.advance(7 * HOUR)
    counts = pass_of_sync(market)
    assert counts["contracted"] == 1, counts
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    assert engagement.freelancer_id == freelancer.pk
    sourcing = engagement.sourcing
    assert sourcing.contract_id and sourcing.contract_status == "ACTIVE"

    # Access follows the contract: the guest gets the workspace's Team.
    run_jobs()
    guest = graph.find_user_by_mail(freelancer.email)
    assert guest is not None
    assert team_member(graph, team_id, guest["id"]) is not None
    kinds = set(engagement.grants.filter(state="applied").values_list("kind", flat=True))
    assert {"guest", "team_member"} <= kinds

    # The first milestone is funded on acceptance and submitted within days.
    market.advance(SUBMITTED_WITHIN)
    counts = pass_of_sync(market)
    milestone = engagement.milestones.get()
    assert milestone.state == "SUBMITTED" and milestone.submitted_at is not None
    assert counts["milestones"] == 1

    # The client approves it on the marketplace: a payment, which is spend.
    from gigbridge.integrations.upwork import connection
    from gigbridge.integrations.upwork import operations as ops

    ops.approve_milestone(
        connection.client(market.org), milestone.upwork_id, amount=milestone.amount
    )
    market.advance(HOUR)
    counts = pass_of_sync(market)
    assert counts["payments"] == 1, counts
    payment = Payment.objects.get(engagement=engagement)
    assert (payment.amount, payment.currency) == (Decimal("3000.00"), "USD")
    # The example policy counts 1 USD as 0.92 EUR against the EUR budget.
    assert payment.amount_program == marketplace.spent(engagement) == Decimal("2760.00")
    milestone.refresh_from_db()
    assert milestone.state == "PAID" and milestone.approved_at is not None
    # 2760 of 4000 EUR is 69%: no alert yet.
    assert not AuditEvent.objects.filter(action="spend.alert", object_id=str(engagement.pk))
    body = _marketplace_api(people, engagement)
    assert Decimal(str(body["spent"])) == Decimal("2760.00")
    assert [Decimal(str(p["amount"])) for p in body["payments"]] == [Decimal("3000.00")]

    # A second pass repeats nothing.
    assert pass_of_sync(market)["payments"] == 0
    assert Payment.objects.filter(engagement=engagement).count() == 1

    # The contract ends on the marketplace: offboarding, then access goes after the grace days.
    market.tool("act", {"action": "end_contract", "contractId": sourcing.contract_id})
    market.advance(HOUR)
    counts = pass_of_sync(market)
    assert counts["ended"] == 1, counts
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    assert engagement.contract_end == clock.today()
    run_jobs()
    assert team_member(graph, team_id, guest["id"]) is not None  # still in grace
    clock.set_now(clock.now() + dt.timedelta(days=4))
    from gigbridge.access.actions import reconcile

    assert reconcile(engagement.pk) == "0 granted, 2 revoked"
    assert team_member(graph, team_id, guest["id"]) is None
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CLOSED
    assert set(Grant.objects.filter(state="removed").values_list("kind", flat=True)) >= {
        "guest",
        "team_member",
    }


def _marketplace_api(people, engagement) -> dict:
    from django.test import Client

    from gigbridge.people.actions import create_api_token

    _, secret = create_api_token(people["rita"], "tests")
    response = Client(headers={"authorization": f"Bearer {secret}"}).get(
        f"/api/v1/engagements/{engagement.pk}/marketplace"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_an_offer_above_the_budget_is_refused_and_nothing_is_sent(people, market):
    engagement = sourced_and_posted(people, market)
    proposals_arrive(market, engagement)
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)
    jobs_before = OutboxJob.objects.count()

    with pytest.raises(RuleViolation) as refused:
        marketplace.pick(people["rita"], chosen, amount=Decimal("4500.00"))

    # 4500 USD is 4140 EUR at the example policy's rate: over the 4000 EUR approved.
    assert (
        "4500.00 USD (4140.00 EUR at the policy's exchange rate), more than the approved "
        "budget of 4000.00 EUR" in str(refused.value)
    )
    assert OutboxJob.objects.count() == jobs_before
    assert not MarketplaceOffer.objects.filter(engagement=engagement).exists()
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING and engagement.freelancer_id is None
    event = AuditEvent.objects.get(action="marketplace.offer_refused")
    assert "budget" in str(event.after["problems"])
    # The marketplace has no offer for it either.
    offers = market.graphql(
        "query($id: String!) { clientProposals(jobPostingId: $id) { edges { node { id "
        "status { status } } } } }",
        {"id": engagement.sourcing.job_posting_id},
    )
    states = {e["node"]["status"]["status"] for e in offers["clientProposals"]["edges"]}
    assert "OFFERED" not in states and "HIRED" not in states


def test_a_freelancer_working_from_a_blocked_country_is_refused(people, market):
    engagement = sourced_and_posted(people, market)
    dmitri = market.tool(
        "act",
        {
            "action": "propose",
            "jobPostingId": engagement.sourcing.job_posting_id,
            "freelancerId": market.info["upwork"]["blocked_country_freelancer"],
        },
    )
    assert dmitri
    pass_of_sync(market)
    proposal = engagement.proposals.get(
        freelancer_upwork_id=market.info["upwork"]["blocked_country_freelancer"]
    )
    assert proposal.country == "RU"  # from the proposal's location, by its country name
    # On record with every agreement and another country: where they work from still counts.
    signed_freelancer(proposal, country="PT")

    with pytest.raises(RuleViolation, match="workers in RU cannot be engaged"):
        marketplace.pick(people["rita"], proposal, amount=Decimal("1000.00"))
    assert not MarketplaceOffer.objects.filter(engagement=engagement).exists()


class Crash(Exception):
    """The worker dies in the middle of a pass."""


def marketplace_counts(market: Marketplace, job_id: str, contract_id: str) -> dict:
    """What the marketplace itself has: proposals of the job, logged days and payments of the
    contract."""
    proposals = market.graphql(
        "query($id: String!) { clientProposals(jobPostingId: $id, pagination: {first: 100}) "
        "{ totalCount } }",
        {"id": job_id},
    )["clientProposals"]["totalCount"]
    now = market.now().date()
    hours = market.graphql(
        "query($f: TimeReportFilter) { contractTimeReport(filter: $f, pagination: {first: 100})"
        " { totalCount edges { node { dateWorkedOn totalCharges } } } }",
        {
            "f": {
                "organizationId_eq": market.org,
                "contractIds": [contract_id],
                "timeReportDate_bt": {
                    "rangeStart": (now - dt.timedelta(days=400)).isoformat(),
                    "rangeEnd": now.isoformat(),
                },
            }
        },
    )["contractTimeReport"]
    # Transactions are collected by accounting entity (the organization's, as documented).
    ace = market.graphql("query { organization { company { accountingEntity } } }")
    rows = market.graphql(
        "query($f: TransactionHistoryFilter) { transactionHistory(transactionHistoryFilter: $f)"
        " { transactionDetail { transactionHistoryRow { recordId relatedAssignment } } } }",
        {
            "f": {
                "aceIds_any": [ace["organization"]["company"]["accountingEntity"]],
                "transactionDateTime_bt": {
                    "rangeStart": (now - dt.timedelta(days=400)).isoformat(),
                    "rangeEnd": now.isoformat(),
                },
            }
        },
    )["transactionHistory"]["transactionDetail"]["transactionHistoryRow"]
    return {
        "proposals": proposals,
        "hours": len(hours["edges"]),
        "charges": sum(Decimal(str(e["node"]["totalCharges"])) for e in hours["edges"]),
        "payments": len([r for r in rows if str(r["relatedAssignment"]) == contract_id]),
    }


def test_an_interrupted_poller_loses_and_repeats_nothing(people, market, monkeypatch):
    from gigbridge.integrations.upwork import connection
    from gigbridge.integrations.upwork.errors import RetryableUpworkError

    engagement = sourced_and_posted(
        people,
        market,
        pricing="hourly",
        budget="20000.00",
        title="Payments API hardening",
        skills=["Python", "Django"],
        task_category="software-development",
        cost_center="CC-ENG",
    )
    job_id = engagement.sourcing.job_posting_id
    client = connection.client(market.org)
    client.max_retries = 0  # a 429 ends the pass; the outbox runs it again

    def interrupted(where: str, after: int) -> None:
        """One pass that dies after ``after`` calls of ``sync.<where>``; then a whole pass."""
        real = getattr(sync, where)
        calls = {"n": 0}

        def dying(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] > after:
                raise Crash(where)
            return real(*args, **kwargs)

        monkeypatch.setattr(sync, where, dying)
        with pytest.raises(Crash):
            pass_of_sync(market)
        monkeypatch.setattr(sync, where, real)

    def throttled(burst: int) -> None:
        """One pass that gets a 429 after ``burst`` calls; then the limit is lifted."""
        market.control(throttle={"rate": 0.001, "burst": burst})
        with pytest.raises(RetryableUpworkError):
            pass_of_sync(market)
        market.control(throttle=None)

    # Proposals: the pass dies after the first one, then after a cursor move.
    market.advance(9 * HOUR)
    interrupted("_upsert_proposal", 1)
    interrupted("_advance", 0)
    assert not engagement.proposals.exists()  # nothing half-stored
    pass_of_sync(market)
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)
    marketplace.pick(people["rita"], chosen, hourly_rate=Decimal("80"), weekly_hours=20)
    run_jobs(marketplace.OFFER_JOB)
    market.advance(7 * HOUR)
    pass_of_sync(market)
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    contract_id = engagement.sourcing.contract_id

    # Days pass; on each one the freelancer logs and bills hours, the pass is interrupted at a
    # different place. Which days those are (weekdays, within the weekly limit) is the
    # simulation's business: the marketplace's own counts say when there are new rows.
    breaks = [
        lambda: interrupted("_upsert_hours", 1),
        lambda: interrupted("_advance", 1),  # the payments cursor
        lambda: throttled(2),  # the transactions answer 429
        lambda: interrupted("_when", 0),  # in the middle of the payments
        lambda: throttled(1),  # the time report answers 429
        lambda: interrupted("_advance", 0),  # the hours cursor
        lambda: throttled(2),
    ]
    for _ in range(7):  # two logged days to begin with: a weekend (or two days) at most between
        market.advance(DAY)
        have = marketplace_counts(market, job_id, contract_id)
        if have["hours"] >= 2:
            break
    assert have["hours"] >= 2
    pass_of_sync(market)
    assert TimeEntry.objects.filter(engagement=engagement).count() == have["hours"]
    for _ in range(8 * 7):  # seven logged days take about three weeks at the 20-hour limit
        if not breaks:
            break
        market.advance(DAY)
        logged = marketplace_counts(market, job_id, contract_id)["hours"]
        if logged > have["hours"]:  # a day was logged and billed: new rows to sync
            breaks.pop(0)()
        have["hours"] = logged
        pass_of_sync(market)
    assert not breaks, f"{len(breaks)} interruptions left: the freelancer stopped logging"
    assert sync.schedule_sync() == 1  # the scheduled pass, as the worker runs it
    run_jobs(sync.SYNC_JOB)
    assert not OutboxJob.objects.filter(kind=sync.SYNC_JOB).exclude(state="done").exists()

    have = marketplace_counts(market, job_id, contract_id)
    assert have["hours"] > 0 and have["payments"] == have["hours"]
    assert engagement.proposals.count() == have["proposals"]
    entries = TimeEntry.objects.filter(engagement=engagement)
    assert entries.count() == have["hours"]
    assert sum(e.amount for e in entries) == have["charges"]
    payments = Payment.objects.filter(engagement=engagement)
    assert payments.count() == have["payments"]
    assert sum(p.amount for p in payments) == have["charges"]  # in USD, as Upwork billed
    assert marketplace.spent(engagement) == sum(p.amount_program for p in payments)  # EUR
    events = AuditEvent.objects.filter(object_id=str(engagement.pk))
    assert events.filter(action="marketplace.proposal_received").count() == have["proposals"]
    assert events.filter(action="marketplace.hours_logged").count() == have["hours"]
    assert events.filter(action="marketplace.payment").count() == have["payments"]
