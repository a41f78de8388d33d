"""Starting a direct hire's contract from Gigbridge, and making it active on its start day.

A direct hire (the request names the freelancer) has no marketplace offer or contract: once the
request is approved, its engagement waits in sourcing until the hiring manager (the request's
requester) or a program admin starts the contract here, with its start and end (the request's
dates unless narrowed; never outside them). The program's compliance rules are checked as for
any contract (``actions._check_contract``: required agreements, blocked countries, tenure) and a
refusal names what is missing. The engagement becomes contracted (the access reconciler gives
the freelancer access from the start day); if the start day is today or has passed, it goes on
to active at once. Otherwise the scheduler's ``start_due_contracts`` makes it active on its
start day, as the Upwork sync does for marketplace contracts (``sync._follow_contract``).

The audit events name the person who started the contract (``transition_engagement``'s
``actor``); the scheduled start is Gigbridge's own.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gigbridge import clock
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.people import capabilities

from . import permissions, refusals
from .actions import transition_engagement
from .models import Engagement, WorkRequest

STARTED = "contract started"


def is_direct(engagement: Engagement) -> bool:
    return engagement.request.sourcing == WorkRequest.Sourcing.DIRECT


def may_start(user, engagement: Engagement) -> bool:
    """Whether ``user`` may start the contract now (the page shows the form)."""
    return (
        engagement.state == Engagement.State.SOURCING
        and is_direct(engagement)
        and permissions.may_run_engagement(user, engagement)
    )


def date_problems(request: WorkRequest, start: dt.date, end: dt.date) -> list[Problem]:
    """The contract's dates must lie within the approved request's and not be over already."""
    first, last = request.start_date, request.end_date
    problems = []
    if start < first:
        problems.append(
            Problem(
                "start",
                f"{request.reference} was approved from {first.isoformat()}: "
                "the contract cannot start before",
            )
        )
    elif start > last:
        problems.append(
            Problem(
                "start",
                f"{request.reference} was approved until {last.isoformat()}: "
                "the contract cannot start after",
            )
        )
    if end > last:
        problems.append(
            Problem(
                "end",
                f"{request.reference} was approved until {last.isoformat()}: the "
                "contract cannot end later (longer work needs a new request)",
            )
        )
    elif end < start and not problems:
        problems.append(Problem("end", "ends before it starts"))
    elif end < clock.today():
        problems.append(Problem("end", "has passed already: the contract must end today or later"))
    return problems


@refusals.recorded("contract", lambda user, engagement, *a, **k: (user, engagement.request))
def start_contract(
    user, engagement: Engagement, start: dt.date | None = None, end: dt.date | None = None
) -> Engagement:
    """Contract a direct hire in sourcing from ``start`` to ``end`` (the request's dates when
    left out); active at once if ``start`` is today or earlier. Refused with NotAllowed for
    anyone but the hiring manager or a program admin, InvalidTransition for a marketplace
    engagement or one no longer in sourcing, RuleViolation (naming the field) for dates outside
    the request's or a compliance rule the freelancer does not meet."""
    engagement = Engagement.objects.select_related("request").get(pk=engagement.pk)
    if not permissions.may_run_engagement(user, engagement):
        raise capabilities.deny(
            user,
            "engagement.start",
            engagement,
            "only the hiring manager or a program admin can start the contract",
        )
    if not is_direct(engagement):
        raise InvalidTransition(
            f"{engagement.reference} is sourced on the marketplace: its contract starts when the "
            "freelancer accepts the offer on Upwork"
        )
    start = start or engagement.request.start_date
    end = end or engagement.request.end_date
    problems = date_problems(engagement.request, start, end)
    if problems:
        raise RuleViolation(problems)
    return _start(user, engagement.pk, start, end)


@transaction.atomic
def _start(user, engagement_id: int, start: dt.date, end: dt.date) -> Engagement:
    engagement = Engagement.objects.select_for_update(of=("self",)).get(pk=engagement_id)
    if engagement.state != Engagement.State.SOURCING:
        raise InvalidTransition(
            f"{engagement.reference} is {engagement.state}: only a direct hire in sourcing can "
            "have its contract started"
        )
    engagement = transition_engagement(
        None,
        engagement,
        Engagement.State.CONTRACTED,
        reason="direct hire",
        contract_start=start,
        contract_end=end,
        actor=user,
    )
    if start <= clock.today():
        engagement = transition_engagement(
            None, engagement, Engagement.State.ACTIVE, reason=STARTED, actor=user
        )
    return engagement


# --- the scheduler --------------------------------------------------------------------------


def start_due_contracts() -> int:
    """Make contracted direct hires active on their start day (or later, if the scheduler did
    not run then). Idempotent: each moves once, with one audit event; several schedulers may
    run it at the same time."""
    due = Engagement.objects.filter(
        state=Engagement.State.CONTRACTED,
        request__sourcing=WorkRequest.Sourcing.DIRECT,
        contract_start__lte=clock.today(),
    ).values_list("pk", flat=True)
    return sum(_start_due(pk) for pk in list(due))


@transaction.atomic
def _start_due(engagement_id: int) -> int:
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .filter(
            pk=engagement_id,
            state=Engagement.State.CONTRACTED,
            contract_start__lte=clock.today(),
        )
        .first()
    )
    if engagement is None:  # another scheduler was first, or it was cancelled meanwhile
        return 0
    transition_engagement(None, engagement, Engagement.State.ACTIVE, reason=STARTED)
    return 1


# --- the engagement page -------------------------------------------------------------------


def page_context(user, engagement: Engagement, problems=(), typed=None) -> dict:
    """What engagements/_start_contract.html needs; after a refusal, the reasons at their
    fields and what was typed."""
    if not may_start(user, engagement):
        return {"may_start": False}
    errors: dict[str, list[str]] = {}
    for problem in problems:
        where = problem.field if problem.field in ("start", "end") else "other"
        rule = f" (policy rule: {problem.rule})" if problem.rule else ""
        errors.setdefault(where, []).append(problem.message + rule)
    typed = typed or {}
    return {
        "may_start": True,
        "start_errors": errors,
        "start_value": typed.get("start") or engagement.request.start_date.isoformat(),
        "end_value": typed.get("end") or engagement.request.end_date.isoformat(),
        "start_min": engagement.request.start_date.isoformat(),
        "start_max": engagement.request.end_date.isoformat(),
    }
