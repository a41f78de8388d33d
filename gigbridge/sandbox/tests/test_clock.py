"""The sandbox clock (``/_sandbox/clock``): set to an instant, moved, or shifted by an offset."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import clock_start

from .files_support import sandbox_url
from .upwork_support import tools


def post(http, info, body) -> tuple[int, dict]:
    response = http.post(sandbox_url(info, "/_sandbox/clock"), json=body, auth=tools(info))
    return response.status_code, response.json()


def reads(body: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(body["now"])


def test_every_test_starts_on_the_pinned_instant_and_the_clock_runs_on(http, info):
    status, body = post(http, info, {})  # an empty POST changes nothing, answers the time
    assert status == 200
    start = clock_start()
    assert start <= reads(body) < start + dt.timedelta(minutes=5)


def test_now_sets_an_instant_with_any_offset_and_advance_moves_from_it(http, info):
    status, body = post(http, info, {"now": "2028-02-29T23:30:00-10:00"})
    assert status == 200
    moment = dt.datetime(2028, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert moment <= reads(body) < moment + dt.timedelta(minutes=1)
    status, body = post(http, info, {"advance_seconds": 86400})
    assert status == 200 and reads(body) - moment >= dt.timedelta(days=1)
    # The offset kept its meaning (real time plus it): 0 is this machine's time again.
    status, body = post(http, info, {"offset_seconds": 0})
    assert status == 200 and body["offset_seconds"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"now": "2028-02-29T23:30:00"},  # naive: would depend on the server's zone
        {"now": "2027-02-29T10:00:00Z"},  # no such day
        {"now": 1700000000},
        {"now": "2040-01-01T00:00:00Z"},  # beyond the ten years the offset may span
        {"now": "2028-02-29T23:30:00Z", "advance_seconds": 5},
        {"offset_seconds": "soon"},
        {"when": "now"},
    ],
)
def test_a_bad_clock_setting_is_400_and_changes_nothing(http, info, body):
    before = post(http, info, {})[1]["offset_seconds"]
    status, answer = post(http, info, body)
    assert status == 400 and answer["error"] == "invalid_clock", answer
    assert post(http, info, {})[1]["offset_seconds"] == before
