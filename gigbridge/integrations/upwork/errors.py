"""Typed Upwork failures: the class says whether trying again can help.

Every error carries the GraphQL operation name, the HTTP status (None when no answer came),
a short message and the request id when Upwork sent one; never tokens, variables or bodies.
``str()`` is safe to store and log (the outbox keeps it as ``last_error``).

    RetryableUpworkError   429, 408, 5xx, timeouts, lost connections (+ retry_after), and a
                           mutation whose outcome is unknown (never re-sent by the client)
    MalformedResponse      an answer that is not GraphQL (non-JSON, no ``data``): retryable,
                           but not retried by the client itself
    AuthExpired            the token was refused and refreshing failed, or the refresh token was
                           revoked/expired: the connection is now ``needs_reconnect`` and an
                           admin must connect Upwork again. Retryable with a long wait, so queued
                           work resumes by itself once someone reconnects.
        NotConnected       no usable connection for this organization at all
    PermanentUpworkError   any other 4xx
        GraphQLErrors      HTTP 200 with ``errors``: ``.errors`` holds (message, path, code)
            MissingScope   an error says the API key lacks a scope (``.scopes`` when named)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gigbridge.integrations.outbound.classify import ServiceError, clean, kind_of_status
from gigbridge.jobs.errors import PermanentError, RetryableError

RECONNECT_WAIT = 900.0  # seconds an outbox job waits before trying again after AuthExpired
# "...doesn't have enough oauth2 permissions/scopes to access: [ContractDetails.id, ...]"
_SCOPE_WORDS = re.compile(r"\bscopes?\b|oauth2 permission", re.IGNORECASE)
_BRACKETED = re.compile(r"\[([^\]]*)\]")


class UpworkError(ServiceError):
    """A call to Upwork (GraphQL or the token endpoint) that did not succeed."""

    def __init__(
        self,
        message: str = "",
        *,
        operation: str = "",
        status: int | None = None,
        request_id: str | None = None,
    ):
        self.message = clean(message)
        self.operation = operation
        self.status = status
        self.request_id = request_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        status = self.status if self.status is not None else "no response"
        text = f"Upwork {self.operation or '?'} -> {status}"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class RetryableUpworkError(UpworkError, RetryableError):
    """Temporary: throttled, a server fault, a timeout or a lost connection.

    For a mutation it also means "the outcome is unknown": the client never re-sends one, so
    the caller checks what happened (read the offer, the milestone, ...) before acting again.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs):
        UpworkError.__init__(self, message, **kwargs)
        self.retry_after = retry_after


class MalformedResponse(UpworkError, RetryableError):
    """The answer was not a GraphQL response (not JSON, or neither ``data`` nor ``errors``)."""

    def __init__(self, message: str = "", **kwargs):
        UpworkError.__init__(self, message, **kwargs)
        self.retry_after = None


class AuthExpired(UpworkError, RetryableError):
    """Upwork refused the token and it cannot be refreshed: connect Upwork again.

    The connection row is already ``needs_reconnect`` with the reason when this is raised;
    ``/healthz`` says "reconnect Upwork". ``retry_after`` is long on purpose.
    """

    def __init__(self, message: str = "", **kwargs):
        UpworkError.__init__(self, message, **kwargs)
        self.retry_after = RECONNECT_WAIT


class NotConnected(AuthExpired):
    """No Upwork connection (or one waiting for an admin to reconnect) for the organization."""


class PermanentUpworkError(UpworkError, PermanentError):
    """Trying again with the same request cannot help (4xx other than 401, 408, 429)."""


@dataclass(frozen=True)
class GraphQLErrorItem:
    """One entry of a GraphQL ``errors`` array, reduced to what is safe to keep."""

    message: str
    path: tuple[str | int, ...] = ()
    code: str = ""

    @classmethod
    def from_json(cls, raw: Any) -> GraphQLErrorItem:
        if not isinstance(raw, Mapping):
            return cls(clean(raw))
        path = raw.get("path")
        path_items: tuple = ()
        if isinstance(path, Sequence) and not isinstance(path, str):
            path_items = tuple(p if isinstance(p, int) else str(p) for p in path)
        extensions = raw.get("extensions")
        code = ""
        if isinstance(extensions, Mapping):
            code = str(extensions.get("code") or extensions.get("classification") or "")
        return cls(clean(raw.get("message")), path_items, clean(code))

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path)
        return f"{self.message} (at {where})" if where else self.message


class GraphQLErrors(PermanentUpworkError):
    """HTTP 200 with an ``errors`` array. ``data`` is whatever partial data came with it
    (a mutation may have happened even so: check before acting again)."""

    def __init__(
        self,
        errors: Sequence[GraphQLErrorItem],
        *,
        data: Any = None,
        **kwargs,
    ):
        self.errors = list(errors)
        self.data = data
        summary = "; ".join(str(e) for e in self.errors[:3])
        if len(self.errors) > 3:
            summary += f"; and {len(self.errors) - 3} more"
        super().__init__(summary, **kwargs)

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.errors]

    @property
    def paths(self) -> list[tuple]:
        return [e.path for e in self.errors]


class MissingScope(GraphQLErrors):
    """The API key lacks a permission (scope) this operation needs: an admin adds it to the
    key in Upwork's developer settings and connects again. ``scopes`` lists what the error
    named (often field paths like ``ContractDetails.id``), possibly empty."""

    def __init__(self, errors: Sequence[GraphQLErrorItem], *, scopes: Sequence[str] = (), **kw):
        self.scopes = list(scopes)
        super().__init__(errors, **kw)


def names_missing_scope(item: GraphQLErrorItem) -> bool:
    code = item.code.lower()
    return bool(_SCOPE_WORDS.search(item.message)) or code in {"insufficient_scope", "scope"}


def scopes_named(item: GraphQLErrorItem) -> list[str]:
    found: list[str] = []
    for group in _BRACKETED.findall(item.message):
        found.extend(part.strip() for part in group.split(",") if part.strip())
    return found


def graphql_error(errors: Any, *, data: Any, operation: str, request_id: str | None) -> UpworkError:
    """The typed error for a GraphQL ``errors`` array."""
    raw = errors if isinstance(errors, list) else [errors]
    items = [GraphQLErrorItem.from_json(e) for e in raw] or [GraphQLErrorItem("unknown error")]
    common = {"data": data, "operation": operation, "status": 200, "request_id": request_id}
    scope_items = [i for i in items if names_missing_scope(i)]
    if scope_items:
        scopes = [s for i in scope_items for s in scopes_named(i)]
        return MissingScope(items, scopes=scopes, **common)
    return GraphQLErrors(items, **common)


def http_error(
    status: int,
    message: str,
    *,
    operation: str,
    request_id: str | None,
    retry_after: float | None = None,
) -> UpworkError:
    """The typed error for a non-2xx answer other than 401 (handled by the client)."""
    kwargs = {"operation": operation, "status": status, "request_id": request_id}
    if kind_of_status(status).retryable:
        return RetryableUpworkError(message, retry_after=retry_after, **kwargs)
    return PermanentUpworkError(message, **kwargs)
