"""What each person sees on signing in (``/``): one panel per role they hold, what waits on them
first. Every query is a count or a short list (``FEW`` rows) on an indexed column, so the home
stays fast with a million engagements; the lists behind each panel are one link away.

Panels: approver (pending decisions), requester (what waits on them, their open requests and
engagements), program admin (program at a glance: the analytics dashboard and the integrations'
health, the data /healthz answers), auditor (access review and recent audit events), security
reviewer (files in quarantine). Someone with no role is told why the page is empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncWeek

from gigbridge import clock
from gigbridge.access.models import Drift, Grant
from gigbridge.audit.describe import describe_all
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.actions import inbox
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.files import queries as deliverables
from gigbridge.people import actions as people
from gigbridge.people import capabilities
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Role
from gigbridge.program import actions as program
from gigbridge.sourcing import milestones
from gigbridge.sourcing.models import (
    HoursApproval,
    Milestone,
    MilestoneDecision,
    Proposal,
    TimeEntry,
)

from . import health
from .templatetags.gb import moment

FEW = 5  # rows shown per list on the home; the full list is one link away
# Plain paths: these pages are built on other branches (no URL name to reverse here yet).
ANALYTICS_PATH = "/analytics/"
HUB_PATH = "/hub/"
APPROVER_ROLES = (Role.PROCUREMENT, Role.LEGAL, Role.HR, Role.FINANCE)

OPEN_REQUEST_STATES = (
    WorkRequest.State.DRAFT,
    WorkRequest.State.SUBMITTED,
    WorkRequest.State.IN_APPROVAL,
)
OPEN_ENGAGEMENT_STATES = (
    Engagement.State.SOURCING,
    Engagement.State.OFFERED,
    Engagement.State.CONTRACTED,
    Engagement.State.ACTIVE,
    Engagement.State.OFFBOARDING,
)
# Hours are approved while the contract runs or ends (a closed one's old weeks are history).
HOURS_STATES = (Engagement.State.CONTRACTED, Engagement.State.ACTIVE, Engagement.State.OFFBOARDING)
# Before the work starts: the freelancer's agreements must be in force by the start date.
BEFORE_WORK = (Engagement.State.SOURCING, Engagement.State.OFFERED, Engagement.State.CONTRACTED)

REQUEST_WORDS = {
    WorkRequest.State.DRAFT: "draft: not submitted yet",
    WorkRequest.State.SUBMITTED: "submitted",
    WorkRequest.State.IN_APPROVAL: "waiting for approval",
    WorkRequest.State.APPROVED: "approved",
    WorkRequest.State.REJECTED: "rejected",
    WorkRequest.State.WITHDRAWN: "withdrawn",
}
ENGAGEMENT_WORDS = {
    Engagement.State.SOURCING: "finding a freelancer",
    Engagement.State.OFFERED: "offer sent: waiting for the freelancer",
    Engagement.State.CONTRACTED: "contract signed: work not started",
    Engagement.State.ACTIVE: "work under way",
    Engagement.State.OFFBOARDING: "ending: access being removed",
    Engagement.State.CLOSED: "closed",
    Engagement.State.CANCELLED: "cancelled",
}


def request_words(state: str) -> str:
    return REQUEST_WORDS.get(state, state)


def engagement_words(state: str) -> str:
    return ENGAGEMENT_WORDS.get(state, state)


@dataclass
class Todo:
    """One thing waiting on the person: what, where, since when."""

    kind: str  # "draft" | "changes" | "proposals" | "milestone" | "hours" | "agreements"
    text: str
    url: str
    since: dt.datetime | dt.date | None = None


@dataclass
class Panel:
    key: str  # approvals | waiting | mine | program | audit | quarantine
    title: str
    urgent: bool = False  # something to act on: shown before the panels that only inform
    data: dict = field(default_factory=dict)


# --- approver ------------------------------------------------------------------------------


def approvals_panel(user) -> Panel | None:
    steps = inbox(user)
    count = steps.count()
    if not count and not people.has_role(user, *APPROVER_ROLES):
        return None
    return Panel(
        "approvals",
        "Decisions waiting for you",
        urgent=count > 0,
        data={"count": count, "oldest": list(steps[:FEW])},
    )


# --- requester -----------------------------------------------------------------------------


def _engagement_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/"


def _drafts(user) -> list[Todo]:
    changes = ApprovalStep.objects.filter(
        request=OuterRef("pk"), state=ApprovalStep.State.CHANGES_REQUESTED
    )
    drafts = (
        WorkRequest.objects.filter(requester=user, state=WorkRequest.State.DRAFT)
        .annotate(changes_asked=Exists(changes))
        .order_by("updated_at", "id")
        .only("pk", "title", "updated_at")[: FEW * 2]
    )
    todos = []
    for r in drafts:
        if r.changes_asked:
            text = f"{r.reference} · {r.title}: changes were asked for; edit it and submit again"
            todos.append(Todo("changes", text, f"/requests/{r.pk}/", r.updated_at))
        else:
            text = f"{r.reference} · {r.title}: a draft to finish and submit"
            todos.append(Todo("draft", text, f"/requests/{r.pk}/", r.updated_at))
    return todos


def _proposals(mine) -> list[Todo]:
    rows = (
        mine.filter(state=Engagement.State.SOURCING)
        .annotate(
            waiting=Count("proposals", filter=Q(proposals__picked=False)),
        )
        .filter(waiting__gt=0)
        .order_by("created_at", "id")
        .values("pk", "waiting", "request__title", "created_at")[:FEW]
    )
    todos = []
    for row in rows:
        n = row["waiting"]
        text = (
            f"EN-{row['pk']:06d} · {row['request__title']}: {n} proposal"
            f"{'' if n == 1 else 's'} to review"
        )
        todos.append(Todo("proposals", text, _engagement_url(row["pk"]), row["created_at"]))
    return todos


def _milestones(mine) -> list[Todo]:
    decided = MilestoneDecision.objects.filter(milestone=OuterRef("pk")).filter(
        Q(kind=MilestoneDecision.Kind.APPROVE) & ~Q(state=MilestoneDecision.State.FAILED)
        | Q(state=MilestoneDecision.State.QUEUED)
        | Q(
            kind=MilestoneDecision.Kind.CHANGES,
            created_at__gte=OuterRef("submitted_at"),
        )
        & ~Q(state=MilestoneDecision.State.FAILED)
    )
    rows = (
        Milestone.objects.filter(
            engagement__in=mine.filter(state__in=milestones.WORKING).values("pk"),
            state=milestones.SUBMITTED,
        )
        .exclude(Exists(decided))
        .select_related("engagement__request")
        .order_by("submitted_at", "id")[:FEW]
    )
    todos = []
    for m in rows:
        name = m.description or f"milestone {m.sequence or m.upwork_id}"
        text = f"{m.engagement.reference} · “{name}” was submitted: approve it or ask for changes"
        todos.append(Todo("milestone", text, _engagement_url(m.engagement_id), m.submitted_at))
    return todos


def _weeks(mine) -> list[Todo]:
    """Weeks that have ended, with hours, not yet approved (oldest first)."""
    this_monday = milestones.monday(clock.today())
    approved = HoursApproval.objects.filter(
        engagement=OuterRef("engagement"), week_start=OuterRef("week")
    )
    rows = (
        TimeEntry.objects.filter(
            engagement__in=mine.filter(state__in=HOURS_STATES).values("pk"),
            date__lt=this_monday,
        )
        .annotate(week=TruncWeek("date"))
        .values("engagement", "week")
        .annotate(hours=Count("pk"))
        .filter(~Exists(approved))
        .order_by("week", "engagement")[:FEW]
    )
    todos = []
    for row in rows:
        week = row["week"]
        week = week.date() if isinstance(week, dt.datetime) else week
        text = f"EN-{row['engagement']:06d}: the hours of the week of {week:%Y-%m-%d} to approve"
        todos.append(Todo("hours", text, _engagement_url(row["engagement"]), week))
    return todos


def _agreements(mine) -> list[Todo]:
    """The chosen freelancer (a direct hire's, or a picked proposal's) or a shortlisted one
    misses a required agreement on the start date: the work cannot start until it is signed."""
    _, policy = program.current()
    if not policy.compliance.required_agreements:
        return []
    engagements = (
        mine.filter(state__in=BEFORE_WORK)
        .filter(Q(freelancer__isnull=False) | Q(proposals__shortlisted=True))
        .distinct()
        .select_related("freelancer", "request")
        .prefetch_related("freelancer__agreements")
        .order_by("created_at", "id")[: FEW * 4]
    )
    todos = []
    for e in engagements:
        person = e.freelancer
        name = person.display_name if person else None
        if person is None:
            shortlisted = (
                Proposal.objects.filter(engagement=e, shortlisted=True, picked=False)
                .order_by("received_at")
                .first()
            )
            if shortlisted is None:
                continue
            name = shortlisted.freelancer_name or shortlisted.freelancer_email
            person = (
                people.Person.objects.filter(email__iexact=shortlisted.freelancer_email)
                .prefetch_related("agreements")
                .first()
            )
        missing = people_queries.missing_agreements(person, policy, e.request.start_date)
        if missing:
            text = (
                f"{e.reference} · {name} has not signed {', '.join(missing)} "
                f"(needed by {e.request.start_date:%Y-%m-%d}): send it for signature"
            )
            todos.append(Todo("agreements", text, _engagement_url(e.pk), e.created_at))
        if len(todos) >= FEW:
            break
    return todos


def requester_panels(user) -> list[Panel]:
    if not capabilities.can_create_requests(user):
        return []
    mine = Engagement.objects.filter(request__requester=user)
    todos = [
        *_drafts(user),
        *_proposals(mine),
        *_milestones(mine),
        *_weeks(mine),
        *_agreements(mine),
    ]
    open_requests = WorkRequest.objects.filter(requester=user, state__in=OPEN_REQUEST_STATES)
    open_engagements = mine.filter(state__in=OPEN_ENGAGEMENT_STATES)
    requests = list(
        open_requests.order_by("-updated_at", "-id").only("pk", "title", "state", "updated_at")[
            :FEW
        ]
    )
    engagements = list(
        open_engagements.select_related("request", "freelancer").order_by("-updated_at", "-id")[
            :FEW
        ]
    )
    for r in requests:
        r.words = request_words(r.state)
    for e in engagements:
        e.words = engagement_words(e.state)
    waiting = Panel("waiting", "Waiting on you", urgent=bool(todos), data={"todos": todos})
    overview = Panel(
        "mine",
        "Your requests and engagements",
        data={
            "requests": requests,
            "request_count": open_requests.count(),
            "engagements": engagements,
            "engagement_count": open_engagements.count(),
        },
    )
    return [waiting, overview]


# --- program admin -------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    status: str  # "ok" | "problem" | "off" (not configured: fine, nothing to check)
    words: str
    todo: str = ""  # what to do about a problem


def _integration(name: str, result: dict, off_key: str, todo: str) -> Check:
    detail = str(result.get("detail") or result.get("state") or "")
    if not result.get(off_key, True):
        return Check(name, "off", detail or "not configured")
    if result.get("ok"):
        return Check(name, "ok", detail or "connected")
    return Check(name, "problem", detail or "not working", todo)


def _last_beat(iso: str | None) -> str:
    return f" (last heartbeat {moment(iso)})" if iso else " (none ever)"


def health_checks() -> tuple[str, list[Check]]:
    """/healthz's data (``health.report``), each part in words with what to do."""
    status, body = health.report()
    db = body["database"]
    if not db["ok"]:
        return status, [
            Check(
                "Database",
                "problem",
                f"does not answer ({db.get('error', 'error')})",
                "check DATABASE_URL and that the database server runs",
            )
        ]
    checks = [Check("Database", "ok", f"answers ({db['vendor']})")]
    worker = body["worker"]
    if worker["ok"]:
        n = worker["live_workers"]
        checks.append(Check("Worker", "ok", f"{n} worker{'' if n == 1 else 's'} alive"))
    else:
        checks.append(
            Check(
                "Worker",
                "problem",
                "no worker has reported recently" + _last_beat(worker["last_heartbeat"]),
                "start one: `gigbridge worker` (or `gigbridge up`)",
            )
        )
    queue = body["queue"]
    words = f"{queue['depth']} job{'' if queue['depth'] == 1 else 's'} waiting"
    if queue["depth"]:
        words += f", the oldest for {queue['oldest_pending_seconds'] // 60} min"
    if queue["dead"]:
        checks.append(
            Check(
                "Queue",
                "problem",
                f"{words}; {queue['dead']} failed for good",
                "read their errors in the outbox (docs/operations.md) and run them again",
            )
        )
    else:
        checks.append(Check("Queue", "ok", words))
    integrations = body["integrations"]
    checks += [
        _integration(
            "Microsoft 365 (Graph)",
            integrations["microsoft365"],
            "connected",
            "check the tenant's app registration and secret (docs/microsoft365.md)",
        ),
        _integration(
            "Upwork",
            integrations["upwork"],
            "configured",
            "reconnect Upwork at /integrations/upwork/ (docs/upwork.md)",
        ),
        _integration(
            "Teams bot",
            integrations["teams"],
            "configured",
            "check the bot's app id and secret (docs/teams.md)",
        ),
        _integration(
            "Virus scanner",
            integrations["scanner"],
            "configured",
            "check that clamd runs and freshclam updates it (docs/scanning.md)",
        ),
    ]
    return status, checks


def program_panel(user) -> Panel | None:
    if not people.has_role(user, Role.PROGRAM_ADMIN):
        return None
    status, checks = health_checks()
    problems = [c for c in checks if c.status == "problem"]
    return Panel(
        "program",
        "Program at a glance",
        urgent=bool(problems),
        data={
            "analytics_path": ANALYTICS_PATH,
            "checks": checks,
            "problems": len(problems),
            "status": status,
        },
    )


# --- auditor and security reviewer ---------------------------------------------------------


def audit_panel(user) -> Panel | None:
    if not capabilities.can_review_access(user):
        return None
    drift = Drift.objects.filter(removed_at__isnull=True, resolved_at__isnull=True).count()
    grants = (
        Grant.objects.filter(state=Grant.State.APPLIED)
        .exclude(kind__in=[Grant.Kind.WELCOME_MAIL, Grant.Kind.MANAGER_NOTE])
        .count()
    )
    events = []
    if capabilities.can_read_audit(user):
        events = describe_all(list(AuditEvent.objects.order_by("-seq")[:FEW]))
    return Panel(
        "audit",
        "Access and audit",
        urgent=drift > 0,
        data={"drift": drift, "grants": grants, "events": events},
    )


def quarantine_panel(user) -> Panel | None:
    if not capabilities.can_review_quarantine(user):
        return None
    count = deliverables.quarantined().count()
    return Panel("quarantine", "Files in quarantine", urgent=count > 0, data={"count": count})


def panels(user) -> list[Panel]:
    """The person's panels: those with something to act on first, then in role order."""
    found = [
        approvals_panel(user),
        *requester_panels(user),
        program_panel(user),
        audit_panel(user),
        quarantine_panel(user),
    ]
    found = [p for p in found if p is not None]
    return sorted(found, key=lambda p: not p.urgent)  # stable: role order among equals
