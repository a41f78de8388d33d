"""Deciding a contract's work in Gigbridge (sourcing.milestones): approving milestones for all
or part of their amount within what is left of the budget, asking for changes, funding the next
one, the outbox job that tells Upwork, and the program's approval of a week of hours. Upwork is
replaced by typed answers; tests/scenarios/test_milestones.py runs against the sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from conftest import EXAMPLE_POLICY
from gigbridge import clock
from gigbridge.audit.describe import describe
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.jobs.models import OutboxJob
from gigbridge.program.actions import activate_policy
from gigbridge.sourcing import milestones, sync
from gigbridge.sourcing.models import (
    HoursApproval,
    Milestone,
    MilestoneDecision,
    Payment,
    TimeEntry,
)
from gigbridge.sourcing.tests.test_marketplace import _contracted, approved_engagement

pytestmark = pytest.mark.django_db

USD = Decimal


def one_to_one():
    """1 USD counts as 1 EUR (most tests count, they do not convert)."""
    text = EXAMPLE_POLICY.read_text().replace("USD: 0.92", "USD: 1")
    activate_policy(text, "program.yaml", actor="tests")


@pytest.fixture
def contracted(people):
    """rita's 4000 EUR fixed-price engagement, contracted on Upwork (contract k1)."""
    one_to_one()
    return _contracted(people)


def milestone(engagement, upwork_id="m1", amount="1200.00", state="SUBMITTED", sequence=1, **kw):
    return Milestone.objects.create(
        engagement=engagement,
        upwork_id=upwork_id,
        sequence=sequence,
        description=kw.pop("description", "Design"),
        amount=Decimal(amount) if amount is not None else None,
        state=state,
        submitted_at=clock.now() if state == "SUBMITTED" else None,
        **kw,
    )


def paid(engagement, amount: str, transaction_id="t1"):
    """A payment as the sync stores it (counted in the program's currency at 1:1 here)."""
    return Payment.objects.create(
        engagement=engagement,
        transaction_id=transaction_id,
        contract_id="k1",
        kind="Fixed Price",
        amount=Decimal(amount),
        currency="USD",
        amount_program=Decimal(amount),
        paid_at=clock.now(),
    )


def jobs():
    return OutboxJob.objects.filter(kind=milestones.DECISION_JOB)


# --- approving -----------------------------------------------------------------------------


def test_a_partial_amount_within_the_budget_is_queued_with_one_event_and_one_job(
    people, contracted
):
    design = milestone(contracted)
    decision = milestones.approve(people["rita"], design, USD("500.00"), "  Half of it was used ")
    assert (decision.kind, decision.state) == ("approve", "queued")
    assert (decision.amount, decision.currency, decision.comment) == (
        USD("500.00"),
        "USD",
        "Half of it was used",
    )
    assert jobs().count() == 1 and jobs().get().payload == {"decision_id": decision.pk}
    event = AuditEvent.objects.get(action="marketplace.milestone_approved")
    text = describe(event).text
    assert text.startswith(f"Rita Requester approved milestone “Design” of {contracted.reference}")
    assert text.endswith("for 500.00 USD")
    assert describe(event).note == "Half of it was used"


def test_the_amount_defaults_to_the_milestones_and_money_reads_with_separators(people, contracted):
    design = milestone(contracted, amount="1200.00")
    decision = milestones.approve(people["ada"], design)  # a program admin may too
    assert decision.amount == USD("1200.00")
    event = AuditEvent.objects.get(action="marketplace.milestone_approved")
    assert describe(event).text.endswith("for 1,200.00 USD")


def test_more_than_the_milestones_amount_is_refused_naming_the_field(people, contracted):
    design = milestone(contracted, amount="1200.00")
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], design, USD("1200.01"))
    [problem] = refused.value.problems
    assert problem.field == "amount"
    assert "1,200.01 USD is more than the milestone's 1,200.00 USD" in problem.message
    assert not MilestoneDecision.objects.exists() and not jobs().exists()
    event = AuditEvent.objects.get(action="marketplace.milestone_approval_refused")
    assert "more than the milestone's" in describe(event).text


@pytest.mark.parametrize("amount", ["0", "-5", "1000000000.01", "12.345"])
def test_amounts_out_of_bounds_are_refused_at_the_field(people, contracted, amount):
    design = milestone(contracted)
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], design, USD(amount))
    assert {p.field for p in refused.value.problems} == {"amount"}


def test_more_than_is_left_of_the_budget_is_refused_at_the_policys_rate(people):
    activate_policy(EXAMPLE_POLICY.read_text(), "program.yaml", actor="tests")  # 1 USD = 0.92
    engagement = _contracted(people)  # budget 4000 EUR
    Payment.objects.create(
        engagement=engagement,
        transaction_id="t1",
        contract_id="k1",
        kind="Fixed Price",
        amount=USD("3260.87"),
        currency="USD",
        amount_program=Decimal("3000.00"),
        paid_at=clock.now(),
    )
    design = milestone(engagement, amount="1200.00")
    # 1000 EUR left is 1086.95 USD (rounded down: a limit stays a limit).
    assert milestones.budget_left(engagement).limit == USD("1086.95")
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], design)
    [problem] = refused.value.problems
    assert (problem.field, problem.rule) == ("amount", "budget")
    assert (
        "1,200.00 USD is more than what is left of the approved budget: 1,086.95 USD "
        "(1,000.00 EUR at the policy's exchange rate), after 3,000.00 EUR paid, of 4,000.00 EUR"
    ) in problem.message
    with pytest.raises(RuleViolation):
        milestones.approve(people["rita"], design, USD("1086.96"))
    assert milestones.approve(people["rita"], design, USD("1086.95")).amount == USD("1086.95")
    # What it will count: 999.99 EUR (1086.95 x 0.92), so a cent is left.
    assert milestones.budget_left(engagement).left == Decimal("0.01")


def test_approvals_on_their_way_count_against_the_budget_until_the_sync_shows_them(
    people, contracted
):
    paid(contracted, "2000.00")  # 2000 of 4000 left
    first = milestone(contracted, "m1", "1200.00")
    second = milestone(contracted, "m2", "1200.00", sequence=2)
    decision = milestones.approve(people["rita"], first)
    with pytest.raises(RuleViolation) as refused:
        milestones.approve(people["rita"], second)
    assert "after 2,000.00 EUR paid and 1,200.00 EUR approved on its way to Upwork" in str(
        refused.value
    )
    assert milestones.budget_left(contracted).limit == USD("800.00")

    # A failed approval pays nothing: it no longer counts.
    MilestoneDecision.objects.filter(pk=decision.pk).update(state="failed")
    assert milestones.budget_left(contracted).limit == USD("2000.00")
    MilestoneDecision.objects.filter(pk=decision.pk).update(state="sent")
    assert milestones.budget_left(contracted).limit == USD("800.00")
    # The sync shows it paid and stores the payment: counted once, as spend.
    Milestone.objects.filter(pk=first.pk).update(state="PAID", approved_at=clock.now())
    paid(contracted, "1200.00", "t2")
    assert milestones.budget_left(contracted).limit == USD("800.00")
    assert milestones.approve(people["rita"], second, USD("800.00")).state == "queued"


def test_a_milestone_is_approved_once_whatever_is_clicked(people, contracted):
    design = milestone(contracted)
    milestones.approve(people["rita"], design, USD("100.00"))
    with pytest.raises(InvalidTransition, match="approved already"):
        milestones.approve(people["rita"], design, USD("100.00"))
    with pytest.raises(InvalidTransition, match="approved already"):
        milestones.approve(people["ada"], design)  # nor by someone else
    with pytest.raises(InvalidTransition, match="approved already"):
        milestones.request_changes(people["rita"], design, "More")
    assert jobs().count() == 1
    # The database refuses a second live approval even if the checks were skipped.
    with pytest.raises(IntegrityError), transaction.atomic():
        MilestoneDecision.objects.create(
            milestone=design, kind="approve", by=people["rita"], created_at=clock.now()
        )


def test_after_a_failed_approval_the_milestone_can_be_approved_again(people, contracted):
    design = milestone(contracted)
    first = milestones.approve(people["rita"], design, USD("100.00"))
    MilestoneDecision.objects.filter(pk=first.pk).update(state="failed", error="Upwork said no")
    again = milestones.approve(people["rita"], design, USD("200.00"))
    assert again.pk != first.pk and jobs().count() == 2


def test_a_milestone_whose_amount_is_not_synced_yet_is_not_approved(people, contracted):
    unknown = milestone(contracted, amount=None)
    for amount in (None, USD("10.00")):
        with pytest.raises(RuleViolation, match="try again after the next sync"):
            milestones.approve(people["rita"], unknown, amount)


def test_only_submitted_work_of_a_running_contract_is_approved(people, contracted):
    active = milestone(contracted, state="ACTIVE")
    with pytest.raises(InvalidTransition, match="only submitted work"):
        milestones.approve(people["rita"], active)
    sourcing = approved_engagement(people)
    early = milestone(sourcing, "m9")
    with pytest.raises(InvalidTransition, match="while its contract runs"):
        milestones.approve(people["rita"], early)


# --- changes and funding -------------------------------------------------------------------


def test_asking_for_changes_needs_a_comment_and_holds_the_milestone_until_resubmitted(
    people, contracted, frozen_now
):
    design = milestone(contracted)
    for blank in ("", "   "):
        with pytest.raises(RuleViolation) as refused:
            milestones.request_changes(people["rita"], design, blank)
        assert refused.value.problems[0].field == "comment"
    with pytest.raises(RuleViolation) as refused:
        milestones.request_changes(people["rita"], design, "x" * 5001)
    assert refused.value.problems[0].field == "comment"

    decision = milestones.request_changes(people["rita"], design, "A bigger logo, please")
    assert (decision.kind, decision.state, decision.comment) == (
        "changes",
        "queued",
        "A bigger logo, please",
    )
    event = AuditEvent.objects.get(action="marketplace.milestone_changes_requested")
    assert "asked for changes to milestone “Design”" in describe(event).text
    assert describe(event).note == "A bigger logo, please"
    with pytest.raises(InvalidTransition, match="on its way"):
        milestones.approve(people["rita"], design)
    MilestoneDecision.objects.filter(pk=decision.pk).update(state="sent")
    with pytest.raises(InvalidTransition, match="wait until the freelancer submits it again"):
        milestones.approve(people["rita"], design)

    # The sync sees it active, then submitted again: it can be decided on once more.
    frozen_now(hours=1)
    item = {"id": "m1", "description": "Design", "submissionCount": 2}
    with transaction.atomic():
        sync._upsert_milestone(
            contracted, ops.Milestone.model_validate({**item, "state": "ACTIVE"})
        )
        frozen_now(days=2)
        sync._upsert_milestone(
            contracted, ops.Milestone.model_validate({**item, "state": "SUBMITTED"})
        )
    design.refresh_from_db()
    assert design.submitted_at == clock.now()
    assert milestones.approve(people["rita"], design).state == "queued"


def test_resubmitted_work_is_announced_again_with_a_link_to_the_milestone(people, contracted):
    from django.template.loader import render_to_string

    item = {"id": "m1", "description": "Design", "submissionCount": 1}
    with transaction.atomic():
        for state, count in (("SUBMITTED", 1), ("SUBMITTED", 1), ("ACTIVE", 1), ("SUBMITTED", 2)):
            data = {**item, "state": state, "submissionCount": count}
            sync._upsert_milestone(contracted, ops.Milestone.model_validate(data))
    mails = OutboxJob.objects.filter(payload__template="milestone_submitted").order_by("pk")
    assert mails.count() == 2
    design = Milestone.objects.get(upwork_id="m1")
    first, again = (m.payload["context"] for m in mails)
    assert first["milestone_id"] == design.pk and "again" not in first
    assert again["again"] is True
    events = AuditEvent.objects.filter(action="marketplace.milestone_submitted").order_by("seq")
    assert [describe(e).text.endswith("again, after changes were asked for") for e in events] == [
        False,
        True,
    ]
    text = render_to_string(
        "notifications/milestone_submitted.txt",
        {"user": people["rita"], "base_url": "https://gigbridge.example", **first},
    )
    assert f"https://gigbridge.example/engagements/{contracted.pk}/#milestone-{design.pk}" in text
    assert "approve and pay it" in text and "ask for changes" in text


def test_only_the_next_unfunded_milestone_is_funded_and_once(people, contracted):
    milestone(contracted, "m1", state="PAID")
    second = milestone(contracted, "m2", None, state="NOT_FUNDED", sequence=2)
    third = milestone(contracted, "m3", None, state="NOT_FUNDED", sequence=3)
    with pytest.raises(InvalidTransition, match="“Design” comes first"):
        milestones.activate(people["rita"], third)
    decision = milestones.activate(people["rita"], second, "Go ahead")
    assert (decision.kind, decision.comment) == ("activate", "Go ahead")
    with pytest.raises(InvalidTransition, match="being funded already"):
        milestones.activate(people["rita"], second)
    event = AuditEvent.objects.get(action="marketplace.milestone_activation_queued")
    assert "asked Upwork to fund milestone “Design”" in describe(event).text


def test_only_the_hiring_manager_or_a_program_admin_decides(people, contracted):
    design = milestone(contracted)
    later = milestone(contracted, "m2", None, state="NOT_FUNDED", sequence=2)
    for name in ("max", "paula", "audrey"):
        user = people[name]
        with pytest.raises(NotAllowed):
            milestones.approve(user, design)
        with pytest.raises(NotAllowed):
            milestones.request_changes(user, design, "No")
        with pytest.raises(NotAllowed):
            milestones.activate(user, later)
        with pytest.raises(NotAllowed):
            milestones.approve_week(user, contracted, dt.date(2026, 11, 23))
    assert not MilestoneDecision.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="marketplace.milestone_").exists()


# --- the job that tells Upwork -------------------------------------------------------------


class FakeUpwork:
    """The connector's wrappers as run_decision calls them; records what was sent."""

    def __init__(self, monkeypatch, state="SUBMITTED", fail=None):
        from gigbridge.integrations.upwork import connection

        self.state, self.fail, self.sent = state, fail, []
        monkeypatch.setattr(connection, "client", lambda org=None: "client")
        monkeypatch.setattr(ops, "contract_details", self.contract)
        monkeypatch.setattr(ops, "get_offer", self.offer)
        for name in ("approve_milestone", "activate_milestone", "reject_milestone_submission"):
            monkeypatch.setattr(ops, name, self.recorder(name))

    def milestone(self, **extra):
        return {"id": "m1", "state": self.state, **extra}

    def contract(self, client, contract_id):
        return ops.Contract.model_validate(
            {"id": contract_id, "offerId": "o1", "offer": {"milestones": [self.milestone()]}}
        )

    def offer(self, client, offer_id):
        events = [{"submission": {"id": "s1", "createdDateTime": "2026-12-01T10:00:00Z"}}]
        return ops.Offer.model_validate(
            {"id": offer_id, "milestones": [self.milestone(submissionEvents=events)]}
        )

    def recorder(self, name):
        def call(client, *args, **kwargs):
            if self.fail is not None:
                raise self.fail
            self.sent.append((name, args, kwargs))
            return None

        return call


def test_the_job_pays_the_approved_part_and_marks_it_sent(people, contracted, monkeypatch):
    upwork = FakeUpwork(monkeypatch)
    decision = milestones.approve(people["rita"], milestone(contracted), USD("500.00"), "Thanks")
    assert milestones.run_decision(decision.pk) == "sent"
    assert upwork.sent == [
        (
            "approve_milestone",
            ("m1",),
            {"amount": {"rawValue": "500.00", "currency": "USD"}, "message": "Thanks"},
        )
    ]
    decision.refresh_from_db()
    assert decision.state == "sent" and decision.sent_at is not None
    assert milestones.run_decision(decision.pk) == "sent before"  # a repeated job does nothing
    assert len(upwork.sent) == 1
    event = AuditEvent.objects.get(action="marketplace.milestone_decision_sent")
    assert describe(event).text == (
        f"Upwork paid milestone “Design” of {contracted.reference} (500.00 USD)"
    )


def test_an_earlier_attempt_that_went_through_is_not_repeated(people, contracted, monkeypatch):
    from gigbridge.integrations.upwork.errors import RetryableUpworkError

    upwork = FakeUpwork(monkeypatch, fail=RetryableUpworkError("timed out"))
    decision = milestones.approve(people["rita"], milestone(contracted))
    with pytest.raises(RetryableUpworkError):
        milestones.run_decision(decision.pk)
    decision.refresh_from_db()
    assert (decision.state, decision.attempts) == ("queued", 1)  # the outbox tries again
    upwork.fail, upwork.state = None, "PAID"  # the answer was lost, the payment was made
    assert milestones.run_decision(decision.pk) == "sent"
    assert upwork.sent == []


def test_a_refusal_by_upwork_fails_the_decision_with_the_reason(people, contracted, monkeypatch):
    from gigbridge.integrations.upwork.errors import GraphQLErrorItem, GraphQLErrors

    error = GraphQLErrors([GraphQLErrorItem("Milestone is locked")])
    FakeUpwork(monkeypatch, fail=error)
    decision = milestones.approve(people["rita"], milestone(contracted))
    with pytest.raises(GraphQLErrors):
        milestones.run_decision(decision.pk)
    decision.refresh_from_db()
    assert decision.state == "failed" and "Milestone is locked" in decision.error
    event = AuditEvent.objects.get(action="marketplace.milestone_decision_failed")
    assert describe(event).text.startswith("Upwork could not pay milestone “Design”")
    assert milestones.budget_left(contracted).on_the_way == 0


def test_retrying_gives_up_at_the_outboxs_last_attempt(people, contracted, monkeypatch, settings):
    from gigbridge.integrations.upwork.errors import RetryableUpworkError

    settings.GIGBRIDGE_JOB_MAX_ATTEMPTS = 2
    FakeUpwork(monkeypatch, fail=RetryableUpworkError("503"))
    decision = milestones.approve(people["rita"], milestone(contracted))
    for _ in range(2):
        with pytest.raises(RetryableUpworkError):
            milestones.run_decision(decision.pk)
    decision.refresh_from_db()
    assert decision.state == "failed" and "gave up after 2 attempts" in decision.error


def test_a_milestone_paid_elsewhere_first_fails_the_approval(people, contracted, monkeypatch):
    FakeUpwork(monkeypatch, state="PAID")
    decision = milestones.approve(people["rita"], milestone(contracted))
    assert milestones.run_decision(decision.pk) == "failed"
    decision.refresh_from_db()
    assert decision.error == "the milestone is paid on Upwork already"


def test_the_job_sends_changes_to_the_latest_submission(people, contracted, monkeypatch):
    upwork = FakeUpwork(monkeypatch)
    decision = milestones.request_changes(people["rita"], milestone(contracted), "Bigger logo")
    assert milestones.run_decision(decision.pk) == "sent"
    assert upwork.sent == [("reject_milestone_submission", ("s1",), {"note": "Bigger logo"})]


def test_the_job_funds_the_milestone(people, contracted, monkeypatch):
    upwork = FakeUpwork(monkeypatch, state="NOT_FUNDED")
    later = milestone(contracted, state="NOT_FUNDED", amount=None)
    decision = milestones.activate(people["rita"], later)
    assert milestones.run_decision(decision.pk) == "sent"
    assert upwork.sent == [("activate_milestone", ("m1",), {"message": None})]


# --- weekly hours --------------------------------------------------------------------------


def hours(engagement, day: str, h: str, amount: str):
    return TimeEntry.objects.create(
        engagement=engagement,
        contract_id="k1",
        date=dt.date.fromisoformat(day),
        hours=Decimal(h),
        amount=Decimal(amount),
        synced_at=clock.now(),
    )


def test_a_week_that_ended_is_approved_once_with_its_totals(people, contracted):
    # The tests' clock starts on Tuesday 2026-12-01: the week of Monday 2026-11-23 has ended.
    hours(contracted, "2026-11-23", "6.5", "552.50")
    hours(contracted, "2026-11-27", "4", "340.00")
    hours(contracted, "2026-11-30", "8", "680.00")  # the week that is still running
    approval = milestones.approve_week(people["rita"], contracted, dt.date(2026, 11, 23), "OK")
    assert (approval.hours, approval.amount, approval.currency) == (
        Decimal("10.50"),
        Decimal("892.50"),
        "USD",
    )
    with pytest.raises(InvalidTransition, match="approved by Rita Requester on 2026-12-01"):
        milestones.approve_week(people["ada"], contracted, dt.date(2026, 11, 23))
    assert HoursApproval.objects.count() == 1
    event = AuditEvent.objects.get(action="marketplace.hours_approved")
    assert describe(event).text == (
        f"Rita Requester approved the hours of {contracted.reference} in the week of "
        "2026-11-23: 10.50 hours, 892.50 USD"
    )
    weeks = milestones.weeks(contracted)
    assert [(w.start, w.ended, w.approval is not None) for w in weeks] == [
        (dt.date(2026, 11, 30), False, False),
        (dt.date(2026, 11, 23), True, True),
    ]


@pytest.mark.parametrize(
    ("week", "says"),
    [
        ("2026-11-30", "has not ended yet: it can be approved from 2026-12-07"),
        ("2026-11-24", "is not a Monday"),
        ("2026-11-16", "no hours are logged in the week of 2026-11-16"),
        ("1999-12-27", "must be between"),
    ],
)
def test_weeks_not_ended_not_mondays_or_without_hours_are_refused(people, contracted, week, says):
    hours(contracted, "2026-11-30", "8", "680.00")
    with pytest.raises(RuleViolation) as refused:
        milestones.approve_week(people["rita"], contracted, dt.date.fromisoformat(week))
    [problem] = refused.value.problems
    assert problem.field == "week_start" and says in problem.message
    assert not HoursApproval.objects.exists()


def test_hours_changed_on_upwork_after_approval_show_as_changed(people, contracted):
    entry = hours(contracted, "2026-11-23", "6", "510.00")
    milestones.approve_week(people["rita"], contracted, dt.date(2026, 11, 23))
    assert not milestones.weeks(contracted)[0].changed_since_approval
    TimeEntry.objects.filter(pk=entry.pk).update(hours=Decimal("5"), amount=Decimal("425.00"))
    assert milestones.weeks(contracted)[0].changed_since_approval


def test_engagement_states_where_nothing_is_decided(people, contracted):
    Engagement.objects.filter(pk=contracted.pk).update(state="offboarding")
    with pytest.raises(InvalidTransition, match="offboarding"):
        milestones.approve(people["rita"], milestone(contracted))


def test_an_approval_shown_paid_counts_until_a_payments_pass_has_finished_after_it(
    people, contracted
):
    """Contracts and payments are separate steps of a pass: when the payments step fails (or
    has not run since), the approval shown paid is not yet spend, so it still counts."""
    from gigbridge.sourcing.models import SyncCursor

    first = milestone(contracted, "m1", "1200.00")
    milestones.approve(people["rita"], first)
    before = clock.now()
    SyncCursor.objects.create(
        organization_id=contracted.sourcing.organization_id,
        stream="payments",
        value="2026-11-30",
        updated_at=before,
    )
    shown_paid = before + dt.timedelta(minutes=1)
    Milestone.objects.filter(pk=first.pk).update(state="PAID", approved_at=shown_paid)
    assert milestones.budget_left(contracted).on_the_way == Decimal("1200.00")
    SyncCursor.objects.update(updated_at=shown_paid + dt.timedelta(seconds=5))
    assert milestones.budget_left(contracted).on_the_way == Decimal("0.00")
