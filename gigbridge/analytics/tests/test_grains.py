"""The coarser grains of the rollups (all teams, all cost centers, …): kept equal to the sum of
their full-key rows by every action, compared by check, read by the queries that need them and
never served twice by the feed."""

from __future__ import annotations

import importlib
from collections import defaultdict
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.test import Client

from gigbridge.analytics import rebuild
from gigbridge.analytics.models import (
    ALL,
    ALL_TEXT,
    ROLLUPS,
    Adoption,
    ApprovalCycle,
    Country,
    MonthlyCube,
    Refusal,
    grain_key,
    measures,
)
from gigbridge.analytics.queries import Filters, filter_choices, grain_for, table
from gigbridge.analytics.tests import test_kpis
from gigbridge.analytics.tests.test_odata_conventions import ROOT, walk
from gigbridge.engagements.tests.test_approvals import new_request
from gigbridge.program.models import Workspace

from .helpers import pay

pytestmark = pytest.mark.django_db

program = test_kpis.program  # analytics-core's hand-computed program (see test_kpis)


def sums_of_full_rows(model, grain: int) -> dict:
    """The grain's rows as they should be: the full-key rows summed in Python."""
    names = measures(model)
    expected: dict = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in model.objects.filter(grain=0).values(*model.KEY, *names):
        key = grain_key(model, tuple(row[k] for k in model.KEY), grain)
        for name in names:
            expected[key][name] += row[name]
    return {k: v for k, v in expected.items() if any(v.values())}


def stored(model, grain: int) -> dict:
    names = measures(model)
    rows = {}
    for row in model.objects.filter(grain=grain).values(*model.KEY, *names):
        values = {n: row[n] for n in names}
        if any(values.values()):
            rows[tuple(row[k] for k in model.KEY)] = values
    return rows


def assert_grains_are_sums():
    for model in ROLLUPS:
        for grain in model.GRAINS:
            if grain:
                assert stored(model, grain) == sums_of_full_rows(model, grain), (model, grain)
    assert rebuild.check() == []


def test_every_coarser_grain_is_the_sum_of_its_team_rows_after_every_action(people, program):
    assert_grains_are_sums()
    every_team = MonthlyCube.objects.get(
        grain=7, month=test_kpis.DEC, cost_center_id=ALL, task_category=ALL_TEXT, team_key=ALL
    )
    assert every_team.submitted == 5  # A B C D E in December (G in January)
    assert every_team.paid_cents == 109200
    # A draft moved from one team to another, then given up: its rows move in every grain.
    studio = program["studio"]
    other = Workspace.objects.create(name="Data lab")
    draft = new_request(people["rita"], workspace=studio)
    draft.workspace = other
    draft.save()
    assert_grains_are_sums()
    draft.delete()
    assert_grains_are_sums()
    # A payment revised (its month's paid moves in the all-teams row too), then removed.
    engagement = program_engagement(studio)
    payment = pay(engagement, "10.00")
    payment.amount_program = "12.50"
    payment.save()
    assert_grains_are_sums()
    payment.delete()
    assert_grains_are_sums()
    assert every_team.__class__.objects.get(pk=every_team.pk).paid_cents == 109200


def program_engagement(studio):
    from gigbridge.engagements.models import Engagement

    return Engagement.objects.get(request__workspace=studio)


def test_check_compares_the_coarser_grains(program):
    row = MonthlyCube.objects.get(
        grain=4, month=test_kpis.DEC, task_category="design", team_key=ALL, paid_cents__gt=0
    )
    MonthlyCube.objects.filter(pk=row.pk).update(paid_cents=F("paid_cents") + 1)
    key = f"(2026-12-01, {row.cost_center_id}, design, -1)"
    assert rebuild.check() == [f"monthlycube {key}: paid_cents kept 100001, rebuilt 100000"]
    Country.objects.filter(grain=7).update(grain=4)  # the wrong grain for its key
    assert any("grain kept 4, rebuilt 7" in line for line in rebuild.check())


def test_each_query_reads_the_smallest_grain_that_has_its_dimensions():
    cube = MonthlyCube
    assert grain_for(cube, Filters()) == 7
    assert grain_for(cube, Filters(), ("task_category",)) == 5
    assert grain_for(cube, Filters(), ("cost_center_id",)) == 6
    assert grain_for(cube, Filters(cost_center="CC-ENG", task_category="design")) == 4
    assert grain_for(cube, Filters(team=3), ("task_category",)) == 1
    assert grain_for(cube, Filters(team=3, cost_center="CC-ENG")) == 0
    assert grain_for(Adoption, Filters(), ("requester_id",)) == 14
    assert grain_for(Adoption, Filters(team=3), ("team_key",)) == 7
    assert grain_for(Adoption, Filters(cost_center="CC-ENG"), ("requester_id",)) == 0
    assert grain_for(ApprovalCycle, Filters()) == 7
    assert grain_for(ApprovalCycle, Filters(cost_center="CC-ENG")) == 4
    assert grain_for(ApprovalCycle, Filters(team=3)) == 0
    assert grain_for(Refusal, Filters(task_category="design")) == 0


def test_with_and_without_a_team_the_query_reads_its_own_slice(program):
    studio = program["studio"].pk
    summary = table("summary", Filters()).rows[0]
    teamed = table("summary", Filters(team=studio)).rows[0]
    assert (summary["requests"], summary["engaged"], summary["active_hiring_managers"]) == (6, 2, 2)
    assert (teamed["requests"], teamed["engaged"], teamed["active_hiring_managers"]) == (1, 1, 1)
    # Move only the all-teams month rows: the unfiltered summary follows them, the team's
    # does not (and the team's demand, read from its team rows, neither).
    MonthlyCube.objects.filter(grain=7).update(submitted=F("submitted") + 100)
    assert table("summary", Filters()).rows[0]["requests"] == 206
    assert table("summary", Filters(team=studio)).rows[0]["requests"] == 1
    assert sum(r["requests"] for r in table("demand", Filters()).rows) == 6
    # Adoption: managers from the (month, requester) rows, teams from the (month, team) ones.
    assert table("adoption", Filters()).rows == [
        {"month": test_kpis.DEC, "hiring_managers": 1, "teams": 1, "requests": 5,
         "repeat_hires": 1},
        {"month": test_kpis.JAN, "hiring_managers": 1, "teams": 0, "requests": 1,
         "repeat_hires": 0},
    ]  # fmt: skip
    assert table("adoption", Filters(team=studio)).rows == [
        {"month": test_kpis.DEC, "hiring_managers": 1, "teams": 1, "requests": 1,
         "repeat_hires": 1},
    ]  # fmt: skip


def test_the_feed_serves_the_full_key_only(people, program):
    client = Client()
    client.force_login(people["ada"])
    rows = walk(client, ROOT + "MonthlyRollup")
    assert rows and all(r["team_key"] >= 0 and r["cost_center_id"] > 0 for r in rows)
    assert "grain" not in rows[0]
    assert sum(r["submitted"] for r in rows) == 6  # each request once, as on the dashboard
    adoption = walk(client, ROOT + "AdoptionRollup")
    assert sum(r["requests"] for r in adoption) == 6
    hidden = MonthlyCube.objects.filter(grain=7).values_list("pk", flat=True).first()
    assert client.get(f"{ROOT}MonthlyRollup({hidden})").status_code == 404


def test_filter_choices_come_from_the_program_not_the_rollups(program):
    Workspace.objects.create(name="Quiet team")  # no request yet: still a choice
    choices = filter_choices()
    assert [name for _, name in choices["teams"]] == ["Brand studio", "Quiet team"]
    assert {"design", "content", "translation"} <= set(choices["task_categories"])
    assert ALL_TEXT not in choices["task_categories"]


def test_the_migration_sums_the_grains_of_rows_kept_before_it(program):
    for model in ROLLUPS:
        model.objects.exclude(grain=0).delete()
    assert rebuild.check() != []
    migration = importlib.import_module("gigbridge.analytics.migrations.0002_grains")
    migration.add_grains(apps, SimpleNamespace(connection=connection))
    assert rebuild.check() == []
    migration.remove_grains(apps, None)
    assert not any(m.objects.exclude(grain=0).exists() for m in ROLLUPS)
