"""Upwork OAuth2 through Authlib's httpx client: authorize, code exchange, refresh, client
credentials, and the token provider that ``UpworkClient`` asks for a bearer token.

Flows (endpoints from ``settings.UPWORK``):

- **Authorization code** (the default): an admin presses "Connect Upwork"; ``authorization_url``
  sends them to Upwork with a random ``state`` kept in their session; the callback checks the
  state and calls ``exchange_code``, and ``store_token`` saves the tokens, encrypted, on the
  organization's ``UpworkConnection``. Upwork's access tokens last about a day and its refresh
  tokens about two weeks; every refresh renews both.
- **Client credentials** (``GIGBRIDGE_UPWORK_GRANT=client_credentials``, enterprise keys): no
  person involved; a token is fetched whenever none is valid.

``ConnectionTokens.token()`` hands out the stored access token, refreshing it ``refresh_margin``
seconds before it expires. The refresh runs in a transaction holding the connection row's lock
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transactions take the write lock at
BEGIN), and first looks again: when another worker refreshed meanwhile, its token is used and
no second refresh is sent (a refresh token may be single-use). A refused refresh (``invalid_grant``:
revoked, expired, or the app's access removed) sets the row to ``needs_reconnect`` with the
reason and raises ``AuthExpired``; ``/healthz`` then says "reconnect Upwork".
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings
from django.db import transaction

from gigbridge import clock

from .crypto import TokenKeyError
from .errors import (
    AuthExpired,
    MalformedResponse,
    NotConnected,
    PermanentUpworkError,
    RetryableUpworkError,
    UpworkError,
    clean,
)
from .models import UpworkConnection

log = logging.getLogger("gigbridge.integrations.upwork")

TOKEN_TIMEOUT = 15  # seconds for each call to the token endpoint (the row lock is held meanwhile)
RETRYABLE_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down"})
# A client-credentials connection that failed is tried again at most this often.
CLIENT_CREDENTIALS_RETRY = dt.timedelta(seconds=60)


def config() -> dict:
    return getattr(settings, "UPWORK", None) or {}


def verify_setting(cfg: Mapping | None = None) -> bool | str:
    """What httpx should trust: the configured CA bundle, or the system's. Never False."""
    cfg = config() if cfg is None else cfg
    return cfg.get("ca_bundle") or True


def oauth_client(
    cfg: Mapping | None = None,
    *,
    redirect_uri: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> OAuth2Client:
    """Authlib's OAuth2 client for Upwork (client id and secret sent in the POST body, as
    Upwork's documentation shows)."""
    cfg = config() if cfg is None else cfg
    kwargs: dict[str, Any] = {"timeout": TOKEN_TIMEOUT, "follow_redirects": False}
    if transport is not None:
        kwargs["transport"] = transport
    else:
        verify = verify_setting(cfg)
        # httpx deprecates a CA path for verify: hand it a context that trusts exactly that CA.
        kwargs["verify"] = verify if verify is True else ssl.create_default_context(cafile=verify)
    return OAuth2Client(
        client_id=cfg.get("client_id"),
        client_secret=cfg.get("client_secret"),
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        redirect_uri=redirect_uri,
        **kwargs,
    )


def authorization_url(state: str, redirect_uri: str, cfg: Mapping | None = None) -> str:
    """Upwork's authorize URL for this state and callback (no network)."""
    cfg = config() if cfg is None else cfg
    with oauth_client(cfg, redirect_uri=redirect_uri) as client:
        url, _ = client.create_authorization_url(cfg["authorize_url"], state=state)
    return url


class _Reconnect(Exception):
    """Internal: the token endpoint refused us for good; carries the reason."""


def _token_call(call: Callable[[], Mapping], what: str) -> Mapping:
    """Run one token-endpoint call; map its failures to typed errors.

    ``_Reconnect`` when only a person (or a configuration change) can fix it; retryable errors
    for throttling, server faults and lost connections.
    """
    try:
        token = call()
    except OAuthError as exc:
        code = clean(getattr(exc, "error", "") or "oauth_error")
        description = clean(getattr(exc, "description", "") or "")
        if code in RETRYABLE_OAUTH_ERRORS:
            raise RetryableUpworkError(f"{code}: {description}", operation=what) from None
        detail = f" ({description})" if description else ""
        raise _Reconnect(f"{what} refused: {code}{detail}") from None
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status in (400, 401):
            raise _Reconnect(f"{what} refused with HTTP {status}") from None
        if status == 429 or status >= 500:
            from gigbridge.integrations.msgraph.client import parse_retry_after

            raise RetryableUpworkError(
                f"token endpoint answered {status}",
                operation=what,
                status=status,
                retry_after=parse_retry_after(exc.response.headers.get("Retry-After")),
            ) from None
        raise PermanentUpworkError(
            f"token endpoint answered {status}", operation=what, status=status
        ) from None
    except httpx.TransportError as exc:
        raise RetryableUpworkError(type(exc).__name__, operation=what) from None
    except ValueError as exc:
        raise MalformedResponse(clean(exc), operation=what) from None
    if not isinstance(token, Mapping) or not token.get("access_token"):
        raise MalformedResponse("the token response has no access_token", operation=what)
    return token


def exchange_code(
    code: str,
    redirect_uri: str,
    *,
    cfg: Mapping | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Mapping:
    """Trade an authorization code for tokens (raises AuthExpired when Upwork refuses)."""
    cfg = config() if cfg is None else cfg
    with oauth_client(cfg, redirect_uri=redirect_uri, transport=transport) as client:
        try:
            return _token_call(
                lambda: client.fetch_token(
                    cfg["token_url"],
                    grant_type="authorization_code",
                    code=code,
                    redirect_uri=redirect_uri,
                ),
                "token (authorization code)",
            )
        except _Reconnect as exc:
            raise AuthExpired(str(exc), operation="token (authorization code)") from None


def _expires_at(token: Mapping, now: dt.datetime) -> dt.datetime | None:
    try:
        if token.get("expires_in") is not None:
            return now + dt.timedelta(seconds=float(token["expires_in"]))
        if token.get("expires_at") is not None:
            return dt.datetime.fromtimestamp(float(token["expires_at"]), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        pass
    return None


def _apply(row: UpworkConnection, token: Mapping, now: dt.datetime) -> None:
    """Put a token response on the row (encrypted), mark it connected."""
    row.access_token = str(token["access_token"])
    if token.get("refresh_token"):
        row.refresh_token = str(token["refresh_token"])
    row.expires_at = _expires_at(token, now)
    if token.get("scope"):
        row.scope = str(token["scope"])[:2000]
    row.state = UpworkConnection.State.CONNECTED
    row.reason = ""
    row.refreshed_at = now


def store_token(
    organization_id: str,
    token: Mapping,
    *,
    user=None,
    grant: str = UpworkConnection.Grant.AUTHORIZATION_CODE,
    now: dt.datetime | None = None,
) -> UpworkConnection:
    """Save a freshly granted token for ``organization_id`` ('' = default); audited."""
    from gigbridge.audit.actions import record

    now = now or clock.now()
    with transaction.atomic():
        row, _ = UpworkConnection.objects.select_for_update().get_or_create(
            organization_id=organization_id or ""
        )
        _apply(row, token, now)
        if grant == UpworkConnection.Grant.AUTHORIZATION_CODE and not token.get("refresh_token"):
            row.refresh_token = ""
        row.grant_type = grant
        row.connected_at = now
        if user is not None and getattr(user, "is_authenticated", False):
            row.connected_by = user
        row.save()
        record(
            user=user,
            action="upwork.connected",
            obj=row,
            after={"organization_id": row.organization_id, "grant": grant},
            actor=None if user is not None else "system",
        )
    return row


class ConnectionTokens:
    """The access token of one ``UpworkConnection``, refreshed before it expires.

    Keeps the decrypted token in memory until ``refresh_margin`` seconds before its expiry, so
    a busy worker does not read the database for every call.
    """

    def __init__(
        self,
        organization_id: str = "",
        *,
        cfg: Mapping | None = None,
        now: Callable[[], dt.datetime] = clock.now,
        transport: httpx.BaseTransport | None = None,
    ):
        self.organization_id = organization_id or ""
        self.cfg = dict(config() if cfg is None else cfg)
        self.margin = float(self.cfg.get("refresh_margin", 300))
        self._now = now
        self._transport = transport
        self._lock = threading.Lock()
        self._cached: tuple[str, dt.datetime | None] | None = None

    @property
    def client_credentials(self) -> bool:
        return self.cfg.get("grant") == UpworkConnection.Grant.CLIENT_CREDENTIALS

    def _fresh(self, expires_at: dt.datetime | None) -> bool:
        return expires_at is None or expires_at - dt.timedelta(seconds=self.margin) > self._now()

    def _rows(self):
        return UpworkConnection.objects.filter(organization_id=self.organization_id)

    # -- TokenProvider ---------------------------------------------------------------------------

    def token(self) -> str:
        with self._lock:
            if self._cached and self._fresh(self._cached[1]):
                return self._cached[0]
        row = self._rows().first()
        if row is not None and row.connected and not row.expires_within(self._now(), self.margin):
            try:
                value = row.access_token
            except TokenKeyError as exc:
                self.mark_needs_reconnect(str(exc))
                raise NotConnected(str(exc)) from None
            with self._lock:
                self._cached = (value, row.expires_at)
            return value
        return self._refresh(rejected=None)

    def refresh_after_rejection(self, rejected: str) -> str:
        """Upwork answered 401 to ``rejected``: get another token (or raise AuthExpired)."""
        with self._lock:
            self._cached = None
        return self._refresh(rejected=rejected)

    def mark_needs_reconnect(self, reason: str) -> None:
        now = self._now()
        log.warning("upwork connection %r needs reconnecting: %s", self.organization_id, reason)
        self._rows().update(
            state=UpworkConnection.State.NEEDS_RECONNECT,
            reason=clean(reason),
            last_error=clean(reason),
            last_error_at=now,
            updated_at=now,
        )
        with self._lock:
            self._cached = None

    def record_error(self, error: Exception) -> None:
        now = self._now()
        self._rows().update(last_error=clean(error), last_error_at=now)

    # -- refresh under the row lock --------------------------------------------------------------

    def _refresh(self, rejected: str | None) -> str:
        """Refresh (or fetch with client credentials) under the row lock; -> the access token."""
        error: UpworkError | None = None
        value = ""
        expires_at = None
        with transaction.atomic():
            row = self._locked_row()
            try:
                if row is None or not self._may_try(row):
                    reason = row.reason if row is not None else ""
                    error = NotConnected(
                        reason or "Upwork is not connected for this organization",
                        operation="token",
                    )
                else:
                    current = row.access_token if row.connected else ""
                    now = self._now()
                    if current and current != rejected and not row.expires_within(now, self.margin):
                        value, expires_at = current, row.expires_at  # another worker refreshed
                    else:
                        self._renew(row, now)
                        value, expires_at = row.access_token, row.expires_at
            except (_Reconnect, TokenKeyError) as exc:
                now = self._now()
                row.state = UpworkConnection.State.NEEDS_RECONNECT
                row.reason = row.last_error = clean(exc)
                row.last_error_at = now
                row.save()
                log.warning("upwork connection %r needs reconnecting: %s", row.organization_id, exc)
                error = AuthExpired(row.reason, operation="token")
            except UpworkError as exc:
                row.last_error = clean(exc)
                row.last_error_at = self._now()
                row.save(update_fields=["last_error", "last_error_at", "updated_at"])
                error = exc
        if error is not None:
            raise error
        with self._lock:
            self._cached = (value, expires_at)
        return value

    def _locked_row(self) -> UpworkConnection | None:
        if self.client_credentials:
            UpworkConnection.objects.get_or_create(
                organization_id=self.organization_id,
                defaults={"grant_type": UpworkConnection.Grant.CLIENT_CREDENTIALS},
            )
        return self._rows().select_for_update().first()

    def _may_try(self, row: UpworkConnection) -> bool:
        if row.connected:
            return True
        if self.client_credentials:  # nobody to press "reconnect": try again now and then
            last = row.last_error_at
            return last is None or self._now() - last >= CLIENT_CREDENTIALS_RETRY
        return False

    def _renew(self, row: UpworkConnection, now: dt.datetime) -> None:
        with oauth_client(self.cfg, transport=self._transport) as client:
            if self.client_credentials:
                token = _token_call(
                    lambda: client.fetch_token(
                        self.cfg["token_url"], grant_type="client_credentials"
                    ),
                    "token (client credentials)",
                )
                row.grant_type = UpworkConnection.Grant.CLIENT_CREDENTIALS
                if row.connected_at is None:
                    row.connected_at = now
            else:
                refresh_token = row.refresh_token
                if not refresh_token:
                    raise _Reconnect("no refresh token is stored")
                token = _token_call(
                    lambda: client.refresh_token(
                        self.cfg["token_url"], refresh_token=refresh_token
                    ),
                    "token refresh",
                )
        _apply(row, token, now)
        row.save()
        log.info("upwork connection %r: access token renewed", row.organization_id)
