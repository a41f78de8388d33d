"""Who may post to /hooks/teams: the Bot Connector, proven by its signed JWT.

The SDK's ``JwtTokenValidator`` fetches keys from hard-coded Microsoft addresses, so the check is
made here, as the Bot Framework's authentication spec says, with keys from the configured OpenID
metadata (``TEAMS["openid_metadata"]``: the Bot Framework's in production, the sandbox's in the
embedded default):

- ``Authorization: Bearer <JWT>``, algorithm RS256 only (never ``none`` or HMAC);
- the ``kid`` is one of the keys at the metadata's ``jwks_uri`` (cached a day; an unknown
  ``kid`` refetches them, at most once per ``REFETCH_EVERY``, so forged kids cannot make us
  fetch in a loop); a key's ``endorsements``, when present, must include the activity's channel;
- ``iss`` = ``https://api.botframework.com``, ``aud`` = the bot's app id, ``exp``/``nbf`` with
  five minutes of clock skew;
- the ``serviceUrl`` claim equals the activity's ``serviceUrl`` (checked by the caller once the
  body is read: ``check_service_url``), so a token cannot redirect the bot's replies elsewhere.

The result is the SDK's ``ClaimsIdentity``.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from jwt import PyJWK

ISSUER = "https://api.botframework.com"
LEEWAY = 300
KEYS_FRESH_FOR = 24 * 3600.0
REFETCH_EVERY = 60.0
MAX_KEYS = 100
MAX_DOCUMENT = 256 * 1024


class Refused(Exception):
    """The post is not from the Connector: ``status`` 401 (no or a bad token) or 403 (a valid
    token for something else); ``reason`` is safe to log (no token, no claim values)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class KeysUnavailable(Exception):
    """The signing keys cannot be fetched now (the Connector will retry the post)."""


def _get_json(url: str, verify: Any, timeout: float) -> dict:
    if not url.startswith("https://"):
        raise KeysUnavailable("the key documents must be fetched over https")
    if isinstance(verify, str):  # a CA bundle: httpx wants an SSL context
        verify = ssl.create_default_context(cafile=verify)
    try:
        with httpx.Client(verify=verify, timeout=timeout, trust_env=False) as http:
            response = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise KeysUnavailable(type(exc).__name__) from None
    if response.status_code != 200 or len(response.content) > MAX_DOCUMENT:
        raise KeysUnavailable(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise KeysUnavailable("not JSON") from None
    if not isinstance(body, dict):
        raise KeysUnavailable("not a JSON object")
    return body


class KeySet:
    """The Connector's signing keys from an OpenID metadata document, cached."""

    def __init__(
        self,
        metadata_url: str,
        *,
        verify: Any = True,
        timeout: float = 10,
        fetch: Callable[[str], dict] | None = None,
        now: Callable[[], float] = time.monotonic,
    ):
        self.metadata_url = metadata_url
        self._fetch = fetch or (lambda url: _get_json(url, verify, timeout))
        self._now = now
        self._keys: dict[str, tuple[PyJWK, list[str] | None]] = {}
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        self._tried_at = self._now()
        metadata = self._fetch(self.metadata_url)
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise KeysUnavailable("the metadata names no jwks_uri")
        document = self._fetch(jwks_uri)
        keys: dict[str, tuple[PyJWK, list[str] | None]] = {}
        for item in (document.get("keys") or [])[:MAX_KEYS]:
            if not isinstance(item, dict) or not item.get("kid") or item.get("kty") != "RSA":
                continue
            try:
                key = PyJWK(item, algorithm="RS256")
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                continue
            endorsements = item.get("endorsements")
            keys[str(item["kid"])] = (
                key,
                [str(e) for e in endorsements] if isinstance(endorsements, list) else None,
            )
        if not keys:
            raise KeysUnavailable("no usable RSA key in the key set")
        self._keys = keys
        self._fetched_at = self._now()

    def key(self, kid: str) -> tuple[PyJWK, list[str] | None] | None:
        """The key and its endorsements; None for a kid the Connector does not publish."""
        with self._lock:
            now = self._now()
            stale = self._fetched_at is None or now - self._fetched_at > KEYS_FRESH_FOR
            known = kid in self._keys
            may_fetch = self._tried_at is None or now - self._tried_at >= REFETCH_EVERY
            if (stale or not known) and may_fetch:
                try:
                    self._refresh()
                except KeysUnavailable:
                    if not self._keys:
                        raise
            elif not self._keys:
                raise KeysUnavailable("no keys yet (fetch failed recently)")
            return self._keys.get(kid)


def validate(
    authorization: str | None,
    *,
    app_id: str,
    keys: KeySet,
    channel_id: str | None = None,
    now: Callable[[], float] = time.time,
):
    """The claims of the Connector's token (``ClaimsIdentity``), or raise ``Refused``."""
    from microsoft_agents.hosting.core import ClaimsIdentity

    if not authorization or not authorization.startswith("Bearer "):
        raise Refused(401, "no bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused(401, "not a JWT") from None
    if header.get("alg") != "RS256":
        raise Refused(401, "not signed with RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Refused(401, "no key id")
    found = keys.key(kid)
    if found is None:
        raise Refused(401, "unknown signing key")
    key, endorsements = found
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=app_id,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud"], "verify_nbf": True},
        )
    except jwt.ExpiredSignatureError:
        raise Refused(401, "token expired") from None
    except jwt.ImmatureSignatureError:
        raise Refused(401, "token not valid yet") from None
    except jwt.InvalidAudienceError:
        raise Refused(401, "token for another audience") from None
    except jwt.InvalidIssuerError:
        raise Refused(401, "token from another issuer") from None
    except jwt.InvalidSignatureError:
        raise Refused(401, "bad signature") from None
    except jwt.PyJWTError as exc:
        raise Refused(401, f"invalid token ({type(exc).__name__})") from None
    if endorsements is not None and channel_id and channel_id not in endorsements:
        raise Refused(403, "signing key not endorsed for this channel")
    return ClaimsIdentity(claims, authentication_type="Bearer", security_token=None)


def check_service_url(identity, service_url: str | None) -> None:
    """The token's ``serviceUrl`` claim must be the activity's."""
    claimed = identity.claims.get("serviceUrl") if identity and identity.claims else None
    if not claimed or not service_url:
        raise Refused(403, "no serviceUrl to compare")
    if str(claimed).rstrip("/").lower() != str(service_url).rstrip("/").lower():
        raise Refused(403, "serviceUrl differs from the token's")


_keys: KeySet | None = None
_keys_lock = threading.Lock()


def key_set() -> KeySet:
    """The process's key set for ``TEAMS["openid_metadata"]``."""
    from django.conf import settings

    global _keys
    teams = settings.TEAMS
    with _keys_lock:
        if _keys is None or _keys.metadata_url != teams["openid_metadata"]:
            _keys = KeySet(teams["openid_metadata"], verify=teams.get("ca_bundle") or True)
        return _keys


def reset() -> None:
    global _keys
    with _keys_lock:
        _keys = None
