"""The bot's configuration: the TEAMS settings, its token provider, the sandbox's variables and
what /healthz says."""

from __future__ import annotations

import datetime as dt

from gigbridge import clock
from gigbridge.integrations.teams import client
from gigbridge.integrations.teams.auth import BOT_SCOPE, BotTokenProvider
from gigbridge.integrations.teams.errors import PermanentTeamsError, RetryableTeamsError
from gigbridge.jobs.errors import PermanentError
from gigbridge.jobs.models import OutboxJob
from gigbridge.sandbox.connect import teams_env

from .conftest import APP_ID


def test_the_token_provider_asks_for_the_bot_framework_scope_without_instance_discovery():
    tokens = BotTokenProvider("tenant-1", APP_ID, "secret", authority_host="127.0.0.1:8443/entra")
    assert tokens.scope == BOT_SCOPE == "https://api.botframework.com/.default"
    options = tokens.app_options()
    assert options["authority"] == "https://127.0.0.1:8443/entra/tenant-1"
    assert options["instance_discovery"] is False and options["validate_authority"] is False
    assert "secret" not in repr(tokens)
    public = BotTokenProvider(None, APP_ID, "secret")
    assert public.authority == "https://login.microsoftonline.com/botframework.com"
    assert "instance_discovery" not in public.app_options()


def test_token_failures_are_teams_errors():
    tokens = BotTokenProvider("tenant-1", APP_ID, "secret", authority_host="127.0.0.1:8443/entra")
    error = tokens._error(RetryableTeamsError, "server_error", "AADSTS1 down")
    assert isinstance(error, RetryableTeamsError) and str(error).startswith("Teams POST")
    from gigbridge.integrations.msgraph.errors import PermanentGraphError

    error = tokens._error(PermanentGraphError, "invalid_client", "AADSTS7000215", "corr-1")
    assert isinstance(error, PermanentTeamsError) and isinstance(error, PermanentError)
    assert "corr-1" in str(error)


def test_configured_needs_app_id_and_password(settings):
    settings.TEAMS = {**settings.TEAMS, "app_id": APP_ID, "app_password": None}
    assert not client.configured()
    settings.TEAMS = {**settings.TEAMS, "app_password": "x"}
    assert client.configured()


def test_password_from_a_file(monkeypatch, tmp_path):
    from gigbridge import config

    secret = tmp_path / "bot-secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("GIGBRIDGE_TEAMS_APP_PASSWORD_FILE", str(secret))
    assert config.env("GIGBRIDGE_TEAMS_APP_PASSWORD") == "from-file"


def test_teams_env_from_sandbox_info(settings):
    info = {
        "authority": "https://127.0.0.1:8443/entra/tenant-1",
        "ca_cert": "/data/sandbox/ca.pem",
        "teams": {
            "app_id": APP_ID,
            "app_password": "pw",
            "tenant_id": "tenant-1",
            "service_url": "https://127.0.0.1:8443/botframework/teams/",
            "openid_metadata": "https://127.0.0.1:8443/botframework/v1/.well-known/openidconfiguration",
            "token_scope": BOT_SCOPE,
            "messaging_endpoint": "http://127.0.0.1:8000/hooks/teams",
            "viewer_url": "https://127.0.0.1:8443/teams/",
        },
    }
    env = teams_env(info)
    assert env["GIGBRIDGE_TEAMS_AUTHORITY_HOST"] == "127.0.0.1:8443/entra"
    assert env["GIGBRIDGE_TEAMS_CA_BUNDLE"] == "/data/sandbox/ca.pem"
    for name in env:  # every variable names a setting
        assert name.removeprefix("GIGBRIDGE_TEAMS_").lower() in settings.TEAMS
    assert teams_env({"authority": "https://x/t"}) == {}


def test_healthz_reports_the_bot(db, client, settings):
    from gigbridge.integrations.teams import client as teams

    settings.TEAMS = {**settings.TEAMS, "app_id": None}
    assert client.get("/healthz").json()["integrations"]["teams"]["configured"] is False
    settings.TEAMS = {**settings.TEAMS, "app_id": APP_ID, "app_password": "pw"}
    teams.reset()
    state = client.get("/healthz").json()["integrations"]["teams"]
    assert state["configured"] is True and state["ok"] is True
    OutboxJob.objects.create(
        kind="notifications.teams",
        payload={},
        idempotency_key="k1",
        attempts=1,
        next_attempt_at=clock.now() + dt.timedelta(minutes=1),
        created_at=clock.now(),
        last_error="Teams POST v3/conversations -> 503",
    )
    state = client.get("/healthz").json()["integrations"]["teams"]
    assert state["ok"] is False and state["waiting_jobs"] == 1
