"""Approvals decided from the Teams card: the buttons of ``cards.approval_card`` come here
(``adaptiveCard/action`` invokes, answered with the card the clicker sees now). The decision
goes through ``engagements.actions.decide`` exactly as from the web or a mail link: only an
eligible approver (or their delegate), once, a comment to reject or ask for changes; the
audit event says ``via: "teams card"``. Registered from ``NotificationsConfig.ready``."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from gigbridge import securitylog
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.engagements import actions as engagements
from gigbridge.engagements.models import ApprovalStep, WorkRequest
from gigbridge.integrations.teams import inbound
from gigbridge.people import capabilities

from . import cards

log = logging.getLogger(__name__)

DECISIONS = {verb: decision for decision, verb in cards.VERBS.items()}
LABELS = {
    ApprovalStep.State.APPROVED: "Approved",
    ApprovalStep.State.REJECTED: "Rejected",
    ApprovalStep.State.CHANGES_REQUESTED: "Changes requested",
}
CANCEL_REASONS = {
    WorkRequest.State.WITHDRAWN: "The requester withdrew the request.",
    WorkRequest.State.REJECTED: "Another approver rejected the request.",
    WorkRequest.State.DRAFT: "Another approver asked for changes; the request is back in draft.",
}


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"


def outcome(step: ApprovalStep) -> dict:
    if step.state == ApprovalStep.State.CANCELLED:
        return {
            "state": "cancelled",
            "reason": CANCEL_REASONS.get(step.request.state, "This approval was cancelled."),
        }
    return {
        "state": step.state,
        "label": LABELS.get(step.state, step.get_state_display()),
        "by": _name(step.decided_by),
        "on_behalf_of": _name(step.decided_on_behalf_of) if step.decided_on_behalf_of else "",
        "at": step.decided_at.isoformat() if step.decided_at else "",
        "comment": step.comment,
    }


def step_card(step: ApprovalStep, template: str = "approval_request") -> dict:
    """The card for ``step`` as it stands: the buttons while pending, the outcome after."""
    step = ApprovalStep.objects.select_related(
        "request", "request__requester", "decided_by", "decided_on_behalf_of"
    ).get(pk=step.pk)
    context = engagements.approval_context(step)
    if step.state == ApprovalStep.State.PENDING:
        return cards.approval_card(context, template)
    return cards.closed_approval_card(context, outcome(step))


def _subject_step(subject: str) -> ApprovalStep | None:
    kind, _, pk = subject.partition(":")
    if kind != "step" or not pk.isdigit():
        return None
    return ApprovalStep.objects.filter(pk=int(pk)).first()


def subject_open(subject: str) -> bool:
    """What a card about ``subject`` asks is still to be decided."""
    step = _subject_step(subject)
    return step is not None and step.state == ApprovalStep.State.PENDING


def subject_card(subject: str, template: str = "approval_request") -> dict | None:
    """The card now due for a card's ``subject`` (``"step:<id>"``); None for no such thing."""
    step = _subject_step(subject)
    return step_card(step, template) if step else None


def _user_for(sender: inbound.Sender):
    if not sender.email:
        return None
    users = list(get_user_model().objects.filter(email__iexact=sender.email, is_active=True)[:2])
    return users[0] if len(users) == 1 else None


@inbound.on_card_action("approval.")
def decide_from_card(action: inbound.CardAction) -> dict:
    decision = DECISIONS.get(action.verb)
    if decision is None:
        return cards.error_card("Gigbridge does not know this button.")
    user = _user_for(action.sender)
    if user is None:
        securitylog.refused(
            f"teams:{action.sender.aad_object_id or '-'}",
            action.verb,
            f"approvalstep:{action.data.get('step')}",
            reason="no active Gigbridge user has this Teams user's mail address",
        )
        return cards.error_card(
            "Gigbridge does not know you.",
            "No active Gigbridge account has your mail address, so nothing was decided. "
            "Ask the program manager to add you.",
        )
    try:
        step_id = int(action.data.get("step"))
    except (TypeError, ValueError):
        step_id = 0
    step = ApprovalStep.objects.select_related("request").filter(pk=step_id).first()
    if step is None:
        return cards.error_card("This approval no longer exists.")
    allowed, _ = engagements.may_decide(user, step)
    if not allowed and step.decided_by_id != user.pk:
        capabilities.deny(
            user, f"approval.{decision}", step, "you are not an approver of this step"
        )
        return cards.error_card(
            "You cannot decide this approval.",
            "You are not an approver of this step (nor their delegate); nothing was changed.",
        )
    if step.state != ApprovalStep.State.PENDING:
        return step_card(step)  # clicked twice, or decided elsewhere: show who decided and when
    comment = str(action.inputs.get("comment") or action.data.get("comment") or "")
    try:
        engagements.decide(user, step, decision, comment, via="teams card")
    except RuleViolation as exc:
        message = "; ".join(p.message for p in exc.problems)
        context = engagements.approval_context(step)
        if any(p.field == "comment" for p in exc.problems):
            return cards.approval_card(context, comment_error=message, comment=comment)
        return cards.card(
            [cards.text(f"Not decided: {message}", color="Attention", weight="Bolder")]
            + cards.approval_card(context, comment=comment)["body"]
        )
    except InvalidTransition:
        pass  # decided by someone else a moment ago: the card shows it
    except NotAllowed:
        return cards.error_card("You cannot decide this approval.", "Nothing was changed.")
    log.info("approval step %s: %s from a Teams card by user %s", step.pk, decision, user.pk)
    return step_card(step)
