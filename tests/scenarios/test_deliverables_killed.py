"""The worker killed in the middle of a scan, from an empty product (story.py says what the test
may use; the worker is the product's own ``gigbridge worker`` process, killed with SIGKILL).

Nora saves a 4 MB file; downloads from SharePoint are slowed to 1 MB a second so each scan takes
about four seconds. A real worker takes the scan and is killed at a random (replayable) moment
while the bytes stream through clamd; its lease runs out (time moved on, not waited for), the
sweeper hands the job to the next worker, which is killed too; the third finishes. The record
holds the version once, scanned once: one verdict, the right SHA-256, one "scanned" event.
"""

from __future__ import annotations

import hashlib
import random
import signal
import time

import pytest
from django.conf import settings

from gigbridge import clock
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.tests.test_workers import start_worker, wait_until, worker_env
from gigbridge.sandbox.connect import product_env

from .conftest import run_jobs
from .files_story import (
    FREELANCER,
    apis,
    deliverables,
    hire_directly,
    slow_downloads,
    upload_as,
)
from .story import own_sandbox, start_world

pytestmark = [pytest.mark.django_db(transaction=True)]
_ = own_sandbox  # a fixture

SEED = 20261203
SIZE = 4 * 1024 * 1024
RATE = 1024 * 1024  # bytes a second from SharePoint's host: a scan takes about four seconds


@pytest.fixture
def world(own_sandbox, settings, tmp_path, live_server, clamav):  # noqa: F811
    world = start_world(settings, own_sandbox, tmp_path / "data", live_server.url)
    yield world
    slow_downloads(world, None)
    world.close()


def scan_in_a_workers_hands() -> bool:
    from gigbridge.jobs.models import OutboxJob

    return OutboxJob.objects.filter(
        kind="files.scan", state=OutboxJob.State.PENDING, claimed_until__isnull=False
    ).exists()


def test_a_scan_killed_midway_is_finished_by_the_next_worker_and_recorded_once(
    world, subprocess_env, clamav
):
    api = apis(world, "ada", "rita", "max", "paula", "lena", "hank", "fiona")
    hired = hire_directly(world, api)
    world.work()  # the drive is watched
    rng = random.Random(SEED)
    content = rng.randbytes(SIZE)

    slow_downloads(world, RATE)
    upload_as(world, FREELANCER, hired.team_id, "Brand guide.pdf", content)

    # The notification arrives and the delta pass records the version; its scan waits for a
    # worker of its own.
    def recorded_without_scanning() -> list[dict]:
        run_jobs("access.graph_event")
        run_jobs("files.delta")
        return deliverables(api["rita"], hired.engagement_id)

    wait_until(recorded_without_scanning, timeout=60, what="the version to be recorded")
    recorded = deliverables(api["rita"], hired.engagement_id)
    assert [d["verdict"] for d in recorded] == ["pending"], recorded

    kills = 0
    for number in range(3):
        env = {
            **worker_env(subprocess_env, 0),
            **product_env(world.info),
            "GIGBRIDGE_CLAMD_ADDRESS": clamav,
            "GIGBRIDGE_BASE_URL": settings.BASE_URL,
            clock.OFFSET_VARIABLE: str(clock.offset_seconds()),
        }
        worker = start_worker(env, "--worker-id", f"scanner-{number}")
        if number == 2:  # the last one is left to finish
            wait_until(
                lambda: deliverables(api["rita"], hired.engagement_id)[0]["verdict"] != "pending",
                timeout=60,
                what="the third worker to finish the scan",
            )
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            break
        wait_until(scan_in_a_workers_hands, timeout=30, what="a worker to take the scan")
        time.sleep(rng.uniform(0.5, 2.5))  # where the kill lands in the 4-second stream
        assert deliverables(api["rita"], hired.engagement_id)[0]["verdict"] == "pending"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
        # What time does after a worker dies: its lease runs out, the sweeper hands the job on.
        world.advance(settings.GIGBRIDGE_JOB_LEASE_SECONDS + 1)
        jobs.sweep()

    assert kills == 2
    found = deliverables(api["rita"], hired.engagement_id)
    assert len(found) == 1, found  # one version, one record
    scanned = found[0]
    assert scanned["verdict"] == "clean" and scanned["size"] == SIZE
    assert scanned["sha256"] == hashlib.sha256(content).hexdigest()
    timeline = api["rita"].get(f"/engagements/{hired.engagement_id}/timeline")
    assert [e["action"] for e in timeline].count("deliverable.scanned") == 1
    assert [e["action"] for e in timeline].count("deliverable.recorded") == 1
