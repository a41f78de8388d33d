"""Token buckets, in process and in the database, on an injected clock (nothing really sleeps)."""

from __future__ import annotations

import threading
import uuid

import pytest

from gigbridge.integrations.outbound.models import RateBucket
from gigbridge.integrations.outbound.ratelimit import (
    DatabaseTokenBucket,
    InProcessTokenBucket,
    Unlimited,
)


class FakeTime:
    """A clock that only sleeping moves (``frozen``: not even that); thread-safe."""

    def __init__(self, start: float = 1_800_000_000.0, frozen: bool = False):
        self.now = start
        self.frozen = frozen
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        with self._lock:
            self.sleeps.append(seconds)
            if not self.frozen:
                self.now += seconds


def in_process(rate, burst, clock):
    return InProcessTokenBucket(rate, burst, clock=clock, sleep=clock.sleep)


def in_database(rate, burst, clock, name=None):
    return DatabaseTokenBucket(
        name or f"test-{uuid.uuid4().hex}", rate, burst, clock=clock, sleep=clock.sleep
    )


# The same behaviour is asserted of both backends; the database one needs a real transaction.
BACKENDS = [
    pytest.param(in_process, id="in-process"),
    pytest.param(in_database, id="database", marks=pytest.mark.django_db(transaction=True)),
]


@pytest.mark.parametrize("make", BACKENDS)
@pytest.mark.parametrize("rate, burst, count", [(5, 1, 50), (10, 20, 120), (0.5, 1, 6)])
def test_n_acquisitions_at_rate_r_take_n_over_r(make, rate, burst, count):
    clock = FakeTime()
    bucket = make(rate, burst, clock)
    start = clock()
    for _ in range(count):
        bucket.acquire()
    elapsed = clock() - start
    # The burst is free; every further call waits its 1/R: (N - B) / R, i.e. about N / R.
    assert elapsed == pytest.approx((count - burst) / rate)
    assert len(clock.sleeps) == count - burst
    assert all(s == pytest.approx(1 / rate) for s in clock.sleeps)


@pytest.mark.parametrize("make", BACKENDS)
def test_idle_time_refills_up_to_the_burst_only(make):
    clock = FakeTime()
    bucket = make(2, 4, clock)
    for _ in range(4):
        bucket.acquire()
    assert clock.sleeps == []
    clock.now += 3600  # an hour idle refills 4 tokens, not 7200
    for _ in range(4):
        bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.5)]


@pytest.mark.parametrize("make", BACKENDS)
def test_cost_takes_several_tokens(make):
    clock = FakeTime()
    bucket = make(10, 20, clock)
    bucket.acquire(20)
    bucket.acquire(5)
    assert clock.sleeps == [pytest.approx(0.5)]
    with pytest.raises(ValueError, match="burst"):
        bucket.acquire(21)
    with pytest.raises(ValueError):
        bucket.acquire(0)


@pytest.mark.parametrize("make", BACKENDS)
def test_a_clock_that_steps_back_refills_nothing(make):
    clock = FakeTime()
    bucket = make(1, 1, clock)
    bucket.acquire()
    clock.now -= 100
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(1.0)]


@pytest.mark.parametrize("make", BACKENDS)
def test_concurrent_callers_reserve_distinct_turns(make):
    """8 threads x 25 calls on a frozen clock: 50 free, then each caller waits its own turn.
    Lost updates would show as two callers with the same wait."""
    clock = FakeTime(frozen=True)
    bucket = make(10, 50, clock)
    errors = []

    def work():
        from django.db import connection

        try:
            for _ in range(25):
                bucket.acquire()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(clock.sleeps) == pytest.approx([n / 10 for n in range(1, 151)])
    assert bucket.tokens == pytest.approx(50 - 200)


def test_parameters_are_checked():
    clock = FakeTime()
    with pytest.raises(ValueError, match="rate"):
        InProcessTokenBucket(0, 1, clock=clock)
    with pytest.raises(ValueError, match="burst"):
        InProcessTokenBucket(1, 0.5, clock=clock)
    with pytest.raises(ValueError, match="name"):
        DatabaseTokenBucket("", 1, 1)
    Unlimited().acquire(1000)


@pytest.mark.django_db(transaction=True)
def test_database_buckets_are_shared_by_name_across_instances():
    """Two instances with one name behave as two processes sharing one bucket."""
    clock = FakeTime()
    name = f"graph-{uuid.uuid4().hex}"
    worker_a = in_database(1, 3, clock, name)
    worker_b = in_database(1, 3, clock, name)
    other = in_database(1, 3, clock)
    worker_a.acquire()
    worker_b.acquire()
    worker_a.acquire()
    assert clock.sleeps == []
    worker_b.acquire()  # the shared burst of 3 is spent
    assert clock.sleeps == [pytest.approx(1.0)]
    other.acquire()  # another bucket is untouched
    assert clock.sleeps == [pytest.approx(1.0)]


@pytest.mark.django_db(transaction=True)
def test_database_bucket_creates_its_row_full_on_first_use():
    clock = FakeTime()
    bucket = in_database(2, 5, clock, "graph-create")
    assert bucket.tokens == 5  # no row yet: a full bucket
    bucket.acquire(2)
    assert list(RateBucket.objects.values_list("name", "tokens", "updated_at")) == [
        ("graph-create", 3.0, clock())
    ]
    assert bucket.tokens == pytest.approx(3)
    clock.now += 0.5  # refilled by one token, read by another instance of the same name
    assert in_database(2, 5, clock, "graph-create").tokens == pytest.approx(4)


@pytest.mark.django_db(transaction=True)
def test_database_bucket_refuses_to_run_inside_a_transaction():
    from django.db import transaction

    bucket = in_database(1, 1, FakeTime())
    with pytest.raises(RuntimeError), transaction.atomic():
        bucket.acquire()
    assert not RateBucket.objects.filter(name=bucket.name).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_a_table_created_at_run_time():
    """Deployments whose bucket made its own table (CREATE TABLE IF NOT EXISTS) keep it and its
    rows when the migration runs."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("outbound", None)])
    try:
        assert RateBucket._meta.db_table not in connection.introspection.table_names()
        with connection.cursor() as cursor:
            cursor.execute(  # exactly what the old bucket ran
                "CREATE TABLE IF NOT EXISTS gigbridge_rate_bucket (name VARCHAR(200) NOT NULL "
                "PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION "
                "NOT NULL)"
            )
            cursor.execute("INSERT INTO gigbridge_rate_bucket VALUES ('graph', -2.5, 10.0)")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(RateBucket.objects.values_list("name", "tokens", "updated_at")) == [
        ("graph", -2.5, 10.0)
    ]
