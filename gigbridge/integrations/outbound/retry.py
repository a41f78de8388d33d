"""When to send a failed call again, and how long to wait first.

    policy = RetryPolicy(statuses=frozenset({429, 503, 504}), max_retries=4, max_wait=60)
    retrier = Retrier(policy, sleep=clock.sleep, now=clock, rng=lambda: 0.5)
    response = retrier.run(lambda attempt: send_once(attempt), idempotent=True,
                           retryable=RetryableGraphError)

A failure is sent again only when all of these hold: the request is idempotent (a POST that
may have reached the server is never repeated blindly: the caller checks, then acts), the
failure is of the client's retryable type and either no answer came or its status is one of the
policy's ``statuses``, fewer than ``max_retries`` retries were made, and the wait fits in what
is left of ``max_wait``. The wait is the server's ``Retry-After`` when it sent one, else
exponential backoff with jitter. Otherwise the failure is raised as it is, with its
``retry_after``, and the outbox job waits that long before its next attempt.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from .classify import RETRYABLE_STATUSES

T = TypeVar("T")

# A Retry-After further away than this is treated as this: a broken header (a date years
# ahead) must not park an outbox job for years. An hour is also the outbox's longest backoff.
MAX_RETRY_AFTER = 3600.0


def parse_retry_after(
    value: str | None, now: Callable[[], float] = time.time, cap: float = MAX_RETRY_AFTER
) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or an HTTP date, at most ``cap``);
    None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), cap)


@dataclass(frozen=True)
class RetryPolicy:
    """Which failures a client sends again, how often, and how long it may wait in all."""

    statuses: frozenset[int] = RETRYABLE_STATUSES
    max_retries: int = 4
    max_wait: float = 60.0  # seconds slept across all retries of one call
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = MAX_RETRY_AFTER

    def __post_init__(self):
        if self.max_retries < 0 or self.max_wait < 0:
            raise ValueError("max_retries and max_wait cannot be negative")
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ValueError("backoff_base must be > 0 and at most backoff_cap")

    def retries_status(self, status: int | None) -> bool:
        """No answer at all (None: a timeout or a lost connection) or a status in ``statuses``."""
        return status is None or status in self.statuses


class Retrier:
    """A ``RetryPolicy`` with the clock, sleep and randomness it runs on (tests inject them)."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ):
        self.policy = policy
        self.sleep = sleep
        self.now = now
        self.rng = rng

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for the n-th retry (1-based): half fixed, half random,
        never above ``backoff_cap``."""
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng() * ceiling / 2

    def retry_after(self, header: str | None) -> float | None:
        return parse_retry_after(header, self.now, self.policy.retry_after_cap)

    def budget(self) -> Budget:
        """The waiting allowance of one call, for loops that decide about retries themselves
        (upload chunks, ``$batch`` rounds)."""
        return Budget(self)

    def run(
        self,
        attempt_once: Callable[[int], T],
        *,
        idempotent: bool,
        retryable: type[BaseException] | tuple[type[BaseException], ...],
    ) -> T:
        """Call ``attempt_once(attempt)`` (1-based) until it returns, retrying as the module
        docstring says; the last failure is raised."""
        budget = self.budget()
        attempt = 0
        while True:
            attempt += 1
            try:
                return attempt_once(attempt)
            except retryable as error:
                if not idempotent or not self.policy.retries_status(getattr(error, "status", None)):
                    raise
                if attempt > self.policy.max_retries:
                    raise
                if not budget.wait(attempt, getattr(error, "retry_after", None)):
                    raise


class Budget:
    """How long one call has waited; ``wait`` sleeps only while ``max_wait`` allows."""

    def __init__(self, retrier: Retrier):
        self.retrier = retrier
        self.waited = 0.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        return retry_after if retry_after is not None else self.retrier.backoff(attempt)

    def fits(self, delay: float) -> bool:
        return self.waited + delay <= self.retrier.policy.max_wait

    def wait_for(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; False (no sleep) when that would exceed ``max_wait``: the
        caller gives up and the outbox waits instead."""
        if not self.fits(delay):
            return False
        self.retrier.sleep(delay)
        self.waited += delay
        return True

    def wait(self, attempt: int, retry_after: float | None) -> bool:
        """``wait_for`` the delay before retry number ``attempt``."""
        return self.wait_for(self.delay(attempt, retry_after))


class RetryKnobs:
    """The retry settings a client exposes as attributes (``client.max_retries = 0``,
    ``client.sleep = fake``), kept on its ``retrier``."""

    retrier: Retrier

    def backoff(self, attempt: int) -> float:
        return self.retrier.backoff(attempt)

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.retrier.sleep

    @sleep.setter
    def sleep(self, value: Callable[[float], None]) -> None:
        self.retrier.sleep = value

    @property
    def max_retries(self) -> int:
        return self.retrier.policy.max_retries

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self.retrier.policy = replace(self.retrier.policy, max_retries=value)

    @property
    def max_wait(self) -> float:
        return self.retrier.policy.max_wait

    @max_wait.setter
    def max_wait(self, value: float) -> None:
        self.retrier.policy = replace(self.retrier.policy, max_wait=value)
