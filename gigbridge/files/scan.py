"""The scan job (``files.scan``): one recorded version's bytes, streamed from its download URL
into clamd and through SHA-256 in one pass (``files.scanning.scan_download``), then the verdict.

Check-then-act: a deliverable whose verdict is no longer pending is done. The verdict is
written in one transaction that first locks the row and looks again, so a worker killed
mid-scan (its job swept and run again) or two workers holding the same job scan twice at
worst but record, audit and notify once. What follows a verdict is queued in that same
transaction: the quarantine job for an infected file (or a too-large one when the policy
blocks them), and the notices to the hiring manager and the program's security contacts.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.integrations.msgraph import drives
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.notifications import actions as notices
from gigbridge.program import actions as program

from .models import Deliverable
from .watching import SCAN_JOB as SCAN_JOB  # queued by the delta pass, handled here

log = logging.getLogger(__name__)

QUARANTINE_JOB = "files.quarantine"
QUARANTINED_NOTICE = "deliverable_quarantined"
UNSCANNED_NOTICE = "deliverable_unscanned"
SCANNER = "files scanner"


def _graph() -> GraphClient:
    from gigbridge.integrations.msgraph import connection

    return connection.client()


def _scanning():
    # Imported when a scan runs: the streaming scan is its own module (integrations/clamav).
    from gigbridge.files import scanning

    return scanning


def run_scan(deliverable_id: int, client: GraphClient | None = None) -> str:
    deliverable = Deliverable.objects.filter(pk=deliverable_id).first()
    if deliverable is None:
        return "no such deliverable"
    if deliverable.verdict != Deliverable.Verdict.PENDING:
        return f"already {deliverable.verdict}"
    with transaction.atomic():  # the attempt, counted before the outside work
        Deliverable.objects.filter(pk=deliverable.pk).update(
            scan_attempts=deliverable.scan_attempts + 1
        )
    client = client or _graph()
    try:
        url = drives.download_url(
            client, deliverable.drive_id, deliverable.item_id, deliverable.version_id
        )
        scanned = _scanning().scan_download(url, expected_size=deliverable.size)
    except PermanentError as error:
        # The version is gone (deleted, replaced and trimmed) or cannot be read: recorded as
        # "could not be scanned", never as clean.
        return _failed(deliverable, str(error))
    except Exception as error:  # retryable (Graph, clamd down) or unexpected: tried again
        _note_error(deliverable, error)
        if deliverable.scan_attempts + 1 >= settings.GIGBRIDGE_JOB_MAX_ATTEMPTS:
            return _failed(
                deliverable, f"gave up after {deliverable.scan_attempts + 1} attempts: {error}"
            )
        if isinstance(error, RetryableError):
            raise
        raise RetryableError(f"{type(error).__name__}: {error}") from error
    return _record_verdict(deliverable.pk, scanned)


def _note_error(deliverable: Deliverable, error: Exception) -> None:
    Deliverable.objects.filter(pk=deliverable.pk).update(scan_error=str(error)[:500])
    log.warning("scan of deliverable %s will be tried again: %s", deliverable.pk, error)


def _failed(deliverable: Deliverable, why: str) -> str:
    with transaction.atomic():
        row = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
        if row.verdict != Deliverable.Verdict.PENDING:
            return f"already {row.verdict}"
        row.verdict, row.scan_error, row.scanned_at = (
            Deliverable.Verdict.FAILED,
            why[:500],
            clock.now(),
        )
        row.save(update_fields=["verdict", "scan_error", "scanned_at"])
        record(
            user=None,
            actor=SCANNER,
            action="deliverable.scanned",
            obj=row.engagement,
            after={
                "deliverable_id": row.pk,
                "file": row.name,
                "version": row.version_id,
                "verdict": row.verdict,
                "error": row.scan_error,
            },
        )
    log.warning("deliverable %s could not be scanned: %s", deliverable.pk, why[:200])
    return Deliverable.Verdict.FAILED


def _record_verdict(deliverable_id: int, scanned) -> str:
    version, policy = program.current()
    result = scanned.result
    with transaction.atomic():
        row = (
            Deliverable.objects.select_for_update()
            .select_related("engagement__request__requester")
            .get(pk=deliverable_id)
        )
        if row.verdict != Deliverable.Verdict.PENDING:
            return f"already {row.verdict}"  # another run of this job recorded it first
        row.verdict = _verdict(result.status)
        row.signature = (result.signature or "")[:300]
        row.sha256 = scanned.sha256
        row.scanner_version = (scanned.scanner or "")[:200]
        row.scanned_at = clock.now()
        row.scan_error = ""
        blocks = row.verdict == Deliverable.Verdict.INFECTED or (
            row.verdict == Deliverable.Verdict.TOO_LARGE and policy.files.too_large == "block"
        )
        if blocks:
            row.state = Deliverable.State.QUARANTINING
        row.save()
        record(
            user=None,
            actor=SCANNER,
            action="deliverable.scanned",
            obj=row.engagement,
            after={
                "deliverable_id": row.pk,
                "file": row.name,
                "version": row.version_id,
                "verdict": row.verdict,
                "signature": row.signature,
                "sha256": row.sha256,
                "scanner": row.scanner_version,
            },
            policy_version=version.number if row.verdict == row.Verdict.TOO_LARGE else None,
            rule="files.too_large" if row.verdict == row.Verdict.TOO_LARGE else "",
        )
        if blocks:
            jobs.enqueue(QUARANTINE_JOB, {"deliverable_id": row.pk}, key=quarantine_key(row.pk))
        if row.verdict in (Deliverable.Verdict.INFECTED, Deliverable.Verdict.TOO_LARGE):
            tell(row, QUARANTINED_NOTICE if blocks else UNSCANNED_NOTICE, policy)
    log.info("deliverable %s scanned: %s", deliverable_id, row.verdict)
    return row.verdict


def quarantine_key(deliverable_id: int) -> str:
    return f"{QUARANTINE_JOB}:{deliverable_id}"


def _verdict(status: str) -> str:
    try:
        return Deliverable.Verdict(status)
    except ValueError:
        # Anything the scanner says that is not a known verdict is never taken as clean.
        return Deliverable.Verdict.FAILED


def notice_context(row: Deliverable) -> dict:
    engagement = row.engagement
    return {
        "deliverable_id": row.pk,
        "engagement_id": engagement.pk,
        "engagement": engagement.reference,
        "title": engagement.request.title,
        "file": row.name,
        "version": row.version_id,
        "size": row.size,
        "author": row.author_name or row.author_email,
        "folder": row.folder_path,
        "verdict": row.verdict,
        "verdict_label": Deliverable.Verdict(row.verdict).label,
        "signature": row.signature,
        "quarantined": row.state in (Deliverable.State.QUARANTINING, Deliverable.State.QUARANTINED),
    }


def tell(row: Deliverable, template: str, policy) -> int:
    """The hiring manager and each security contact, once per deliverable (in the caller's
    transaction). A contact with a Gigbridge account is told on their channels; else by mail."""
    context = notice_context(row)
    key = f"deliverable:{row.pk}"
    told = 0
    manager = row.engagement.request.requester
    notices.mail(manager, template, context, key=key)
    told += 1
    users = get_user_model().objects
    for address in policy.files.security_contacts:
        user = users.filter(email__iexact=address, is_active=True).first()
        if user is not None:
            if user.pk != manager.pk:
                notices.mail(user, template, context, key=key)
                told += 1
        else:
            # mail_address keys by template and key only: the address must be in the key.
            notices.mail_address(address, template, context, key=f"{key}:{address.lower()}")
            told += 1
    return told
