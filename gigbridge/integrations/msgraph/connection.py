"""The tenant connection built from settings: one Graph client per process."""

from __future__ import annotations

import threading

from django.conf import settings

from gigbridge.integrations.outbound.ratelimit import DatabaseTokenBucket

from .auth import TokenProvider
from .client import GraphClient

_client: GraphClient | None = None
_lock = threading.Lock()


def configured() -> bool:
    graph = settings.GRAPH
    return bool(graph["tenant_id"] and graph["client_id"] and graph["client_secret"])


def _http_session(ca_bundle: str | None):
    """MSAL's HTTP session. It ignores REQUESTS_CA_BUNDLE & co., which would otherwise silently
    replace a private CA (psf/requests#4726), and never routes through a proxy from the env."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle or True
    return session


def client() -> GraphClient:
    """The process's Graph client; its rate limit is shared with every other process."""
    global _client
    if not configured():
        raise RuntimeError("no Microsoft 365 tenant is connected (GIGBRIDGE_GRAPH_* unset)")
    with _lock:
        if _client is None:
            graph = settings.GRAPH
            verify = graph["ca_bundle"] or True
            tokens = TokenProvider(
                graph["tenant_id"],
                graph["client_id"],
                graph["client_secret"],
                authority_host=graph["authority_host"],
                verify=verify,
                http_client=_http_session(graph["ca_bundle"]),
            )
            limiter = DatabaseTokenBucket("graph", rate=graph["rate"], burst=graph["burst"])
            _client = GraphClient(graph["base_url"], tokens, verify=verify, limiter=limiter)
        return _client


def reset() -> None:
    """Forget the client (tests, settings changes)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


def health() -> dict:
    if not configured():
        return {"connected": False, "ok": True, "detail": "no tenant connected"}
    try:
        client().tokens.token()
    except Exception as exc:  # report, do not raise: /healthz shows why
        return {
            "connected": True,
            "ok": False,
            "detail": type(exc).__name__ + ": " + str(exc)[:200],
        }
    return {"connected": True, "ok": True, "base_url": settings.GRAPH["base_url"]}
