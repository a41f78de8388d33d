"""Token buckets that pace calls to Microsoft Graph, per process or across all workers.

    limiter.acquire(cost=1)      # blocks until the call is allowed

A bucket holds at most ``burst`` tokens and gains ``rate`` tokens a second. ``acquire`` takes
its tokens at once, letting the balance go below zero (a reservation), and then sleeps until
the balance it reserved against would have refilled: ``-balance / rate`` seconds. So callers are
served in the order they asked, each waits exactly its share, and the shared state is touched
once per call: N calls at rate R after a full burst B take (N - B) / R seconds.

Two backends with the same interface:

- ``InProcessTokenBucket``: a lock and two floats; for tests and a single process.
- ``DatabaseTokenBucket``: one row per bucket in a table that every web and worker process
  shares (SQLite or PostgreSQL through Django's connection). The row is locked for the
  read-modify-write: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction takes
  the write lock up front (its first statement writes), as an IMMEDIATE transaction does.
  Its clock is wall time, which all machines share (within NTP).

Both take ``clock`` and ``sleep`` so tests run on a fake clock without sleeping.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Protocol

DEFAULT_TABLE = "gigbridge_rate_bucket"
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


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
    return balance, (-balance / rate if balance < 0 else 0.0)


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
    """A token bucket in a database row, shared by every process that uses the database.

    The table is created when missing (``CREATE TABLE IF NOT EXISTS``) with the same shape as
    the model ``RateBucket(name PK, tokens float, updated_at float)`` would have, so a migration
    can take it over. Must not be called inside an open transaction (it would hold the row
    lock while the caller goes on).
    """

    def __init__(
        self,
        name: str,
        rate: float,
        burst: float,
        *,
        table: str = DEFAULT_TABLE,
        using: str = "default",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        _check(rate, burst)
        if not name or len(name) > 200:
            raise ValueError("a bucket needs a name of 1 to 200 characters")
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"not a plain SQL table name: {table!r}")
        self.name = name
        self.rate = float(rate)
        self.burst = float(burst)
        self.table = table
        self.using = using
        self._clock = clock
        self._sleep = sleep
        self._table_ready = False

    # -- SQL --------------------------------------------------------------------------------------

    def _connection(self):
        from django.db import connections

        return connections[self.using]

    def _quoted_table(self) -> str:
        return self._connection().ops.quote_name(self.table)

    def ensure_table(self) -> None:
        """Create the table if it is missing (safe to call from many processes at once)."""
        if self._table_ready:
            return
        from django.db import DatabaseError, transaction

        table = self._quoted_table()
        sql = (
            f"CREATE TABLE IF NOT EXISTS {table} ("  # noqa: S608 - validated, quoted name
            "name VARCHAR(200) NOT NULL PRIMARY KEY, "
            "tokens DOUBLE PRECISION NOT NULL, "
            "updated_at DOUBLE PRECISION NOT NULL)"
        )
        try:
            with transaction.atomic(using=self.using), self._connection().cursor() as cursor:
                cursor.execute(sql)
        except DatabaseError:
            # Two PostgreSQL sessions creating the table at once: one wins, the other fails on
            # the catalog's unique index. Fine if the table is there now.
            with self._connection().cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {table} WHERE 1 = 0")  # noqa: S608
        self._table_ready = True

    def _reserve(self, cost: float) -> float:
        """Take ``cost`` tokens in one short transaction; -> seconds to wait."""
        from django.db import transaction

        connection = self._connection()
        table = self._quoted_table()
        now = self._clock()
        if connection.vendor == "postgresql":
            return self._reserve_in_one_statement(connection, table, now, cost)
        # durable=True: refuse to run inside the caller's transaction, which would keep the row
        # locked (and every other worker waiting) until the caller commits.
        with transaction.atomic(using=self.using, durable=True), connection.cursor() as cursor:
            # The first statement writes, so SQLite takes its write lock now (waiting its busy
            # timeout), exactly like BEGIN IMMEDIATE, and the read below cannot go stale.
            cursor.execute(
                f"INSERT INTO {table} (name, tokens, updated_at) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (name) DO NOTHING",
                [self.name, self.burst, now],
            )
            lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
            cursor.execute(
                f"SELECT tokens, updated_at FROM {table} WHERE name = %s{lock}",  # noqa: S608
                [self.name],
            )
            tokens, updated_at = cursor.fetchone()
            balance, wait = _take(tokens, updated_at, now, self.rate, self.burst, cost)
            cursor.execute(
                f"UPDATE {table} SET tokens = %s, updated_at = %s WHERE name = %s",  # noqa: S608
                [balance, max(now, updated_at), self.name],
            )
        return wait

    def _reserve_in_one_statement(self, connection, table: str, now: float, cost: float) -> float:
        """PostgreSQL: the same arithmetic as ``_take`` in one upsert, so the row is locked for
        one statement instead of across a five-statement transaction (every Graph call of every
        worker goes through here)."""
        from django.db import transaction

        sql = (
            f"INSERT INTO {table} AS b (name, tokens, updated_at) "  # noqa: S608 - quoted name
            "VALUES (%(name)s, %(burst)s - %(cost)s, %(now)s) "
            "ON CONFLICT (name) DO UPDATE SET "
            "tokens = LEAST(%(burst)s, b.tokens + GREATEST(0, %(now)s - b.updated_at) * %(rate)s)"
            " - %(cost)s, updated_at = GREATEST(%(now)s, b.updated_at) "
            "RETURNING tokens"
        )
        params = {"name": self.name, "burst": self.burst, "cost": float(cost), "now": now,
                  "rate": self.rate}  # fmt: skip
        # durable=True: never inside the caller's transaction, which would keep the row locked.
        with transaction.atomic(using=self.using, durable=True), connection.cursor() as cursor:
            cursor.execute(sql, params)
            (balance,) = cursor.fetchone()
        return -balance / self.rate if balance < 0 else 0.0

    # -- interface --------------------------------------------------------------------------------

    @property
    def tokens(self) -> float:
        """The current balance as stored, refilled to now (without taking anything)."""
        self.ensure_table()
        with self._connection().cursor() as cursor:
            cursor.execute(
                f"SELECT tokens, updated_at FROM {self._quoted_table()} WHERE name = %s",  # noqa: S608
                [self.name],
            )
            row = cursor.fetchone()
        if row is None:
            return self.burst
        balance, _ = _take(row[0], row[1], self._clock(), self.rate, self.burst, 0)
        return balance

    def acquire(self, cost: float = 1) -> None:
        _check_cost(cost, self.burst)
        self.ensure_table()
        wait = self._reserve(cost)
        if wait > 0:
            self._sleep(wait)
