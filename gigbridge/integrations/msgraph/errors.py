"""Typed Microsoft Graph failures: the class says whether trying again can help.

Every error carries the HTTP status, Graph's error ``code`` and ``message``, the ``request-id``
that Microsoft support asks for, and the method and path of the call (never its query string,
headers, token or body). ``str()`` is safe to store and log: the outbox keeps it as
``last_error``.

    RetryableGraphError  429, 500, 502, 503, 504, timeouts, connection errors (+ retry_after)
    PermanentGraphError  everything else, with subclasses for the statuses callers branch on:
        BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404, Conflict 409,
        PreconditionFailed 412 (stale ETag), FailedDependency 424 (inside $batch)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gigbridge.integrations.outbound.classify import (
    ServiceError,
    clean,
    describe_call,
    kind_of_status,
    strip_query,
)
from gigbridge.jobs.errors import PermanentError, RetryableError


class GraphError(ServiceError):
    """A call to Graph (or Entra ID, or an upload URL) that did not succeed."""

    def __init__(
        self,
        status: int | None,
        code: str = "",
        message: str = "",
        request_id: str | None = None,
        method: str = "",
        path: str = "",
        *,
        date: str | None = None,
    ):
        self.status = status
        self.code = clean(code)
        self.message = clean(message)
        self.request_id = request_id
        self.method = method
        self.path = strip_query(path)
        self.date = date
        super().__init__(self._describe())

    def _describe(self) -> str:
        return describe_call(
            "Graph", self.method, self.path, self.status, self.code, self.message, self.request_id
        )


class RetryableGraphError(GraphError, RetryableError):
    """Temporary: throttled, a server fault, a timeout or a lost connection.

    ``retry_after`` (seconds) is Graph's ``Retry-After`` when it sent one.
    """

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class PermanentGraphError(GraphError, PermanentError):
    """Trying again with the same request cannot help."""


class BadRequest(PermanentGraphError):
    """400: the request is malformed or names something invalid."""


class Unauthorized(PermanentGraphError):
    """401: the token was refused (wrong audience, tenant or an expired secret)."""


class Forbidden(PermanentGraphError):
    """403: the app lacks the permission (or admin consent) for this call."""


class NotFound(PermanentGraphError):
    """404: no such object (or not visible to this app)."""


class Conflict(PermanentGraphError):
    """409: the object already exists or is being changed by someone else."""


class PreconditionFailed(PermanentGraphError):
    """412: the ETag sent in If-Match is stale: read the item again, then decide."""


class FailedDependency(PermanentGraphError):
    """424 inside ``$batch``: a request this one depends on failed, so it was not run."""


_BY_STATUS: dict[int, type[PermanentGraphError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    424: FailedDependency,
}


def _lower_keys(mapping: Mapping | None) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in (mapping or {}).items()}


def parse_error_body(body: Any) -> tuple[str, str, str | None, str | None]:
    """``{"error": {"code", "message", "innerError": {"request-id", "date"}}}`` ->
    (code, message, request_id, date); tolerant of anything else."""
    if not isinstance(body, Mapping):
        return "", "", None, None
    error = body.get("error")
    if isinstance(error, str):  # OAuth-style {"error": "invalid_client", ...}
        return error, str(body.get("error_description") or ""), None, None
    if not isinstance(error, Mapping):
        return "", "", None, None
    inner = _lower_keys(error).get("innererror")
    inner = _lower_keys(inner) if isinstance(inner, Mapping) else {}
    request_id = inner.get("request-id") or inner.get("requestid")
    return (
        str(error.get("code") or ""),
        str(error.get("message") or ""),
        str(request_id) if request_id else None,
        str(inner["date"]) if inner.get("date") else None,
    )


def error_for_status(
    status: int,
    body: Any,
    headers: Mapping | None,
    method: str,
    path: str,
    *,
    retry_after: float | None = None,
) -> GraphError:
    """The typed error for a non-2xx answer (``body`` is the decoded JSON, or None)."""
    code, message, body_request_id, date = parse_error_body(body)
    lowered = _lower_keys(headers)
    request_id = lowered.get("request-id") or body_request_id
    args = (status, code, message, request_id, method, path)
    if kind_of_status(status).retryable:
        return RetryableGraphError(*args, date=date, retry_after=retry_after)
    return _BY_STATUS.get(status, PermanentGraphError)(*args, date=date)
