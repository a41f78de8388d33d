"""The analytics benchmark (bench/analytics) at a tiny scale, so its code cannot rot: the
generator writes the documented shape into the source tables (exact counts, the unique and
foreign-key constraints hold), ``rebuild_all`` computes the rollups from it, and the runner times
every dashboard query under its four filter sets. The numbers themselves are bench/README.md's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from bench.analytics import generate as gen
from bench.analytics import run
from gigbridge import clock
from gigbridge.analytics import queries
from gigbridge.analytics.rebuild import rebuild_all
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.program.actions import activate_policy_file
from gigbridge.sourcing.models import Payment, TimeEntry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bench_world(tmp_path):
    policy = tmp_path / "program.yaml"
    policy.write_text(gen.bench_policy_text())
    activate_policy_file(policy, actor="bench")
    clock.set_now(run.PINNED_NOW)
    yield gen.Shape(scale=0.0005, seed=3)
    clock.set_now(None)


def test_generator_writes_the_documented_shape(bench_world):
    shape = bench_world
    report = gen.generate(shape)

    assert WorkRequest.objects.count() == shape.requests == 625
    assert WorkRequest.objects.filter(state="approved").count() == 500
    assert Engagement.objects.count() == 500
    assert TimeEntry.objects.count() == shape.hour_entries == 5000
    assert report.tables["engagements_timeentry"]["rows"] == 5000
    # 5 % cancelled before a contract: no freelancer, no contract, no hours, no payment
    cancelled = Engagement.objects.filter(state="cancelled")
    assert 0 < cancelled.count() < 60
    assert not cancelled.exclude(contract_start=None).exists()
    assert not TimeEntry.objects.filter(engagement__state="cancelled").exists()
    assert not Payment.objects.filter(engagement__state="cancelled").exists()
    # 1-4 steps a request, stage 1 the manager; an approved request has every step approved
    per_request = {r: 0 for r in WorkRequest.objects.values_list("pk", flat=True)}
    for request_id in ApprovalStep.objects.values_list("request_id", flat=True):
        per_request[request_id] += 1
    assert set(per_request.values()) <= {1, 2, 3, 4}
    assert set(ApprovalStep.objects.filter(stage=1).values_list("role", flat=True)) == {"manager"}
    assert (
        not ApprovalStep.objects.filter(request__state="approved")
        .exclude(state="approved")
        .exists()
    )
    # USD payments count at the policy's rate
    usd = Payment.objects.filter(currency="USD").first()
    assert usd is not None and abs(usd.amount * Decimal(str(gen.USD_RATE)) - usd.amount_program) < 1
    # the rows hold together (SQLite checks foreign keys on demand; the load had them off)
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_key_check")
            assert cur.fetchall() == []


def test_runner_times_every_dashboard_query_under_four_filter_sets(bench_world):
    gen.generate(bench_world)
    rebuild_all()

    results = run.measure(runs=2, progress=lambda line: None)

    assert list(results) == run.FILTER_SETS
    expected = set(queries.TABLES) | {"filter_choices()", "dashboard()"}
    for measured in results.values():
        assert set(measured["queries"]) == expected
        for numbers in measured["queries"].values():
            assert 0 < numbers["p50_ms"] <= numbers["p95_ms"] <= numbers["max_ms"]
            assert numbers["runs"] == 2
    assert results["all time"]["queries"]["summary"]["rows"] == 1
    assert results["all time"]["queries"]["filter_choices()"]["rows"] >= 40 + 10
    assert results["2025 + cost center"]["filters"]["cost_center"] == "CC-MAR-EM"
    table = run.markdown("SQLite", results)
    assert table.count("\n") == 1 + len(expected)
