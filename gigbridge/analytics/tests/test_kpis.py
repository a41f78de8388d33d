"""Every KPI on a small known program equals a value computed by hand (the arithmetic is in the
comments). The program is lived through the real actions on a pinned clock, starting Tuesday
1 December 2026 09:00 UTC; payments, hours, offers and grants (the marketplace sync's and the
access reconciler's rows) are written as those write them.

    A  design, CC-MKT, direct hire of Freya (PT), 4000: submitted Dec 1 09:00, approved Dec 2
       09:00 (24 h), contracted Dec 4 09:00 (3 days), guest Dec 4 11:00, Team Dec 4 17:00
       (full access 8 h after the contract), paid 1000.00 EUR Dec 20, hours 6.00 on Dec 20
       revised to 4.50 and 3.00 on Jan 5; ended Jan 10 (contract Dec 15 – Jan 10: 27 days).
    B  content, CC-MKT, team "Brand studio", marketplace, 3000: submitted Dec 4 09:00,
       approved Dec 4 21:00 (12 h); contract with Omar refused Dec 5 (no MSA:
       compliance.required_agreements); Freya again (a repeat hire) on an offer of 2000 USD
       (x 0.92 = 1840.00 EUR committed), contracted Dec 6 09:00 (2 days); paid 100 USD =
       92.00 EUR Dec 28; no end; no access yet.
    C  translation, CC-ENG: submitted Dec 1, rejected Dec 2 (24 h).
    D  data-analysis, CC-MKT: submitted Dec 1, withdrawn Dec 2.
    E  design, CC-ENG: submitted Dec 1, approved Dec 2 (24 h), cancelled Dec 3 (before a
       contract: no engagement counted, no spend).
    F  design: a draft withdrawn without submission (counts nowhere).
    G  design, CC-ENG, by Carol: submitted Jan 12 2027, waiting.
"""

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge.analytics.models import MonthlyCube
from gigbridge.analytics.queries import Filters, dashboard, table
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements import actions
from gigbridge.engagements.tests.test_approvals import new_request
from gigbridge.people.models import Person
from gigbridge.program.models import Workspace

from .helpers import accepted_offer, end, grant, log_hours, pay, pending, submit

pytestmark = pytest.mark.django_db
D = Decimal
DEC, JAN = dt.date(2026, 12, 1), dt.date(2027, 1, 1)


@pytest.fixture
def program(people, frozen_now):
    rita, max_ = people["rita"], people["max"]
    a = submit(
        people,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    c = submit(people, task_category="translation", cost_center="CC-ENG", budget="2000")
    d = submit(people, task_category="data-analysis", budget="1500")
    e = submit(people, cost_center="CC-ENG", budget="1000")
    f = new_request(rita)
    frozen_now(days=1)  # Dec 2 09:00
    actions.decide(max_, pending(a)[0], "approve")
    actions.decide(max_, pending(c)[0], "reject", "not this quarter")
    actions.withdraw_request(rita, d)
    actions.decide(max_, pending(e)[0], "approve")
    actions.withdraw_request(rita, f)
    frozen_now(days=1)  # Dec 3 09:00
    actions.transition_engagement(people["ada"], e.engagement, "cancelled")
    frozen_now(days=1)  # Dec 4 09:00
    hire = actions.transition_engagement(people["ada"], a.engagement, "contracted")
    studio = Workspace.objects.create(name="Brand studio", new_team=True)
    b = submit(people, task_category="content", budget="3000", workspace=studio)
    frozen_now(hours=2)
    grant(hire, "guest")
    frozen_now(hours=6)
    grant(hire, "team_member", target="team-1")
    frozen_now(hours=1)
    grant(hire, "welcome_mail", target="mail")  # not access: does not move the moment
    frozen_now(hours=3)  # Dec 4 21:00
    actions.decide(max_, pending(b)[0], "approve")
    market = b.engagement
    frozen_now(hours=12)  # Dec 5 09:00
    market.freelancer = Person.objects.get(email="omar@freelancers.example")
    market.save()
    with pytest.raises(RuleViolation):
        actions.transition_engagement(people["ada"], market, "contracted")
    frozen_now(days=1)  # Dec 6 09:00
    market.freelancer = Person.objects.get(email="freya@freelancers.example")
    market.save()
    accepted_offer(market, "2000.00", "USD")
    actions.transition_engagement(people["ada"], market, "contracted")
    frozen_now(days=14)  # Dec 20
    pay(hire, "1000.00")
    entry = log_hours(hire, dt.date(2026, 12, 20), "6.00")
    frozen_now(days=8)  # Dec 28
    pay(market, "100.00", "USD", amount_program="92.00")
    frozen_now(days=13)  # Jan 10 2027
    log_hours(hire, dt.date(2027, 1, 5), "3.00")
    entry.hours = D("4.50")
    entry.save()
    end(people, hire)
    frozen_now(days=2)  # Jan 12
    submit(people, who="carol", cost_center="CC-ENG", budget="1000")
    return {"studio": studio}


def one(slug, **filters):
    return table(slug, Filters(**filters)).rows


def test_the_headline_kpis(program):
    (row,) = one("summary")
    assert row == {
        "requests": 6,  # A B C D E G (F never submitted)
        "engaged": 2,  # A and B; E was cancelled before a contract
        "average_days_to_engage": D("2.5"),  # (3 + 2) / 2
        "total_paid": D("1092.00"),  # 1000.00 + 92.00 (B's 100 USD as the program counts it)
        "average_spend_per_engagement": D("546.00"),  # 1092.00 / 2 engagements with a contract
        "average_duration_days": D("27.0"),  # A: Dec 15 to Jan 10, both days
        "active_hiring_managers": 2,  # rita, carol
        "repeat_hire_rate": D("50.0"),  # B rehired Freya: 1 of 2
    }
    assert table("summary", Filters()).currency == "EUR"


def test_a_period_counts_each_event_in_its_own_month(program):
    (december,) = one("summary", start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))
    assert december["requests"] == 5  # A B C D E
    assert december["engaged"] == 2
    assert december["total_paid"] == D("1092.00")
    assert december["average_duration_days"] is None  # A ended in January
    assert december["active_hiring_managers"] == 1
    (january,) = one("summary", start=dt.date(2027, 1, 1), end=dt.date(2027, 1, 31))
    assert january == {
        "requests": 1,  # G
        "engaged": 0,
        "average_days_to_engage": None,  # nothing to average: no division by zero
        "total_paid": D("0.00"),
        "average_spend_per_engagement": None,
        "average_duration_days": D("27.0"),
        "active_hiring_managers": 1,
        "repeat_hire_rate": None,
    }
    # A period that starts mid-month counts that whole month (the grain is a month).
    assert one("summary", start=dt.date(2027, 1, 15))[0]["requests"] == 1


def test_an_empty_period(program):
    filters = Filters(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    tables = {t.slug: t for t in dashboard(filters)}
    assert tables["summary"].rows[0]["average_days_to_engage"] is None
    assert tables["summary"].rows[0]["requests"] == 0
    for slug in (
        "time-to-engage",
        "spend-by-category",
        "duration",
        "demand",
        "approval-cycle",
        "access-time",
        "adoption",
        "refusals",
        "countries",
    ):
        assert tables[slug].rows == [], slug
    assert {r["forecast"] for r in tables["budget-burn"].rows} == {D("0.00")}


def test_time_to_engage_and_access(program):
    assert one("time-to-engage") == [
        {"month": DEC, "engaged": 2, "average_days_to_engage": D("2.5")}
    ]
    # A: contract Dec 4 09:00, guest 11:00, Team 17:00 -> 8 h; B has no access yet.
    assert one("access-time") == [
        {"month": DEC, "engagements": 1, "average_hours_to_access": D("8.0")}
    ]


def test_spend_and_duration_by_category(program):
    assert one("spend-by-category") == [
        {
            "task_category": "content",
            "committed": D("1840.00"),  # 2000 USD x 0.92
            "paid": D("92.00"),
            "engagements": 1,
            "average_spend_per_project": D("92.00"),
        },
        {
            "task_category": "design",
            "committed": D("4000.00"),  # the direct hire's budget; E (cancelled) commits nothing
            "paid": D("1000.00"),
            "engagements": 1,
            "average_spend_per_project": D("1000.00"),
        },
    ]
    assert one("duration") == [
        {"task_category": "design", "ended": 1, "average_duration_days": D("27.0")}
    ]


def test_demand_by_task_type_and_team(program):
    assert one("demand") == [
        {"task_category": "content", "team": "Brand studio", "requests": 1},  # B
        {"task_category": "data-analysis", "team": "no team", "requests": 1},  # D
        {"task_category": "design", "team": "no team", "requests": 3},  # A E G
        {"task_category": "translation", "team": "no team", "requests": 1},  # C
    ]


def test_approval_cycle(program):
    # A, C, E decided 24 h after activation, B 12 h: (24 + 24 + 24 + 12) / 4 = 21
    assert one("approval-cycle") == [
        {"stage": 1, "role": "manager", "decisions": 4, "average_hours": D("21.0")}
    ]
    cube = MonthlyCube.objects.filter(grain=0, month=DEC)
    assert sum(c.approved for c in cube) == 3  # A B E
    assert sum(c.rejected for c in cube) == 1  # C
    assert sum(c.withdrawn for c in cube) == 1  # D (F was never submitted)
    assert sum(c.cancelled for c in cube) == 1  # E
    # (24 + 24 + 24 + 12) h of submission to decision for A C E B
    assert sum(c.decision_seconds for c in cube) == 84 * 3600


def test_budget_burn(program):
    rows = {r["cost_center"]: r for r in one("budget-burn")}
    assert rows["CC-MKT Marketing"] == {
        "cost_center": "CC-MKT Marketing",
        "annual_budget": D("120000.00"),
        "committed": D("5840.00"),  # A 4000.00 + B 1840.00
        "paid": D("1092.00"),
        "forecast": D("2840.00"),  # 1092.00 paid + B's unpaid 1840.00 - 92.00 (A has ended)
        "percent_used": D("0.9"),  # 1092 / 120000 = 0.91 %
    }
    assert rows["CC-ENG Engineering"]["committed"] == D("0.00")  # E cancelled before contract
    assert rows["CC-ENG Engineering"]["forecast"] == D("0.00")
    (only,) = one("budget-burn", cost_center="CC-ENG")
    assert only["cost_center"] == "CC-ENG Engineering"


def test_adoption_refusals_and_countries(program):
    assert one("adoption") == [
        {"month": DEC, "hiring_managers": 1, "teams": 1, "requests": 5, "repeat_hires": 1},
        {"month": JAN, "hiring_managers": 1, "teams": 0, "requests": 1, "repeat_hires": 0},
    ]
    assert one("refusals") == [{"rule": "compliance.required_agreements", "refusals": 1}]
    assert one("countries") == [{"country": "Portugal", "country_code": "PT", "engagements": 2}]


def test_hours_count_in_the_month_worked_and_a_revision_moves_them(program):
    hours = {c.month: c.hours_centi for c in MonthlyCube.objects.filter(grain=0, hours_centi__gt=0)}
    assert hours == {DEC: 450, JAN: 300}  # 6.00 revised to 4.50 on Dec 20; 3.00 on Jan 5


def test_filters_by_cost_center_category_and_team(program):
    eng = one("summary", cost_center="CC-ENG")[0]
    assert (eng["requests"], eng["engaged"], eng["average_days_to_engage"]) == (3, 0, None)  # C E G
    design = one("summary", task_category="design")[0]
    assert (design["requests"], design["engaged"], design["average_days_to_engage"]) == (
        3,  # A E G
        1,  # A
        D("3.0"),
    )
    team = one("summary", team=program["studio"].pk)[0]
    assert (team["requests"], team["engaged"], team["repeat_hire_rate"]) == (1, 1, D("100.0"))
    assert team["total_paid"] == D("92.00")
    assert one("summary", cost_center="CC-NONE")[0]["requests"] == 0
    assert one("refusals", cost_center="CC-ENG") == []
    assert one("countries", task_category="translation") == []
