"""The rollups kept by every change equal a recomputation from the source tables."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from gigbridge.analytics import rebuild
from gigbridge.analytics.models import MonthlyCube, Refusal, RequestFact
from gigbridge.analytics.queries import Filters, summary
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements import actions
from gigbridge.people.models import Person

from .helpers import (
    accepted_offer,
    approve_all,
    direct_hire,
    end,
    grant,
    log_hours,
    pay,
    pending,
    start,
    submit,
)

pytestmark = pytest.mark.django_db


def assert_exact():
    assert rebuild.check() == []


def test_a_program_lived_through_the_actions_equals_its_rebuild(people, frozen_now):
    hire = direct_hire(people)
    assert_exact()
    frozen_now(days=2)
    hire = start(people, hire)  # contracted; active on its start day
    assert_exact()
    grant(hire, "guest")
    frozen_now(hours=5)
    grant(hire, "team_member", target="team")
    pay(hire, "1000.00")
    entry = log_hours(hire, dt.date(2026, 12, 20), "6.50")
    assert_exact()
    entry.hours = Decimal("4.25")  # Upwork revised the day
    entry.save()
    assert_exact()

    market = approve_all(people, submit(people, budget="6000", task_category="content"))
    market.freelancer = Person.objects.get(email="freya@freelancers.example")
    market.save()
    accepted_offer(market, "5000.00", "USD")
    frozen_now(days=40)
    actions.transition_engagement(people["ada"], market, "contracted")
    payment = pay(market, "100.00", "USD", amount_program="92.00")
    assert_exact()
    payment.amount_program = Decimal("90.00")  # a payment revised
    payment.save()
    assert_exact()

    rejected = submit(people, task_category="translation")
    actions.decide(people["max"], pending(rejected)[0], "reject", "not now")
    withdrawn = submit(people, task_category="translation")
    actions.withdraw_request(people["rita"], withdrawn)
    cancelled = approve_all(people, submit(people, task_category="data-analysis"))
    actions.transition_engagement(people["ada"], cancelled, "cancelled")
    assert_exact()

    changed = submit(people, task_category="design")
    actions.decide(people["max"], pending(changed)[0], "request_changes", "smaller please")
    changed.refresh_from_db()
    actions.update_request(people["rita"], changed, {"task_category": "content"})
    assert_exact()

    with pytest.raises(RuleViolation):
        submit(people, sourcing="direct", freelancer_email="ivan@example.org")
    frozen_now(days=200)
    end(people, hire)
    payment.delete()
    assert_exact()
    assert RequestFact.objects.count() == 6  # the refused request was never made
    kept = RequestFact.objects.get(pk=hire.request_id)
    assert kept.hours_centi == 425 and kept.ended_on is not None
    assert (
        RequestFact.objects.get(pk=market.request_id).committed_cents == 460000
    )  # 5000 USD x 0.92


def test_a_refused_submission_is_counted_by_rule(people, frozen_now):
    request = submit(people, budget="20000", cost_center="CC-OPS", task_category="content")
    assert request.state == "in_approval"
    from gigbridge.engagements.tests.test_approvals import new_request

    draft = new_request(
        people["rita"], budget="5000", cost_center="CC-OPS", task_category="content"
    )
    # 26000 of the 30000 a year of CC-OPS: the draft's 5000 no longer fits
    submit(people, budget="6000", cost_center="CC-OPS", task_category="content")
    with pytest.raises(RuleViolation):
        actions.submit_request(people["rita"], draft)
    assert list(Refusal.objects.filter(grain=0).values_list("rule", "refusals")) == [
        ("cost_centers.CC-OPS.annual_budget", 1)
    ]
    assert_exact()


def test_a_rolled_back_transaction_leaves_the_rollups_unchanged(people):
    before = rebuild.snapshot()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        direct_hire(people)
        assert rebuild.snapshot() != before  # kept inside the transaction...
        raise Boom
    assert rebuild.snapshot() == before  # ...and gone with it
    assert not MonthlyCube.objects.filter(submitted__gt=0).exists()
    assert summary(Filters()).rows[0]["requests"] == 0


def test_a_refused_contract_start_is_recorded_once_after_the_rollback(people):
    from gigbridge.audit.models import AuditEvent

    hire = direct_hire(people, freelancer_email="omar@freelancers.example", freelancer_country="EG")
    with pytest.raises(RuleViolation):
        start(people, hire)  # Omar has not signed the MSA
    (event,) = AuditEvent.objects.filter(action="compliance.refused")
    assert (event.rule, event.object_type, event.object_id) == (
        "compliance.required_agreements",
        "workrequest",
        str(hire.request_id),
    )
    assert event.actor_user_id == people["rita"].pk
    assert event.after["where"] == "contract"
    assert list(Refusal.objects.filter(grain=0).values_list("rule", "refusals")) == [
        ("compliance.required_agreements", 1)
    ]
    hire.refresh_from_db()
    assert hire.state == "sourcing"  # the refusal itself changed nothing
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_a_change_saved_outside_a_transaction_keeps_its_rollups_too(people):
    """(On PostgreSQL, without a transaction of its own the maintenance's row lock fails.)"""
    hire = start(people, direct_hire(people))
    pay(hire, "12.34")  # the sync's autocommit write: the rollups get a transaction of their own
    assert MonthlyCube.objects.get(grain=0, paid_cents__gt=0).paid_cents == 1234
    assert_exact()
