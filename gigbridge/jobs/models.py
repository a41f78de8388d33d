"""Durable outside work (the outbox) and worker liveness.

The task queue (django-tasks-db) is only the trigger: it never retries and a killed worker leaves
its task RUNNING forever. So the truth about each piece of outside work lives here, with attempts
and a next-try time, and the scheduler's sweeper re-enqueues what is due or stale.
"""

from django.db import models


class OutboxJob(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        DEAD = "dead"

    kind = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    # Same key = same piece of work: enqueueing it twice is a no-op.
    idempotency_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # Set whenever the job is handed to the queue; the sweeper re-enqueues jobs whose last hand-off
    # is older than the lease (their worker died, or the queue lost them).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # While a worker runs the job; a worker killed mid-job leaves this to expire.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state}, {self.attempts} attempts)"


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=200)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host}:{self.pid}"


class InboxEvent(models.Model):
    """An event from outside (a Graph change notification, a bot activity, a polled change),
    stored before it is acted on. Keyed by its outside id, so a duplicate delivery is dropped;
    handled by an outbox job, so the effect happens even if the worker dies (at-least-once in,
    and handlers are level-triggered, so exactly-once in effect)."""

    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_inbox_event")
        ]

    def __str__(self) -> str:
        return f"{self.source} event {self.external_id}"
