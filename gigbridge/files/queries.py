"""Read models of deliverables for pages, the API, mails and cards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gigbridge import securitylog

from .models import Deliverable


def for_engagement(engagement) -> QuerySet[Deliverable]:
    """Every recorded version of the engagement's deliverables, newest first (``engagement``:
    the engagement or its id)."""
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


# --- deliverables of a milestone ------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The moments between which files count for a milestone, and what the start is."""

    start: dt.datetime | None
    end: dt.datetime | None
    since: str  # "previous milestone" or "" (no bound: the contract's first milestone)

    def words(self) -> str:
        if self.start is None:
            return "since the contract was made"
        moment = timezone.localtime(self.start)
        return f"since the previous milestone was submitted ({moment.strftime('%Y-%m-%d %H:%M')})"


def milestone_window(milestone) -> Window:
    """From when the previous milestone of the contract was (last) submitted, else from the
    beginning (a freelancer can only deliver once the contract gave access, which may be before
    its first day); until the milestone was approved (open while it is not: later files count)."""
    from gigbridge.sourcing.models import Milestone

    earlier = Q(sequence__lt=milestone.sequence) | Q(
        sequence=milestone.sequence, pk__lt=milestone.pk
    )
    previous = (
        Milestone.objects.filter(earlier, engagement_id=milestone.engagement_id)
        .exclude(submitted_at=None)
        .order_by("-submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    if previous is not None:
        return Window(previous, milestone.approved_at, "previous milestone")
    return Window(None, milestone.approved_at, "")


def since_last_milestone(milestone) -> QuerySet[Deliverable]:
    """The deliverables of ``milestone``'s engagement added since the previous milestone was
    submitted (the first milestone: all of them), newest first: what the milestone delivers."""
    window = milestone_window(milestone)
    qs = for_engagement(milestone.engagement_id)
    if window.start is not None:
        qs = qs.filter(added_at__gte=window.start)
    if window.end is not None:
        qs = qs.filter(added_at__lte=window.end)
    return qs


MILESTONE_ROWS_MAX = 20  # listed on a milestone, in its mail and card; the page has them all


def milestone_summary(milestone) -> dict:
    """What a milestone's section, mail and card list: the newest deliverables since the
    previous milestone, each as one line of words, and how many there are in all."""
    qs = since_last_milestone(milestone)
    rows = for_page(qs[:MILESTONE_ROWS_MAX])
    return {
        "deliverables": rows,
        "lines": [line(d) for d in rows],
        "total": qs.count(),
        "clean": qs.filter(
            verdict=Deliverable.Verdict.CLEAN, state=Deliverable.State.AVAILABLE
        ).count(),
    }


def line(d: Deliverable) -> str:
    """One deliverable in one line of words (mails and cards): name, version, size, who, when,
    verdict."""
    # The product's one format for a moment (the web's ``moment`` filter), in its time zone.
    when = timezone.localtime(d.added_at).strftime("%Y-%m-%d %H:%M")
    return (
        f"{d.name} (version {d.version_id}, {size_text(d.size)}) by "
        f"{d.author_name or d.author_email or 'someone'}, {when}: {verdict_words(d)}"
    )


def annotate_milestones(milestones) -> None:
    """Each milestone of the engagement page gets ``deliverables_since`` (milestone_summary)."""
    for milestone in milestones:
        # A milestone not funded yet has no work behind it: nothing to list.
        funded = milestone.state != "NOT_FUNDED"
        milestone.deliverables_since = milestone_summary(milestone) if funded else None
