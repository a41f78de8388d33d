"""The tests' clocks: every test starts on the pinned instant, whatever the day it runs."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from django.utils import timezone

from conftest import clock_start
from gigbridge import clock


def test_the_product_clock_starts_on_the_pinned_instant_and_runs_on():
    start = clock_start()
    assert start <= clock.now() < start + dt.timedelta(minutes=5)
    assert clock.today() == timezone.localdate(start)
    clock.set_now(start + dt.timedelta(days=3))  # frozen
    assert clock.now() == clock.now() == start + dt.timedelta(days=3)
    clock.set_now(None)  # runs again, still shifted
    assert start <= clock.now() < start + dt.timedelta(minutes=5)
    clock.start_at(None)
    assert abs(clock.now() - timezone.now()) < dt.timedelta(seconds=1)


def test_a_child_process_shares_the_tests_date(subprocess_env):
    code = (
        "import django; django.setup(); from gigbridge import clock; "
        "print(clock.now().isoformat())"
    )
    env = {**subprocess_env, "DJANGO_SETTINGS_MODULE": "gigbridge.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    child = dt.datetime.fromisoformat(out.stdout.strip())
    assert clock_start() <= child < clock_start() + dt.timedelta(minutes=5)
