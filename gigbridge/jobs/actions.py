"""Enqueue, run and sweep outbox jobs.

Life of a job: an action calls ``enqueue`` inside its transaction; after commit the queue gets a
trigger. A worker ``run``s it: claim (short transaction: lease + attempt), call the handler outside
any transaction, then finish (done / retry later / dead). A worker killed at any point leaves a
pending job whose lease expires; ``sweep`` (run by the scheduler) hands it to the queue again.
Handlers must therefore be idempotent: check-then-act on the outside service.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from gigbridge import clock

from . import registry
from .errors import PermanentError, RetryableError
from .models import OutboxJob

log = logging.getLogger(__name__)


def _trigger(job_ids: list[int]) -> None:
    from .tasks import run_job  # the task module imports this one

    for job_id in job_ids:
        run_job.enqueue(job_id)


def enqueue(kind: str, payload: dict, key: str) -> OutboxJob:
    """Record outside work in the caller's transaction; the queue hears of it only after commit."""
    registry.get(kind)  # fail at the call site, not in the worker, for an unknown kind
    now = clock.now()
    job, created = OutboxJob.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": kind,
            "payload": payload,
            "next_attempt_at": now,
            "created_at": now,
            "enqueued_at": now,
        },
    )
    if created:
        transaction.on_commit(lambda: _trigger([job.pk]))
    return job


def receive(source: str, external_id: str, payload: dict, kind: str) -> bool:
    """Store an inbound event once and queue its handler ``kind`` (payload: the inbox row id).
    False when the event was seen before (a duplicate delivery): nothing is queued again."""
    from .models import InboxEvent

    with transaction.atomic():
        event, created = InboxEvent.objects.get_or_create(
            source=source,
            external_id=external_id[:200],
            defaults={"payload": payload, "received_at": clock.now()},
        )
        if created:
            enqueue(kind, {"inbox_id": event.pk}, key=f"inbox:{event.pk}")
    return created


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.GIGBRIDGE_JOB_LEASE_SECONDS)


def _backoff(attempts: int, retry_after: float | None) -> dt.timedelta:
    if retry_after is not None:
        return dt.timedelta(seconds=max(retry_after, 1))
    base = min(10 * 2 ** max(attempts - 1, 0), 3600)
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


def _claim(job_id: int) -> OutboxJob | None:
    now = clock.now()
    with transaction.atomic():
        job = (
            OutboxJob.objects.select_for_update()
            .filter(pk=job_id, state=OutboxJob.State.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if job is None:
            return None
        job.attempts += 1
        job.claimed_until = now + _lease()
        job.save(update_fields=["attempts", "claimed_until"])
        return job


@dataclass
class RunOutcome:
    job_id: int
    status: str  # done | retry | dead | skipped


def run(job_id: int) -> RunOutcome:
    job = _claim(job_id)
    if job is None:
        return RunOutcome(job_id, "skipped")  # done already, not due, or another worker holds it
    status, error, retry_after = "done", "", None
    try:
        registry.get(job.kind)(job.payload)
    except RetryableError as exc:
        status, error, retry_after = "retry", str(exc), exc.retry_after
    except PermanentError as exc:
        status, error = "dead", str(exc)
    except Exception as exc:  # an unexpected bug: retry with backoff, it may be a passing fault
        log.exception("outbox job %s (%s) failed unexpectedly", job.pk, job.kind)
        status, error = "retry", f"{type(exc).__name__}: {exc}"
    if status == "retry" and job.attempts >= settings.GIGBRIDGE_JOB_MAX_ATTEMPTS:
        status, error = "dead", f"gave up after {job.attempts} attempts: {error}"
    _finish(job, status, error, retry_after)
    return RunOutcome(job.pk, status)


def _finish(job: OutboxJob, status: str, error: str, retry_after: float | None) -> None:
    now = clock.now()
    fields: dict = {"claimed_until": None, "last_error": error[:2000]}
    if status == "done":
        fields.update(state=OutboxJob.State.DONE, done_at=now)
    elif status == "dead":
        fields.update(state=OutboxJob.State.DEAD, done_at=now)
        log.error("outbox job %s (%s) is dead: %s", job.pk, job.kind, error)
    else:
        fields.update(next_attempt_at=now + _backoff(job.attempts, retry_after))
        log.warning("outbox job %s (%s) will be retried: %s", job.pk, job.kind, error)
    OutboxJob.objects.filter(pk=job.pk).update(**fields)


def sweep(limit: int = 500) -> int:
    """Hand every pending job that is due and in no one's hands to the queue; returns how many."""
    now = clock.now()
    stale = now - _lease()
    with transaction.atomic():
        due = list(
            OutboxJob.objects.select_for_update()
            .filter(state=OutboxJob.State.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            # never handed over, handed over before its retry time, or lost for a whole lease
            .filter(
                Q(enqueued_at__isnull=True)
                | Q(enqueued_at__lt=F("next_attempt_at"))
                | Q(enqueued_at__lt=stale)
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            # An expired claim means its worker died: declare it dead so any worker may claim.
            OutboxJob.objects.filter(pk__in=due).update(enqueued_at=now, claimed_until=None)
            transaction.on_commit(lambda: _trigger(due))
    if due:
        log.info("sweeper handed %d outbox job(s) to the queue", len(due))
    return len(due)


def queue_depth() -> int:
    return OutboxJob.objects.filter(state=OutboxJob.State.PENDING).count()
