"""Fixtures shared by every test: the example policy in force, demo people, API clients."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.test import Client

from gigbridge import clock

ROOT = Path(__file__).resolve().parent
EXAMPLE_POLICY = ROOT / "examples" / "program.yaml"
PASSWORD = "correct horse battery staple 42"

# Every test starts its clocks (the product's and the sandbox tenant's) on this instant, never on
# today: an ordinary weekday morning (Tuesday 1 December 2026) unless the environment names
# another. CI runs the scenario tests again from a Saturday night, 31 December and 29 February.
CLOCK_START_VARIABLE = "GIGBRIDGE_TEST_CLOCK_START"
DEFAULT_CLOCK_START = "2026-12-01T09:00:00+00:00"


def clock_start() -> dt.datetime:
    """The instant every test starts on: $GIGBRIDGE_TEST_CLOCK_START, ISO 8601 with an offset."""
    raw = os.environ.get(CLOCK_START_VARIABLE) or DEFAULT_CLOCK_START
    try:
        start = dt.datetime.fromisoformat(raw)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:  # a naive time would depend on the machine's zone
        raise pytest.UsageError(
            f"{CLOCK_START_VARIABLE}={raw!r}: expected an ISO 8601 datetime with an offset, "
            f"such as {DEFAULT_CLOCK_START}"
        )
    return start


def pytest_configure(config):
    clock_start()  # a mistyped start fails the run at once, not every test
    # Tests pin the product's clock themselves: never the sandbox's world clock that a shell
    # running `gigbridge up` may have exported (nor in the processes tests start), unless a
    # test turns it on with clock.follow (the pinned-clocks fixture turns it off again).
    os.environ.pop(clock.WORLD_VARIABLE, None)
    clock.follow(None)


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://...")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs ~0.3 s a password by design; tests need sign-in, not its cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path_factory, monkeypatch):
    # Audit checkpoints live outside the database: each test gets its own file as it gets its
    # own database, so one test's checkpoints never accuse the next test's chain of truncation.
    folder = tmp_path_factory.mktemp("audit-checkpoints")
    settings.GIGBRIDGE_AUDIT_CHECKPOINT_DIR = folder
    monkeypatch.setenv("GIGBRIDGE_AUDIT_CHECKPOINT_DIR", str(folder))  # for child processes


@pytest.fixture(autouse=True)
def _pinned_clocks(request):
    """Every test starts on the same instant, whatever the day it runs: the product's clock reads
    it and runs on from there (as real time would; ``frozen_now`` stops it), and so does the
    shared sandbox tenant's clock when the test uses that tenant (it outlives each test, so each
    test sets it again). Processes the test starts inherit the shift (``subprocess_env``)."""
    start = clock_start()
    clock.start_at(start)
    if "tenant_info" in request.fixturenames:
        from gigbridge.sandbox.tests.conftest import pin_sandbox_clock

        pin_sandbox_clock(request.getfixturevalue("tenant_info"), start)
    yield
    clock.follow(None)
    clock.start_at(None)


@pytest.fixture(autouse=True)
def _fresh_security_log():
    """The security log's rate limits count per process: each test starts from zero."""
    from gigbridge import securitylog

    securitylog.reset()


@pytest.fixture
def frozen_now():
    """Freeze time at the tests' start instant; call the returned function to move it."""
    current = [clock_start()]
    clock.set_now(current[0])

    def move(**delta):
        current[0] = current[0] + dt.timedelta(**delta)
        clock.set_now(current[0])
        return current[0]

    move.now = lambda: current[0]
    return move


@pytest.fixture
def policy(db):
    from gigbridge.program.actions import activate_policy_file

    version, _ = activate_policy_file(EXAMPLE_POLICY, actor="tests")
    return version


@pytest.fixture
def people(policy):
    """The demo people (rita requests, max manages, paula procurement, ...) by username."""
    from django.contrib.auth import get_user_model

    from gigbridge.people import demo

    demo.load(PASSWORD)
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def api(people):
    """api("rita") -> a test client that sends rita's bearer token on every call."""
    from gigbridge.people.actions import create_api_token

    def client_for(username: str) -> Client:
        _, secret = create_api_token(people[username], "tests")
        return Client(headers={"authorization": f"Bearer {secret}"})

    return client_for


@pytest.fixture
def subprocess_env(transactional_db) -> dict:
    """Environment that points a child process (CLI, worker) at this test's database and
    clock."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env[clock.OFFSET_VARIABLE] = str(clock.offset_seconds())  # the child's date is the test's
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return env


def request_payload(**overrides) -> dict:
    """A valid work request body (API field names); override any field."""
    start = clock.today() + dt.timedelta(days=14)
    body = {
        "title": "Brand refresh for the spring campaign",
        "description": "A new visual identity for the campaign.",
        "deliverables": ["Logo", "Brand guide"],
        "skills": ["figma", "branding"],
        "task_category": "design",
        "worker_category": "freelancer",
        "cost_center": "CC-MKT",
        "pricing": "fixed",
        "budget": "4000.00",
        "currency": "EUR",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=60)).isoformat(),
        "data_classification": "internal",
        "sourcing": "marketplace",
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="session")
def tenant(tmp_path_factory):
    """One sandbox tenant and marketplace (HTTPS on loopback) for the whole run, shared by the
    scenario, browser and sign-in tests: it outlives each test, so they put back what they
    change (its clock, its dials)."""
    from gigbridge.sandbox.tests.conftest import SandboxServer, free_port

    server = SandboxServer(tmp_path_factory.mktemp("tenant"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tenant_info(tenant) -> dict:
    return tenant.info()


@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory):
    """A real clamd of the test session's own (Debian's clamav-daemon, the EICAR test signature;
    `make clamav` installs it), started once and stopped at the end: its address."""
    from gigbridge.integrations.clamav import daemon

    if not daemon.installed():
        pytest.fail("clamd and sigtool are not installed: run `make clamav`")
    running = daemon.start(tmp_path_factory.mktemp("clamd"))
    yield running.address
    running.stop()


@pytest.fixture
def clamav(settings, clamd_address):
    """The product pointed at the session's clamd (``settings.CLAMAV["address"]``)."""
    settings.CLAMAV = {**settings.CLAMAV, "address": clamd_address}
    return clamd_address


# Browser tests (tests/e2e, and a page of the sandbox's): Debian's Chromium, never a downloaded
# one, driven by Playwright. One browser for the session (a launch costs about 2 s), shared by
# every suite: Playwright's sync API cannot be started twice in one thread.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an asyncio loop marked as running in this thread for as long
    # as it is started. Django then refuses every ORM call from the test thread (and from
    # pytest-django's database teardown) with SynchronousOnlyOperation, although nothing runs
    # concurrently: the loop only turns while a Playwright call blocks. So the guard is lifted
    # while the browser is up (here, not at import), and suites that run before keep it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
