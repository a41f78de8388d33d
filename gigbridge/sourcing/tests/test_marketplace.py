"""Marketplace sourcing and sync logic: budget guard, compliance on the chosen freelancer,
idempotent upserts, alerts once, state transitions. Upwork is replaced by typed answers."""

import datetime as dt
from decimal import Decimal

import pytest

from conftest import request_payload
from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import NotAllowed, RuleViolation
from gigbridge.engagements import actions
from gigbridge.engagements.models import ApprovalStep, Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.jobs.models import OutboxJob
from gigbridge.people.models import Agreement, Person
from gigbridge.program.models import CostCenter
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import sync
from gigbridge.sourcing.models import (
    MarketplaceOffer,
    Milestone,
    Payment,
    Proposal,
    SpendAlert,
    TimeEntry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_to_one(people):
    """Most tests here are about counting, not converting: 1 USD counts as 1 EUR."""
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    text = EXAMPLE_POLICY.read_text().replace("USD: 0.92", "USD: 1")
    activate_policy(text, "program.yaml", actor="tests")


def test_offers_and_payments_convert_at_the_policy_rate(people, monkeypatch):
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    activate_policy(EXAMPLE_POLICY.read_text(), "program.yaml", actor="tests")  # USD: 0.92
    engagement = approved_engagement(people)  # 4000 EUR
    p = proposal(engagement)
    signed(p.freelancer_email)
    with pytest.raises(RuleViolation, match=r"4350.00 USD \(4002.00 EUR at the policy's"):
        marketplace.pick(people["rita"], p, amount=Decimal("4350.00"))
    offer = marketplace.pick(people["rita"], p)  # the whole budget, in dollars, rounded down
    assert (offer.amount, offer.currency) == (Decimal("4347.82"), "USD")

    MarketplaceOffer.objects.filter(pk=offer.pk).update(state="open", upwork_id="o1")
    offer.refresh_from_db()
    sync._contracted(offer, "k1")
    monkeypatch.setattr(ops, "transaction_history", lambda *a, **k: [_row("t1", "1000.00")])
    assert sync.sync_payments(None, "") == 1
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.amount_program) == (
        Decimal("1000.00"),
        "USD",
        Decimal("920.00"),
    )
    assert marketplace.spent(engagement) == Decimal("920.00")


def test_a_payment_in_a_currency_without_a_rate_fails_the_pass_and_stores_nothing(
    people, monkeypatch
):
    from gigbridge.jobs.errors import PermanentError

    engagement = _contracted(people)
    row = _row("t1", "100.00")
    monkeypatch.setattr(sync, "_currency", lambda row: "GBP")
    monkeypatch.setattr(ops, "transaction_history", lambda *a, **k: [row])
    with pytest.raises(PermanentError, match=r"program\.exchange_rates\.GBP"):
        sync.sync_payments(None, "")
    assert not Payment.objects.filter(engagement=engagement).exists()


def approved_engagement(people, **overrides) -> Engagement:
    data = request_payload(**overrides)
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    request = actions.submit_request(people["rita"], actions.create_request(people["rita"], data))
    for step in request.steps.filter(state=ApprovalStep.State.PENDING):
        approver = step.assignee or people["paula"]
        actions.decide(approver, step, "approve")
    engagement = Engagement.objects.get(request=request)
    marketplace.sourcing_of(engagement)
    return engagement


def proposal(engagement, upwork_id="p1", email="ana@freelance.example", country="PT"):
    return Proposal.objects.create(
        engagement=engagement,
        upwork_id=upwork_id,
        freelancer_name="Ana",
        freelancer_email=email,
        profile_key="~01ana",
        country=country,
        received_at=clock.now(),
    )


def signed(email, country="PT"):
    person, _ = Person.objects.get_or_create(
        email=email, defaults={"kind": "freelancer", "display_name": email, "country": country}
    )
    for name in ("NDA", "MSA"):
        Agreement.objects.create(person=person, name=name, signed_on=clock.today())
    return person


def test_offer_above_the_approved_budget_is_refused_with_the_reason(people):
    engagement = approved_engagement(people)
    p = proposal(engagement)
    signed(p.freelancer_email)
    with pytest.raises(RuleViolation, match="more than the approved budget of 4000.00"):
        marketplace.pick(people["rita"], p, amount=Decimal("4000.01"))
    assert AuditEvent.objects.filter(action="marketplace.offer_refused").count() == 1
    assert not MarketplaceOffer.objects.exists()
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING


def test_hourly_offer_counts_rate_times_weekly_limit_times_weeks(people):
    engagement = approved_engagement(people, pricing="hourly")  # 61 days: 9 weeks
    p = proposal(engagement)
    signed(p.freelancer_email)
    with pytest.raises(RuleViolation, match="can cost 4860.00"):
        marketplace.pick(people["rita"], p, hourly_rate=Decimal("60"), weekly_hours=9)
    offer = marketplace.pick(people["rita"], p, hourly_rate=Decimal("60"), weekly_hours=7)
    assert offer.amount == Decimal("3780.00") and offer.terms["weekly_hours"] == 7


def test_compliance_runs_again_on_the_chosen_freelancer(people):
    engagement = approved_engagement(people)
    unsigned = proposal(engagement, "p1", "new@freelance.example")
    blocked = proposal(engagement, "p2", "ivan@freelance.example", country="RU")
    with pytest.raises(RuleViolation, match="has not signed NDA, MSA"):
        marketplace.pick(people["rita"], unsigned)
    signed(blocked.freelancer_email, country="RU")
    with pytest.raises(RuleViolation, match="RU cannot be engaged"):
        marketplace.pick(people["rita"], blocked)


def test_only_the_hiring_manager_or_a_program_admin_picks(people):
    engagement = approved_engagement(people)
    p = proposal(engagement)
    with pytest.raises(NotAllowed):
        marketplace.shortlist(people["max"], p)
    marketplace.shortlist(people["rita"], p)
    marketplace.shortlist(people["rita"], p)  # twice: one job
    assert OutboxJob.objects.filter(kind=marketplace.SHORTLIST_JOB).count() == 1


def test_pick_queues_the_offer_and_moves_the_engagement_to_offered(people):
    engagement = approved_engagement(people)
    p = proposal(engagement)
    signed(p.freelancer_email)
    offer = marketplace.pick(people["rita"], p)
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFERED
    assert engagement.freelancer.email == p.freelancer_email
    assert offer.state == MarketplaceOffer.State.QUEUED and offer.amount == Decimal("4000.00")
    assert OutboxJob.objects.filter(kind=marketplace.OFFER_JOB).count() == 1


def test_a_freelancer_known_without_a_country_gets_the_profiles_on_pick(people):
    # Sent the agreements before the pick, so known to the program with no country.
    engagement = approved_engagement(people)
    p = proposal(engagement)
    person = signed(p.freelancer_email, country="")
    marketplace.pick(people["rita"], p)
    person.refresh_from_db()
    assert person.country == p.country == "PT"


def test_offer_input_is_the_documented_creation_offer_input():
    """CreationOfferInput as the reference documents it: the offer on a proposal
    (JobApplication), money in cents, the budget the milestones' sum."""
    made = ops.offer_input(
        title="T",
        contract_type="FIXED_PRICE",
        client_team_id="org-1",
        vendor_user_id="u-1",
        vendor_team_id="team-1",
        client_proposal_id="p1",
        job_posting_id="j1",
        milestones=[{"description": "All", "amount": Decimal("10"), "due": dt.date(2027, 1, 2)}],
        start=dt.date(2027, 1, 1),
    )
    assert made == {
        "kind": "MARKETPLACE",
        "offeror": "CLIENT",
        "clientTeamId": "org-1",
        "vendorUser": {"userId": "u-1", "teamId": "team-1"},
        "metadata": {"sourceType": "JobApplication", "sourceId": "p1", "jobPostingId": "j1"},
        "title": "T",
        "contractStartDateTime": "2027-01-01T00:00:00Z",
        "deliveryModel": "FIXED_PRICE",
        "milestoneTerms": {
            "budget": {"amount": "1000", "currency": "USD"},
            "milestoneList": [
                {
                    "amount": {"amount": "1000", "currency": "USD"},
                    "description": "All",
                    "dueDate": "2027-01-02",
                }
            ],
        },
    }


def _proposal_item(upwork_id, name="Ana"):
    return ops.Proposal.model_validate(
        {
            "id": upwork_id,
            "user": {
                "id": "u-" + upwork_id,
                "name": name,
                "email": f"{upwork_id}@f.example",
                "ciphertext": "~" + upwork_id,
            },
            "coverLetter": "Hi",
            "status": {"status": "PENDING"},
        }
    )


def test_proposals_upsert_idempotently_and_the_cursor_moves(people, monkeypatch):
    engagement = approved_engagement(people)
    engagement.sourcing.job_posting_id = "job1"
    engagement.sourcing.save()
    pages = {None: (["a", "b"], "c2", True), "c2": (["c"], "c3", False), "c3": ([], "c3", False)}
    seen = []

    def fake(client, job_id, first=50, after=None):
        ids, end, more = pages[after]
        seen.append(after)
        items = [_proposal_item(i) for i in ids]
        return ops.Page[ops.Proposal](items=items, end_cursor=end, has_next_page=more)

    looked_up = []

    def detail(client, proposal_id):  # where each new freelancer works from: once each
        looked_up.append(proposal_id)
        country = {"a": "Portugal", "b": "Russian Federation", "c": "Atlantis"}[proposal_id]
        return ops.Proposal.model_validate(
            {"id": proposal_id, "user": {"id": "u", "location": {"countryName": country}}}
        )

    monkeypatch.setattr(ops, "list_client_proposals", fake)
    monkeypatch.setattr(ops, "get_proposal", detail)
    assert sync.sync_proposals(None, engagement.sourcing) == {"proposals": 3}
    assert sync.sync_proposals(None, engagement.sourcing) == {"proposals": 0}
    assert seen == [None, "c2", "c3"]  # the second pass starts at the stored cursor
    assert Proposal.objects.count() == 3
    assert dict(Proposal.objects.values_list("upwork_id", "country")) == {
        "a": "PT",
        "b": "RU",
        "c": "",  # a name no standard knows: unknown (and an offer then needs it on record)
    }
    assert looked_up == ["a", "b", "c"]
    assert AuditEvent.objects.filter(action="marketplace.proposal_received").count() == 3
    # Overlap (a lost cursor): the same rows again change nothing.
    from gigbridge.sourcing.models import SyncCursor

    SyncCursor.objects.all().delete()
    assert sync.sync_proposals(None, engagement.sourcing) == {"proposals": 0}
    assert (
        OutboxJob.objects.filter(kind="mail.send", payload__template="proposal_received").count()
        == 3
    )


def _contracted(people):
    engagement = approved_engagement(people)
    p = proposal(engagement)
    signed(p.freelancer_email)
    offer = marketplace.pick(people["rita"], p)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(
        state="open", upwork_id="o1", sent_at=clock.now()
    )
    offer.refresh_from_db()
    sync._contracted(offer, "k1")
    engagement.refresh_from_db()
    return engagement


def test_accepted_offer_contracts_the_engagement_and_queues_access(people):
    engagement = _contracted(people)
    assert engagement.state == Engagement.State.CONTRACTED
    assert engagement.sourcing.contract_id == "k1"
    assert OutboxJob.objects.filter(kind="access.reconcile").exists()


def test_hours_upsert_on_contract_and_day_and_revisions_replace(people, monkeypatch):
    _contracted(people)

    def entry(day, hours, charges, contract="k1"):
        return ops.TimeReportEntry.model_validate(
            {
                "dateWorkedOn": day,
                "totalHoursWorked": hours,
                "totalCharges": charges,
                "contract": {"id": contract},
            }
        )

    # One read for the organization's contracts; a row of a contract not ours is left alone.
    rows = [entry("2026-12-01", 4, 200), entry("2026-12-02", 5, 250)]
    rows.append(entry("2026-12-02", 8, 1, contract="x"))
    asked = []

    def report(client, contract_ids, start, end, first=50, after=None):
        asked.append(contract_ids)
        return ops.Page[ops.TimeReportEntry](items=rows)

    monkeypatch.setattr(ops, "contract_time_report", report)
    assert sync.sync_hours(None, "") == {"hours": 2}
    assert asked == [["k1"]]
    rows[1] = entry("2026-12-02", 6, 300)
    assert sync.sync_hours(None, "") == {"hours": 0}
    assert sorted(TimeEntry.objects.values_list("hours", flat=True)) == [4, 6]


def test_hours_are_read_from_the_day_the_offer_went_out_not_the_planned_start(people, monkeypatch):
    engagement = _contracted(people)  # accepted now; the request starts in two weeks
    assert engagement.contract_start > clock.today()
    windows = []

    def report(client, contract_id, start, end, first=50, after=None):
        windows.append((start, end))
        return ops.Page[ops.TimeReportEntry](items=[])

    monkeypatch.setattr(ops, "contract_time_report", report)
    sync.sync_hours(None, "")
    # ... up to the marketplace's day (UTC), which west of UTC is already tomorrow.
    utc_today = clock.now().astimezone(dt.UTC).date()
    assert windows == [(clock.today(), max(clock.today(), utc_today))]


def test_milestone_submitted_notifies_the_hiring_manager_once(people):
    engagement = _contracted(people)
    item = ops.Milestone.model_validate(
        {
            "id": "m1",
            "state": "SUBMITTED",
            "description": "Logo",
            "currentEscrowAmount": {"rawValue": "1000.00", "currency": "USD"},
        }
    )
    from django.db import transaction

    with transaction.atomic():
        assert sync._upsert_milestone(engagement, item) == 1
        assert sync._upsert_milestone(engagement, item) == 0
    m = Milestone.objects.get()
    assert m.submitted_at is not None and m.amount == Decimal("1000.00")
    assert OutboxJob.objects.filter(payload__template="milestone_submitted").count() == 1


def _row(record_id, balance, contract="k1", day="2026-12-03"):
    return ops.TransactionRow.model_validate(
        {
            "recordId": record_id,
            "type": "Hourly",
            "relatedAssignment": contract,
            "transactionCreationDate": f"{day}T18:00:00.000Z",
            "runningChargeableBalance": {"rawValue": balance, "currency": "USD"},
        }
    )


def test_payments_upsert_once_and_alert_at_80_and_100_percent_once(people, monkeypatch):
    engagement = _contracted(people)  # budget 4000
    rows = [_row("t1", "3000.00"), _row("t2", "3300.00"), _row("t9", "3400.00", contract="other")]
    monkeypatch.setattr(ops, "transaction_history", lambda *a, **k: list(rows))
    assert sync.sync_payments(None, "") == 2
    assert marketplace.spent(engagement) == Decimal("3300.00")
    assert list(SpendAlert.objects.values_list("scope", "threshold")) == [
        (f"engagement:{engagement.pk}", 80)
    ]
    assert sync.sync_payments(None, "") == 0  # overlap: nothing twice
    rows.append(_row("t3", "4100.00", day="2026-12-04"))
    assert sync.sync_payments(None, "") == 1
    assert marketplace.spent(engagement) == Decimal("4000.00")
    assert SpendAlert.objects.filter(threshold=100).count() == 1
    assert AuditEvent.objects.filter(action="spend.alert").count() == 2


def test_cost_center_alert_counts_every_engagement_of_the_fiscal_year(people, monkeypatch):
    engagement = _contracted(people)
    cc = engagement.request.cost_center
    cc.annual_budget = Decimal("5000")
    cc.save()
    monkeypatch.setattr(ops, "transaction_history", lambda *a, **k: [_row("t1", "4000.00")])
    sync.sync_payments(None, "")
    scopes = set(SpendAlert.objects.values_list("scope", "threshold"))
    assert (f"engagement:{engagement.pk}", 100) in scopes
    assert any(s.startswith("cost_center:CC-MKT") and t == 80 for s, t in scopes)


def test_contract_ended_on_the_marketplace_offboards(people):
    engagement = _contracted(people)
    contract = ops.Contract.model_validate({"id": "k1", "status": "ENDED"})
    assert sync._follow_contract(engagement.pk, "ENDED", contract) == 1
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    assert sync._follow_contract(engagement.pk, "ENDED", contract) == 0


def test_declined_offer_returns_to_sourcing(people):
    engagement = approved_engagement(people)
    p = proposal(engagement)
    signed(p.freelancer_email)
    offer = marketplace.pick(people["rita"], p)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(state="open", upwork_id="o1")
    offer.refresh_from_db()
    sync._offer_closed(offer, "declined")
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING
    assert not Proposal.objects.get().picked


def test_web_page_and_api_show_the_marketplace_side_with_the_same_permissions(people, api):
    from django.test import Client

    from conftest import PASSWORD

    # A cost center's "actual" is this fiscal year's spend, counted by the request's start (in
    # two weeks): so not late in December, when that start falls in the next year.
    clock.start_at(dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC))
    engagement = _contracted(people)
    Payment.objects.create(
        engagement=engagement,
        transaction_id="t1",
        contract_id="k1",
        amount=Decimal("500.00"),
        currency="USD",
        amount_program=Decimal("500.00"),
        paid_at=clock.now(),
    )
    body = api("rita").get(f"/api/v1/engagements/{engagement.pk}/marketplace").json()
    assert body["contract_id"] == "k1" and body["spent"] == "500.00"
    assert [p["upwork_id"] for p in body["proposals"]] == ["p1"]
    assert api("max").get(f"/api/v1/engagements/{engagement.pk}/marketplace").status_code in (
        200,
        404,
    )
    cc = next(c for c in api("rita").get("/api/v1/cost-centers").json() if c["code"] == "CC-MKT")
    assert cc["actual"] == "500.00"
    web = Client()
    web.login(username="rita", password=PASSWORD)
    page = web.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Marketplace and spend" in page and "500.00 EUR of 4,000.00 EUR" in page
    refused = web.post(f"/engagements/{engagement.pk}/proposals/999/pick/")
    assert refused.status_code == 404
    policy_page = web.get("/policy/").content.decode()
    assert '<th scope="col">Paid</th>' in policy_page and "<td>500.00 EUR</td>" in policy_page


def test_a_freelancer_whose_country_is_unknown_gets_no_offer(people):
    engagement = approved_engagement(people)
    p = proposal(engagement, country="")
    signed(p.freelancer_email, country="")
    with pytest.raises(RuleViolation, match="works from is unknown"):
        marketplace.pick(people["rita"], p)


def test_contracts_are_read_in_batches_and_in_full_only_for_new_milestones(people, monkeypatch):
    engagement = _contracted(people)
    milestone = {"id": "m1", "state": "ACTIVE", "description": "Logo"}
    listed = ops.Contract.model_validate(
        {"id": "k1", "status": "ACTIVE", "offer": {"id": "o1", "milestones": [milestone]}}
    )
    full = ops.Contract.model_validate(
        {
            "id": "k1",
            "status": "ACTIVE",
            "offer": {
                "id": "o1",
                "milestones": [
                    {**milestone, "currentEscrowAmount": {"rawValue": "500", "currency": "USD"}}
                ],
            },
        }
    )
    batches, details = [], []
    monkeypatch.setattr(ops, "contract_list", lambda c, ids: batches.append(ids) or [listed])
    monkeypatch.setattr(ops, "contract_details", lambda c, i: details.append(i) or full)

    assert sync.sync_contracts(None, "")["milestones"] == 0  # known now, not yet an event
    assert batches == [["k1"]] and details == ["k1"]  # a new milestone: read in full once
    assert engagement.milestones.get().amount == Decimal("500")
    sync.sync_contracts(None, "")
    assert details == ["k1"]  # nothing new: the batched read was enough


def test_a_new_pass_waits_for_the_previous_one_of_the_organization(people, settings, frozen_now):
    settings.UPWORK = {**settings.UPWORK, "client_id": "x", "client_secret": "y"}
    _contracted(people)
    assert sync.schedule_sync() == 1
    frozen_now(minutes=1)
    assert sync.schedule_sync() == 0  # the first pass has not run yet
    OutboxJob.objects.filter(kind=sync.SYNC_JOB).update(state=OutboxJob.State.DONE)
    assert sync.schedule_sync() == 1
    assert sync.schedule_sync() == 0  # and one a window
