"""Token buckets that pace outbound calls, per process or across all workers.

    limiter.acquire(cost=1)      # blocks until the call is allowed

A bucket holds at most ``burst`` tokens and gains ``rate`` tokens a second. ``acquire`` takes
its tokens at once, letting the balance go below zero (a reservation), and then sleeps until
the balance it reserved against would have refilled: ``-balance / rate`` seconds. So callers are
served in the order they asked, each waits exactly its share, and the shared state is touched
once per call: N calls at rate R after a full burst B take (N - B) / R seconds.

Two backends with the same interface:

- ``InProcessTokenBucket``: a lock and two floats; for tests and a single process.
- ``DatabaseTokenBucket``: one ``RateBucket`` row per bucket name, shared by every web and
  worker process (SQLite or PostgreSQL). Graph uses the name "graph", Upwork "upwork". The
  refill-and-take is one conditional ``UPDATE`` computed by the database from the row's own
  values, so two processes can never both spend the same tokens: PostgreSQL locks the row for
  the statement's transaction, SQLite lets one writer in at a time. Its clock is wall time,
  which all machines share (within NTP).

Both take ``clock`` and ``sleep`` so tests run on a fake clock without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def acquire(self, cost: float = 1) -> None: ...


class Unlimited:
    """A limiter that never waits."""

    def acquire(self, cost: float = 1) -> None:
        return None


def _check(rate: float, burst: float) -> None:
    if not rate > 0:
        raise ValueError(f"rate must be > 0 tokens a second, not {rate!r}")
    if not burst >= 1:
        raise ValueError(f"burst must be >= 1 token, not {burst!r}")


def _check_cost(cost: float, burst: float) -> None:
    if not 0 < cost <= burst:
        raise ValueError(f"cost must be > 0 and at most the burst ({burst}), not {cost!r}")


def _take(tokens: float, updated_at: float, now: float, rate: float, burst: float, cost: float):
    """Refill since ``updated_at``, take ``cost``: -> (new balance, seconds to wait)."""
    elapsed = max(0.0, now - updated_at)  # a clock that steps back refills nothing
    balance = min(float(burst), tokens + elapsed * rate) - cost
    return balance, _wait(balance, rate)


def _wait(balance: float, rate: float) -> float:
    return -balance / rate if balance < 0 else 0.0


class InProcessTokenBucket:
    """A thread-safe token bucket in this process's memory."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        _check(rate, burst)
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated_at = clock()

    @property
    def tokens(self) -> float:
        """The current balance (negative while callers wait on reservations)."""
        with self._lock:
            now = self._clock()
            balance, _ = _take(self._tokens, self._updated_at, now, self.rate, self.burst, 0)
            return balance

    def acquire(self, cost: float = 1) -> None:
        _check_cost(cost, self.burst)
        with self._lock:
            now = self._clock()
            self._tokens, wait = _take(
                self._tokens, self._updated_at, now, self.rate, self.burst, cost
            )
            self._updated_at = max(now, self._updated_at)
        if wait > 0:
            self._sleep(wait)  # outside the lock: others reserve their turn meanwhile


class DatabaseTokenBucket:
    """A token bucket in a ``RateBucket`` row, shared by every process that uses the database.

    Must not be called inside an open transaction (it would hold the row lock while the caller
    goes on): ``acquire`` refuses to.
    """

    def __init__(
        self,
        name: str,
        rate: float,
        burst: float,
        *,
        using: str = "default",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        _check(rate, burst)
        if not name or len(name) > 200:
            raise ValueError("a bucket needs a name of 1 to 200 characters")
        self.name = name
        self.rate = float(rate)
        self.burst = float(burst)
        self.using = using
        self._clock = clock
        self._sleep = sleep

    def _rows(self):
        from .models import RateBucket

        return RateBucket.objects.using(self.using).filter(name=self.name)

    def _take_in_place(self, now: float, cost: float) -> int:
        """Refill and take in one UPDATE, from the row's own values; -> rows changed (0 or 1)."""
        from django.db.models import F, FloatField, Value
        from django.db.models.functions import Greatest, Least

        def number(value: float) -> Value:
            return Value(float(value), output_field=FloatField())

        refill = Greatest(number(0), number(now) - F("updated_at")) * number(self.rate)
        return self._rows().update(
            tokens=Least(number(self.burst), F("tokens") + refill) - number(cost),
            updated_at=Greatest(number(now), F("updated_at")),
        )

    def _reserve(self, cost: float) -> float:
        """Take ``cost`` tokens in one short transaction; -> seconds to wait."""
        from django.db import transaction

        from .models import RateBucket

        now = self._clock()
        # durable=True: refuse to run inside the caller's transaction, which would keep the row
        # locked (and every other worker waiting) until the caller commits.
        with transaction.atomic(using=self.using, durable=True):
            if not self._take_in_place(now, cost):
                # The first call ever: a full bucket (another process may create it first).
                RateBucket.objects.using(self.using).bulk_create(
                    [RateBucket(name=self.name, tokens=self.burst, updated_at=now)],
                    ignore_conflicts=True,
                )
                self._take_in_place(now, cost)
            balance = self._rows().values_list("tokens", flat=True).get()
        return _wait(balance, self.rate)

    # -- interface --------------------------------------------------------------------------------

    @property
    def tokens(self) -> float:
        """The current balance as stored, refilled to now (without taking anything)."""
        row = self._rows().values_list("tokens", "updated_at").first()
        if row is None:
            return self.burst
        balance, _ = _take(row[0], row[1], self._clock(), self.rate, self.burst, 0)
        return balance

    def acquire(self, cost: float = 1) -> None:
        _check_cost(cost, self.burst)
        wait = self._reserve(cost)
        if wait > 0:
            self._sleep(wait)
