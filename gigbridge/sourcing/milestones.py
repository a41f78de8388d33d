"""Finishing a marketplace contract's work from Gigbridge instead of the marketplace's site.

Fixed price: the hiring manager (or a program admin) approves a submitted milestone for all or
part of its amount, asks for changes to it, or funds the next one. Each is an action: it checks
who acts and the input's bounds, records the decision (``MilestoneDecision``, queued) and one
audit event in one transaction, and queues an outbox job; only the job (``run_decision``) tells
Upwork, check-then-act, and the next sync pass brings back the milestone's new state and the
payment (spend).

An approval never pays more than the milestone's amount, nor more than is left of the approved
budget: the request's budget minus what is already paid (``marketplace.spent``) minus approvals
still on their way (decided in Gigbridge, the milestone not yet shown paid by a sync). Amounts
are in the marketplace's currency; the budget is in the program's, converted at the policy's
rate the way offers are (``marketplace._in_marketplace``: rounded down, a limit stays a limit).

Hourly: Upwork documents no way to approve a timesheet (hours are approved there on their own
after its review window, and disputes are made there), so approving a week of hours
(``approve_week``) is the program's own record: ``HoursApproval``, once a week, only for weeks
that have ended and have hours.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.engagements import permissions
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import RetryableError
from gigbridge.people import capabilities
from gigbridge.program import actions as program

from . import actions as marketplace
from .models import (
    HoursApproval,
    Milestone,
    MilestoneDecision,
    SyncCursor,
    TimeEntry,
)

log = logging.getLogger(__name__)

DECISION_JOB = "engagements.milestone_decision"
SUBMITTED = "SUBMITTED"
NOT_FUNDED = "NOT_FUNDED"
PAID_STATES = ("PAID", "APPROVED", "RELEASED")
FUNDED_STATES = ("ACTIVE", SUBMITTED, *PAID_STATES)
# A contract's milestones are decided while it runs (the sync follows only these).
WORKING = (Engagement.State.CONTRACTED, Engagement.State.ACTIVE)
Kind, State = MilestoneDecision.Kind, MilestoneDecision.State
APPROVE_FIELDS = {"amount": limits.Money, "comment": limits.Comment}


def _require(user, engagement: Engagement, what: str) -> None:
    if not permissions.may_run_engagement(user, engagement):
        reason = f"only the hiring manager or a program admin can {what}"
        raise capabilities.deny(user, "marketplace", engagement, reason)


def _within_bounds(values: dict, kinds: dict) -> None:
    problems = limits.violations(values, kinds)
    if problems:
        raise RuleViolation([Problem(name, message) for name, message in problems])


def _locked(milestone: Milestone) -> tuple[Engagement, Milestone]:
    """The engagement, then the milestone, locked: approvals of two milestones of one
    engagement are checked against its budget one after the other."""
    engagement = marketplace._locked(milestone.engagement)
    return engagement, Milestone.objects.select_for_update().get(pk=milestone.pk)


def _working(engagement: Engagement) -> None:
    if engagement.state not in WORKING:
        raise InvalidTransition(
            f"{engagement.reference} is {engagement.state}: milestones are decided while its "
            "contract runs"
        )


def _name(milestone: Milestone) -> str:
    return milestone.description or f"milestone {milestone.sequence or milestone.upwork_id}"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


# --- the budget ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """What is left of an engagement's approved budget for approvals, as the check counts it."""

    budget: Decimal  # program currency (the request's)
    currency: str
    spent: Decimal  # paid, program currency
    on_the_way: Decimal  # approved in Gigbridge, not yet shown paid by a sync; program currency
    left: Decimal  # program currency, never below zero
    limit: Decimal  # ``left`` in the marketplace's currency, rounded down


def on_the_way(engagement: Engagement, policy=None) -> Decimal:
    """Approvals decided in Gigbridge (queued or sent) not yet counted as spend, in the
    program's currency: until a sync shows the milestone paid and a payments pass has finished
    after that (``sync.sync_organization`` reads contracts, then transactions, in separate
    steps), so the money is counted once: on its way, then as spend."""
    policy = policy or program.current()[1]
    # Shown paid by a sync, an approval still counts until a payments pass has finished after
    # it: contracts and payments are separate steps, and the payments step may fail or lag.
    unpaid = Q(milestone__approved_at__isnull=True)
    settled = (
        SyncCursor.objects.filter(
            organization_id=getattr(getattr(engagement, "sourcing", None), "organization_id", ""),
            stream="payments",
        )
        .values_list("updated_at", flat=True)
        .first()
    )
    if settled is not None:
        unpaid |= Q(milestone__approved_at__gt=settled)
    pending = MilestoneDecision.objects.filter(
        unpaid,
        milestone__engagement=engagement,
        kind=Kind.APPROVE,
        state__in=[State.QUEUED, State.SENT],
    ).values_list("amount", "currency")
    return sum(
        (policy.to_program_currency(amount, currency) for amount, currency in pending),
        Decimal("0.00"),
    )


def budget_left(engagement: Engagement, policy=None) -> Budget:
    policy = policy or program.current()[1]
    request = engagement.request
    spent = marketplace.spent(engagement)
    pending = on_the_way(engagement, policy)
    left = max(request.budget - spent - pending, Decimal("0.00"))
    return Budget(
        budget=request.budget,
        currency=request.currency,
        spent=spent,
        on_the_way=pending,
        left=left,
        limit=marketplace._in_marketplace(left, policy),
    )


def approval_limit(milestone: Milestone, budget: Budget) -> Decimal | None:
    """The most an approval of ``milestone`` may pay now (marketplace currency)."""
    if milestone.amount is None:
        return None
    return min(milestone.amount, budget.limit)


def _amount_problems(milestone: Milestone, amount: Decimal, budget: Budget) -> list[Problem]:
    currency = marketplace.MARKETPLACE_CURRENCY
    if milestone.amount is None:
        return [
            Problem(
                "amount",
                f"Upwork has not told Gigbridge the amount of “{_name(milestone)}” yet: "
                "try again after the next sync",
            )
        ]
    if amount <= 0:
        return [Problem("amount", "must be more than zero")]
    problems = []
    if amount > milestone.amount:
        problems.append(
            Problem(
                "amount",
                f"{_money(amount, currency)} is more than the milestone's "
                f"{_money(milestone.amount, currency)}",
            )
        )
    if amount > budget.limit:
        pending = (
            f" and {_money(budget.on_the_way, budget.currency)} approved on its way to Upwork"
            if budget.on_the_way
            else ""
        )
        rate = (
            ""
            if budget.currency == currency
            else f" ({_money(budget.left, budget.currency)} at the policy's exchange rate)"
        )
        problems.append(
            Problem(
                "amount",
                f"{_money(amount, currency)} is more than what is left of the approved budget: "
                f"{_money(budget.limit, currency)}{rate}, after "
                f"{_money(budget.spent, budget.currency)} paid{pending}, of "
                f"{_money(budget.budget, budget.currency)}",
                "budget",
            )
        )
    return problems


# --- checks other apps add ----------------------------------------------------------------

# What else must hold before a milestone may be approved, added by apps above sourcing without
# sourcing importing them (files: a clean deliverable since the previous milestone). Each check
# takes the milestone and returns the problems that refuse its approval now ([] when it passes);
# ``approve`` refuses with them (audited like the amount's), and the page shows them.
ApprovalCheck = Callable[[Milestone], list[Problem]]
approval_checks: list[ApprovalCheck] = []


def add_approval_check(check: ApprovalCheck) -> None:
    """Register ``check`` once (an app's ``ready`` may run again in tests)."""
    if check not in approval_checks:
        approval_checks.append(check)


def approval_problems(milestone: Milestone) -> list[Problem]:
    return [problem for check in approval_checks for problem in check(milestone)]


# --- decisions on milestones ---------------------------------------------------------------


def _pending(milestone: Milestone) -> MilestoneDecision | None:
    return milestone.decisions.filter(state=State.QUEUED).first()


def _waiting(milestone: Milestone, decisions=None) -> bool:
    """Changes were asked for (and not refused) since the work was last submitted: the work is
    with the freelancer until a sync shows it submitted again."""
    decisions = milestone.decisions.all() if decisions is None else decisions
    return any(
        d.kind == Kind.CHANGES
        and d.state != State.FAILED
        and (milestone.submitted_at is None or d.created_at >= milestone.submitted_at)
        for d in decisions
    )


def _decidable(milestone: Milestone, what: str) -> None:
    """A submitted milestone nobody approved, with no decision on its way, not sent back."""
    if milestone.state != SUBMITTED:
        raise InvalidTransition(
            f"“{_name(milestone)}” is {milestone.state.lower() or 'unknown'}: {what}"
        )
    if milestone.decisions.filter(kind=Kind.APPROVE).exclude(state=State.FAILED).exists():
        raise InvalidTransition(f"“{_name(milestone)}” has been approved already")
    if _pending(milestone) is not None:
        raise InvalidTransition(
            f"a decision on “{_name(milestone)}” is on its way to Upwork already"
        )
    if _waiting(milestone):
        raise InvalidTransition(
            f"changes to “{_name(milestone)}” were asked for: wait until the freelancer submits "
            "it again"
        )


def _decide(user, milestone: Milestone, kind: str, **values) -> MilestoneDecision:
    """Inside the action's transaction: the decision row, and its job after commit."""
    try:
        with transaction.atomic():  # the unique constraint is the last word on a double click
            decision = MilestoneDecision.objects.create(
                milestone=milestone, kind=kind, by=user, created_at=clock.now(), **values
            )
    except IntegrityError:
        raise InvalidTransition(
            f"“{_name(milestone)}” has been {'approved' if kind == Kind.APPROVE else 'funded'} "
            "already"
        ) from None
    jobs.enqueue(DECISION_JOB, {"decision_id": decision.pk}, key=f"{DECISION_JOB}:{decision.pk}")
    return decision


def _audit_values(milestone: Milestone, **more) -> dict:
    return {
        "milestone": milestone.upwork_id,
        "description": _name(milestone),
        **{k: limits.audit_value(v) for k, v in more.items() if v not in (None, "")},
    }


def approve(user, milestone: Milestone, amount: Decimal | None = None, comment: str = ""):
    """Approve a submitted milestone and pay ``amount`` of it (its whole amount by default),
    in the marketplace's currency. Refused (with an audit event) above the milestone's amount
    or what is left of the approved budget; refused when it is approved already or another
    decision on it is on its way."""
    engagement = Engagement.objects.select_related("request").get(pk=milestone.engagement_id)
    _require(user, engagement, "approve milestones")
    _within_bounds({"amount": amount, "comment": comment}, APPROVE_FIELDS)
    comment = (comment or "").strip()
    _, policy = program.current()
    with transaction.atomic():
        engagement, milestone = _locked(milestone)
        _working(engagement)
        _decidable(milestone, "only submitted work can be approved")
        if amount is None:
            amount = milestone.amount if milestone.amount is not None else Decimal("0")
        problems = _amount_problems(milestone, Decimal(amount), budget_left(engagement, policy))
        problems += approval_problems(milestone)
        if not problems:
            currency = marketplace.MARKETPLACE_CURRENCY
            decision = _decide(
                user, milestone, Kind.APPROVE, amount=amount, currency=currency, comment=comment
            )
            record(
                user=user,
                action="marketplace.milestone_approved",
                obj=engagement,
                after=_audit_values(
                    milestone,
                    amount=f"{amount:.2f}",
                    currency=currency,
                    full=f"{milestone.amount:.2f}",
                    comment=comment,
                ),
            )
            return decision
    with transaction.atomic():
        record(
            user=user,
            action="marketplace.milestone_approval_refused",
            obj=engagement,
            after=_audit_values(
                milestone,
                amount=f"{amount:.2f}",
                currency=marketplace.MARKETPLACE_CURRENCY,
                problems=[str(p) for p in problems],
            ),
        )
    raise RuleViolation(problems)


@transaction.atomic
def request_changes(user, milestone: Milestone, comment: str) -> MilestoneDecision:
    """Ask the freelancer for changes to a submitted milestone (``comment`` says which): Upwork
    rejects the submission and the milestone is active again until they submit anew."""
    engagement = Engagement.objects.select_related("request").get(pk=milestone.engagement_id)
    _require(user, engagement, "ask for changes")
    _within_bounds({"comment": comment}, {"comment": limits.Comment})
    comment = (comment or "").strip()
    if not comment:
        raise RuleViolation([Problem("comment", "say what should change")])
    engagement, milestone = _locked(milestone)
    _working(engagement)
    _decidable(milestone, "changes can be asked for on submitted work")
    decision = _decide(user, milestone, Kind.CHANGES, comment=comment)
    record(
        user=user,
        action="marketplace.milestone_changes_requested",
        obj=engagement,
        after=_audit_values(milestone, comment=comment),
    )
    return decision


def next_to_fund(engagement: Engagement) -> Milestone | None:
    """The first milestone, in Upwork's order, that is not funded yet."""
    return engagement.milestones.filter(state=NOT_FUNDED).order_by("sequence", "id").first()


@transaction.atomic
def activate(user, milestone: Milestone, message: str = "") -> MilestoneDecision:
    """Fund the next milestone (Upwork puts its amount in escrow; the freelancer starts on it).
    Milestones are funded in order, each once."""
    engagement = Engagement.objects.select_related("request").get(pk=milestone.engagement_id)
    _require(user, engagement, "fund milestones")
    _within_bounds({"message": message}, {"message": limits.Comment})
    message = (message or "").strip()
    engagement, milestone = _locked(milestone)
    _working(engagement)
    if milestone.state != NOT_FUNDED:
        raise InvalidTransition(
            f"“{_name(milestone)}” is {milestone.state.lower() or 'unknown'}, not waiting to be "
            "funded"
        )
    first = next_to_fund(engagement)
    if first is not None and first.pk != milestone.pk:
        raise InvalidTransition(f"milestones are funded in order: “{_name(first)}” comes first")
    if milestone.decisions.filter(kind=Kind.ACTIVATE).exclude(state=State.FAILED).exists():
        raise InvalidTransition(f"“{_name(milestone)}” is being funded already")
    decision = _decide(user, milestone, Kind.ACTIVATE, comment=message)
    record(
        user=user,
        action="marketplace.milestone_activation_queued",
        obj=engagement,
        after=_audit_values(milestone, comment=message),
    )
    return decision


# --- telling Upwork (the outbox job) -------------------------------------------------------


def _on_upwork(client, contract_id: str, milestone_id: str):
    """The contract as Upwork has it now, and the milestone in it (or None)."""
    contract = ops.contract_details(client, contract_id)
    if contract is None:
        return None, None
    found = next((m for m in contract.milestones if m.id == milestone_id), None)
    return contract, found


def run_decision(decision_id: int) -> str:
    """Tell Upwork one decision, check-then-act: the milestone is read first, so an attempt
    whose answer was lost is not repeated. Upwork refusing (a permanent error, or a milestone
    no longer in the state the decision was made on) marks the decision failed with the reason;
    a retryable error tries again later, and at the outbox's last attempt marks it failed."""
    from gigbridge.integrations.upwork import connection

    decision = MilestoneDecision.objects.select_related("milestone__engagement__sourcing").get(
        pk=decision_id
    )
    if decision.state != State.QUEUED:
        return f"{decision.state} before"
    MilestoneDecision.objects.filter(pk=decision.pk).update(attempts=F("attempts") + 1)
    decision.attempts += 1
    milestone = decision.milestone
    sourcing = getattr(milestone.engagement, "sourcing", None)
    if sourcing is None or not sourcing.contract_id:
        _failed(decision, "the engagement has no contract on Upwork")
        return "failed"
    try:
        client = connection.client(sourcing.organization_id or None)
        contract, found = _on_upwork(client, sourcing.contract_id, milestone.upwork_id)
        if found is None:
            _failed(decision, f"Upwork shows no milestone {milestone.upwork_id} on the contract")
            return "failed"
        state = (found.state or "").upper()
        refusal = _act(client, decision, contract, found, state, ops)
    except PermanentUpworkError as error:
        _failed(decision, str(error))
        raise
    except RetryableError as error:
        if decision.attempts >= settings.GIGBRIDGE_JOB_MAX_ATTEMPTS:
            _failed(decision, f"gave up after {decision.attempts} attempts: {error}")
        raise
    if refusal:
        _failed(decision, refusal)
        return "failed"
    _sent(decision)
    return "sent"


def _act(client, decision: MilestoneDecision, contract, found, state: str, ops) -> str:
    """Send the decision unless Upwork shows it done; -> why it cannot be done ("" if done)."""
    again = decision.attempts > 1  # an earlier attempt may have gone through unanswered
    if decision.kind == Kind.APPROVE:
        if state in PAID_STATES:
            return "" if again else f"the milestone is {state.lower()} on Upwork already"
        if state != SUBMITTED:
            return f"the milestone is {state.lower()} on Upwork, not submitted"
        ops.approve_milestone(
            client,
            found.id,
            amount=ops.money(decision.amount, decision.currency),
            message=decision.comment or None,
        )
        return ""
    if decision.kind == Kind.CHANGES:
        if state == "ACTIVE" and again:
            return ""
        if state != SUBMITTED:
            return f"the milestone is {state.lower()} on Upwork, not submitted"
        offer_id = contract.offer_id or (contract.offer.id if contract.offer else None)
        offer = ops.get_offer(client, offer_id) if offer_id else None
        listed = [m for m in (offer.all_milestones if offer else []) if m.id == found.id]
        submission = listed[0].latest_submission_id if listed else None
        if not submission:
            return "Upwork shows no submission of the milestone to ask changes to"
        ops.reject_milestone_submission(client, submission, note=decision.comment)
        return ""
    if state in FUNDED_STATES:
        return ""  # funded (by an earlier attempt, or on Upwork's site): what was asked
    if state != NOT_FUNDED:
        return f"the milestone is {state.lower()} on Upwork"
    ops.activate_milestone(client, found.id, message=decision.comment or None)
    return ""


@transaction.atomic
def _sent(decision: MilestoneDecision) -> None:
    # Only a queued decision moves: a second worker (after an expired lease) that lost the race
    # must not mark a decision Upwork carried out as failed, or the other way round.
    moved = MilestoneDecision.objects.filter(pk=decision.pk, state=State.QUEUED).update(
        state=State.SENT, sent_at=clock.now(), error=""
    )
    if not moved:
        return
    milestone = decision.milestone
    record(
        user=None,
        actor="upwork",
        action="marketplace.milestone_decision_sent",
        obj=milestone.engagement,
        after=_audit_values(
            milestone,
            kind=decision.kind,
            amount=f"{decision.amount:.2f}" if decision.amount is not None else None,
            currency=decision.currency,
        ),
    )


@transaction.atomic
def _failed(decision: MilestoneDecision, error: str) -> None:
    moved = MilestoneDecision.objects.filter(pk=decision.pk, state=State.QUEUED).update(
        state=State.FAILED, error=error[:500], failed_at=clock.now()
    )
    if not moved:
        return
    milestone = decision.milestone
    record(
        user=None,
        actor="upwork",
        action="marketplace.milestone_decision_failed",
        obj=milestone.engagement,
        after=_audit_values(milestone, kind=decision.kind, error=error[:500]),
    )


# --- weekly hours --------------------------------------------------------------------------


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Week:
    """A week (Monday to Sunday) of an engagement's logged hours."""

    start: dt.date
    hours: Decimal = Decimal("0.00")
    amount: Decimal = Decimal("0.00")
    entries: list = field(default_factory=list)
    approval: HoursApproval | None = None

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def ended(self) -> bool:
        return self.start + dt.timedelta(days=7) <= clock.today()

    @property
    def changed_since_approval(self) -> bool:
        """Upwork revised the hours after the week was approved in Gigbridge."""
        return self.approval is not None and (
            (self.approval.hours, self.approval.amount) != (self.hours, self.amount)
        )


def weeks(engagement: Engagement, entries=None) -> list[Week]:
    """The engagement's weeks with hours, newest first, each with its approval if any."""
    found: dict[dt.date, Week] = {}
    for entry in entries if entries is not None else engagement.time_entries.all():
        week = found.setdefault(monday(entry.date), Week(monday(entry.date)))
        week.hours += entry.hours
        week.amount += entry.amount
        week.entries.append(entry)
    approvals = engagement.hours_approvals.select_related("approved_by")
    for approval in approvals:
        found.setdefault(approval.week_start, Week(approval.week_start)).approval = approval
    return sorted(found.values(), key=lambda w: w.start, reverse=True)


def approve_week(user, engagement: Engagement, week_start: dt.date, comment: str = ""):
    """Record the program's approval of a week of hours (``week_start``: its Monday). Only a
    week that has ended and has hours, once."""
    engagement = Engagement.objects.select_related("request").get(pk=engagement.pk)
    _require(user, engagement, "approve hours")
    _within_bounds(
        {"week_start": week_start, "comment": comment},
        {"week_start": limits.PlanDate, "comment": limits.Comment},
    )
    comment = (comment or "").strip()
    if week_start.weekday() != 0:
        raise RuleViolation(
            [Problem("week_start", f"{week_start.isoformat()} is not a Monday: name the week's")]
        )
    next_monday = week_start + dt.timedelta(days=7)
    if next_monday > clock.today():
        raise RuleViolation(
            [
                Problem(
                    "week_start",
                    f"the week of {week_start.isoformat()} has not ended yet: it can be approved "
                    f"from {next_monday.isoformat()}",
                )
            ]
        )
    with transaction.atomic():
        engagement = marketplace._locked(engagement)
        entries = list(
            TimeEntry.objects.filter(
                engagement=engagement, date__gte=week_start, date__lt=next_monday
            )
        )
        if not entries:
            raise RuleViolation(
                [Problem("week_start", f"no hours are logged in the week of {week_start}")]
            )
        done = (
            HoursApproval.objects.filter(engagement=engagement, week_start=week_start)
            .select_related("approved_by")
            .first()
        )
        if done is not None:
            who = done.approved_by.get_full_name() or done.approved_by.get_username()
            raise InvalidTransition(
                f"the week of {week_start} was approved by {who} on "
                f"{done.approved_at.date().isoformat()}"
            )
        hours = sum((e.hours for e in entries), Decimal("0.00"))
        amount = sum((e.amount for e in entries), Decimal("0.00"))
        try:
            with transaction.atomic():
                approval = HoursApproval.objects.create(
                    engagement=engagement,
                    week_start=week_start,
                    hours=hours,
                    amount=amount,
                    currency=marketplace.MARKETPLACE_CURRENCY,
                    comment=comment,
                    approved_by=user,
                    approved_at=clock.now(),
                )
        except IntegrityError:
            raise InvalidTransition(f"the week of {week_start} is approved already") from None
        record(
            user=user,
            action="marketplace.hours_approved",
            obj=engagement,
            after={
                "week_start": week_start.isoformat(),
                "hours": f"{hours:.2f}",
                "amount": f"{amount:.2f}",
                "currency": marketplace.MARKETPLACE_CURRENCY,
                **({"comment": limits.audit_value(comment)} if comment else {}),
            },
        )
    return approval


# --- what the engagement page shows --------------------------------------------------------


def page_context(user, engagement: Engagement, view: dict) -> dict:
    """For the milestones and hours sections: who may decide, what is left of the budget, each
    milestone's decisions and what may be done with it now, the weeks of hours."""
    may = permissions.may_run_engagement(user, engagement)
    working = engagement.state in WORKING
    budget = view["budget_left"]
    first = next(
        (m for m in view["milestones"] if m.state == NOT_FUNDED),
        None,
    )
    for milestone in view["milestones"]:
        decisions = list(milestone.decisions.all())
        milestone.decision_list = decisions
        milestone.state_label = milestone.state.lower().replace("_", " ")
        live = [d for d in decisions if d.state != State.FAILED]
        approved = any(d.kind == Kind.APPROVE for d in live)
        pending = any(d.state == State.QUEUED for d in decisions)
        milestone.approval_limit = approval_limit(milestone, budget)
        milestone.can_decide = (
            may
            and working
            and milestone.state == SUBMITTED
            and not approved
            and not pending
            and not _waiting(milestone, decisions)
        )
        # What refuses an approval now besides the amount (the rules other apps add).
        milestone.approval_problems = approval_problems(milestone) if milestone.can_decide else []
        milestone.can_activate = (
            may
            and working
            and first is not None
            and milestone.pk == first.pk
            and not any(d.kind == Kind.ACTIVATE for d in live)
        )
    return {
        "may_decide": may,
        "milestone_budget": budget,
        "show_hours": engagement.request.pricing == "hourly" or bool(view["weeks"]),
    }
