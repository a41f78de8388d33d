"""Filters: parsing, bounds and the round trip through GET parameters; every table answers on
an empty program (no division by zero)."""

import datetime as dt

import pytest

from gigbridge.analytics import queries
from gigbridge.analytics.errors import BadFilter
from gigbridge.analytics.queries import Filters


def test_parameters_round_trip():
    filters = Filters.from_params(
        {
            "start": "2026-01-01",
            "end": "2026-03-31",
            "cost_center": "CC-MKT",
            "task_category": "design",
            "team": "7",
        }
    )
    assert filters == Filters(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "CC-MKT", "design", 7)
    assert Filters.from_params(filters.as_params()) == filters
    assert Filters.from_params({"start": "", "team": " "}) == Filters()
    assert Filters().as_params() == {}


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"start": "2026-13-01"}, "start", "YYYY-MM-DD"),
        ({"end": "yesterday"}, "end", "YYYY-MM-DD"),
        ({"start": "1999-12-31"}, "start", "outside 2000-01-01 to 2100-12-31"),
        ({"end": "2101-01-01"}, "end", "outside"),
        ({"start": "2026-02-01", "end": "2026-01-31"}, "end", "before it starts"),
        ({"cost_center": "X" * 33}, "cost_center", "at most 32"),
        ({"task_category": "<script>"}, "task_category", "letters or digits"),
        ({"team": "0"}, "team", "positive"),
        ({"team": "-3"}, "team", "number"),
        ({"team": "9" * 30}, "team", "number"),
    ],
)
def test_bad_filters_name_the_parameter(params, field, message):
    with pytest.raises(BadFilter, match=message) as caught:
        Filters.from_params(params)
    assert caught.value.field == field


@pytest.mark.django_db
def test_every_table_answers_an_empty_program(policy):
    tables = queries.dashboard(Filters())
    assert [t.slug for t in tables] == list(queries.TABLES)
    summary = tables[0]
    assert summary.currency == "EUR"
    assert summary.rows[0]["average_days_to_engage"] is None
    assert summary.rows[0]["repeat_hire_rate"] is None
    for t in tables:
        assert {c.key for c in t.columns} >= set(t.rows[0]) if t.rows else True
    with pytest.raises(KeyError):
        queries.table("nope", Filters())
    choices = queries.filter_choices()
    assert ("CC-MKT", "Marketing") in [tuple(c) for c in choices["cost_centers"]]
    assert "design" in choices["task_categories"]
