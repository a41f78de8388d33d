"""Triggering and running access reconciliation for engagements."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.engagements.models import Engagement
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError, RetryableError

from .models import Grant, ReconcileState
from .reconciler import Reconciler, Settings

log = logging.getLogger(__name__)
RECONCILE_JOB = "access.reconcile"
LEASE = dt.timedelta(minutes=10)
# The periodic pass re-checks every engagement holding or owing access this often.
RECHECK_EVERY = dt.timedelta(minutes=15)


def request_reconcile(engagement: Engagement, reason: str) -> None:
    """Ask for a pass over ``engagement`` after the caller's transaction commits."""
    state, _ = ReconcileState.objects.get_or_create(engagement=engagement)
    ReconcileState.objects.filter(pk=state.pk).update(generation=F("generation") + 1)
    state.refresh_from_db()
    jobs.enqueue(
        RECONCILE_JOB,
        {"engagement_id": engagement.pk, "reason": reason},
        key=f"{RECONCILE_JOB}:{engagement.pk}:{state.generation}",
    )


def _take_lease(engagement_id: int) -> bool:
    now = clock.now()
    with transaction.atomic():
        ReconcileState.objects.get_or_create(engagement_id=engagement_id)
        taken = ReconcileState.objects.filter(
            Q(running_until__isnull=True) | Q(running_until__lt=now),
            engagement_id=engagement_id,
        ).update(running_until=now + LEASE)
    return taken == 1


def _outcome_changed(engagement_id: int, outcome: str) -> bool:
    last = ReconcileState.objects.filter(engagement_id=engagement_id).values_list(
        "last_outcome", flat=True
    )
    # Request ids differ between two failures for the same reason: compare up to them.
    return (last.first() or "").split("(request-id")[0] != outcome[:300].split("(request-id")[0]


def reconcile(engagement_id: int) -> str:
    """One reconcile pass, never two at once for the same engagement."""
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        return "no tenant connected"  # level-triggered: the periodic pass catches up later
    if not _take_lease(engagement_id):
        raise RetryableError("another worker is reconciling this engagement", retry_after=10)
    outcome = "failed"
    try:
        engagement = Engagement.objects.select_related(
            "request__workspace", "request__requester", "freelancer"
        ).get(pk=engagement_id)
        reconciler = Reconciler(
            connection.client(),
            Settings(
                invite_redirect_url=settings.GRAPH["invite_redirect_url"],
                mail_sender=settings.GRAPH["mail_sender"] or "",
            ),
        )
        try:
            outcome = str(reconciler.run(engagement))
        except PermanentError as error:
            # e.g. the tenant refuses to invite the freelancer's domain: retrying cannot help,
            # so say so where people look (the engagement's timeline and access section).
            outcome = f"failed: {error}"
            if _outcome_changed(engagement_id, outcome):  # the periodic pass repeats it
                with transaction.atomic():
                    record(
                        user=None,
                        actor="access reconciler",
                        action="access.failed",
                        obj=engagement,
                        after={"error": str(error)[:500]},
                    )
            raise
        except RetryableError as error:
            outcome = f"waiting to retry: {error}"
            raise
        return outcome
    finally:
        ReconcileState.objects.filter(engagement_id=engagement_id).update(
            running_until=None, last_run_at=clock.now(), last_outcome=outcome[:300]
        )


def reconcile_due() -> int:
    """Scheduled: queue a pass for every engagement that holds or owes access and was not
    checked recently. Catches missed triggers, expired grace periods and a tenant back online."""
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        return 0
    now = clock.now()
    holding = Engagement.objects.filter(
        Q(
            state__in=[
                Engagement.State.CONTRACTED,
                Engagement.State.ACTIVE,
                Engagement.State.OFFBOARDING,
            ]
        )
        | Q(grants__state=Grant.State.APPLIED)
    ).distinct()
    stale = holding.exclude(reconcile_state__last_run_at__gte=now - RECHECK_EVERY)
    count = 0
    for engagement in stale[:500]:
        with transaction.atomic():
            request_reconcile(engagement, "periodic check")
        count += 1
    return count


DRIFT_JOB = "access.drift"
DRIFT_EVERY_MINUTES = 15


def schedule_drift_scan() -> bool:
    """Scheduled: one drift scan per window, however many schedulers run (the key is unique)."""
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        return False
    now = clock.now()
    window = now.replace(
        minute=now.minute - now.minute % DRIFT_EVERY_MINUTES, second=0, microsecond=0
    )
    with transaction.atomic():
        jobs.enqueue(DRIFT_JOB, {}, key=f"{DRIFT_JOB}:{window.isoformat()}")
    return True
