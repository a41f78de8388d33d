"""Typed clamd failures: the class says whether trying again can help.

    ClamdUnavailable  retryable: the socket is missing, the connection refused, reset or timed out
    ClamdError        permanent: clamd answered something we do not understand, or ERROR

``str()`` names the address and what happened; it is safe to log and store (the outbox keeps it
as ``last_error``: it starts "clamd ").
"""

from __future__ import annotations

from gigbridge.integrations.outbound.classify import ServiceError, clean
from gigbridge.jobs.errors import PermanentError, RetryableError


class ClamdProblem(ServiceError):
    def __init__(self, address: str, operation: str, detail: str):
        self.address = address
        self.operation = operation
        self.detail = clean(detail)
        super().__init__(self._describe())

    def _describe(self) -> str:
        return f"clamd {self.address} {self.operation}: {self.detail}"


class ClamdUnavailable(ClamdProblem, RetryableError):
    """No answer: clamd is not running (yet), restarting, overloaded or unreachable."""


class ClamdError(ClamdProblem, PermanentError):
    """clamd answered, but not with a verdict we can use (an ERROR line, an unknown reply)."""
