"""What people do with deliverables: a program admin releases a quarantined file.

One transaction each: the row's new state, one audit event, and the outside work (copying the
file back into the project folder) queued as the ``files.release`` job after commit; the job
(files.quarantine) does the copy, check-then-act.
"""

from __future__ import annotations

from django.db import transaction

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.jobs import actions as jobs
from gigbridge.people import capabilities

from .models import Deliverable

RELEASE_JOB = "files.release"
RELEASE_REASON_MAX = 1000


def _reason_problems(reason) -> list[Problem]:
    if not isinstance(reason, str):
        return [Problem("reason", "must be text")]
    if not reason.strip():
        return [Problem("reason", "say why this file may go back to the project folder")]
    if len(reason.strip()) > RELEASE_REASON_MAX:
        return [
            Problem(
                "reason",
                f"is {len(reason.strip())} characters long: at most {RELEASE_REASON_MAX}",
            )
        ]
    if "\x00" in reason:
        return [Problem("reason", "must not contain the NUL character (U+0000)")]
    return []


def release(user, deliverable: Deliverable, reason: str) -> Deliverable:
    """Release a quarantined file: it is copied back into its original folder under its
    original name (the ``files.release`` job). Only a program admin, only a QUARANTINED file,
    always with a reason (1 to 1000 characters), audited on the engagement."""
    if not capabilities.can_release_quarantine(user):
        raise capabilities.deny(
            user,
            "release a deliverable from quarantine",
            deliverable,
            "only a program admin can release a file from quarantine",
        )
    problems = _reason_problems(reason)
    if problems:
        raise RuleViolation(problems)
    reason = reason.strip()
    with transaction.atomic():
        locked = (
            Deliverable.objects.select_for_update()
            .select_related("engagement")
            .get(pk=deliverable.pk)
        )
        if locked.state != Deliverable.State.QUARANTINED:
            raise InvalidTransition(
                f"“{locked.name}” (version {locked.version_id}) is "
                f"{locked.get_state_display()}: only a quarantined file can be released"
            )
        locked.state = Deliverable.State.RELEASING
        locked.released_by = user
        locked.released_at = clock.now()
        locked.release_reason = reason
        locked.save(update_fields=["state", "released_by", "released_at", "release_reason"])
        record(
            user=user,
            action="deliverable.released",
            obj=locked.engagement,
            after={
                "deliverable": locked.pk,
                "file": locked.name,
                "version": locked.version_id,
                "reason": limits.audit_value(reason),
            },
        )
        jobs.enqueue(RELEASE_JOB, {"deliverable_id": locked.pk}, key=f"{RELEASE_JOB}:{locked.pk}")
    return locked
