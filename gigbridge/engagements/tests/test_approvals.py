"""Work requests through their approval chain, as the policy computes it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from conftest import request_payload
from gigbridge import clock
from gigbridge.audit.actions import verify
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.engagements import actions
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.jobs.actions import run
from gigbridge.jobs.models import OutboxJob
from gigbridge.people.actions import set_delegation
from gigbridge.program.models import CostCenter

pytestmark = pytest.mark.django_db


def new_request(user, **overrides):
    data = request_payload(**overrides)
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    return actions.create_request(user, data)


def submitted(user, **overrides):
    return actions.submit_request(user, new_request(user, **overrides))


def pending(request):
    return list(request.steps.filter(state=ApprovalStep.State.PENDING).order_by("id"))


def deliver_mail():
    for job in OutboxJob.objects.filter(state=OutboxJob.State.PENDING):
        run(job.pk)


def test_small_internal_request_needs_only_the_manager(people):
    request = submitted(people["rita"])
    assert request.state == WorkRequest.State.IN_APPROVAL
    steps = list(request.steps.all())
    assert [(s.role, s.rule_id, s.assignee.username) for s in steps] == [
        ("manager", "manager", "max")
    ]
    actions.decide(people["max"], steps[0], "approve")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.APPROVED
    assert request.engagement.state == Engagement.State.SOURCING


def test_chain_follows_amount_classification_and_mode(people):
    request = submitted(
        people["rita"],
        budget="30000",
        cost_center="CC-ENG",
        data_classification="confidential",
        task_category="software-development",
    )
    chain = [(s.stage, s.role, s.rule_id) for s in request.steps.order_by("stage")]
    assert chain == [
        (1, "manager", "manager"),
        (2, "procurement", "procurement-over-5k"),
        (3, "legal", "legal-confidential"),
        (4, "finance", "finance-over-25k"),
        (5, "cost_center_owner", "finance-over-25k"),  # sequential rule: one stage each
    ]
    for approver in ["max", "paula", "lena", "fiona", "dan"]:
        (step,) = pending(request)
        actions.decide(people[approver], step, "approve")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.APPROVED
    # every decision records the policy version and the rule that required it
    decisions = AuditEvent.objects.filter(action="approval.approve")
    assert {e.rule for e in decisions} == {
        "approvals.rules.manager",
        "approvals.rules.procurement-over-5k",
        "approvals.rules.legal-confidential",
        "approvals.rules.finance-over-25k",
    }
    assert {e.policy_version for e in decisions} == {1}
    assert verify().ok


def test_approvers_are_mailed_a_single_use_link(people):
    submitted(people["rita"])
    deliver_mail()
    (message,) = mail.outbox
    assert message.to == ["max@contoso.example"]
    assert "Approval needed" in message.subject
    assert "/a/" in message.body


def test_reject_needs_a_comment_and_ends_the_request(people):
    request = submitted(people["rita"], budget="6000")
    (step,) = pending(request)
    with pytest.raises(RuleViolation, match="comment"):
        actions.decide(people["max"], step, "reject")
    actions.decide(people["max"], step, "reject", "Not this quarter")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.REJECTED
    assert set(request.steps.values_list("state", flat=True)) == {"rejected", "cancelled"}
    assert not Engagement.objects.exists()


def test_changes_requested_returns_a_draft_that_is_resubmitted_as_a_new_round(people):
    request = submitted(people["rita"])
    (step,) = pending(request)
    actions.decide(people["max"], step, "request_changes", "Add the brand guide scope")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.DRAFT
    actions.update_request(people["rita"], request, {"description": "Logo plus brand guide"})
    actions.submit_request(people["rita"], request)
    (step2,) = pending(request)
    assert step2.round == 2
    actions.decide(people["max"], step2, "approve")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.APPROVED


def test_someone_else_approving_is_refused_and_logged_outside_the_audit_trail(people, caplog):
    request = submitted(people["rita"])
    (step,) = pending(request)
    events = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        actions.decide(people["paula"], step, "approve")
    step.refresh_from_db()
    assert step.state == ApprovalStep.State.PENDING
    assert AuditEvent.objects.count() == events
    (line,) = [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]
    assert line.startswith("refused actor=paula action=approval.approve")
    assert f"object=approvalstep:{step.pk} status=403" in line


def test_requester_cannot_approve_own_request_even_holding_the_role(people):
    from gigbridge.people.actions import grant_role

    grant_role(people["rita"], "procurement")
    request = submitted(people["rita"], budget="6000")
    actions.decide(people["max"], pending(request)[0], "approve")
    (step,) = pending(request)
    assert step.role == "procurement"
    with pytest.raises(NotAllowed):
        actions.decide(people["rita"], step, "approve")
    assert not actions.inbox(people["rita"]).exists()


def test_a_delegate_decides_while_the_approver_is_away(people):
    set_delegation(people["max"], people["ada"], clock.today(), clock.today() + dt.timedelta(7))
    request = submitted(people["rita"])
    assert actions.inbox(people["ada"]).count() == 1
    actions.decide(people["ada"], pending(request)[0], "approve")
    step = request.steps.get()
    assert step.decided_by == people["ada"] and step.decided_on_behalf_of == people["max"]


def test_deciding_twice_is_a_conflict(people):
    request = submitted(people["rita"])
    step = pending(request)[0]
    actions.decide(people["max"], step, "approve")
    with pytest.raises(InvalidTransition):
        actions.decide(people["max"], step, "approve")


def test_reminders_then_escalation_on_the_clock(people, frozen_now):
    request = submitted(people["rita"])
    assert actions.send_reminders_and_escalations() == {"reminded": 0, "escalated": 0}
    frozen_now(days=2, minutes=1)
    assert actions.send_reminders_and_escalations() == {"reminded": 1, "escalated": 0}
    assert actions.send_reminders_and_escalations() == {"reminded": 0, "escalated": 0}
    frozen_now(days=3)
    assert actions.send_reminders_and_escalations() == {"reminded": 0, "escalated": 1}
    step = request.steps.get()
    assert step.escalated_to.username == "ada"  # max has no manager: the program admin
    actions.decide(people["ada"], step, "approve")
    request.refresh_from_db()
    assert request.state == WorkRequest.State.APPROVED


def test_withdraw_cancels_open_steps(people):
    request = submitted(people["rita"])
    actions.withdraw_request(people["rita"], request)
    request.refresh_from_db()
    assert request.state == WorkRequest.State.WITHDRAWN
    assert request.steps.get().state == ApprovalStep.State.CANCELLED
    with pytest.raises(InvalidTransition):
        actions.withdraw_request(people["rita"], request)


# --- policy checks on the request ---------------------------------------------------------


def problems_of(exc_info):
    return {(p.field, p.rule) for p in exc_info.value.problems}


def test_over_budget_names_the_cost_center_rule(people):
    submitted(people["rita"], cost_center="CC-OPS", budget="25000", task_category="content")
    with pytest.raises(RuleViolation) as exc:
        new_request(people["rita"], cost_center="CC-OPS", budget="6000", task_category="content")
    assert ("budget", "cost_centers.CC-OPS.annual_budget") in problems_of(exc)
    assert "5000.00 EUR left" in str(exc.value)


def test_tenure_dates_and_categories(people):
    start = clock.today() + dt.timedelta(days=3)
    with pytest.raises(RuleViolation) as exc:
        new_request(
            people["rita"],
            start_date=start.isoformat(),
            end_date=(start + dt.timedelta(days=200)).isoformat(),
            task_category="pottery",
            currency="USD",
        )
    assert problems_of(exc) == {
        ("end_date", "compliance.max_engagement_days"),
        ("task_category", "task_categories"),
        ("currency", "program.currency"),
    }
    with pytest.raises(RuleViolation) as exc:
        new_request(people["rita"], start_date="2020-01-01", end_date="2020-02-01")
    assert ("start_date", "") in problems_of(exc)


def test_direct_hire_blocked_country_and_cooling_off(people, policy):
    with pytest.raises(RuleViolation) as exc:
        new_request(
            people["rita"],
            sourcing="direct",
            freelancer_email="ivan@example.org",
            freelancer_country="KP",
        )
    assert ("freelancer_country", "compliance.blocked_countries") in problems_of(exc)

    first = submitted(
        people["rita"],
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    actions.decide(people["max"], pending(first)[0], "approve")
    with pytest.raises(RuleViolation) as exc:
        new_request(
            people["rita"],
            sourcing="direct",
            freelancer_email="freya@freelancers.example",
            freelancer_country="PT",
        )
    assert ("freelancer_email", "compliance.rehire_cooling_off_days") in problems_of(exc)


def test_budget_is_released_when_a_request_is_rejected(people):
    cc = CostCenter.objects.get(code="CC-OPS")
    request = submitted(
        people["rita"], cost_center="CC-OPS", budget="30000", task_category="content"
    )
    from gigbridge.engagements.compliance import committed
    from gigbridge.program.actions import current

    assert committed(cc, current()[1], request.start_date) == Decimal("30000")
    actions.decide(people["max"], pending(request)[0], "reject", "no")
    assert committed(cc, current()[1], request.start_date) == Decimal("0")


# --- engagements --------------------------------------------------------------------------


def approved_engagement(people, **overrides):
    request = submitted(people["rita"], **overrides)
    actions.decide(people["max"], pending(request)[0], "approve")
    return Engagement.objects.get(request=request)


def test_engagement_moves_only_along_legal_transitions(people):
    engagement = approved_engagement(
        people,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    with pytest.raises(NotAllowed):
        actions.transition_engagement(people["rita"], engagement, "contracted")
    with pytest.raises(InvalidTransition, match="can move to"):
        actions.transition_engagement(people["ada"], engagement, "closed")
    for state in ["contracted", "active", "offboarding", "closed"]:
        engagement = actions.transition_engagement(people["ada"], engagement, state)
    assert engagement.contract_start == engagement.request.start_date
    timeline = [e.action for e in actions.timeline(engagement)]
    assert timeline[:3] == ["request.created", "request.submitted", "request.in_approval"]
    assert timeline[-4:] == [
        "engagement.contracted",
        "engagement.active",
        "engagement.offboarding",
        "engagement.closed",
    ]


def test_contract_needs_the_required_agreements(people):
    engagement = approved_engagement(
        people,
        sourcing="direct",
        freelancer_email="omar@freelancers.example",
        freelancer_country="EG",
    )
    with pytest.raises(RuleViolation) as exc:
        actions.transition_engagement(people["ada"], engagement, "contracted")
    assert ("freelancer", "compliance.required_agreements") in problems_of(exc)
    assert "MSA" in str(exc.value)
    engagement.refresh_from_db()
    assert engagement.state == "sourcing"
