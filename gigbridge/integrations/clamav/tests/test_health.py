"""/healthz's scanner entry: ok, degraded (old signatures), down, not configured."""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge.integrations.clamav import health
from gigbridge.integrations.clamav.client import ScannerVersion


@pytest.fixture
def beating(db):
    """A live worker and a policy: the rest of the page is healthy, so the scanner decides."""
    from gigbridge import clock
    from gigbridge.jobs.worker import beat

    beat("w1", clock.now())


def scanner_of(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.json()["integrations"]["scanner"]


def test_our_own_clamd_is_ok_with_its_test_signatures(client, beating, policy, clamav):
    status, scanner = scanner_of(client)
    assert status == 200
    assert scanner["state"] == "ok" and scanner["ok"] is True
    assert scanner["engine"].startswith("ClamAV 1.")
    assert scanner["database"] is None and scanner["database_age_days"] is None
    assert "test signatures only" in scanner["detail"]


def test_not_configured_is_said_and_does_not_fail_the_page(client, beating, policy, settings):
    settings.CLAMAV = {**settings.CLAMAV, "address": None}
    status, scanner = scanner_of(client)
    assert status == 200
    assert scanner == {
        "configured": False,
        "ok": True,
        "state": "not configured",
        "detail": "no clamd configured (GIGBRIDGE_CLAMD_ADDRESS): deliverables are not scanned",
    }


def test_an_unreachable_clamd_is_down(client, beating, policy, settings, tmp_path):
    settings.CLAMAV = {**settings.CLAMAV, "address": f"unix://{tmp_path}/gone.sock"}
    status, scanner = scanner_of(client)
    assert status == 503
    assert scanner["state"] == "down" and scanner["ok"] is False
    assert scanner["detail"].startswith(f"clamd unix://{tmp_path}/gone.sock VERSION: ")


def test_a_bad_address_is_down_with_the_reason(client, beating, policy, settings):
    settings.CLAMAV = {**settings.CLAMAV, "address": "clamd.sock"}
    status, scanner = scanner_of(client)
    assert status == 503 and scanner["state"] == "down"
    assert "expected unix:///absolute/path.sock" in scanner["detail"]


@pytest.mark.parametrize(
    "days,state,status", [(1, "ok", 200), (7, "ok", 200), (8, "degraded", 503)]
)
def test_signatures_older_than_a_week_are_degraded(
    client, beating, policy, clamav, monkeypatch, frozen_now, days, state, status
):
    built = frozen_now.now() - dt.timedelta(days=days, hours=1)
    text = f"ClamAV 1.4.6/27000/{built:%a %b %d %H:%M:%S %Y}"
    monkeypatch.setattr(
        health.Clamd, "version", lambda self: ScannerVersion("ClamAV 1.4.6", 27000, built, text)
    )
    got, scanner = scanner_of(client)
    assert (got, scanner["state"], scanner["database_age_days"]) == (status, state, days)
    assert scanner["database"] == 27000
    assert scanner["database_date"] == built.isoformat()


def test_a_bad_address_keeps_the_service_from_starting(settings):
    from gigbridge.startup import scanner_problems

    settings.CLAMAV = {**settings.CLAMAV, "address": "localhost:3310"}
    assert scanner_problems() == [
        "GIGBRIDGE_CLAMD_ADDRESS: clamd address 'localhost:3310': expected "
        "unix:///absolute/path.sock or tcp://host:port"
    ]
    settings.CLAMAV = {**settings.CLAMAV, "address": "tcp://127.0.0.1:3310"}
    assert scanner_problems() == []
