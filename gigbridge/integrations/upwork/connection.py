"""The Upwork connection built from settings: one client per organization per process.

    from gigbridge.integrations.upwork import connection
    if connection.configured():
        data = connection.client(org_id).execute(...)

``client(org_id)`` uses the ``UpworkConnection`` row of that organization when one exists, else
the default row ('', the organization the connecting admin chose at Upwork) with
``X-Upwork-API-TenantId: org_id``. All clients of a process share one HTTP pool and one rate
limit, and every process shares the limit through the database (``DatabaseTokenBucket``).
"""

from __future__ import annotations

import threading

import httpx
from django.conf import settings

from gigbridge.integrations.outbound.http import new_client
from gigbridge.integrations.outbound.ratelimit import DatabaseTokenBucket

from . import auth
from .client import USER_AGENT, UpworkClient
from .errors import NotConnected
from .models import UpworkConnection

BUCKET = "upwork"

_lock = threading.Lock()
_clients: dict[str, UpworkClient] = {}
_shared: dict = {}


def config() -> dict:
    return getattr(settings, "UPWORK", None) or {}


def configured() -> bool:
    """An Upwork API key is configured (the connection itself may still be missing)."""
    cfg = config()
    return bool(cfg.get("client_id") and cfg.get("client_secret"))


def config_problems() -> list[str]:
    """What keeps a configured Upwork key from working, each with what to do (for start-up)."""
    if not configured():
        return []
    from pathlib import Path

    cfg, problems = config(), []
    for key, name in (
        ("authorize_url", "AUTHORIZE_URL"),
        ("token_url", "TOKEN_URL"),
        ("graphql_url", "GRAPHQL_URL"),
    ):
        if not str(cfg.get(key) or "").startswith("https://"):
            problems.append(f"GIGBRIDGE_UPWORK_{name}={cfg.get(key)!r} must be an https URL")
    if cfg.get("grant") not in tuple(UpworkConnection.Grant.values):
        problems.append(
            f"GIGBRIDGE_UPWORK_GRANT={cfg.get('grant')!r}: use authorization_code or "
            "client_credentials"
        )
    bundle = cfg.get("ca_bundle")
    if bundle and not Path(bundle).is_file():
        problems.append(f"GIGBRIDGE_UPWORK_CA_BUNDLE={bundle!r} is not a readable file")
    if not float(cfg.get("rate") or 0) > 0 or not float(cfg.get("burst") or 0) >= 1:
        problems.append("GIGBRIDGE_UPWORK_RATE must be > 0 and GIGBRIDGE_UPWORK_BURST >= 1")
    return problems


def _http() -> httpx.Client:
    if "http" not in _shared:
        _shared["http"] = new_client(
            user_agent=USER_AGENT,
            verify=auth.verify_setting(),
            timeout=float(config().get("timeout", 30)),
        )
        _shared["limiter"] = DatabaseTokenBucket(
            BUCKET, rate=float(config().get("rate", 9)), burst=float(config().get("burst", 9))
        )
    return _shared["http"]


def _row_key(organization_id: str) -> str:
    """Which connection row holds the tokens for ``organization_id``."""
    if not organization_id:
        return ""
    if config().get("grant") == UpworkConnection.Grant.CLIENT_CREDENTIALS:
        return organization_id
    if UpworkConnection.objects.filter(organization_id=organization_id).exists():
        return organization_id
    return ""


def client(org_id: str | None = None) -> UpworkClient:
    """The process's client acting for ``org_id`` (default: GIGBRIDGE_UPWORK_ORGANIZATION_ID)."""
    if not configured():
        raise NotConnected("Upwork is not configured (GIGBRIDGE_UPWORK_CLIENT_ID unset)")
    organization = org_id or config().get("organization_id") or ""
    with _lock:
        existing = _clients.get(organization)
        if existing is not None:
            return existing
        http = _http()
        tokens = auth.ConnectionTokens(_row_key(organization))
        made = UpworkClient(
            config()["graphql_url"],
            tokens,
            verify=auth.verify_setting(),
            limiter=_shared["limiter"],
            organization_id=organization or None,
            http=http,
            on_error=tokens.record_error,
        )
        _clients[organization] = made
        return made


def reset() -> None:
    """Forget the clients (tests, settings changes, a new connection)."""
    with _lock:
        _clients.clear()
        http = _shared.pop("http", None)
        _shared.clear()
    if http is not None:
        http.close()


def _row_health(row: UpworkConnection) -> dict:
    return {
        "organization": row.organization_id or "(default)",
        "organization_name": row.organization_name,
        "state": row.state,
        "grant": row.grant_type,
        "token_expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "reason": row.reason,
        "last_error": row.last_error or None,
        "last_error_at": row.last_error_at.isoformat() if row.last_error_at else None,
    }


def health() -> dict:
    """For /healthz: reads the connection rows only (no call to Upwork)."""
    if not configured():
        return {
            "configured": False,
            "ok": True,
            "state": "not_configured",
            "detail": "Upwork is not configured",
        }
    rows = [_row_health(r) for r in UpworkConnection.objects.order_by("organization_id")]
    if not rows:
        if config().get("grant") == UpworkConnection.Grant.CLIENT_CREDENTIALS:
            return {
                "configured": True,
                "ok": True,
                "state": "not_connected",
                "detail": "a token is fetched with client credentials on first use",
                "connections": [],
            }
        return {
            "configured": True,
            "ok": False,
            "state": "not_connected",
            "detail": "connect Upwork: a program admin opens /integrations/upwork/",
            "connections": [],
        }
    broken = [r for r in rows if r["state"] != UpworkConnection.State.CONNECTED]
    first = broken[0] if broken else rows[0]
    result = {
        "configured": True,
        "ok": not broken,
        "state": first["state"],
        "organization": first["organization"],
        "token_expires_at": first["token_expires_at"],
        "last_error": first["last_error"],
        "connections": rows,
    }
    if broken:
        result["detail"] = f"reconnect Upwork ({first['organization']}): {first['reason']}"
    return result
