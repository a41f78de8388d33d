"""Spend alerts: 80% and 100% of the engagement's budget (to the hiring manager) and of the cost
center's annual budget (to its owner), each once, when crossed; one alert at 100% when a single
payment crosses both. Upwork is replaced by typed answers (payments arrive through the sync)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail as django_mail

from gigbridge.audit.models import AuditEvent
from gigbridge.integrations.upwork import operations as ops
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications.tasks import send_mail_job
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import sync
from gigbridge.sourcing.models import SpendAlert
from gigbridge.sourcing.tests.test_marketplace import _contracted, _row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_to_one(people):
    """1 USD counts as 1 EUR, so the amounts below are the budget's."""
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    text = EXAMPLE_POLICY.read_text().replace("USD: 0.92", "USD: 1")
    activate_policy(text, "program.yaml", actor="tests")


@pytest.fixture
def paid(monkeypatch):
    """paid("3300.00", ...) -> the marketplace now shows these running balances on k1; sync."""
    rows = []

    def pay(*balances):
        for balance in balances:
            rows.append(_row(f"t{len(rows) + 1}", balance))
        monkeypatch.setattr(ops, "transaction_history", lambda *a, **k: list(rows))
        return sync.sync_payments(None, "")

    return pay


def alert_mails(scope_prefix=""):
    """(recipient username, threshold) of every queued spend alert mail, in order."""
    from django.contrib.auth import get_user_model

    users = {u.pk: u.username for u in get_user_model().objects.all()}
    return [
        (users[j.payload["user_id"]], j.payload["context"]["threshold"])
        for j in OutboxJob.objects.filter(payload__template="spend_alert").order_by("id")
        if j.payload["context"]["scope"].startswith(scope_prefix)
    ]


def test_engagement_alerts_at_80_then_100_each_once_to_the_hiring_manager(people, paid):
    engagement = _contracted(people)  # budget 4000 EUR, requested by rita
    scope = f"engagement:{engagement.pk}"
    paid("3000.00")  # 75%: nothing yet
    assert alert_mails(scope) == []
    paid("3300.00")  # 82.5%
    assert alert_mails(scope) == [("rita", 80)]
    paid("3500.00")  # still between: not again
    assert alert_mails(scope) == [("rita", 80)]
    paid("4000.00")  # exactly 100%
    assert alert_mails(scope) == [("rita", 80), ("rita", 100)]
    paid("4500.00")  # over: not again
    assert alert_mails(scope) == [("rita", 80), ("rita", 100)]
    assert AuditEvent.objects.filter(action="spend.alert", after__scope=scope).count() == 2


def test_one_payment_crossing_80_and_100_sends_one_alert_saying_100(people, paid):
    engagement = _contracted(people)
    scope = f"engagement:{engagement.pk}"
    paid("1000.00")
    paid("4100.00")  # 25% -> 102.5% in one payment
    assert alert_mails(scope) == [("rita", 100)]
    # Both thresholds are done: a later payment never sends the skipped 80%.
    assert set(SpendAlert.objects.filter(scope=scope).values_list("threshold", flat=True)) == {
        80,
        100,
    }
    paid("4200.00")
    assert alert_mails(scope) == [("rita", 100)]
    event = AuditEvent.objects.get(action="spend.alert", after__scope=scope)
    assert event.after["threshold"] == 100 and event.after["crossed"] == [80, 100]


def test_cost_center_alerts_go_to_its_owner_and_engagement_alerts_to_the_hiring_manager(
    people, paid
):
    engagement = _contracted(people)  # CC-MKT, owner carol.owner@contoso.example
    cc = engagement.request.cost_center
    cc.annual_budget = Decimal("5000")
    cc.save()
    paid("4100.00")  # engagement 102.5%, cost center 82%
    assert alert_mails("engagement:") == [("rita", 100)]
    assert alert_mails("cost_center:CC-MKT") == [("carol", 80)]
    paid("5000.00")  # cost center 100%
    assert alert_mails("cost_center:CC-MKT") == [("carol", 80), ("carol", 100)]


def test_cost_center_owner_without_an_account_alerts_the_program_admins(people, paid):
    engagement = _contracted(people)
    cc = engagement.request.cost_center
    cc.annual_budget = Decimal("4000")
    cc.owner_email = "nobody.here@contoso.example"
    cc.save()
    paid("4000.00")
    assert alert_mails("cost_center:") == [("ada", 100)]


def test_no_budget_no_alert(people):
    assert marketplace.new_thresholds("engagement:0", Decimal("10"), Decimal("0")) == []
    assert marketplace.new_thresholds("engagement:0", Decimal("79.99"), Decimal("100")) == []
    assert marketplace.new_thresholds("engagement:0", Decimal("80"), Decimal("100")) == [80]
    assert marketplace.new_thresholds("engagement:0", Decimal("100"), Decimal("100")) == [80, 100]


def test_alert_mail_names_amount_currency_and_links_the_page(people, paid, settings):
    engagement = _contracted(people)
    cc = engagement.request.cost_center
    cc.annual_budget = Decimal("5000")
    cc.save()
    paid("4100.00")
    for job in OutboxJob.objects.filter(payload__template="spend_alert").order_by("id"):
        send_mail_job(job.payload)
    by_to = {m.to[0]: m for m in django_mail.outbox}
    rita = by_to["rita@contoso.example"]
    assert rita.subject == f"Spend over budget: {engagement.reference} {engagement.request.title}"
    assert "4,100.00 EUR of its budget of 4,000.00 EUR: 100% reached" in rita.body
    assert "100.00 EUR over the budget" in rita.body
    assert f"{settings.BASE_URL}/engagements/{engagement.pk}/" in rita.body
    carol = by_to["carol.owner@contoso.example"]
    assert carol.subject.startswith("Spend at 80%: CC-MKT Marketing")
    assert "4,100.00 EUR of its budget of 5,000.00 EUR: 80% reached" in carol.body
    assert "over the budget" not in carol.body
    assert f"{settings.BASE_URL}/policy/#cc-CC-MKT" in carol.body


def test_overspend_is_flagged_in_red_with_words_on_the_engagement_and_policy_pages(
    people, paid, client
):
    engagement = _contracted(people)
    cc = engagement.request.cost_center
    cc.annual_budget = Decimal("5000")
    cc.save()
    client.force_login(people["rita"])
    paid("3900.00")
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert '<dd id="budget-used">3,900.00 EUR of 4,000.00 EUR' in page
    assert "Over budget" not in page
    policy = client.get("/policy/").content.decode()
    assert '<tr id="cc-CC-MKT">' in policy

    paid("5100.00")
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert '<dd id="budget-used" class="overspent">5,100.00 EUR of 4,000.00 EUR' in page
    assert "<strong>Over budget by 1,100.00 EUR</strong>" in page
    policy = client.get("/policy/").content.decode()
    assert '<tr id="cc-CC-MKT" class="overspent">' in policy
    assert "<td>5,100.00 EUR <strong>Over budget</strong></td>" in policy
    css = (Path(__file__).parents[2] / "web" / "static" / "gigbridge" / "app.css").read_text()
    assert ".overspent" in css


def test_a_payment_beyond_any_bound_stops_the_pass_and_counts_nothing(people, paid):
    """A marketplace answer of 10^20 (a fault) is not stored or cut: the job fails permanently
    and says which payment, and the payments before it in the same answer wait with it."""
    from gigbridge.jobs.errors import PermanentError
    from gigbridge.sourcing.models import Payment

    _contracted(people)
    with pytest.raises(PermanentError, match=r"payment t2 of 9{18}00.00 USD is beyond 1,000,000,"):
        paid("100.00", "100000000000000000000.00")
    assert not Payment.objects.exists()


def test_a_payment_with_fractions_of_a_cent_is_kept_in_cents(people, paid):
    from gigbridge.sourcing.models import Payment

    _contracted(people)
    paid("100.004")
    assert Payment.objects.get().amount == Decimal("100.00")


@pytest.mark.parametrize("hours, charges", [("25", "100"), ("-1", "10"), ("8", "1e15")])
def test_a_day_of_hours_out_of_bounds_is_skipped_not_stored(people, hours, charges):
    from types import SimpleNamespace

    from gigbridge.sourcing.models import TimeEntry

    engagement = _contracted(people)
    row = SimpleNamespace(
        date_worked_on="2026-12-02", total_hours_worked=hours, total_charges=charges, memo=""
    )
    assert sync._upsert_hours(engagement, "k1", row) == 0
    assert not TimeEntry.objects.exists()
