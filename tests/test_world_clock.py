"""One world time in the embedded default: the product's clock follows the sandbox's clock
(``gigbridge.worldclock``), cheaply, never silently wrong, never backwards; off in tests and in
real deployments."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from conftest import clock_start
from gigbridge import clock, worldclock
from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sandbox.graph.testing import tools_auth
from gigbridge.startup import world_clock_problems

DAY = 86400.0


class Ticks:
    """A monotonic clock the test moves by hand (no sleeping)."""

    def __init__(self):
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def write(path: Path, offset) -> None:
    """Replace the file whole, as the sandbox does, with a new inode (so a change is seen even
    within the file system's time resolution)."""
    data = worldclock.render(offset) if isinstance(offset, float) else offset
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@pytest.fixture
def world_file(tmp_path) -> Path:
    path = tmp_path / worldclock.FILE_NAME
    write(path, DAY)
    return path


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def test_the_follower_reads_the_offset_and_looks_again_only_once_a_second(
    world_file, ticks, monkeypatch
):
    follower = worldclock.Follower(world_file, check_every=1.0, monotonic=ticks)
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(worldclock.os, "stat", lambda p: stats.append(p) or real_stat(p))

    assert follower.offset() == dt.timedelta(days=1)
    write(world_file, 2 * DAY)
    for _ in range(1000):  # calls within the second: the cached offset, no look at the file
        assert follower.offset() == dt.timedelta(days=1)
    assert len(stats) == 1
    ticks.value += 0.999
    assert follower.offset() == dt.timedelta(days=1)
    ticks.value += 0.002  # the next look: the new offset
    assert follower.offset() == dt.timedelta(days=2)
    ticks.value += 5
    assert follower.offset() == dt.timedelta(days=2)  # unchanged file: stat only
    assert len(stats) == 3 and follower.known and follower.problem is None


def test_an_unreadable_world_clock_keeps_the_last_offset_and_logs_once(world_file, ticks, caplog):
    follower = worldclock.Follower(world_file, check_every=1.0, monotonic=ticks)
    assert follower.offset_seconds() == DAY
    caplog.set_level(logging.INFO, logger="gigbridge.clock")

    world_file.unlink()  # the sandbox's folder gone, or unreachable
    for _ in range(5):
        ticks.value += 2
        assert follower.offset_seconds() == DAY
    write(world_file, b"{half a fi")  # garbage: not a number
    for _ in range(5):
        ticks.value += 2
        assert follower.offset_seconds() == DAY
    write(world_file, b'{"offset_seconds": 1e12}')  # beyond ten years: not believed either
    ticks.value += 2
    assert follower.offset_seconds() == DAY

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "keeping the last known offset (86400 s)" in warnings[0].getMessage()
    assert follower.problem

    write(world_file, 3 * DAY)
    ticks.value += 2
    assert follower.offset_seconds() == 3 * DAY and follower.problem is None
    assert "can be read again" in caplog.records[-1].getMessage()


def test_a_world_clock_missing_from_the_start_is_wall_time_and_says_so(tmp_path, ticks, caplog):
    follower = worldclock.Follower(tmp_path / "absent.json", monotonic=ticks)
    with caplog.at_level(logging.WARNING, logger="gigbridge.clock"):
        assert follower.offset() == dt.timedelta(0)
        ticks.value += 2
        assert follower.offset() == dt.timedelta(0)
    assert not follower.known
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot read the sandbox clock {tmp_path / 'absent.json'} (FileNotFoundError): "
        "using wall time until it can be read"
    ]


def test_the_products_time_never_goes_back(world_file, ticks, caplog):
    follower = worldclock.Follower(world_file, check_every=1.0, monotonic=ticks)
    assert follower.offset_seconds() == DAY
    write(world_file, 0.5 * DAY)  # a file replaced by hand, a sandbox started afresh
    ticks.value += 2
    with caplog.at_level(logging.WARNING, logger="gigbridge.clock"):
        assert follower.offset_seconds() == DAY
        ticks.value += 2
        assert follower.offset_seconds() == DAY
    assert len(caplog.records) == 1 and "went back" in caplog.records[0].getMessage()
    write(world_file, 4 * DAY)  # forward again: followed
    ticks.value += 2
    assert follower.offset_seconds() == 4 * DAY


def test_the_sandbox_publishes_forward_only(tmp_path):
    path = tmp_path / worldclock.FILE_NAME
    written = []

    def write_whole(target: Path, data: bytes) -> None:
        written.append(data)
        target.write_bytes(data)

    assert worldclock.publish(path, 3600.0, write_whole) == 3600.0
    assert worldclock.publish(path, 7200.0, write_whole) == 7200.0
    assert worldclock.publish(path, -DAY, write_whole) == 7200.0  # set back: the file keeps it
    assert len(written) == 2 and worldclock.read(path) == 7200.0
    body = json.loads(path.read_text())
    moment = dt.datetime.fromisoformat(body["now"])
    assert abs(moment - (timezone.now() + dt.timedelta(hours=2))) < dt.timedelta(seconds=5)


def test_clock_now_follows_the_world_a_frozen_clock_still_wins_and_tests_do_not_follow(
    world_file, ticks
):
    assert clock.world() is None  # off in tests unless a test turns it on
    assert clock.WORLD_VARIABLE not in os.environ  # nor in the processes tests start
    pinned = clock.now()
    assert clock_start() <= pinned < clock_start() + dt.timedelta(minutes=5)

    clock.follow(world_file, monotonic=ticks)
    assert abs(clock.now() - (timezone.now() + dt.timedelta(days=1))) < dt.timedelta(seconds=1)
    assert clock.today() == timezone.localdate(timezone.now() + dt.timedelta(days=1))
    assert abs(clock.offset_seconds() - DAY) < 1  # what a child process would inherit
    frozen = dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC)
    clock.set_now(frozen)
    assert clock.now() == frozen
    clock.set_now(None)

    clock.follow(None)
    assert clock_start() <= clock.now() < clock_start() + dt.timedelta(minutes=5)


def test_the_environment_turns_it_on(monkeypatch, world_file):
    monkeypatch.delenv(clock.WORLD_VARIABLE, raising=False)
    assert worldclock.from_environment() is None
    monkeypatch.setenv(clock.WORLD_VARIABLE, str(world_file))
    follower = worldclock.from_environment()
    assert follower is not None and follower.offset_seconds() == DAY


def test_a_real_tenant_or_marketplace_refuses_to_start_with_a_world_clock(
    world_file, settings, ticks
):
    sandbox = "https://127.0.0.1:8443"
    settings.GRAPH = {**settings.GRAPH, "base_url": f"{sandbox}/v1.0"}
    settings.UPWORK = {**settings.UPWORK, "graphql_url": f"{sandbox}/upwork/graphql"}
    assert world_clock_problems() == []  # not following: nothing to check
    clock.follow(world_file, monotonic=ticks)
    assert world_clock_problems() == []

    settings.UPWORK = {**settings.UPWORK, "graphql_url": "https://api.upwork.com/graphql"}
    (problem,) = world_clock_problems()
    assert "GIGBRIDGE_UPWORK_GRAPHQL_URL is not the sandbox" in problem
    assert "wall time" in problem

    settings.UPWORK = {**settings.UPWORK, "graphql_url": f"{sandbox}/upwork/graphql"}
    world_file.unlink()
    (problem,) = world_clock_problems()
    assert "cannot be read" in problem and "start the sandbox first" in problem


SANDBOX_INFO = {
    "authority": "https://127.0.0.1:8443/0aafafd6-8ea9-4d4b-a53c-1c379a1a6b50",
    "client_id": "tools-id",
    "client_secret": "tools-secret",
    "graph_base_url": "https://127.0.0.1:8443/v1.0",
    "ca_cert": "/data/sandbox/ca.pem",
    "viewer_url": "https://127.0.0.1:8443/",
    "world_clock_file": "/data/sandbox/world-clock.json",
    "sign_in": {"client_id": "sign-in-id", "client_secret": "sign-in-secret"},
    "upwork": {
        "client_id": "upwork-id",
        "client_secret": "upwork-secret",
        "authorize_url": "https://127.0.0.1:8443/upwork/authorize",
        "token_url": "https://127.0.0.1:8443/upwork/token",
        "graphql_url": "https://127.0.0.1:8443/upwork/graphql",
        "default_tenant_id": "org-1",
        "viewer_url": "https://127.0.0.1:8443/upwork/",
    },
}


@pytest.fixture
def up_children(monkeypatch):
    """Run ``gigbridge up`` with its parts and the sandbox stood in for: returns the
    environment each part would have been started with."""
    from django.core.management import call_command

    from gigbridge.jobs.management.commands import up

    started: dict[str, dict] = {}

    class Child:
        returncode = 0

        def __init__(self, command, env):
            name = "sandbox" if "gigbridge.sandbox" in command else command[3]
            started[name] = env

        def poll(self):
            return 0  # stops at once: ``up`` then stops everything

        def terminate(self):
            pass

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(up, "check_or_exit", lambda stream: None)
    monkeypatch.setattr(up.subprocess, "Popen", Child)
    monkeypatch.setattr(up.signal, "signal", lambda *args: None)  # pytest keeps its Ctrl+C
    monkeypatch.setattr(up.time, "sleep", lambda seconds: None)
    monkeypatch.setattr("gigbridge.sandbox.connect.sandbox_info", lambda port: SANDBOX_INFO)
    for name in ("GIGBRIDGE_GRAPH_TENANT_ID", "GIGBRIDGE_UPWORK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> dict[str, dict]:
        started.clear()
        with pytest.raises(SystemExit):
            call_command("up", *args)
        return dict(started)

    return run


def test_up_gives_web_worker_and_scheduler_the_world_clock_only_with_the_sandbox(
    up_children, monkeypatch, capsys
):
    parts = up_children("--no-clamd")
    assert set(parts) == {"web", "worker", "scheduler", "sandbox"}
    for name in ("web", "worker", "scheduler"):
        assert parts[name][clock.WORLD_VARIABLE] == "/data/sandbox/world-clock.json"
    assert "One world time" in capsys.readouterr().out

    monkeypatch.setenv("GIGBRIDGE_UPWORK_CLIENT_ID", "a-real-key")  # a real marketplace
    parts = up_children()
    assert "sandbox" in parts and clock.WORLD_VARIABLE not in parts["web"]

    monkeypatch.delenv("GIGBRIDGE_UPWORK_CLIENT_ID")
    monkeypatch.setenv(clock.WORLD_VARIABLE, "/left/over/from/the/shell.json")
    parts = up_children("--no-sandbox")  # wall time: the shell's variable is not passed on
    assert "sandbox" not in parts
    assert all(clock.WORLD_VARIABLE not in env for env in parts.values())
    monkeypatch.setenv("GIGBRIDGE_GRAPH_TENANT_ID", "a-real-tenant")
    parts = up_children()
    assert "sandbox" not in parts
    assert all(clock.WORLD_VARIABLE not in env for env in parts.values())


# -- the page says so ---------------------------------------------------------------------------


def test_pages_show_the_sandbox_time_when_it_is_not_wall_time(client, db, world_file, ticks):
    page = client.get("/login/").content.decode()
    assert "Sandbox time" not in page  # not following (a real deployment, or tests)

    clock.follow(world_file, monotonic=ticks)
    page = client.get("/login/").content.decode()

    expected = timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:")
    assert 'id="world-time"' in page and "Sandbox time: <strong>" in page
    assert expected in page and f"{settings.TIME_ZONE}</strong>" in page

    write(world_file, 0.0)  # the sandbox on wall time: nothing to explain
    clock.follow(world_file, monotonic=ticks)
    assert "Sandbox time" not in client.get("/login/").content.decode()


# -- another process, through the running sandbox ----------------------------------------------


def test_advancing_the_sandbox_clock_moves_the_products_now_in_another_process(
    tenant_info, subprocess_env
):
    """The sandbox's clock tool moves the world; a process started with the product's settings
    and ``GIGBRIDGE_WORLD_CLOCK_FILE`` (what ``gigbridge up`` gives web, worker and scheduler)
    reads that time from ``gigbridge.clock``, over its own shifted clock."""
    path = Path(tenant_info["world_clock_file"])
    url = tenant_info["viewer_url"] + "_sandbox/clock"
    with httpx.Client(verify=ssl_context_from(tenant_info["ca_cert"]), timeout=10) as http:
        # Beyond whatever an earlier test left in the forward-only world clock.
        target = timezone.now() + dt.timedelta(seconds=worldclock.read(path), days=3)
        moved = http.post(url, json={"now": target.isoformat()}, auth=tools_auth(tenant_info))
        assert moved.status_code == 200, moved.text
        assert moved.json()["world_offset_seconds"] == pytest.approx(moved.json()["offset_seconds"])
        # Set back through the tools, the sandbox moves back alone; the product does not.
        back = http.post(url, json={"now": clock_start().isoformat()}, auth=tools_auth(tenant_info))
        assert back.status_code == 200

    code = (
        "import django; django.setup(); from gigbridge import clock; "
        "print(clock.now().isoformat()); print(clock.world() is not None)"
    )
    env = {
        **subprocess_env,  # also this test's own shift in GIGBRIDGE_CLOCK_OFFSET_SECONDS
        "DJANGO_SETTINGS_MODULE": "gigbridge.settings",
        clock.WORLD_VARIABLE: str(path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    moment, following = out.stdout.split()
    child = dt.datetime.fromisoformat(moment)
    assert following == "True"
    assert target <= child < target + dt.timedelta(minutes=2), (target, child)

    without = {k: v for k, v in env.items() if k != clock.WORLD_VARIABLE}
    out = subprocess.run(
        [sys.executable, "-c", code], env=without, capture_output=True, text=True, check=True
    )
    child = dt.datetime.fromisoformat(out.stdout.split()[0])  # the test's own pinned date
    assert clock_start() <= child < clock_start() + dt.timedelta(minutes=5)


def test_healthz_says_which_time_the_process_runs_on(client, db, world_file, ticks):
    assert client.get("/healthz").json()["clock"]["follows"] == "wall time"
    clock.follow(world_file, monotonic=ticks)
    body = client.get("/healthz").json()["clock"]
    assert body["follows"] == "sandbox clock" and body["offset_seconds"] == DAY
    assert body["file_readable"] is True and body["problem"] is None
    world_file.unlink()
    ticks.value += 2
    body = client.get("/healthz").json()["clock"]
    assert body["offset_seconds"] == DAY  # the last known offset, kept
    assert body["file_readable"] is False and body["problem"] == "FileNotFoundError"
