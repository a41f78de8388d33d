"""Small known tables in the shape of ``queries`` (the contract of analytics-core), so the
dashboard, the exports and the OData feed are tested on values written here by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge.analytics import queries
from gigbridge.analytics.queries import Column, Table

SPEND_ROWS = [
    {
        "task_category": "software-development",
        "engagements": 3,
        "spend": Decimal("1234.5"),
        "avg_days": Decimal("12.25"),
    },
    {"task_category": "design", "engagements": 1, "spend": None, "avg_days": None},
    # A hostile label: spreadsheets must show it as text, never run it.
    {
        "task_category": '=HYPERLINK("http://evil.example")',
        "engagements": 2,
        "spend": Decimal("-5.00"),
        "avg_days": Decimal("3"),
    },
    {
        "task_category": "data-analysis",
        "engagements": 7,
        "spend": Decimal("99999.99"),
        "avg_days": Decimal("1.5"),
    },
]
MONTHS = 30  # rows of the monthly table: more than one small OData page


def spend(filters):
    rows = SPEND_ROWS
    if filters.task_category:
        rows = [r for r in rows if r["task_category"] == filters.task_category]
    return Table(
        "spend-by-category",
        "Spend per project category",
        "Paid amounts per task category, in the period.",
        [
            Column("task_category", "Task category", "text"),
            Column("engagements", "Engagements", "int"),
            Column("spend", "Spend", "money"),
            Column("avg_days", "Average duration", "days"),
        ],
        [dict(r) for r in rows],
        "bar",
        "EUR",
    )


def monthly(filters):
    rows = []
    for n in range(MONTHS):
        month = dt.date(2024 + n // 12, n % 12 + 1, 1)
        rows.append({"month": month, "requests": n, "hours": Decimal(n) / 4})
    return Table(
        "demand-by-month",
        "Demand by month",
        "Work requests submitted per month.",
        [
            Column("month", "Month", "month"),
            Column("requests", "Requests", "int"),
            Column("hours", "Hours logged", "hours"),
        ],
        rows,
        "line",
        "EUR",
    )


def summary(filters):
    return Table(
        "summary",
        "Program at a glance",
        "Headline numbers for the period.",
        [
            Column("engagements", "Engagements", "int"),
            Column("spend", "Spend", "money"),
            Column("avg_days_to_engage", "Average time to engage", "days"),
            Column("repeat_hires", "Repeat hires", "percent"),
        ],
        [
            {
                "engagements": 13,
                "spend": Decimal("101229.49"),
                "avg_days_to_engage": Decimal("9.5"),
                "repeat_hires": None,
            }
        ],
        "none",
        "EUR",
    )


def choices():
    return {
        "cost_centers": [("CC-ENG", "Engineering")],
        "task_categories": ["design", "software-development"],
        "teams": [(7, "Website relaunch")],
    }


@pytest.fixture
def fake_tables(monkeypatch):
    # As in queries.TABLES, the summary is the first table.
    tables = {"summary": summary, "spend-by-category": spend, "demand-by-month": monthly}
    monkeypatch.setattr(queries, "TABLES", tables)
    monkeypatch.setattr(queries, "table", lambda slug, filters: tables[slug](filters))
    monkeypatch.setattr(queries, "dashboard", lambda filters: [f(filters) for f in tables.values()])
    monkeypatch.setattr(queries, "summary", summary)
    monkeypatch.setattr(queries, "filter_choices", choices)
    return tables
