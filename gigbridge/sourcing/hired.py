"""A freelancer is hired: the job's other proposals are declined and its posting is closed.

When the sync finds the offer accepted and the engagement contracted (``sync._contracted``), it
queues one outbox job in the same transaction. The job reads the job's proposals on Upwork (a
page at a time), declines each one still open other than the hired freelancer's with a polite
message, records each decline on its Proposal row (the engagement page then shows "declined"),
closes the posting, and writes one audit event that sums it up.

Safe to run twice or after a crash: Upwork's list says which proposals are still open, so a
proposal is never declined twice, and the summary is written once, with the posting's state
(``Sourcing.Posting.CLOSED``) in the same transaction. A retryable error on one proposal does
not stop the others: the job then fails as retryable and the outbox runs it again for what is
left. A proposal Upwork refuses to decline is named in the summary and on the engagement (the
posting's last error); the others go on and the posting is still closed. A posting Upwork
refuses to close is said the same way.
"""

from __future__ import annotations

import logging

from django.db import transaction

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import RetryableError

from .models import Proposal, Sourcing

log = logging.getLogger(__name__)

DECLINE_OTHERS_JOB = "engagements.decline_others"
# Upwork's proposal states that need no decline: already decided one way or another (the
# offered and hired ones are the chosen freelancer's; Upwork refuses to decline those).
FINISHED = {"DECLINED", "WITHDRAWN", "HIRED", "OFFERED", "ARCHIVED", "REJECTED", "CANCELLED"}
MAX_PAGES = 200  # of 50 proposals: far beyond any real posting, so a faulty answer cannot loop
MESSAGE = (
    "Thank you for your proposal for “{title}” and for the time you took. We have now hired "
    "another freelancer for this job, so we are declining your proposal. We wish you every "
    "success and hope to work with you on another project."
)


def queue_decline_others(engagement: Engagement) -> bool:
    """Inside the caller's transaction (the engagement became contracted from an offer)."""
    sourcing = Sourcing.objects.filter(engagement=engagement).first()
    if sourcing is None or not sourcing.job_posting_id:
        return False  # no posting (no proposals either)
    jobs.enqueue(
        DECLINE_OTHERS_JOB,
        {"engagement_id": engagement.pk},
        key=f"{DECLINE_OTHERS_JOB}:{engagement.pk}",
    )
    return True


def _hired(engagement_id: int) -> set[str]:
    """The proposals of the freelancer taken on: the accepted offer's, and any Upwork marks
    hired or offered."""
    return set(
        Proposal.objects.filter(engagement_id=engagement_id, offers__state="accepted").values_list(
            "upwork_id", flat=True
        )
    )


def run_decline_others(engagement_id: int) -> dict:
    from gigbridge.integrations.upwork import connection

    sourcing = Sourcing.objects.select_related("engagement__request").get(
        engagement_id=engagement_id
    )
    if sourcing.posting_state == Sourcing.Posting.CLOSED:
        return {"done": "before"}
    if not sourcing.job_posting_id:
        return {"done": "no posting"}
    engagement = sourcing.engagement
    client = connection.client(sourcing.organization_id or None)
    hired = _hired(engagement_id)
    message = MESSAGE.format(title=engagement.request.title)
    declined, refused, retry = [], [], None
    # Read every page first: declining changes what a page holds.
    listed = ops.items(
        lambda after: ops.list_client_proposals(client, sourcing.job_posting_id, after=after),
        max_pages=MAX_PAGES,
    )
    open_items = [
        item
        for item in listed
        if item.id and item.id not in hired and (item.state or "").upper() not in FINISHED
    ]
    for item in open_items:
        try:
            result = ops.decline_proposal(
                client, item.id, job_posting_id=sourcing.job_posting_id, message=message
            )
        except PermanentUpworkError as error:
            log.warning("proposal %s could not be declined: %s", item.id, error)
            refused.append((item.id, str(error)))
            continue
        except RetryableError as error:
            retry = error  # the others still go now; the outbox comes back for this one
            continue
        state = ((result.proposal.state if result.proposal else None) or "DECLINED").upper()
        _store(engagement, item, state)
        declined.append(item.id)
    if retry is not None:
        raise RetryableError(
            f"{len(declined)} declined, some could not be yet: {retry}",
            retry_after=getattr(retry, "retry_after", None),
        )
    closed, errors = True, [f"proposal {pid}: {e}" for pid, e in refused]
    try:
        ops.close_job_posting(client, sourcing.job_posting_id)
    except PermanentUpworkError as error:
        closed = False
        errors.append(f"the job posting stays open: {error}")
    return _summed_up(sourcing, declined, [pid for pid, _ in refused], closed, "; ".join(errors))


def _store(engagement: Engagement, item, state: str) -> None:
    """The proposal's new state on its row; one that came after the last sync (the sync stops
    reading proposals once the engagement is contracted) gets its row now, so the page lists
    every proposal of the job."""
    user = item.user
    Proposal.objects.update_or_create(
        upwork_id=item.id,
        defaults={"state": state},
        create_defaults={
            "engagement": engagement,
            "state": state,
            "freelancer_upwork_id": (user.id if user else "") or "",
            "freelancer_name": (user.name if user else "") or "",
            "freelancer_email": ((user.email if user else "") or "").lower(),
            "profile_key": (user.ciphertext if user else "") or "",
            "profile_url": (user.public_url if user else "") or "",
            "cover_letter": item.cover_letter or "",
            "received_at": clock.now(),
        },
    )


@transaction.atomic
def _summed_up(
    sourcing: Sourcing, declined: list[str], refused: list[str], closed: bool, error: str
) -> dict:
    locked = Sourcing.objects.select_for_update().get(pk=sourcing.pk)
    if locked.posting_state == Sourcing.Posting.CLOSED:
        return {"done": "before"}
    # Declines of an earlier, interrupted run are on the Proposal rows: the summary counts
    # every other proposal of the job now declined.
    count = (
        Proposal.objects.filter(engagement_id=sourcing.engagement_id, state="DECLINED")
        .exclude(upwork_id__in=_hired(sourcing.engagement_id))
        .count()
    )
    Sourcing.objects.filter(pk=locked.pk).update(
        posting_state=Sourcing.Posting.CLOSED if closed else locked.posting_state,
        last_error=error[:500],
        updated_at=clock.now(),
    )
    record(
        user=None,
        actor="upwork",
        action="marketplace.others_declined",
        obj=sourcing.engagement,
        after={
            "declined": count,
            "proposals": declined,
            "not_declined": refused,
            "posting_closed": closed,
            "error": error[:500] or None,
            "job_posting_id": locked.job_posting_id,
        },
    )
    return {"declined": count, "refused": len(refused), "closed": closed}
