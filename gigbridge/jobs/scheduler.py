"""The scheduler runs periodic housekeeping. Several may run: each step is idempotent."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

# Each entry is a function taking no arguments; the order is the order of a tick.
PERIODIC = [
    "gigbridge.jobs.actions.sweep",
    "gigbridge.engagements.actions.send_reminders_and_escalations",
    "gigbridge.engagements.direct.start_due_contracts",
    "gigbridge.people.actions.send_agreement_expiry_alerts",
    "gigbridge.access.actions.reconcile_due",
    "gigbridge.access.actions.schedule_drift_scan",
    "gigbridge.access.watch.schedule_watch",
    "gigbridge.sourcing.sync.schedule_sync",
    "gigbridge.conversations.actions.schedule_poll",
    "gigbridge.files.watching.schedule_delta",
    # Last: a signed checkpoint of the audit chain, written outside the database.
    "gigbridge.audit.checkpoints.checkpoint_due",
]


def tick() -> dict[str, object]:
    results: dict[str, object] = {}
    for path in PERIODIC:
        close_old_connections()
        try:
            results[path] = import_string(path)()
        except Exception as exc:  # one failing step must not stop the others
            log.exception("scheduled step %s failed", path)
            results[path] = exc
    return results


def run_scheduler(interval: float | None = None, once: bool = False) -> None:
    interval = interval or settings.GIGBRIDGE_SCHEDULER_INTERVAL
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("scheduler started, one tick every %ss", interval)
    while not stop.is_set():
        tick()
        if once:
            return
        stop.wait(interval)
