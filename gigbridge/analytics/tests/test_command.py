"""`gigbridge analytics rebuild` and `check`: progress lines, and a check that fails, naming
the cells, when the kept rollups are wrong."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gigbridge.analytics.models import MonthlyCube, RequestFact

from .helpers import direct_hire, pay, start

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("analytics", *args, stdout=out)
    return out.getvalue()


def test_rebuild_reports_progress_and_repairs(people, frozen_now):
    hire = start(people, direct_hire(people))
    pay(hire, "250.00")
    assert "the kept rollups equal a recomputation" in run("check")

    cell = MonthlyCube.objects.get(grain=0, paid_cents__gt=0)
    MonthlyCube.objects.filter(pk=cell.pk).update(paid_cents=1)  # damage one cell
    RequestFact.objects.update(hours_centi=7)
    with pytest.raises(CommandError, match="differ from a recomputation") as failed:
        run("check", "--quiet")
    assert "cell(s)" in str(failed.value)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("analytics", "check", stdout=out)
    lines = out.getvalue().splitlines()
    assert f"facts kept but not rebuilt of requests {hire.request_id}" in lines
    cc = hire.request.cost_center_id
    assert f"monthlycube (2026-12-01, {cc}, design, 0): paid_cents kept 1, rebuilt 25000" in lines

    output = run("rebuild")
    assert "facts of requests:" in output
    assert "rollup cube paid_cents:" in output
    assert output.strip().endswith("analytics rebuilt: 1 requests, 1 monthly cells")
    assert MonthlyCube.objects.get(grain=0).paid_cents == 25000
    assert "equal a recomputation" in run("check", "--quiet")
