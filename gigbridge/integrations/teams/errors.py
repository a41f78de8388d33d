"""Typed failures of calls to the Bot Connector (and the bot's token endpoint).

``str()`` is safe to log and store (the outbox keeps it as ``last_error``): method, path,
status, the Connector's error code and message, cleaned of anything that looks like a token.

    RetryableTeamsError  429 (with retry_after), 408, 5xx, timeouts, lost connections
    PermanentTeamsError  every other answer, a request that cannot be sent, a bad configuration
        NotFound         404 (a conversation or activity that is gone)
"""

from __future__ import annotations

from gigbridge.integrations.outbound.classify import (
    ServiceError,
    clean,
    describe_call,
    kind_of_status,
    strip_query,
)
from gigbridge.jobs.errors import PermanentError, RetryableError


class TeamsError(ServiceError):
    def __init__(
        self,
        status: int | None,
        code: str = "",
        message: str = "",
        method: str = "",
        path: str = "",
        *,
        retry_after: float | None = None,
    ):
        self.status = status
        self.code = clean(code)
        self.message = clean(message)
        self.method = method
        self.path = strip_query(path)
        super().__init__(self._describe())
        self.retry_after = retry_after  # after: RetryableError.__init__ sets it to None

    def _describe(self) -> str:
        return describe_call("Teams", self.method, self.path, self.status, self.code, self.message)


class RetryableTeamsError(TeamsError, RetryableError):
    """Throttled, a server fault, a timeout or a lost connection: the outbox tries again."""


class PermanentTeamsError(TeamsError, PermanentError):
    """Trying the same request again cannot help."""


class NotFound(PermanentTeamsError):
    """404: the conversation or activity is not there (deleted, or never was)."""


def error_for_status(
    status: int, code: str, message: str, method: str, path: str, retry_after: float | None
) -> TeamsError:
    if kind_of_status(status).retryable:
        return RetryableTeamsError(status, code, message, method, path, retry_after=retry_after)
    cls = NotFound if status == 404 else PermanentTeamsError
    return cls(status, code, message, method, path)
