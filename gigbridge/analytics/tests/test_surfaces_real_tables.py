"""The surfaces on analytics-core's real tables (queries.TABLES, read from the rollups): no
fakes, so a table the surfaces cannot show, export or describe fails here."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.test import Client

from gigbridge.analytics import queries
from gigbridge.analytics.models import MonthlyCube
from gigbridge.analytics.tests import test_kpis
from gigbridge.analytics.tests.test_odata_conventions import (
    ROOT,
    _matches,
    body,
    edm_types,
    metadata_sets,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cube(people):
    from gigbridge.program.models import CostCenter

    cc = CostCenter.objects.order_by("code").first()
    for month in (dt.date(2026, 10, 1), dt.date(2026, 11, 1)):
        MonthlyCube.objects.create(
            month=month,
            cost_center_id=cc.pk,
            task_category="software-development",
            team_key=0,
            created=4,
            submitted=3,
            approved=2,
            engaged=2,
            engage_seconds=2 * 86400 * 9,
            committed_cents=1_250_000,
            paid_cents=400_050,
            engaged_paid_cents=400_050,
            ended=1,
            duration_days=30,
            hours_centi=1250,
        )
    return cc


@pytest.mark.parametrize("with_data", [False, True])
def test_dashboard_exports_and_feed_on_every_real_table(people, request, with_data):
    if with_data:
        request.getfixturevalue("cube")
    client = Client()
    client.force_login(people["ada"])
    response = client.get("/analytics/?period=last-3-months")
    assert response.status_code == 200
    html = response.content.decode()
    for slug in queries.TABLES:
        table = queries.table(slug, queries.Filters())
        assert table.title in html
        csv_response = client.get(f"/analytics/{slug}.csv?start=2026-10-01&end=2026-12-31")
        assert csv_response.status_code == 200
        header = csv_response.content.decode("utf-8-sig").splitlines()[0].split(",")
        assert header[: len(table.columns)] == [c.key for c in table.columns]
        parquet = client.get(f"/analytics/{slug}.parquet")
        assert pq.read_table(io.BytesIO(parquet.content)).num_rows == len(table.rows)
    sets = metadata_sets(client)
    for name, entity_type in sets.items():
        props = edm_types(entity_type)
        for row in walk(client, ROOT + name):
            for prop_name, value in row.items():
                assert value is None or _matches(value, props[prop_name].get("Type")), (
                    name,
                    prop_name,
                    value,
                )
    if with_data:
        rows = body(client.get(ROOT + "MonthlyRollup?$filter=month ge 2026-11-01"))["value"]
        assert [r["month"] for r in rows] == ["2026-11-01"]


program = test_kpis.program  # analytics-core's hand-computed program (see test_kpis)


def test_the_known_program_on_the_page_in_the_files_and_in_the_feed(people, program):
    client = Client()
    client.force_login(people["fiona"])
    html = client.get("/analytics/?period=all-time").content.decode()
    # Headline cards, for people: money with its currency, days with their unit.
    assert "1,092.00 EUR" in html and "2.5 days" in html and "50.0 %" in html
    # Filters offer names, never ids.
    studio = program["studio"]
    assert f'<option value="{studio.pk}">Brand studio</option>' in html
    rows = list(
        csv.reader(io.StringIO(client.get("/analytics/summary.csv").content.decode("utf-8-sig")))
    )
    summary = dict(zip(rows[0], rows[1], strict=True))
    assert summary["total_paid"] == "1092.00" and summary["currency"] == "EUR"
    assert summary["average_days_to_engage"] == "2.5000"
    data = body(client.get(ROOT + "Summary?$select=total_paid,requests"))
    assert data["value"][0]["total_paid"] == Decimal("1092.00")
    assert data["value"][0]["requests"] == 6
    # The team filter reaches the feed's tables as a custom query option.
    teamed = body(client.get(ROOT + f"Summary?team={studio.pk}&$select=requests"))
    assert teamed["value"][0]["requests"] == 1  # only B was for the Brand studio
