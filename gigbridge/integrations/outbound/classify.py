"""What a failed outbound call was, in terms every client shares, and what is safe to print.

    kind_of_status(429)              -> Kind.THROTTLED
    kind_of_status(503)              -> Kind.TRANSIENT
    TransportFailure.from_httpx(exc) -> .kind TRANSIENT (timeout, lost connection) or CLIENT
    clean("... Bearer eyJ...")       -> "... [redacted]"

Each client maps a ``Kind`` onto its own exception classes (``RetryableGraphError``,
``NotFound``, ``PermanentUpworkError``, ...): callers across the product catch those.
"""

from __future__ import annotations

import enum
import re
from typing import Any
from urllib.parse import urlsplit

import httpx


class Kind(enum.Enum):
    """Why a call failed, as far as trying again is concerned."""

    THROTTLED = "throttled"  # 429: wait (Retry-After), then the same request can succeed
    TRANSIENT = "transient"  # 408, 500, 502-504, timeouts, lost connections
    AUTH = "auth"  # 401, 403: the credential or its permissions were refused
    NOT_FOUND = "not_found"  # 404
    CLIENT = "client"  # any other answer, or a request that cannot be sent: do not repeat it

    @property
    def retryable(self) -> bool:
        return self in (Kind.THROTTLED, Kind.TRANSIENT)


class ServiceError(Exception):
    """Base of each client's typed failures. ``str()`` is the subclass's ``_describe()`` (safe
    to log and store: the outbox keeps it as ``last_error``); an error pickles by its attributes,
    whatever its constructor takes."""

    def _describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self._describe()

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls, state: dict):
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


def describe_call(
    service: str,
    method: str,
    path: str,
    status: int | None,
    code: str = "",
    message: str = "",
    request_id: str | None = None,
) -> str:
    """``Graph GET /users -> 404 itemNotFound: gone (request-id r-1)``: one line per failure."""
    shown = status if status is not None else "no response"
    text = f"{service} {method} {path} -> {shown}".replace("  ", " ")
    if code:
        text += f" {code}"
    if message:
        text += f": {message}"
    if request_id:
        text += f" (request-id {request_id})"
    return text


RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# OAuth2 token-endpoint error codes that another try may cure; every other one is permanent.
RETRYABLE_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down"})


def kind_of_status(status: int) -> Kind:
    """The kind of a non-2xx status."""
    if status == 429:
        return Kind.THROTTLED
    if status in RETRYABLE_STATUSES:
        return Kind.TRANSIENT
    if status in (401, 403):
        return Kind.AUTH
    if status == 404:
        return Kind.NOT_FOUND
    return Kind.CLIENT


class TransportFailure(Exception):
    """No answer came: ``code`` is timeout, connectionError or requestError, ``name`` the httpx
    exception's class name (never its message, which holds the URL and its query string)."""

    def __init__(self, kind: Kind, code: str, name: str):
        super().__init__(f"{code} ({name})")
        self.kind = kind
        self.code = code
        self.name = name

    @classmethod
    def from_httpx(cls, exc: httpx.HTTPError) -> TransportFailure:
        name = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return cls(Kind.TRANSIENT, "timeout", name)
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return cls(Kind.CLIENT, "requestError", name)  # sending it again cannot help
        return cls(Kind.TRANSIENT, "connectionError", name)


# -- what may be printed ---------------------------------------------------------------------------

MAX_MESSAGE = 300
# Anything that looks like a JWT, a bearer credential, an OAuth token parameter or an upload
# URL's own credential is cut out, should a server ever echo one back.
_SECRETS = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
    r"|(?i:bearer)\s+\S+"
    r"|tempauth=[^&\s]+"
    r"|(?i:(?:access|refresh)_token|client_secret)[\"'=:\s]+[^\s\"'&,]+"
)


def clean(text: Any) -> str:
    """One line, no credentials, at most 300 characters."""
    text = "" if text is None else str(text)
    text = _SECRETS.sub("[redacted]", text.replace("\r", " ").replace("\n", " "))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def strip_query(path_or_url: str) -> str:
    """``/users?$filter=...`` -> ``/users``; an absolute URL keeps only its path."""
    if "://" in path_or_url:
        return urlsplit(path_or_url).path or "/"
    return path_or_url.split("?", 1)[0].split("#", 1)[0]
