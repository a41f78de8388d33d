"""Outbox handlers of the files app (each check-then-act: see the modules they call)."""

from gigbridge.jobs.registry import handler

from . import quarantine, scan, watching


@handler(watching.DELTA_JOB)
def delta_job(payload: dict) -> None:
    watching.run_pass(payload["drive_id"])


@handler(scan.SCAN_JOB)
def scan_job(payload: dict) -> None:
    scan.run_scan(payload["deliverable_id"])


@handler(quarantine.QUARANTINE_JOB)
def quarantine_job(payload: dict) -> None:
    quarantine.run_quarantine(payload["deliverable_id"])


@handler(quarantine.RELEASE_JOB)
def release_job(payload: dict) -> None:
    quarantine.run_release(payload["deliverable_id"])
