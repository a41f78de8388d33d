"""Outbox handler: one reconcile pass for one engagement."""

from gigbridge.jobs.registry import handler

from .actions import RECONCILE_JOB, reconcile


@handler(RECONCILE_JOB)
def reconcile_job(payload: dict) -> None:
    reconcile(payload["engagement_id"])
