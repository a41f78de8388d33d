"""Read models of deliverables for pages, the API, mails and cards."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from gigbridge import securitylog

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


# --- who sees which deliverables -------------------------------------------------------------

# States of a file that went through (or is going through) quarantine: what security reviewers
# review, on engagements they may not otherwise see.
QUARANTINE_STATES = (
    Deliverable.State.QUARANTINING,
    Deliverable.State.QUARANTINED,
    Deliverable.State.RELEASING,
    Deliverable.State.RELEASED,
)


def visible_to(user) -> QuerySet[Deliverable]:
    """The deliverables ``user`` may see: those of engagements they may see (the engagement
    page's rule), and for security reviewers every file that went through quarantine."""
    from gigbridge.engagements import permissions
    from gigbridge.people import capabilities

    qs = Deliverable.objects.select_related("engagement", "engagement__request")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    seen = Q(engagement__in=permissions.visible_engagements(user).values("pk"))
    if capabilities.can_review_quarantine(user):
        seen |= Q(state__in=QUARANTINE_STATES)
    return qs.filter(seen)


def deliverable_or_404(user, pk, action: str) -> Deliverable:
    """A deliverable ``user`` may see; otherwise 404, as if it did not exist (ids cannot be
    probed), and the refusal goes to the security log."""
    try:
        return visible_to(user).get(pk=pk)
    except Deliverable.DoesNotExist:
        hidden = Deliverable.objects.filter(pk=pk).exists()
        securitylog.refused(
            user,
            action,
            f"deliverable:{pk}",
            status=404,
            reason="not visible to the user" if hidden else "no such object",
        )
        raise Http404("no such deliverable, or not visible to you") from None


# --- words and numbers people read ------------------------------------------------------------

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


def size_text(size: int | None) -> str:
    """Bytes as people read them: "812 bytes", "14.2 KB", "3.5 MB", "1.20 GB" (1 KB = 1024
    bytes, as SharePoint and Windows show file sizes)."""
    if size is None:
        return "—"
    size = int(size)
    if size < KIB:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < MIB:
        return f"{size / KIB:.1f} KB"
    if size < GIB:
        return f"{size / MIB:.1f} MB"
    return f"{size / GIB:.2f} GB"


def verdict_words(deliverable: Deliverable) -> str:
    """The verdict and where the file is, in words (never colour alone)."""
    words = deliverable.get_verdict_display()
    if deliverable.verdict == Deliverable.Verdict.INFECTED and deliverable.signature:
        words += f" ({deliverable.signature})"
    if deliverable.state != Deliverable.State.AVAILABLE:
        words += f", {deliverable.get_state_display()}"
    return words


def openable(deliverable: Deliverable) -> bool:
    """A link to the file in SharePoint is shown only while it is in the project folder and
    not blocked (never for an infected file, nor one in or on its way to quarantine)."""
    return (
        bool(deliverable.web_url)
        and deliverable.state == Deliverable.State.AVAILABLE
        and not deliverable.blocked
    )


# --- what the pages show ----------------------------------------------------------------------

PAGE_ROWS_MAX = 50  # the engagement page shows the newest; the API pages through all of them


def for_page(deliverables) -> list[Deliverable]:
    """The rows as pages, mails and cards show them: size, verdict in words, the link to open
    the file only where it may be opened."""
    rows = list(deliverables)
    for d in rows:
        d.size_text = size_text(d.size)
        d.verdict_text = verdict_words(d)
        d.open_url = d.web_url if openable(d) else ""
        d.author_text = d.author_name or d.author_email or "someone"
    return rows


def engagement_section(engagement) -> dict:
    """The engagement page's "Deliverables" section: the newest versions and how many more."""
    qs = for_engagement(engagement).select_related("released_by")
    total = qs.count()
    return {
        "deliverables": for_page(qs[:PAGE_ROWS_MAX]),
        "deliverables_total": total,
        "deliverables_more": max(total - PAGE_ROWS_MAX, 0),
    }
