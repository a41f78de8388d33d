"""Upwork OAuth2: tokens encrypted at rest, refreshed before expiry under the row lock, revoked
refresh tokens leading to needs_reconnect, client credentials, and the connect/callback views
(state checked) through Django's test client. The token endpoint is an httpx.MockTransport."""

from __future__ import annotations

import datetime as dt
import json
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import connection as db
from django.test import Client

from gigbridge.integrations.upwork import auth, connection, views
from gigbridge.integrations.upwork.auth import ConnectionTokens, store_token
from gigbridge.integrations.upwork.errors import (
    AuthExpired,
    MalformedResponse,
    NotConnected,
    PermanentUpworkError,
    RetryableUpworkError,
)
from gigbridge.integrations.upwork.models import UpworkConnection

ACCESS = "oauth2v2_access_5ecre7_aaaaaaaaaaaa"
REFRESH = "oauth2v2_refresh_5ecre7_bbbbbbbbbbb"
NEW_ACCESS = "oauth2v2_access_new_cccccccccccccc"
NEW_REFRESH = "oauth2v2_refresh_new_dddddddddddd"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

CFG = {
    "client_id": "gigbridge-key",
    "client_secret": "gigbridge-key-secret",
    "grant": "authorization_code",
    "authorize_url": "https://www.upwork.test/ab/account-security/oauth2/authorize",
    "token_url": "https://www.upwork.test/api/v3/oauth2/token",
    "graphql_url": "https://api.upwork.test/graphql",
    "redirect_uri": None,
    "organization_id": None,
    "ca_bundle": None,
    "rate": 9.0,
    "burst": 9.0,
    "refresh_margin": 300,
    "timeout": 30,
    "token_key": None,
}


class TokenEndpoint:
    """A scripted token endpoint that records the form bodies it received."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.forms: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == CFG["token_url"]
        self.forms.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def granted(access=NEW_ACCESS, refresh=NEW_REFRESH, expires_in=86400) -> httpx.Response:
    body = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}
    if refresh:
        body["refresh_token"] = refresh
    return httpx.Response(200, json=body)


@pytest.fixture(autouse=True)
def upwork_settings(settings):
    settings.UPWORK = dict(CFG)
    connection.reset()
    yield settings.UPWORK
    connection.reset()


@pytest.fixture
def clock():
    current = [T0]

    def now():
        return current[0]

    def move(**delta):
        current[0] = current[0] + dt.timedelta(**delta)

    now.move = move
    return now


@pytest.fixture
def connected(db, clock):
    return store_token(
        "",
        {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 86400},
        now=clock(),
    )


def tokens_for(endpoint: TokenEndpoint, clock, org="", **cfg) -> ConnectionTokens:
    return ConnectionTokens(org, cfg={**CFG, **cfg}, now=clock, transport=endpoint.transport)


def raw_columns(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM upwork_upworkconnection "
            "WHERE id = %s",
            [pk],
        )
        return " ".join(cursor.fetchone())


# -- storage --------------------------------------------------------------------------------------


def test_tokens_are_encrypted_at_rest(connected):
    stored = raw_columns(connected.pk)
    assert ACCESS not in stored and REFRESH not in stored
    assert stored.startswith("gAAAA")  # Fernet tokens
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.access_token == ACCESS and row.refresh_token == REFRESH
    assert row.state == "connected" and row.expires_at == T0 + dt.timedelta(days=1)


def test_token_key_rotation_keeps_old_rows_readable(connected, settings):
    settings.UPWORK = {**CFG, "token_key": "a-new-token-key-that-is-long-enough-0123"}
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.access_token == ACCESS  # written with the SECRET_KEY-derived key
    row.access_token = NEW_ACCESS
    row.save()
    settings.UPWORK = dict(CFG)  # the token key is gone: its rows cannot be read
    from gigbridge.integrations.upwork.crypto import TokenKeyError

    row = UpworkConnection.objects.get(pk=connected.pk)
    with pytest.raises(TokenKeyError, match="cannot be decrypted"):
        _ = row.access_token


def test_a_changed_secret_key_asks_for_reconnecting(connected, settings, clock):
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    endpoint = TokenEndpoint()
    with pytest.raises(NotConnected):
        tokens_for(endpoint, clock).token()
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.state == "needs_reconnect" and "decrypted" in row.reason
    assert endpoint.forms == []


# -- refresh --------------------------------------------------------------------------------------


def test_fresh_token_is_used_without_calling_upwork(connected, clock):
    endpoint = TokenEndpoint()
    tokens = tokens_for(endpoint, clock)
    assert tokens.token() == ACCESS
    assert tokens.token() == ACCESS
    assert endpoint.forms == []


def test_refreshed_before_expiry_and_rotated_refresh_token_stored(connected, clock):
    endpoint = TokenEndpoint(granted())
    tokens = tokens_for(endpoint, clock)
    assert tokens.token() == ACCESS
    clock.move(hours=23, minutes=56)  # 4 minutes left, margin is 5
    assert tokens.token() == NEW_ACCESS
    (form,) = endpoint.forms
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == REFRESH
    assert form["client_id"] == CFG["client_id"] and form["client_secret"] == CFG["client_secret"]
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.access_token == NEW_ACCESS and row.refresh_token == NEW_REFRESH
    assert row.expires_at == clock() + dt.timedelta(days=1)
    assert row.refreshed_at == clock()
    assert NEW_ACCESS not in raw_columns(row.pk)


def test_refresh_keeps_the_refresh_token_when_upwork_sends_none(connected, clock):
    endpoint = TokenEndpoint(granted(refresh=None))
    clock.move(days=1)
    assert tokens_for(endpoint, clock).token() == NEW_ACCESS
    assert UpworkConnection.objects.get(pk=connected.pk).refresh_token == REFRESH


def test_a_second_worker_uses_the_token_the_first_refreshed(connected, clock):
    endpoint = TokenEndpoint(granted())
    first, second = tokens_for(endpoint, clock), tokens_for(endpoint, clock)
    assert second.token() == ACCESS  # cached in the second worker
    clock.move(hours=23, minutes=58)
    assert first.token() == NEW_ACCESS
    # The second worker's cached token was refused (401): the row already holds a new one.
    assert second.refresh_after_rejection(ACCESS) == NEW_ACCESS
    assert len(endpoint.forms) == 1


def test_401_after_refresh_elsewhere_does_not_refresh_again(connected, clock):
    endpoint = TokenEndpoint(granted(), granted(access="third", refresh="r3"))
    tokens = tokens_for(endpoint, clock)
    assert tokens.refresh_after_rejection(ACCESS) == NEW_ACCESS
    assert tokens.refresh_after_rejection("some-old-token") == NEW_ACCESS
    assert len(endpoint.forms) == 1
    assert tokens.refresh_after_rejection(NEW_ACCESS) == "third"


def test_revoked_refresh_token_means_needs_reconnect(connected, clock):
    endpoint = TokenEndpoint(
        httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"})
    )
    clock.move(days=1)
    tokens = tokens_for(endpoint, clock)
    with pytest.raises(AuthExpired) as caught:
        tokens.token()
    assert "invalid_grant" in str(caught.value)
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.state == "needs_reconnect" and "invalid_grant" in row.reason
    assert row.last_error_at == clock()
    # From now on nothing is sent to Upwork until an admin reconnects.
    with pytest.raises(NotConnected):
        tokens.token()
    assert len(endpoint.forms) == 1
    health = connection.health()
    assert health["ok"] is False and health["state"] == "needs_reconnect"
    assert health["detail"].startswith("reconnect Upwork")


def test_token_endpoint_outage_is_retryable_and_keeps_the_connection(connected, clock):
    endpoint = TokenEndpoint(httpx.Response(503, headers={"Retry-After": "30"}))
    clock.move(days=1)
    with pytest.raises(RetryableUpworkError) as caught:
        tokens_for(endpoint, clock).token()
    assert caught.value.retry_after == 30
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.state == "connected" and "503" in row.last_error


@pytest.mark.parametrize(
    "answer, error, retry_after",
    [
        (httpx.Response(429, headers={"Retry-After": "12"}), RetryableUpworkError, 12),
        (httpx.Response(400, json={"error": "slow_down"}), RetryableUpworkError, None),
        (httpx.Response(503, json={"error": "whatever"}), RetryableUpworkError, None),
        (httpx.Response(200, text="<html>maintenance</html>"), MalformedResponse, None),
        (httpx.Response(200, json={"token_type": "Bearer"}), MalformedResponse, None),
        (httpx.Response(403, text="forbidden"), PermanentUpworkError, None),
    ],
)
def test_token_endpoint_answers_are_classified_and_keep_the_connection(
    connected, clock, answer, error, retry_after
):
    clock.move(days=1)
    with pytest.raises(error) as caught:
        tokens_for(TokenEndpoint(answer), clock).token()
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert UpworkConnection.objects.get(pk=connected.pk).state == "connected"


def test_token_calls_are_logged_without_tokens_or_the_secret(connected, clock, caplog):
    caplog.set_level(logging.DEBUG)
    clock.move(days=1)
    assert tokens_for(TokenEndpoint(granted()), clock).token() == NEW_ACCESS
    lines = [r.getMessage() for r in caplog.records if r.name == "gigbridge.integrations.upwork"]
    assert any(line.startswith("upwork token refresh 200 ") for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, CFG["client_secret"]):
        assert secret not in everything


def test_network_failure_during_refresh_is_retryable(connected, clock):
    endpoint = TokenEndpoint(httpx.ConnectError("refused"))
    clock.move(days=1)
    with pytest.raises(RetryableUpworkError):
        tokens_for(endpoint, clock).token()
    assert UpworkConnection.objects.get(pk=connected.pk).state == "connected"


def test_never_connected_raises_not_connected(db, clock):
    with pytest.raises(NotConnected):
        tokens_for(TokenEndpoint(), clock, org="org-1").token()


def test_client_credentials_fetch_and_store(db, clock):
    endpoint = TokenEndpoint(granted(refresh=None, expires_in=3600))
    tokens = tokens_for(endpoint, clock, org="org-9", grant="client_credentials")
    assert tokens.token() == NEW_ACCESS
    (form,) = endpoint.forms
    assert form["grant_type"] == "client_credentials"
    row = UpworkConnection.objects.get(organization_id="org-9")
    assert row.grant_type == "client_credentials" and row.state == "connected"
    assert NEW_ACCESS not in raw_columns(row.pk)


def test_client_credentials_refused_then_retried_after_a_minute(db, clock):
    endpoint = TokenEndpoint(
        httpx.Response(401, json={"error": "invalid_client"}), granted(refresh=None)
    )
    tokens = tokens_for(endpoint, clock, grant="client_credentials")
    with pytest.raises(AuthExpired):
        tokens.token()
    with pytest.raises(NotConnected):  # not hammering the token endpoint
        tokens.token()
    clock.move(seconds=61)
    assert tokens.token() == NEW_ACCESS
    assert UpworkConnection.objects.get(organization_id="").state == "connected"


def test_mark_needs_reconnect_and_health(connected, clock):
    tokens_for(TokenEndpoint(), clock).mark_needs_reconnect("Upwork refused a fresh token (401)")
    health = connection.health()
    assert health["state"] == "needs_reconnect" and health["ok"] is False
    assert "401" in health["detail"]


# -- views ----------------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    from gigbridge.people.models import Role, RoleAssignment

    user = get_user_model().objects.create_user("ada", "ada@contoso.example", "pw-ada-12345678")
    RoleAssignment.objects.create(user=user, role=Role.PROGRAM_ADMIN)
    return user


@pytest.fixture
def browser(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def mock_token_endpoint(monkeypatch):
    endpoint = TokenEndpoint()
    original = auth.oauth_client

    def with_mock(cfg=None, *, redirect_uri=None, transport=None):
        return original(cfg, redirect_uri=redirect_uri, transport=transport or endpoint.transport)

    monkeypatch.setattr(auth, "oauth_client", with_mock)
    return endpoint


def start(browser: Client, organization_id: str = "") -> str:
    response = browser.post("/integrations/upwork/", {"organization_id": organization_id})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CFG["authorize_url"]
    query = parse_qs(target.query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CFG["client_id"]]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/integrations/upwork/callback"]
    return query["state"][0]


def test_connect_page_needs_a_program_admin(db):
    user = get_user_model().objects.create_user("rita", "rita@contoso.example", "pw-rita-123456")
    client = Client()
    assert client.get("/integrations/upwork/").status_code == 302  # to the login page
    client.force_login(user)
    assert client.get("/integrations/upwork/").status_code == 403
    assert client.post("/integrations/upwork/").status_code == 403
    assert client.get("/integrations/upwork/callback?state=x&code=y").status_code == 403


def test_connect_page_shows_state(browser, connected):
    response = browser.get("/integrations/upwork/")
    assert response.status_code == 200
    assert b"Connect Upwork" in response.content and b"connected" in response.content


def test_connect_post_needs_csrf(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/integrations/upwork/", {}).status_code == 403


def test_callback_with_the_right_state_stores_encrypted_tokens(browser, mock_token_endpoint):
    mock_token_endpoint.answers.append(granted(access=ACCESS, refresh=REFRESH))
    state = start(browser, "org-42")
    response = browser.get(f"/integrations/upwork/callback?code=the-code&state={state}")
    assert response.status_code == 302 and response["Location"] == "/integrations/upwork/"
    (form,) = mock_token_endpoint.forms
    assert form["grant_type"] == "authorization_code" and form["code"] == "the-code"
    assert form["redirect_uri"] == "http://127.0.0.1:8000/integrations/upwork/callback"
    row = UpworkConnection.objects.get(organization_id="org-42")
    assert row.state == "connected" and row.connected_by.username == "ada"
    assert row.access_token == ACCESS and ACCESS not in raw_columns(row.pk)
    # The state is used once.
    again = browser.get(f"/integrations/upwork/callback?code=the-code&state={state}")
    assert again.status_code == 400
    assert len(mock_token_endpoint.forms) == 1


def test_callback_with_a_wrong_or_missing_state_is_refused(browser, mock_token_endpoint):
    start(browser)
    assert browser.get("/integrations/upwork/callback?code=c&state=forged").status_code == 400
    assert browser.get("/integrations/upwork/callback?code=c").status_code == 400
    fresh = Client()
    fresh.force_login(get_user_model().objects.get(username="ada"))
    assert fresh.get("/integrations/upwork/callback?code=c&state=whatever").status_code == 400
    assert mock_token_endpoint.forms == []
    assert not UpworkConnection.objects.exists()


def test_callback_of_another_admin_is_refused(browser, mock_token_endpoint, monkeypatch):
    state = start(browser)
    session = browser.session
    pending = session[views.SESSION_KEY]
    pending["user_id"] = pending["user_id"] + 1000
    session[views.SESSION_KEY] = pending
    session.save()
    assert browser.get(f"/integrations/upwork/callback?code=c&state={state}").status_code == 400
    assert mock_token_endpoint.forms == []


def test_callback_when_the_admin_declined(browser, mock_token_endpoint):
    state = start(browser)
    response = browser.get(f"/integrations/upwork/callback?error=access_denied&state={state}")
    assert response.status_code == 302
    assert not UpworkConnection.objects.exists() and mock_token_endpoint.forms == []


def test_callback_when_upwork_refuses_the_code(browser, mock_token_endpoint):
    mock_token_endpoint.answers.append(
        httpx.Response(400, json={"error": "invalid_grant", "error_description": "code used"})
    )
    state = start(browser)
    response = browser.get(f"/integrations/upwork/callback?code=old&state={state}", follow=True)
    assert b"Upwork refused the connection" in response.content
    assert not UpworkConnection.objects.exists()


def test_reconnect_restores_a_needs_reconnect_row(browser, mock_token_endpoint, connected):
    UpworkConnection.objects.filter(pk=connected.pk).update(
        state="needs_reconnect", reason="invalid_grant"
    )
    mock_token_endpoint.answers.append(granted())
    state = start(browser)
    browser.get(f"/integrations/upwork/callback?code=new&state={state}")
    row = UpworkConnection.objects.get(pk=connected.pk)
    assert row.state == "connected" and row.reason == "" and row.access_token == NEW_ACCESS


def test_connecting_is_audited_without_tokens(browser, mock_token_endpoint):
    from gigbridge.audit.models import AuditEvent

    mock_token_endpoint.answers.append(granted())
    state = start(browser)
    browser.get(f"/integrations/upwork/callback?code=c&state={state}")
    event = AuditEvent.objects.filter(action="upwork.connected").get()
    assert NEW_ACCESS not in json.dumps(event.after) and NEW_REFRESH not in json.dumps(event.after)
