"""Typed failures of outside work: the type says whether trying again can help."""


class RetryableError(Exception):
    """A temporary failure (timeout, 429, 5xx): the job is tried again later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Trying again cannot help (bad address, forbidden): the job is marked dead and reported."""
