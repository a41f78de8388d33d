"""Read models of deliverables for pages, the API, mails and cards."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Deliverable


def for_engagement(engagement) -> QuerySet[Deliverable]:
    """Every recorded version of the engagement's deliverables, newest first."""
    return Deliverable.objects.filter(engagement=engagement).order_by("-added_at", "-id")


def quarantined() -> QuerySet[Deliverable]:
    """What security reviewers and program admins review: quarantined now or on the way."""
    return (
        Deliverable.objects.filter(
            state__in=[Deliverable.State.QUARANTINING, Deliverable.State.QUARANTINED]
        )
        .select_related("engagement", "engagement__request")
        .order_by("-added_at", "-id")
    )
