"""The one way Gigbridge talks to Upwork's GraphQL API: ``UpworkClient.execute``.

    client = UpworkClient("https://api.upwork.com/graphql", tokens, verify=True,
                          limiter=DatabaseTokenBucket("upwork", rate=9, burst=9),
                          organization_id="1234567890")
    data = client.execute(DOCUMENT, {"id": contract_id}, "ContractDetails")

What every call gets, in one place (``execute``):

- a rate-limiter token per attempt. Upwork allows about 10 requests a second per IP, so the
  default bucket (shared by all processes through the database) lets 9 a second through;
- ``Authorization: Bearer`` from the token provider (``auth.ConnectionTokens``), and
  ``X-Upwork-API-TenantId`` when the client is bound to an organization (Upwork needs it for
  users who belong to several organizations);
- retries only where re-sending is safe: a *query* answered 408/429/5xx, or that timed out or
  lost its connection, is sent again after ``Retry-After`` (seconds or an HTTP date) or an
  exponential backoff with jitter, never sleeping more than ``max_wait`` in all. A *mutation*
  is never re-sent after it may have reached Upwork: its failure is raised as
  ``RetryableUpworkError`` so the outbox job can check what happened, then act;
- 401: the token is refreshed once (another worker may already have done it) and the request,
  query or mutation, sent again: a 401 means Upwork did not run it. A second 401, or a refresh
  that fails for good, marks the connection ``needs_reconnect`` and raises ``AuthExpired``;
- one log line per attempt at INFO: operation name, status, latency, request id, attempt and
  organization; never the token, the variables or any body;
- typed errors (``errors.py``) for everything else: ``GraphQLErrors`` (with ``MissingScope``)
  for an ``errors`` array, ``MalformedResponse`` for an answer that is not GraphQL.

``sleep``, ``now`` (wall clock, for Retry-After dates) and ``rng`` (jitter) are injectable so
the tests run without waiting. The limiter, the log line, the retry loop and the classification
of failures are the shared outbound layer's (``gigbridge.integrations.outbound``).
"""

from __future__ import annotations

import copy
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from gigbridge.integrations.outbound.classify import RETRYABLE_STATUSES, TransportFailure
from gigbridge.integrations.outbound.http import Caller, CallerClient, new_client
from gigbridge.integrations.outbound.retry import Retrier, RetryKnobs, RetryPolicy

from .errors import (
    AuthExpired,
    GraphQLErrorItem,
    MalformedResponse,
    PermanentUpworkError,
    RetryableUpworkError,
    UpworkError,
    clean,
    graphql_error,
    http_error,
    names_missing_scope,
)

log = logging.getLogger("gigbridge.integrations.upwork")

GRAPHQL_URL = "https://api.upwork.com/graphql"
TENANT_HEADER = "X-Upwork-API-TenantId"
USER_AGENT = "Gigbridge (upwork)"
REQUEST_ID_HEADERS = ("x-upwork-request-id", "x-request-id", "request-id")
_OPERATION = re.compile(r"\b(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_COMMENT = re.compile(r"#[^\n]*")


class TokenProvider(Protocol):
    def token(self) -> str: ...

    def refresh_after_rejection(self, rejected: str) -> str: ...

    def mark_needs_reconnect(self, reason: str) -> None: ...


class _TokenFailure(Exception):
    """Internal: carries a token provider's error past the retry loop."""

    def __init__(self, error: UpworkError):
        super().__init__(str(error))
        self.error = error


class StaticTokens:
    """A fixed access token (tests, scripts): nothing to refresh, a 401 is final."""

    def __init__(self, access_token: str):
        self._token = access_token
        self.reconnect_reason: str | None = None

    def token(self) -> str:
        return self._token

    def refresh_after_rejection(self, rejected: str) -> str:
        raise AuthExpired("the access token was refused and cannot be refreshed")

    def mark_needs_reconnect(self, reason: str) -> None:
        self.reconnect_reason = reason


def operation_of(document: str, operation_name: str | None = None) -> tuple[str, str]:
    """(name, kind) of the operation to run in ``document``; kind is query or mutation.

    Upwork's documented operations are all named, and Gigbridge sends them by name, so an
    anonymous or unknown operation is a programming error (ValueError), not a network one.
    """
    found = {name: kind for kind, name in _OPERATION.findall(_COMMENT.sub("", document))}
    if not found:
        raise ValueError("the GraphQL document has no named query or mutation")
    if operation_name is None:
        if len(found) > 1:
            raise ValueError(f"the document has {len(found)} operations: name the one to run")
        operation_name = next(iter(found))
    if operation_name not in found:
        raise ValueError(f"the document has no operation named {operation_name!r}")
    kind = found[operation_name]
    if kind == "subscription":
        raise ValueError("Upwork subscriptions are not supported over HTTP")
    return operation_name, kind


def _json_of(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return clean(response.headers[name])[:100]
    return None


def _message_of(body: Any, response: httpx.Response) -> str:
    """A short reason from an error body: GraphQL errors, OAuth-style, or the reason phrase."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return str(GraphQLErrorItem.from_json(errors[0]))
        for key in ("error_description", "message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return response.reason_phrase or ""


class UpworkClient(CallerClient, RetryKnobs):
    """An Upwork GraphQL client over one ``httpx.Client``; see the module docstring."""

    def __init__(
        self,
        url: str,
        tokens: TokenProvider,
        *,
        verify: bool | str | PathLike,
        limiter: Any = None,
        organization_id: str | None = None,
        timeout: float = 30,
        max_retries: int = 4,
        max_wait: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        backoff_base: float = 0.5,
        backoff_cap: float = 30,
        transport: httpx.BaseTransport | None = None,
        on_error: Callable[[UpworkError], None] | None = None,
        http: httpx.Client | None = None,
    ):
        if verify is False or verify is None:
            raise ValueError("TLS verification cannot be turned off: pass a CA bundle path")
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(f"the GraphQL URL must be an https URL, not {url!r}")
        self.url = url
        self.tokens = tokens
        self.organization_id = organization_id or None
        self.on_error = on_error
        self.retrier = Retrier(
            RetryPolicy(
                statuses=RETRYABLE_STATUSES,  # queries only: see _execute
                max_retries=max_retries,
                max_wait=max_wait,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
            ),
            sleep=sleep,
            now=now,
            rng=rng,
        )
        if http is None:
            http = new_client(
                user_agent=USER_AGENT, verify=verify, timeout=timeout, transport=transport
            )
        self._caller = Caller(http, service="upwork", logger=log, limiter=limiter)

    # -- one attempt ------------------------------------------------------------------------------

    def _send(self, payload: dict, operation: str, attempt: int, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if self.organization_id:
            headers[TENANT_HEADER] = self.organization_id

        def log_fields(response: httpx.Response | None):
            return [
                ("request-id", _request_id(response) if response is not None else None),
                ("attempt", attempt),
                ("tenant", self.organization_id),
            ]

        try:
            return self._caller.attempt(
                "POST",
                self.url,
                label=operation,
                log_fields=log_fields,
                json=payload,
                headers=headers,
            )
        except TransportFailure as failure:
            cls = RetryableUpworkError if failure.kind.retryable else PermanentUpworkError
            raise cls(failure.name, operation=operation) from None

    def _error_for(self, response: httpx.Response, operation: str) -> UpworkError:
        body = _json_of(response)
        request_id = _request_id(response)
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if isinstance(errors, list) and errors:
            items = [GraphQLErrorItem.from_json(e) for e in errors]
            if any(names_missing_scope(i) for i in items):  # Upwork may say so with a 403
                return graphql_error(errors, data=None, operation=operation, request_id=request_id)
        return http_error(
            response.status_code,
            _message_of(body, response),
            operation=operation,
            request_id=request_id,
            retry_after=self.retrier.retry_after(response.headers.get("Retry-After")),
        )

    def _data(self, response: httpx.Response, operation: str) -> dict:
        request_id = _request_id(response)
        body = _json_of(response)
        if not isinstance(body, Mapping):
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            log.warning("upwork %s answered %s that is not a JSON object", operation, kind)
            raise MalformedResponse(
                f"not a JSON object ({kind})",
                operation=operation,
                status=response.status_code,
                request_id=request_id,
            )
        errors = body.get("errors")
        data = body.get("data")
        if errors:
            raise graphql_error(errors, data=data, operation=operation, request_id=request_id)
        if not isinstance(data, Mapping):
            log.warning("upwork %s answered without data", operation)
            raise MalformedResponse(
                "the answer has no data",
                operation=operation,
                status=response.status_code,
                request_id=request_id,
            )
        return dict(data)

    # -- the choke point --------------------------------------------------------------------------

    def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> dict:
        """Run one GraphQL operation; -> its ``data`` object, else raise a typed error."""
        try:
            return self._execute(document, variables, operation_name)
        except UpworkError as exc:
            if self.on_error is not None:
                try:
                    self.on_error(exc)
                except Exception:  # recording the error must never hide it
                    log.exception("upwork: recording an error failed")
            raise

    def _execute(self, document, variables, operation_name) -> dict:
        operation, kind = operation_of(document, operation_name)
        payload = {
            "query": document,
            "operationName": operation,
            "variables": dict(variables or {}),
        }

        refreshed = False

        def attempt_once(attempt: int) -> dict:
            nonlocal refreshed
            while True:
                token = self._token(self.tokens.token)
                response = self._send(payload, operation, attempt, token)
                if response.status_code != 401:
                    break
                if refreshed:
                    reason = "Upwork refused a freshly refreshed access token (401)"
                    self.tokens.mark_needs_reconnect(reason)
                    raise AuthExpired(
                        reason, operation=operation, status=401, request_id=_request_id(response)
                    )
                # Upwork did not run it: refresh once per call (another worker may already
                # have) and send the same attempt again, query or mutation.
                refreshed = True
                self._token(self.tokens.refresh_after_rejection, token)
            if 200 <= response.status_code < 300:
                return self._data(response, operation)
            raise self._error_for(response, operation)

        try:
            # A mutation is never re-sent blindly: the caller checks what happened, then acts.
            return self.retrier.run(
                attempt_once, idempotent=kind == "query", retryable=RetryableUpworkError
            )
        except _TokenFailure as failure:
            raise failure.error from None

    @staticmethod
    def _token(get: Callable[..., str], *args: str) -> str:
        """A token from the provider. Its failures are raised as they are, never retried here:
        the token endpoint was already asked under the connection's row lock, and the outbox
        tries again later."""
        try:
            return get(*args)
        except UpworkError as exc:
            raise _TokenFailure(exc) from None

    def for_organization(self, organization_id: str | None) -> UpworkClient:
        """The same connection (tokens, limiter, HTTP pool) acting for another organization."""
        other = object.__new__(UpworkClient)
        other.__dict__.update(self.__dict__)
        other.organization_id = organization_id or None
        # Its own retry settings and limiter attribute, like a new client; the same HTTP pool.
        other.retrier = copy.copy(self.retrier)
        other._caller = copy.copy(self._caller)
        return other
