"""connection.py: clients from settings (tenant header, row fallback, shared rate limit in the
database), errors recorded on the row, and health() for /healthz."""

from __future__ import annotations

import httpx
import pytest

from gigbridge.integrations.outbound.ratelimit import DatabaseTokenBucket
from gigbridge.integrations.upwork import connection, operations
from gigbridge.integrations.upwork.auth import store_token
from gigbridge.integrations.upwork.errors import NotConnected, PermanentUpworkError
from gigbridge.integrations.upwork.models import UpworkConnection

from .test_auth import ACCESS, CFG, REFRESH


@pytest.fixture(autouse=True)
def upwork_settings(settings):
    settings.UPWORK = dict(CFG)
    connection.reset()
    yield settings.UPWORK
    connection.reset()


@pytest.fixture
def upwork_api():
    """Replace the process's HTTP pool with a MockTransport; -> the requests it saw."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if b"Organization" in request.content:
            return httpx.Response(
                200, json={"data": {"organization": {"id": "424242", "name": "Contoso"}}}
            )
        return httpx.Response(404, json={"message": "no such thing"})

    connection._shared["http"] = httpx.Client(transport=httpx.MockTransport(answer))
    connection._shared["limiter"] = DatabaseTokenBucket("upwork-test", rate=9, burst=9)
    return seen


def connect(org=""):
    return store_token(org, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600})


def test_not_configured(settings):
    settings.UPWORK = {**CFG, "client_id": None}
    assert connection.configured() is False
    assert connection.health() == {
        "configured": False,
        "ok": True,
        "state": "not_configured",
        "detail": "Upwork is not configured",
    }
    with pytest.raises(NotConnected):
        connection.client()


def test_configured_but_never_connected(db):
    health = connection.health()
    assert health["ok"] is False and health["state"] == "not_connected"
    assert "connect Upwork" in health["detail"]


def test_client_credentials_not_yet_fetched_is_fine(db, settings):
    settings.UPWORK = {**CFG, "grant": "client_credentials"}
    assert connection.health()["ok"] is True


def test_connected_health(db):
    connect()
    health = connection.health()
    assert health["ok"] is True and health["state"] == "connected"
    assert health["organization"] == "(default)" and health["token_expires_at"]
    assert ACCESS not in str(health) and REFRESH not in str(health)


def test_client_calls_upwork_with_the_tenant_header_and_a_shared_limit(
    transactional_db, upwork_api
):
    connect()
    client = connection.client("424242")
    assert connection.client("424242") is client  # one per organization per process
    org = operations.organization(client)
    assert org.name == "Contoso"
    (request,) = upwork_api
    assert request.headers["Authorization"] == f"Bearer {ACCESS}"
    assert request.headers["X-Upwork-API-TenantId"] == "424242"
    assert connection._shared["limiter"].tokens < 9  # the bucket row in the database was used


def test_an_organizations_own_row_is_preferred(transactional_db, upwork_api):
    connect("")
    store_token("777", {"access_token": "org-777-token", "expires_in": 3600})
    operations.organization(connection.client("777"))
    assert upwork_api[0].headers["Authorization"] == "Bearer org-777-token"


def test_default_organization_from_settings(transactional_db, upwork_api, settings):
    settings.UPWORK = {**CFG, "organization_id": "555"}
    connect()
    operations.organization(connection.client())
    assert upwork_api[0].headers["X-Upwork-API-TenantId"] == "555"


def test_errors_are_recorded_for_health(transactional_db, upwork_api):
    connect()
    with pytest.raises(PermanentUpworkError):
        operations.get_offer(connection.client(), "o1")
    row = UpworkConnection.objects.get()
    assert "404" in row.last_error and row.last_error_at is not None
    assert "404" in connection.health()["last_error"]


def test_healthz_reports_upwork(db, client, settings):
    connect()
    UpworkConnection.objects.update(state="needs_reconnect", reason="invalid_grant")
    body = client.get("/healthz").json()
    upwork = body["integrations"]["upwork"]
    assert upwork["ok"] is False and upwork["detail"].startswith("reconnect Upwork")
    assert body["status"] == "degraded"


def test_config_problems(settings, tmp_path):
    assert connection.config_problems() == []
    settings.UPWORK = {
        **CFG,
        "graphql_url": "http://api.upwork.test/graphql",
        "grant": "password",
        "ca_bundle": str(tmp_path / "missing.pem"),
    }
    found = "\n".join(connection.config_problems())
    assert "GIGBRIDGE_UPWORK_GRAPHQL_URL" in found and "GIGBRIDGE_UPWORK_GRANT" in found
    assert "GIGBRIDGE_UPWORK_CA_BUNDLE" in found
