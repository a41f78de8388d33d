"""The worker: django-tasks-db's worker loop plus a heartbeat that /healthz reads."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from gigbridge import clock

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10


def beat(worker_id: str, started_at) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": clock.now(),
        },
    )


def _heartbeat_loop(worker_id: str, started_at, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            beat(worker_id, started_at)
        except Exception:  # the database may be briefly locked or down; the next beat retries
            log.warning("worker heartbeat failed", exc_info=True)
        finally:
            connection.close()
        stop.wait(HEARTBEAT_SECONDS)


def run_worker(
    *,
    interval: float = 0.5,
    batch: bool = False,
    max_tasks: int | None = None,
    worker_id: str | None = None,
) -> None:
    worker_id = worker_id or f"{socket.gethostname()[:40]}-{get_random_string(8)}"
    started_at = clock.now()
    beat(worker_id, started_at)
    close_old_connections()
    stop = threading.Event()
    threading.Thread(
        target=_heartbeat_loop, args=(worker_id, started_at, stop), name="heartbeat", daemon=True
    ).start()
    worker = Worker(
        queue_names=["*"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    log.info("worker %s started (pid %s)", worker_id, os.getpid())
    worker.configure_signals()
    try:
        worker.run()
    finally:
        stop.set()
