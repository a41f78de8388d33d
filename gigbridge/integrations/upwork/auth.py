"""Upwork OAuth2: authorize, code exchange, refresh, client credentials, and the token provider
that ``UpworkClient`` asks for a bearer token.

The URLs and form bodies are built with Authlib's RFC 6749 helpers (``prepare_grant_uri``,
``prepare_token_request``) and sent through the shared outbound layer like every other call
(one sanitised log line, classified failures). Authlib's httpx integration is not used: it is
deprecated (Authlib 1.9 moves it to ``httpx2``), and the token endpoint needs nothing from it.

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
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from django.conf import settings
from django.db import transaction

from gigbridge import clock
from gigbridge.integrations.outbound.classify import (
    RETRYABLE_OAUTH_ERRORS,
    TransportFailure,
    kind_of_status,
)
from gigbridge.integrations.outbound.http import Caller, new_client
from gigbridge.integrations.outbound.retry import parse_retry_after

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
USER_AGENT = "Gigbridge (upwork)"
# A client-credentials connection that failed is tried again at most this often.
CLIENT_CREDENTIALS_RETRY = dt.timedelta(seconds=60)


def config() -> dict:
    return getattr(settings, "UPWORK", None) or {}


def verify_setting(cfg: Mapping | None = None) -> bool | str:
    """What httpx should trust: the configured CA bundle, or the system's. Never False."""
    cfg = config() if cfg is None else cfg
    return cfg.get("ca_bundle") or True


class _Reconnect(Exception):
    """Internal: the token endpoint refused us for good; carries the reason."""


class OAuthClient:
    """Upwork's authorize and token endpoints for one API key (client id and secret sent in the
    POST body, as Upwork's documentation shows). Each token call is sent once: it runs under the
    connection row's lock, and the outbox job tries again later."""

    def __init__(
        self,
        cfg: Mapping,
        *,
        redirect_uri: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.client_id = cfg.get("client_id")
        self.client_secret = cfg.get("client_secret")
        self.redirect_uri = redirect_uri
        http = new_client(
            user_agent=USER_AGENT,
            verify=verify_setting(cfg),
            timeout=TOKEN_TIMEOUT,
            transport=transport,
        )
        self._caller = Caller(http, service="upwork", logger=log)

    def close(self) -> None:
        self._caller.http.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def create_authorization_url(self, url: str, state: str) -> str:
        """The authorize URL for the code flow with this ``state`` (no network)."""
        return prepare_grant_uri(
            url,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            state=state,
        )

    def fetch_token(self, url: str, *, grant_type: str, what: str, **params: Any) -> Mapping:
        """POST a token request; -> the token response, else a typed error or ``_Reconnect``."""
        body = prepare_token_request(
            grant_type,
            client_id=self.client_id,
            client_secret=self.client_secret,
            **params,
        )
        try:
            response = self._caller.attempt(
                "POST",
                url,
                label=what,
                content=body.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except TransportFailure as failure:
            raise RetryableUpworkError(failure.name, operation=what) from None
        return _token_of(response, what)


def _token_of(response: httpx.Response, what: str) -> Mapping:
    """The token in a token endpoint's answer; failures typed.

    ``_Reconnect`` when only a person (or a configuration change) can fix it; retryable errors
    for throttling, server faults and OAuth's own "try later" codes.
    """
    status = response.status_code
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if error:
        code = clean(error)
        description = clean(body.get("error_description") or "")
        if code in RETRYABLE_OAUTH_ERRORS:
            raise RetryableUpworkError(f"{code}: {description}", operation=what, status=status)
        if not kind_of_status(status).retryable:
            detail = f" ({description})" if description else ""
            raise _Reconnect(f"{what} refused: {code}{detail}")
    if 200 <= status < 300:
        if not isinstance(body, Mapping):
            raise MalformedResponse(
                f"the token response is not a JSON object (HTTP {status})", operation=what
            )
        if not body.get("access_token"):
            raise MalformedResponse("the token response has no access_token", operation=what)
        return body
    kind = kind_of_status(status)
    if kind.retryable:
        raise RetryableUpworkError(
            f"token endpoint answered {status}",
            operation=what,
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in (400, 401):  # RFC 6749 5.2: the key or the grant was refused
        raise _Reconnect(f"{what} refused with HTTP {status}")
    raise PermanentUpworkError(f"token endpoint answered {status}", operation=what, status=status)


def oauth_client(
    cfg: Mapping | None = None,
    *,
    redirect_uri: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> OAuthClient:
    """The OAuth2 client for the configured Upwork key."""
    return OAuthClient(
        config() if cfg is None else cfg, redirect_uri=redirect_uri, transport=transport
    )


def authorization_url(state: str, redirect_uri: str, cfg: Mapping | None = None) -> str:
    """Upwork's authorize URL for this state and callback (no network)."""
    cfg = config() if cfg is None else cfg
    with oauth_client(cfg, redirect_uri=redirect_uri) as client:
        return client.create_authorization_url(cfg["authorize_url"], state)


def exchange_code(
    code: str,
    redirect_uri: str,
    *,
    cfg: Mapping | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Mapping:
    """Trade an authorization code for tokens (raises AuthExpired when Upwork refuses)."""
    cfg = config() if cfg is None else cfg
    what = "token (authorization code)"
    with oauth_client(cfg, redirect_uri=redirect_uri, transport=transport) as client:
        try:
            return client.fetch_token(
                cfg["token_url"],
                grant_type="authorization_code",
                what=what,
                code=code,
                redirect_uri=redirect_uri,
            )
        except _Reconnect as exc:
            raise AuthExpired(str(exc), operation=what) from None


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
                token = client.fetch_token(
                    self.cfg["token_url"],
                    grant_type="client_credentials",
                    what="token (client credentials)",
                )
                row.grant_type = UpworkConnection.Grant.CLIENT_CREDENTIALS
                if row.connected_at is None:
                    row.connected_at = now
            else:
                refresh_token = row.refresh_token
                if not refresh_token:
                    raise _Reconnect("no refresh token is stored")
                token = client.fetch_token(
                    self.cfg["token_url"],
                    grant_type="refresh_token",
                    what="token refresh",
                    refresh_token=refresh_token,
                )
        _apply(row, token, now)
        row.save()
        log.info("upwork connection %r: access token renewed", row.organization_id)
