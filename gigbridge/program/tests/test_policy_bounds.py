"""A policy at the edge of every bound works in the product, not only in `policy check`.

Issue 7: an annual budget of 10^24 made every cost-center read raise (the column holds less
than 10^12) and cooling-off or reminder days of 10^10 raised OverflowError in the scheduler and
in rehire checks. The bounds in policy.py keep such values out; these tests put the largest and
smallest values the bounds allow through the code that uses them.
"""

import datetime as dt
from decimal import Decimal

import pytest

from conftest import EXAMPLE_POLICY
from gigbridge import clock
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements import actions, compliance
from gigbridge.engagements.api import cost_center_rows
from gigbridge.engagements.tests.test_approvals import new_request, pending, submitted
from gigbridge.program import policy as bounds
from gigbridge.program.actions import activate_policy, current
from gigbridge.program.models import CostCenter
from gigbridge.program.policy import parse_policy
from gigbridge.sourcing.models import MarketplaceOffer, Payment

pytestmark = pytest.mark.django_db


def example_with(**values) -> str:
    """The example policy with the first `key: value` line of each key given replaced."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    for key, value in values.items():
        line = next(line for line in text.splitlines() if line.strip().startswith(f"{key}:"))
        indent = line[: len(line) - len(line.lstrip())]
        text = text.replace(line, f"{indent}{key}: {value}", 1)
    return text


AT_MAXIMUM = example_with(
    fiscal_year_start_month=12,
    USD=bounds.MIN_EXCHANGE_RATE,  # divides budgets into the largest marketplace amounts
    annual_budget=bounds.MAX_MONEY,  # the first cost center, CC-MKT
    amount_at_least=bounds.MAX_MONEY,  # the procurement rule
    reminder_after_days=bounds.MAX_APPROVAL_DAYS - 1,
    escalate_after_days=bounds.MAX_APPROVAL_DAYS,
    link_valid_days=30,
    max_engagement_days=bounds.MAX_DAYS,
    rehire_cooling_off_days=bounds.MAX_DAYS,
    grace_days=90,
)
AT_MINIMUM = example_with(
    fiscal_year_start_month=1,
    USD=bounds.MAX_EXCHANGE_RATE,  # multiplies marketplace amounts into the largest ones
    amount_at_least=0,
    reminder_after_days=1,
    escalate_after_days=2,
    link_valid_days=1,
    max_engagement_days=1,
    rehire_cooling_off_days=0,
    grace_days=0,
)


def in_force(text: str):
    activate_policy(text, "bounds.yaml", actor="tests")
    return current()[1]


def fits(model, field: str, amount: Decimal) -> bool:
    column = model._meta.get_field(field)
    return abs(amount) < Decimal(10) ** (column.max_digits - column.decimal_places)


def test_the_edges_are_valid_policies():
    largest, smallest = parse_policy(AT_MAXIMUM), parse_policy(AT_MINIMUM)
    assert largest.cost_center("CC-MKT").annual_budget == bounds.MAX_MONEY
    assert largest.compliance.rehire_cooling_off_days == bounds.MAX_DAYS
    assert smallest.approvals.reminder_after_days == 1
    assert smallest.compliance.rehire_cooling_off_days == 0


def test_the_largest_budget_fits_its_column_and_cost_centers_read_back(people, api):
    # Mid-year, so the request (two weeks ahead) counts in this fiscal year (it starts in
    # December here) whatever instant and time zone the suite runs on.
    clock.set_now(dt.datetime(2027, 6, 15, 12, tzinfo=dt.UTC))
    in_force(AT_MAXIMUM)
    stored = CostCenter.objects.get(code="CC-MKT")  # the read that raised for 10^24
    assert stored.annual_budget == bounds.MAX_MONEY
    assert fits(CostCenter, "annual_budget", bounds.MAX_MONEY)
    submitted(people["rita"], budget="4000.00")
    row = next(row for row in cost_center_rows() if row.code == "CC-MKT")
    assert (row.annual_budget, row.committed) == (bounds.MAX_MONEY, Decimal("4000"))
    assert row.available == bounds.MAX_MONEY - 4000
    response = api("rita").get("/api/v1/cost-centers")
    assert response.status_code == 200
    assert {"code": "CC-MKT", "annual_budget": "1000000000.00"}.items() <= next(
        item for item in response.json() if item["code"] == "CC-MKT"
    ).items()


def test_currency_conversion_at_the_rate_bounds_fits_the_amount_columns():
    largest, smallest = parse_policy(AT_MAXIMUM), parse_policy(AT_MINIMUM)
    # The offer limit for the largest budget at the smallest rate.
    limit = largest.from_program_currency(bounds.MAX_MONEY, "USD")
    assert limit == Decimal("100000000000.00") and fits(MarketplaceOffer, "amount", limit)
    # A million-dollar payment counted at the largest rate.
    counted = smallest.to_program_currency(Decimal("1000000"), "USD")
    assert counted == Decimal("100000000000.00") and fits(Payment, "amount_program", counted)


def test_an_engagement_as_long_as_the_bound_allows(people, frozen_now):
    in_force(AT_MAXIMUM)
    start = clock.today() + dt.timedelta(days=14)
    longest = start + dt.timedelta(days=bounds.MAX_DAYS - 1)
    request = new_request(
        people["rita"], start_date=start.isoformat(), end_date=longest.isoformat()
    )
    assert request.end_date == longest
    with pytest.raises(RuleViolation, match=f"at most {bounds.MAX_DAYS}"):
        new_request(
            people["rita"],
            start_date=start.isoformat(),
            end_date=(longest + dt.timedelta(days=1)).isoformat(),
        )


@pytest.mark.parametrize(
    ("text", "reminder", "escalation"),
    [
        pytest.param(AT_MAXIMUM, bounds.MAX_APPROVAL_DAYS - 1, bounds.MAX_APPROVAL_DAYS, id="max"),
        pytest.param(AT_MINIMUM, 1, 2, id="min"),
    ],
)
def test_reminders_and_escalation_at_the_bounds(people, frozen_now, text, reminder, escalation):
    in_force(text)
    request = submitted(people["rita"], **one_day())
    frozen_now(days=reminder, minutes=-1)
    assert actions.send_reminders_and_escalations() == {"reminded": 0, "escalated": 0}
    frozen_now(minutes=2)
    assert actions.send_reminders_and_escalations() == {"reminded": 1, "escalated": 0}
    frozen_now(days=escalation - reminder)
    assert actions.send_reminders_and_escalations() == {"reminded": 0, "escalated": 1}
    [step] = pending(request)
    assert step.escalated_at == clock.now() and step.reminded_at is not None


def one_day() -> dict:
    """Dates for an engagement that complies with every policy here (AT_MINIMUM allows one
    day)."""
    start = (clock.today() + dt.timedelta(days=14)).isoformat()
    return {"start_date": start, "end_date": start}


def direct_engagement(people, email: str):
    request = submitted(
        people["rita"],
        sourcing="direct",
        freelancer_email=email,
        freelancer_country="PT",
        **one_day(),
    )
    while steps := pending(request):  # AT_MINIMUM asks procurement after the manager
        for step in steps:
            actions.decide(step.assignee or people["paula"], step, "approve")  # procurement
    request.refresh_from_db()
    return request.engagement


def test_rehire_check_at_the_longest_cooling_off(people, frozen_now):
    policy = in_force(AT_MAXIMUM)
    email = "freya@freelancers.example"
    ended = direct_engagement(people, email).request.end_date
    last_refused = ended + dt.timedelta(days=bounds.MAX_DAYS)
    [problem] = compliance.check_cooling_off(email, last_refused, policy)
    assert problem.rule == "compliance.rehire_cooling_off_days"
    assert f"earliest start is {last_refused + dt.timedelta(days=1)}" in problem.message
    assert compliance.check_cooling_off(email, last_refused + dt.timedelta(days=1), policy) == []
    with pytest.raises(RuleViolation, match="3650 days before a rehire"):
        new_request(
            people["rita"], sourcing="direct", freelancer_email=email, freelancer_country="PT"
        )


def test_rehire_check_near_the_end_of_the_calendar_does_not_overflow(people, frozen_now):
    """An engagement recorded as ending in December 9999: the end plus the cooling-off period
    is past the last date Python can represent; the check must still answer."""
    policy = in_force(AT_MAXIMUM)
    email = "freya@freelancers.example"
    engagement = direct_engagement(people, email)
    engagement.contract_end = dt.date(9999, 12, 1)
    engagement.save(update_fields=["contract_end"])
    [problem] = compliance.check_cooling_off(email, dt.date(9999, 12, 31), policy)
    assert "earliest start is 9999-12-31" in problem.message


def test_no_cooling_off_at_the_smallest_bound(people, frozen_now):
    policy = in_force(AT_MINIMUM)
    email = "freya@freelancers.example"
    ended = direct_engagement(people, email).request.end_date
    assert compliance.check_cooling_off(email, ended, policy) == []
