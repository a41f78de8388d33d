"""The dashboard and its exports: who may see them, filters (presets from the pinned clock,
errors beside the field), and the CSV and Parquet files read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.test import Client

from gigbridge.analytics import views
from gigbridge.analytics.tests import fakes

pytestmark = pytest.mark.django_db
fake_tables = fakes.fake_tables  # the fixture, for this module's tests

ALLOWED = ["ada", "fiona", "paula", "audrey"]  # program_admin, finance, procurement, auditor
REFUSED = ["rita", "max", "lena", "hank", "dan"]


def signed_in(people, username: str) -> Client:
    client = Client()
    client.force_login(people[username])
    return client


@pytest.mark.parametrize("username", ALLOWED + REFUSED)
def test_dashboard_and_exports_only_for_who_may_view_analytics(people, fake_tables, username):
    client = signed_in(people, username)
    expected = 200 if username in ALLOWED else 403
    for url in (
        "/analytics/",
        "/analytics/spend-by-category.csv",
        "/analytics/spend-by-category.parquet",
    ):
        assert client.get(url).status_code == expected, (username, url)


def test_signed_out_visitors_are_sent_to_sign_in(fake_tables, policy):
    for url in ("/analytics/", "/analytics/summary.csv"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_dashboard_shows_every_table_with_chart_data_and_an_accessible_table(people, fake_tables):
    response = signed_in(people, "ada").get("/analytics/?period=all-time")
    html = response.content.decode()
    assert response.status_code == 200
    # Headline cards from the summary table: numbers for people, money with its currency.
    assert "Program at a glance" in html and "101,229.49 EUR" in html and "9.5 days" in html
    for slug, title in (
        ("spend-by-category", "Spend per project category"),
        ("demand-by-month", "Demand by month"),
    ):
        assert f'id="heading-{slug}">{title}</h2>' in html
        assert f'<table id="data-{slug}">' in html
        # The chart's data is a JSON block (no inline script), drawn by analytics.js.
        assert f'<script id="chart-data-{slug}" type="application/json">' in html
        assert f'data-chart="chart-data-{slug}" aria-hidden="true"' in html
        assert f'href="/analytics/{slug}.csv"' in html
        assert f'href="/analytics/{slug}.parquet"' in html
    assert "<caption>Spend per project category</caption>" in html
    assert '<th scope="col" class="num">Spend</th>' in html
    assert '<td class="num">1,234.50 EUR</td>' in html
    assert '<td class="num">12.3 days</td>' in html  # days carry their unit
    assert "—" in html  # design has no spend yet
    assert "2024-01" in html  # months as YYYY-MM
    assert "vendor/chartjs/chart.umd.min.js" in html and "analytics/analytics.js" in html
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither
    chart = json.loads(
        html.split('<script id="chart-data-spend-by-category" type="application/json">')[1].split(
            "</script>"
        )[0]
    )
    assert chart["type"] == "bar"
    assert chart["labels"][0] == "software-development"
    assert chart["datasets"][1] == {"label": "Spend (EUR)", "data": [1234.5, None, -5.0, 99999.99]}


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        # The tests' clock reads Tuesday 2026-12-01; the example policy's fiscal year starts
        # in January.
        ("this-month", "2026-12-01", "2026-12-31"),
        ("last-3-months", "2026-10-01", "2026-12-31"),
        ("last-12-months", "2026-01-01", "2026-12-31"),
        ("fiscal-year", "2026-01-01", "2026-12-31"),
    ],
)
def test_presets_come_from_the_clock_and_exports_carry_the_dates(
    people, fake_tables, period, start, end
):
    html = signed_in(people, "fiona").get(f"/analytics/?period={period}").content.decode()
    assert f'name="start" id="f-start" value="{start}"' in html
    assert f'name="end" id="f-end" value="{end}"' in html
    assert f"/analytics/spend-by-category.csv?start={start}&amp;end={end}" in html


def test_preset_months_cross_the_year():
    assert views.preset_dates("last-3-months", dt.date(2027, 1, 15)) == (
        dt.date(2026, 11, 1),
        dt.date(2027, 1, 31),
    )
    assert views.preset_dates("this-month", dt.date(2028, 2, 29)) == (
        dt.date(2028, 2, 1),
        dt.date(2028, 2, 29),
    )
    assert views.preset_dates("all-time", dt.date(2027, 1, 15)) == (None, None)


def test_custom_dates_and_dimension_filters_make_a_shareable_link(people, fake_tables):
    url = "/analytics/?period=custom&start=2026-02-01&end=2026-04-30&task_category=design&team=7"
    html = signed_in(people, "ada").get(url).content.decode()
    assert '<option value="design" selected>' in html
    assert '<option value="7" selected>Website relaunch</option>' in html
    # Only the design row is left, and the export links keep every filter.
    assert (
        "software-development"
        not in html.split('id="table-spend-by-category"')[1].split("</section>")[0]
    )
    assert (
        "/analytics/spend-by-category.csv?start=2026-02-01&amp;end=2026-04-30"
        "&amp;task_category=design&amp;team=7"
    ) in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=custom&start=2026-13-01", "start"),
        ("period=custom&start=2026-05-01&end=2026-04-01", "end"),
        ("team=abc", "team"),
        ("cost_center=%3Cscript%3E", "cost_center"),
    ],
)
def test_a_bad_filter_is_shown_beside_its_field(people, fake_tables, query, field):
    response = signed_in(people, "ada").get(f"/analytics/?{query}")
    html = response.content.decode()
    assert response.status_code == 400
    ident = "f-" + field.replace("_", "-")
    assert f'id="{ident}-error"' in html and f'aria-describedby="{ident}-error"' in html
    assert 'role="alert"' in html
    assert "<script>" not in html  # the value is escaped wherever it is echoed


def test_export_with_a_bad_filter_is_a_400_naming_it(people, fake_tables):
    response = signed_in(people, "ada").get("/analytics/spend-by-category.csv?end=tomorrow")
    assert response.status_code == 400
    assert response.content.decode().startswith("end:")


def test_unknown_table_is_404(people, fake_tables):
    client = signed_in(people, "ada")
    assert client.get("/analytics/no-such-table.csv").status_code == 404
    assert client.get("/analytics/no-such-table.parquet").status_code == 404


def test_csv_reads_back_with_keys_plain_decimals_currency_and_no_formula(people, fake_tables):
    response = signed_in(people, "ada").get(
        "/analytics/spend-by-category.csv?start=2026-01-01&end=2026-03-31"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="gigbridge-spend-by-category-2026-01-01-to-2026-03-31.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["task_category", "engagements", "spend", "avg_days", "currency"]
    assert rows[1] == ["software-development", "3", "1234.50", "12.2500", "EUR"]
    assert rows[2] == ["design", "1", "", "", "EUR"]
    # The formula is text; the negative amount stays a number.
    assert rows[3] == ['\'=HYPERLINK("http://evil.example")', "2", "-5.00", "3.0000", "EUR"]
    assert len(rows) == 5


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_defused(start):
    from gigbridge.analytics.export import safe_cell

    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("ok =1") == "ok =1"


def test_parquet_is_typed_with_metadata(people, fake_tables, frozen_now):
    response = signed_in(people, "ada").get("/analytics/spend-by-category.parquet?team=7")
    assert response["Content-Disposition"] == (
        'attachment; filename="gigbridge-spend-by-category-all-time.parquet"'
    )
    table = pq.read_table(io.BytesIO(response.content))
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {
        "task_category": "string",
        "engagements": "int64",
        "spend": "decimal128(38, 2)",
        "avg_days": "decimal128(38, 4)",
        "currency": "string",
    }
    assert table.column("spend").to_pylist() == [
        Decimal("1234.50"),
        None,
        Decimal("-5.00"),
        Decimal("99999.99"),
    ]
    assert table.column("currency").to_pylist() == ["EUR"] * 4
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert json.loads(meta["gigbridge.filters"]) == {"team": "7"}
    assert meta["gigbridge.generated_at"] == "2026-12-01T09:00:00+00:00"
    assert json.loads(meta["gigbridge.table"])["slug"] == "spend-by-category"
    assert table.schema.field("spend").metadata[b"label"] == b"Spend"


def test_parquet_months_are_dates(people, fake_tables):
    response = signed_in(people, "ada").get("/analytics/demand-by-month.parquet")
    table = pq.read_table(io.BytesIO(response.content))
    assert str(table.schema.field("month").type) == "date32[day]"
    assert str(table.schema.field("requests").type) == "int64"
    assert table.column("month").to_pylist()[0] == dt.date(2024, 1, 1)
    assert "currency" not in table.column_names  # no money in this table
