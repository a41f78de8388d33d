"""Work requests, approvals and engagements: every business operation is one function here.

Each runs in one transaction, writes one audit event per change, and queues outside effects
(mail) to happen after commit. Views, the API and tasks call these; never the reverse.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pycountry
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.notifications.actions import mail, refresh_cards
from gigbridge.people import actions as people
from gigbridge.people import capabilities
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Person, Role
from gigbridge.program import actions as program
from gigbridge.program.models import CostCenter
from gigbridge.program.policy import RequestFacts
from gigbridge.program.reach import reach
from gigbridge.program.workspace_rules import workspace_problems

from . import compliance, events, links, refusals
from .models import ApprovalStep, DecisionLink, Engagement, WorkRequest

log = logging.getLogger(__name__)
User = get_user_model()

EDITABLE_FIELDS = [
    "title",
    "description",
    "deliverables",
    "skills",
    "task_category",
    "worker_category",
    "cost_center",
    "pricing",
    "budget",
    "currency",
    "start_date",
    "end_date",
    "data_classification",
    "sourcing",
    "freelancer_email",
    "freelancer_country",
    "workspace",
]

ENGAGEMENT_TRANSITIONS: dict[str, set[str]] = {
    Engagement.State.SOURCING: {
        Engagement.State.OFFERED,
        Engagement.State.CONTRACTED,
        Engagement.State.CANCELLED,
    },
    Engagement.State.OFFERED: {
        Engagement.State.SOURCING,
        Engagement.State.CONTRACTED,
        Engagement.State.CANCELLED,
    },
    Engagement.State.CONTRACTED: {Engagement.State.ACTIVE, Engagement.State.CANCELLED},
    Engagement.State.ACTIVE: {Engagement.State.OFFBOARDING},
    Engagement.State.OFFBOARDING: {Engagement.State.CLOSED},
    Engagement.State.CLOSED: set(),
    Engagement.State.CANCELLED: set(),
}


def snapshot(obj, fields: list[str]) -> dict:
    """The audited view of ``obj``: plain values, foreign keys by their code or id."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "code"):
            value = value.code
        elif hasattr(value, "pk"):
            value = value.pk
        out[name] = value
    return out


# --- work requests -------------------------------------------------------------------------


def _normalise(data: dict) -> dict:
    data = dict(data)
    data["deliverables"] = [d.strip() for d in data.get("deliverables") or [] if d.strip()]
    data["skills"] = [s.strip() for s in data.get("skills") or [] if s.strip()]
    data["currency"] = (data.get("currency") or "").upper()
    data["freelancer_email"] = (data.get("freelancer_email") or "").strip().lower()
    data["freelancer_country"] = (data.get("freelancer_country") or "").strip().upper()
    data["budget"] = Decimal(data["budget"])
    data["workspace"] = data.get("workspace")
    if data.get("sourcing") != WorkRequest.Sourcing.DIRECT:
        data["freelancer_email"], data["freelancer_country"] = "", ""
    return data


def _within_bounds(values: dict, kinds: dict) -> None:
    bounds = limits.violations(values, kinds)
    if bounds:
        raise RuleViolation([Problem(field, message) for field, message in bounds])


def _validate(data: dict, request_id: int | None = None) -> None:
    # The API's bounds again, whatever the caller: out-of-range dates or amounts would also
    # break the policy checks' arithmetic below.
    _within_bounds(data, limits.REQUEST_FIELDS)
    _, policy = program.current()
    problems = compliance.check_request(data, policy, request_id=request_id)
    if problems:
        raise RuleViolation(problems)


@transaction.atomic
def create_request(user, data: dict) -> WorkRequest:
    """A new draft. ``data`` holds EDITABLE_FIELDS, with ``cost_center`` as a CostCenter."""
    capabilities.require(user, capabilities.Capability.CREATE_REQUESTS, "request.create")
    data = _normalise(data)
    _validate(data)
    now = clock.now()
    request = WorkRequest.objects.create(
        requester=user, created_at=now, updated_at=now, **{f: data[f] for f in EDITABLE_FIELDS}
    )
    request.refresh_from_db()  # the stored form of values (decimal places) from here on
    record(
        user=user,
        action="request.created",
        obj=request,
        object_type="workrequest",
        after=snapshot(request, EDITABLE_FIELDS + ["state"]),
    )
    return request


@transaction.atomic
def update_request(user, request: WorkRequest, data: dict) -> WorkRequest:
    request = WorkRequest.objects.select_for_update().get(pk=request.pk)
    if request.requester_id != user.pk:
        raise capabilities.deny(user, "request.edit", request, "only the requester can edit it")
    capabilities.require(user, capabilities.Capability.CREATE_REQUESTS, "request.edit", request)
    if request.state != WorkRequest.State.DRAFT:
        raise InvalidTransition(
            f"{request.reference} is {request.state}; only drafts can be edited"
        )
    data = _normalise({**snapshot_fields(request), **data})
    _validate(data, request_id=request.pk)
    before = snapshot(request, EDITABLE_FIELDS)
    for field in EDITABLE_FIELDS:
        setattr(request, field, data[field])
    request.updated_at = clock.now()
    request.save()
    request.refresh_from_db()  # compare stored forms (decimal places), as the snapshot was
    after = snapshot(request, EDITABLE_FIELDS)
    # Only what changed, long texts abbreviated: an edit's event stays small.
    changed = [field for field in EDITABLE_FIELDS if before[field] != after[field]]
    record(
        user=user,
        action="request.updated",
        obj=request,
        object_type="workrequest",
        before={field: limits.audit_value(before[field]) for field in changed},
        after={field: limits.audit_value(after[field]) for field in changed},
    )
    return request


def snapshot_fields(request: WorkRequest) -> dict:
    return {f: getattr(request, f) for f in EDITABLE_FIELDS}


def _facts(request: WorkRequest) -> RequestFacts:
    return RequestFacts(
        amount=request.budget,
        data_classification=request.data_classification,
        worker_category=request.worker_category,
        sourcing=request.sourcing,
        task_category=request.task_category,
    )


def _resolve_assignee(role: str, request: WorkRequest, rule_id: str):
    """The named approver for person-bound roles; None for roles any holder may decide."""
    if role == "manager":
        person = (
            Person.objects.filter(user=request.requester).select_related("manager__user").first()
        )
        manager = person.manager.user if person and person.manager and person.manager.user else None
        if manager is None or not manager.is_active:
            raise RuleViolation(
                [
                    Problem(
                        "",
                        "the policy requires your manager's approval, but no "
                        "manager with an account is on record for you; ask a "
                        "program admin to set it",
                        f"approvals.rules.{rule_id}",
                    )
                ]
            )
        return manager
    if role == "cost_center_owner":
        owner = User.objects.filter(
            email__iexact=request.cost_center.owner_email, is_active=True
        ).first()
        if owner is None:
            raise RuleViolation(
                [
                    Problem(
                        "cost_center",
                        f"the owner of {request.cost_center.code} "
                        f"({request.cost_center.owner_email}) has no account",
                        f"approvals.rules.{rule_id}",
                    )
                ]
            )
        return owner
    if not people.users_with_role(role).exclude(pk=request.requester_id).exists():
        raise RuleViolation(
            [
                Problem(
                    "",
                    f"the policy requires approval by {role}, but nobody "
                    "other than you holds that role",
                    f"approvals.rules.{rule_id}",
                )
            ]
        )
    return None


def _submitting(user, request, *args, **kwargs):
    return user, request


def _contracting(user, engagement, to_state, *args, actor=None, **kwargs):
    if to_state != Engagement.State.CONTRACTED:
        return None
    return (user if user is not None else actor), engagement.request


@refusals.recorded("submission", _submitting)
@transaction.atomic
def submit_request(user, request: WorkRequest) -> WorkRequest:
    request = WorkRequest.objects.select_for_update().get(pk=request.pk)
    if request.requester_id != user.pk:
        raise capabilities.deny(user, "request.submit", request, "only the requester can submit")
    capabilities.require(user, capabilities.Capability.CREATE_REQUESTS, "request.submit", request)
    if request.state != WorkRequest.State.DRAFT:
        raise InvalidTransition(
            f"{request.reference} is {request.state}; only drafts can be submitted"
        )
    version, policy = program.current()
    # Lock the cost center so two submissions cannot both spend the last of its budget.
    CostCenter.objects.select_for_update().filter(pk=request.cost_center_id).first()
    _validate(snapshot_fields(request), request_id=request.pk)
    chain = policy.approval_chain(_facts(request))
    now = clock.now()
    round_no = (request.steps.order_by("-round").values_list("round", flat=True).first() or 0) + 1
    steps = []
    for stage_no, stage in enumerate(chain, start=1):
        for required in stage:
            steps.append(
                ApprovalStep(
                    request=request,
                    round=round_no,
                    stage=stage_no,
                    role=required.role,
                    rule_id=required.rule_id,
                    policy_version=version,
                    assignee=_resolve_assignee(required.role, request, required.rule_id),
                )
            )
    ApprovalStep.objects.bulk_create(steps)
    before_state = request.state
    request.state, request.submitted_at, request.updated_at = (
        WorkRequest.State.SUBMITTED,
        now,
        now,
    )
    request.policy_version = version
    request.save()
    record(
        user=user,
        action="request.submitted",
        obj=request,
        object_type="workrequest",
        before={"state": before_state},
        after={
            "state": request.state,
            "round": round_no,
            "chain": [[f"{r.role} ({r.rule_id})" for r in stage] for stage in chain],
        },
        policy_version=version.number,
        rule="approvals.rules",
    )
    if not chain:
        _approve_request(request, version.number, rule="approvals.rules (no rule matched)")
    else:
        _set_request_state(
            request, WorkRequest.State.IN_APPROVAL, user=None, policy_version=version.number
        )
        _activate_stage(request, round_no, 1, policy.approvals.link_valid_days)
    return request


@transaction.atomic
def withdraw_request(user, request: WorkRequest, comment: str = "") -> WorkRequest:
    request = WorkRequest.objects.select_for_update().get(pk=request.pk)
    if request.requester_id != user.pk:
        raise capabilities.deny(
            user, "request.withdraw", request, "only the requester can withdraw"
        )
    if request.state not in (
        WorkRequest.State.DRAFT,
        WorkRequest.State.SUBMITTED,
        WorkRequest.State.IN_APPROVAL,
    ):
        raise InvalidTransition(
            f"{request.reference} is {request.state} and can no longer be withdrawn"
        )
    _within_bounds({"comment": comment}, {"comment": limits.Comment})
    _cancel_open_steps(request)
    _set_request_state(request, WorkRequest.State.WITHDRAWN, user=user, comment=comment)
    return request


def _set_request_state(
    request: WorkRequest,
    state: str,
    *,
    user,
    comment: str = "",
    policy_version: int | None = None,
    rule: str = "",
) -> None:
    before = request.state
    request.state = state
    request.updated_at = clock.now()
    if state in (WorkRequest.State.APPROVED, WorkRequest.State.REJECTED):
        request.decided_at = request.updated_at
    request.save()
    after = {"state": state}
    if comment:
        after["comment"] = comment
    record(
        user=user,
        action=f"request.{state}",
        obj=request,
        object_type="workrequest",
        before={"state": before},
        after=after,
        policy_version=policy_version,
        rule=rule,
    )


def _cancel_open_steps(request: WorkRequest) -> None:
    open_steps = request.steps.filter(
        state__in=[ApprovalStep.State.WAITING, ApprovalStep.State.PENDING]
    )
    asked = list(open_steps.filter(state=ApprovalStep.State.PENDING).values_list("pk", flat=True))
    open_steps.update(state=ApprovalStep.State.CANCELLED)
    for step_id in asked:  # the approvers' Teams cards now say it is no longer needed
        refresh_cards(f"step:{step_id}", ApprovalStep.State.CANCELLED)


# --- approvals -----------------------------------------------------------------------------


def eligible_users(step: ApprovalStep) -> QuerySet:
    """Who may decide ``step`` in their own right (delegates come on top, see ``may_decide``)."""
    ids = set()
    if step.assignee_id:
        ids.add(step.assignee_id)
    else:
        ids |= set(people.users_with_role(step.role).values_list("pk", flat=True))
    if step.escalated_to_id:
        ids.add(step.escalated_to_id)
    ids.discard(step.request.requester_id)  # nobody approves their own request
    return User.objects.filter(pk__in=ids, is_active=True)


def may_decide(user, step: ApprovalStep) -> tuple[bool, object | None]:
    """(allowed, on_behalf_of): on_behalf_of is the absent approver when acting as a delegate."""
    if not user.is_authenticated or step.request.requester_id == user.pk:
        return False, None
    eligible = eligible_users(step)
    if eligible.filter(pk=user.pk).exists():
        return True, None
    delegator = eligible.filter(pk__in=people.delegators_of(user)).first()
    return (True, delegator) if delegator else (False, None)


def inbox(user) -> QuerySet:
    """Pending steps the user may decide, themselves or as a delegate."""
    acting_for = [user.pk, *people.delegators_of(user)]
    roles = set(
        people.RoleAssignment.objects.filter(user_id__in=acting_for).values_list("role", flat=True)
    )
    return (
        ApprovalStep.objects.filter(state=ApprovalStep.State.PENDING)
        .filter(
            Q(assignee_id__in=acting_for)
            | Q(escalated_to_id__in=acting_for)
            | Q(assignee__isnull=True, role__in=roles)
        )
        .exclude(request__requester=user)
        .select_related("request", "request__requester", "request__cost_center")
        .order_by("activated_at", "id")
    )


def decision_facts(step: ApprovalStep) -> dict:
    """What a decider needs beside the request itself, for the decision page and the mail: the
    rule that made them an approver (from the policy version the step was made under), the
    direct-hire freelancer and country, the workspace and what the freelancer will be able to
    open in it, and what is left in the cost center this fiscal year. Strings and numbers only,
    so a mail's outbox payload can hold it."""
    request = step.request
    policy = program.policy_of(step.policy_version)
    rule = next((r for r in policy.approvals.rules if r.id == step.rule_id), None)
    cost_center = request.cost_center
    committed = compliance.committed(cost_center, policy, request.start_date)
    fy_start, fy_end = compliance.fiscal_year_bounds(policy, request.start_date)
    freelancer = None
    if request.sourcing == WorkRequest.Sourcing.DIRECT:
        person = Person.objects.filter(email__iexact=request.freelancer_email).first()
        country = pycountry.countries.get(alpha_2=request.freelancer_country or "")
        freelancer = {
            "name": person.display_name if person and person.display_name else "",
            "email": request.freelancer_email,
            "country": request.freelancer_country,
            "country_name": country.name if country else request.freelancer_country,
        }
    workspace = request.workspace
    guest_reach = reach(workspace, policy)  # what the freelancer will be able to open
    return {
        "rule_id": step.rule_id,
        "rule_description": (rule.description or "") if rule else "",
        "deliverables": [str(d) for d in request.deliverables or []],
        "freelancer": freelancer,
        "workspace": (
            {
                "name": workspace.name,
                "team": workspace.team_name,
                "folder": workspace.folder_path,
                **guest_reach.as_dict(),
            }
            if workspace and guest_reach
            else None
        ),
        "cost_center": {
            "code": cost_center.code,
            "name": cost_center.name,
            "budget": str(cost_center.annual_budget),
            "committed": str(committed),
            "available": str(cost_center.annual_budget - committed),
            "over": cost_center.annual_budget < committed,
            "includes_request": request.state in compliance.COMMITTING_STATES,
            "currency": policy.program.currency,
            "fiscal_year": f"{fy_start.isoformat()} – {fy_end.isoformat()}",
        },
    }


def approval_context(step: ApprovalStep, link: DecisionLink | None = None) -> dict:
    """What an approver's mail and Teams card show (strings and numbers only: outbox JSON)."""
    context = {
        "step_id": step.pk,
        "request_id": step.request_id,
        "reference": step.request.reference,
        "title": step.request.title,
        "role": step.role,
        "rule_id": step.rule_id,
        "budget": str(step.request.budget),
        "currency": step.request.currency,
        "requester": step.request.requester.get_full_name() or step.request.requester.username,
        **decision_facts(step),
    }
    if link is not None:
        context["link_nonce"] = link.nonce
        context["link_expires"] = link.expires_at.isoformat()
    return context


def _notify_step(
    step: ApprovalStep, link_valid_days: int, template: str, key: str, users=None
) -> None:
    for approver in users if users is not None else eligible_users(step):
        link = links.create(step, approver, link_valid_days)
        mail(
            approver,
            template,
            approval_context(step, link),
            key=f"{step.pk}:{key}",
            subject=f"step:{step.pk}",
        )
        # Someone away with a delegate: tell the delegate too.
        delegate = people.active_delegate(approver)
        if delegate is not None and delegate.pk != step.request.requester_id:
            _notify_step(
                step, link_valid_days, template, f"{key}:delegate:{approver.pk}", users=[delegate]
            )


def _activate_stage(request: WorkRequest, round_no: int, stage_no: int, link_valid_days: int):
    now = clock.now()
    steps = list(
        request.steps.filter(
            round=round_no, stage=stage_no, state=ApprovalStep.State.WAITING
        ).select_related("request__requester")
    )
    for step in steps:
        step.state, step.activated_at = ApprovalStep.State.PENDING, now
        step.save(update_fields=["state", "activated_at"])
        record(
            user=None,
            action="approval.requested",
            obj=step,
            object_type="approvalstep",
            after={
                "request": request.reference,
                "stage": stage_no,
                "role": step.role,
                "assignee": step.assignee.username if step.assignee else None,
            },
            policy_version=step.policy_version.number,
            rule=f"approvals.rules.{step.rule_id}",
        )
        _notify_step(step, link_valid_days, "approval_request", "requested")


DECISIONS = {
    "approve": ApprovalStep.State.APPROVED,
    "reject": ApprovalStep.State.REJECTED,
    "request_changes": ApprovalStep.State.CHANGES_REQUESTED,
}


def decide(
    user,
    step: ApprovalStep,
    decision: str,
    comment: str = "",
    link: DecisionLink | None = None,
    via: str = "",
) -> ApprovalStep:
    """Approve, reject or ask for changes. Reject and request_changes need a comment.

    A refused attempt goes to the security log, not the audit trail: refusals are not business
    events, and anyone could grow the trail by trying.
    """
    if decision not in DECISIONS:
        raise RuleViolation([Problem("decision", f"must be one of {', '.join(DECISIONS)}")])
    comment = (comment or "").strip()
    if decision != "approve" and not comment:
        raise RuleViolation([Problem("comment", "say why, so the requester knows what to change")])
    step = ApprovalStep.objects.select_related("request").get(pk=step.pk)
    if not may_decide(user, step)[0]:
        raise capabilities.deny(
            user, f"approval.{decision}", step, "you are not an approver of this step"
        )
    return _decide(user, step.pk, decision, comment, link, via)


ENDING_DECISIONS = {
    "reject": (WorkRequest.State.REJECTED, "request_rejected"),
    "request_changes": (WorkRequest.State.DRAFT, "request_changes"),
}


@transaction.atomic
def _decide(
    user, step_id: int, decision: str, comment: str, link: DecisionLink | None, via: str = ""
) -> ApprovalStep:
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("request", "request__requester", "policy_version")
        .get(pk=step_id)
    )
    request = WorkRequest.objects.select_for_update().get(pk=step.request_id)
    allowed, on_behalf_of = may_decide(user, step)  # again, under the lock
    if not allowed:
        raise capabilities.deny(user, f"approval.{decision}", step, "you are not an approver")
    if step.state != ApprovalStep.State.PENDING:
        raise InvalidTransition(f"this approval is already {step.get_state_display()}")
    if link is not None:
        link = DecisionLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at is not None:
            raise InvalidTransition("this link was already used")
        link.used_at = clock.now()
        link.save(update_fields=["used_at"])
    if decision == "approve":
        # The policy may have changed since submission: the workspace must still fit the work.
        _, current = program.current()
        refused = workspace_problems(request.workspace, request.data_classification, current)
        if refused:
            raise RuleViolation(refused)
    now = clock.now()
    step.state, step.decided_by, step.decided_at, step.comment = (
        DECISIONS[decision],
        user,
        now,
        comment,
    )
    step.decided_on_behalf_of = on_behalf_of
    step.save()
    refresh_cards(f"step:{step.pk}", step.state)  # every Teams copy shows the decision
    after = {
        "decision": step.state,
        "comment": comment,
        "request": request.reference,
        "via": via or ("mail link" if link else "web/api"),
    }
    if on_behalf_of is not None:
        after["on_behalf_of"] = on_behalf_of.get_username()
    record(
        user=user,
        action=f"approval.{decision}",
        obj=step,
        object_type="approvalstep",
        before={"state": ApprovalStep.State.PENDING},
        after=after,
        policy_version=step.policy_version.number,
        rule=f"approvals.rules.{step.rule_id}",
    )

    if decision in ENDING_DECISIONS:
        # Reject ends the request; asking for changes returns it to the requester as a draft.
        new_state, template = ENDING_DECISIONS[decision]
        _cancel_open_steps(request)
        _set_request_state(
            request,
            new_state,
            user=user,
            comment=comment,
            policy_version=step.policy_version.number,
            rule=f"approvals.rules.{step.rule_id}",
        )
        mail(request.requester, template, _request_context(request, comment), key=str(step.pk))
    else:
        _advance(request, step)
    return step


def _advance(request: WorkRequest, step: ApprovalStep) -> None:
    open_in_stage = request.steps.filter(
        round=step.round, stage=step.stage, state=ApprovalStep.State.PENDING
    ).exists()
    if open_in_stage:
        return
    next_stage = (
        request.steps.filter(
            round=step.round, stage__gt=step.stage, state=ApprovalStep.State.WAITING
        )
        .order_by("stage")
        .values_list("stage", flat=True)
        .first()
    )
    if next_stage is not None:
        policy = program.policy_of(step.policy_version)
        _activate_stage(request, step.round, next_stage, policy.approvals.link_valid_days)
    else:
        _approve_request(request, step.policy_version.number, rule="approvals.rules")


def _request_context(request: WorkRequest, comment: str = "") -> dict:
    return {
        "request_id": request.pk,
        "reference": request.reference,
        "title": request.title,
        "comment": comment,
    }


def _approve_request(request: WorkRequest, policy_version: int, rule: str) -> Engagement:
    _set_request_state(
        request, WorkRequest.State.APPROVED, user=None, policy_version=policy_version, rule=rule
    )
    now = clock.now()
    freelancer = None
    if request.sourcing == WorkRequest.Sourcing.DIRECT:
        freelancer, _ = Person.objects.get_or_create(
            email=request.freelancer_email,
            defaults={
                "kind": request.worker_category,
                "display_name": request.freelancer_email,
                "country": request.freelancer_country,
            },
        )
    engagement = Engagement.objects.create(
        request=request, freelancer=freelancer, created_at=now, updated_at=now
    )
    record(
        user=None,
        action="engagement.created",
        obj=engagement,
        after={
            "state": engagement.state,
            "request": request.reference,
            "freelancer": freelancer.email if freelancer else None,
        },
        policy_version=policy_version,
        rule=rule,
    )
    mail(
        request.requester,
        "request_approved",
        {**_request_context(request), "engagement_id": engagement.pk},
        key=str(engagement.pk),
    )
    # Sourcing posts a marketplace request's job once Upwork is configured.
    events.engagement_created.send(sender=Engagement, engagement=engagement)
    return engagement


# --- reminders and escalation (scheduled) --------------------------------------------------


def send_reminders_and_escalations() -> dict[str, int]:
    """Remind approvers of steps pending for ``reminder_after_days`` (then daily) and escalate
    those pending for ``escalate_after_days`` to the approver's manager or the program admins."""
    counts = {"reminded": 0, "escalated": 0}
    now = clock.now()
    for step_id in ApprovalStep.objects.filter(state=ApprovalStep.State.PENDING).values_list(
        "pk", flat=True
    ):
        outcome = _remind_or_escalate(step_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


@transaction.atomic
def _remind_or_escalate(step_id: int, now: dt.datetime) -> str | None:
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("request__requester", "policy_version", "assignee")
        .filter(pk=step_id, state=ApprovalStep.State.PENDING)
        .first()
    )
    if step is None or step.activated_at is None:
        return None
    rules = program.policy_of(step.policy_version).approvals
    waited = now - step.activated_at
    if step.escalated_at is None and waited >= dt.timedelta(days=rules.escalate_after_days):
        target = _escalation_target(step)
        if target is not None:
            step.escalated_to, step.escalated_at = target, now
            step.save(update_fields=["escalated_to", "escalated_at"])
            record(
                user=None,
                action="approval.escalated",
                obj=step,
                object_type="approvalstep",
                after={"escalated_to": target.username, "waited_days": waited.days},
                policy_version=step.policy_version.number,
                rule="approvals.escalate_after_days",
            )
            _notify_step(
                step, rules.link_valid_days, "approval_escalated", "escalated", users=[target]
            )
            return "escalated"
    last = step.reminded_at or step.activated_at
    due = (step.reminded_at is None and waited >= dt.timedelta(days=rules.reminder_after_days)) or (
        step.reminded_at is not None and now - last >= dt.timedelta(days=1)
    )
    if due:
        step.reminded_at = now
        step.save(update_fields=["reminded_at"])
        record(
            user=None,
            action="approval.reminded",
            obj=step,
            object_type="approvalstep",
            after={"waited_days": waited.days},
            policy_version=step.policy_version.number,
            rule="approvals.reminder_after_days",
        )
        _notify_step(step, rules.link_valid_days, "approval_reminder", f"reminder:{now:%Y%m%d}")
        return "reminded"
    return None


def _escalation_target(step: ApprovalStep):
    if step.assignee is not None:
        person = Person.objects.filter(user=step.assignee).select_related("manager__user").first()
        if (
            person
            and person.manager
            and person.manager.user
            and person.manager.user_id != step.request.requester_id
        ):
            return person.manager.user
    return (
        people.users_with_role(Role.PROGRAM_ADMIN)
        .exclude(pk=step.request.requester_id)
        .order_by("pk")
        .first()
    )


# --- engagements ---------------------------------------------------------------------------


@refusals.recorded("contract", _contracting)
@transaction.atomic
def transition_engagement(
    user,
    engagement: Engagement,
    to_state: str,
    reason: str = "",
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
    *,
    actor=None,
) -> Engagement:
    """Move an engagement along its lifecycle; only legal transitions. Program admins only (the
    marketplace sync drives it once connected; a direct hire's contract is started by its hiring
    manager, see ``direct``). With ``user`` None the caller has checked who may act: ``actor``
    (a user) is then the person the audit event names, else Gigbridge itself."""
    if user is not None:
        capabilities.require(
            user, capabilities.Capability.MANAGE_ENGAGEMENTS, "engagement.transition", engagement
        )
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("request", "freelancer")
        .get(pk=engagement.pk)
    )
    _within_bounds({"reason": reason}, {"reason": limits.Reason})
    if to_state not in Engagement.State.values:
        raise RuleViolation(
            [
                Problem(
                    "state",
                    f"unknown state {to_state!r}; states are " + ", ".join(Engagement.State.values),
                )
            ]
        )
    if to_state not in ENGAGEMENT_TRANSITIONS[engagement.state]:
        allowed = ", ".join(sorted(ENGAGEMENT_TRANSITIONS[engagement.state])) or "none"
        raise InvalidTransition(
            f"{engagement.reference} is {engagement.state}; it can move to "
            f"{allowed}, not {to_state}"
        )
    if user is not None:
        events.engagement_transition_requested.send(
            sender=Engagement, engagement=engagement, to_state=to_state
        )
    version, policy = program.current()
    rule = ""
    if to_state == Engagement.State.CONTRACTED:
        rule = _check_contract(engagement, policy, contract_start, contract_end)
        engagement.contract_start = contract_start or engagement.request.start_date
        engagement.contract_end = contract_end or engagement.request.end_date
    if to_state in (Engagement.State.OFFBOARDING, Engagement.State.CANCELLED) and (
        engagement.contract_start
    ):
        # The contract ended now (or on its planned day, if that has passed): access follows.
        engagement.contract_end = min(engagement.contract_end or clock.today(), clock.today())
    before = snapshot(engagement, ["state", "contract_start", "contract_end"])
    from_state = engagement.state
    engagement.state, engagement.updated_at = to_state, clock.now()
    engagement.save()
    after = snapshot(engagement, ["state", "contract_start", "contract_end"])
    if reason:
        after["reason"] = reason
    # Access reacts (its reconciler looks at the tenant again), in this transaction.
    events.engagement_transitioned.send(
        sender=Engagement,
        engagement=engagement,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )
    record(
        user=user if user is not None else actor,
        action=f"engagement.{to_state}",
        obj=engagement,
        before=before,
        after=after,
        policy_version=version.number,
        rule=rule,
    )
    return engagement


def _check_contract(engagement: Engagement, policy, start, end) -> str:
    start = start or engagement.request.start_date
    end = end or engagement.request.end_date
    problems = []
    if engagement.freelancer is None:
        problems.append(Problem("freelancer", "no freelancer is chosen for this engagement"))
    else:
        missing = people_queries.missing_agreements(engagement.freelancer, policy, start)
        if missing:
            problems.append(
                Problem(
                    "freelancer",
                    f"{engagement.freelancer.email} has not signed {', '.join(missing)}",
                    "compliance.required_agreements",
                )
            )
        if engagement.freelancer.country in policy.compliance.blocked_countries:
            problems.append(
                Problem(
                    "freelancer",
                    f"workers in {engagement.freelancer.country} cannot be engaged",
                    "compliance.blocked_countries",
                )
            )
    if end < start:
        problems.append(Problem("contract_end", "ends before it starts"))
    elif (end - start).days + 1 > policy.compliance.max_engagement_days:
        problems.append(
            Problem(
                "contract_end", "longer than the program allows", "compliance.max_engagement_days"
            )
        )
    if problems:
        raise RuleViolation(problems)
    return "compliance"


def timeline(engagement: Engagement) -> QuerySet:
    """Every audit event of the engagement, its request and the request's approval steps."""
    step_ids = [str(pk) for pk in engagement.request.steps.values_list("pk", flat=True)]
    return AuditEvent.objects.filter(
        Q(object_type="engagement", object_id=str(engagement.pk))
        | Q(object_type="workrequest", object_id=str(engagement.request_id))
        | Q(object_type="approvalstep", object_id__in=step_ids)
    ).order_by("seq")


def request_timeline(request: WorkRequest) -> QuerySet:
    step_ids = [str(pk) for pk in request.steps.values_list("pk", flat=True)]
    return AuditEvent.objects.filter(
        Q(object_type="workrequest", object_id=str(request.pk))
        | Q(object_type="approvalstep", object_id__in=step_ids)
    ).order_by("seq")
