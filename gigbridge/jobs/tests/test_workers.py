"""Real worker processes against the test database: nothing runs twice, nothing is lost.

Mail goes to a real SMTP server (aiosmtpd) on loopback, so "effect" means a delivered message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from gigbridge import clock
from gigbridge.jobs import actions
from gigbridge.jobs.models import OutboxJob
from gigbridge.notifications.actions import mail

ROOT = Path(__file__).resolve().parents[3]


class Inbox:
    """SMTP handler that keeps what is delivered; can stall the first session mid-transaction."""

    def __init__(self, stall_first: bool = False, latency: float = 0.0):
        self.messages: list[bytes] = []
        self.stall_first = stall_first
        self.latency = latency
        self.stalled = threading.Event()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall_first and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(3600)  # the worker hangs here until it is killed
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.latency:
            await asyncio.sleep(self.latency)  # a realistic mail server, so workers overlap
        with self._lock:
            self.messages.append(envelope.content)
        return "250 Message accepted"


@pytest.fixture
def smtp():
    servers = []

    def start(**kwargs) -> tuple[Inbox, int]:
        inbox = Inbox(**kwargs)
        with socket.socket() as probe:  # a free port (the controller cannot start on port 0)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return inbox, port

    yield start
    for controller in servers:
        controller.stop()


def worker_env(subprocess_env: dict, port: int) -> dict:
    return {
        **subprocess_env,
        "GIGBRIDGE_POLICY_FILE": str(ROOT / "examples" / "program.yaml"),
        "GIGBRIDGE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "GIGBRIDGE_SMTP_HOST": "127.0.0.1",
        "GIGBRIDGE_SMTP_PORT": str(port),
    }


def start_worker(env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gigbridge.cli", "worker", "--interval", "0.1", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def queue_mails(people, count: int) -> list[int]:
    with transaction.atomic():
        for i in range(count):
            mail(
                people["max"],
                "request_approved",
                {"request_id": 1, "reference": f"WR-{i}", "title": f"job {i}"},
                key=str(i),
            )
    return list(OutboxJob.objects.values_list("pk", flat=True))


def wait_until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll a condition on the database; a timeout fails the test instead of hanging CI."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_run_every_job_exactly_once(people, smtp, subprocess_env):
    inbox, port = smtp(latency=0.01)
    jobs = queue_mails(people, 150)
    env = worker_env(subprocess_env, port)
    workers = [start_worker(env, "--batch", "--worker-id", f"w{i}") for i in (1, 2)]
    for worker in workers:
        output = worker.communicate(timeout=120)[0].decode()
        assert worker.returncode == 0, output
    assert OutboxJob.objects.filter(pk__in=jobs, state="done").count() == 150
    assert set(OutboxJob.objects.values_list("attempts", flat=True)) == {1}
    assert len(inbox.messages) == 150
    subjects = {m.split(b"Subject: ")[1].split(b"\n")[0] for m in inbox.messages}
    assert len(subjects) == 150  # no message twice
    ran_by = DBTaskResult.objects.values_list("worker_ids", flat=True)
    assert {w for ids in ran_by for w in ids} == {"w1", "w2"}, "both workers took part"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_recovered_with_exactly_one_effect(
    people, smtp, subprocess_env, settings
):
    inbox, port = smtp(stall_first=True)
    (job_id,) = queue_mails(people, 1)
    env = worker_env(subprocess_env, port)
    worker = start_worker(env)
    try:
        assert inbox.stalled.wait(60), "the worker never reached the mail server"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    job = OutboxJob.objects.get(pk=job_id)
    assert job.state == "pending" and job.attempts == 1 and job.claimed_until is not None
    # The queue library never looks at a task again once claimed: it stays RUNNING forever.
    assert DBTaskResult.objects.get().status == "RUNNING"
    assert inbox.messages == []

    # The lease runs out (on the sweeper's clock): the sweeper hands the job over again.
    clock.set_now(clock.now() + dt.timedelta(seconds=settings.GIGBRIDGE_JOB_LEASE_SECONDS + 1))
    assert actions.sweep() == 1
    clock.set_now(None)
    second = start_worker(env, "--batch")
    output = second.communicate(timeout=60)[0].decode()
    assert second.returncode == 0, output
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 2
    assert len(inbox.messages) == 1
