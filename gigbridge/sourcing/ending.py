"""Ending a contract from Gigbridge, before or on its planned day.

The hiring manager (the request's requester) or a program admin ends a contracted or active
engagement with a reason and, optionally, feedback for the freelancer. In one transaction the
end is recorded (``ContractEnd``: who, why, the feedback), the engagement moves to offboarding
(``actions.transition_engagement``: the contract's end becomes today and the access reconciler
cuts every share's expiry back to today + grace) and one audit event says so. A marketplace
engagement (a Sourcing with a contract id) also queues an outbox job that ends the contract on
Upwork; a direct hire has no marketplace contract and nothing is sent.

The job is check-then-act: a contract Upwork already shows as ended is not ended again. Errors
Upwork may get over (429, 5xx) are retried by the outbox; a refusal is kept on the record and
shown on the engagement page, and the engagement stays offboarding: the program decided that the
work ended. The sync reads only live engagements' contracts, and ``sync._follow_contract`` moves
only contracted or active ones, so the ENDED status it may see later changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation
from gigbridge.engagements import permissions
from gigbridge.engagements.actions import transition_engagement
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.models import OutboxJob
from gigbridge.people import capabilities

from .models import ContractEnd, Sourcing

END_JOB = "engagements.end_contract"
ENDABLE = (Engagement.State.CONTRACTED, Engagement.State.ACTIVE)


@dataclass(frozen=True)
class Reason:
    label: str  # what people read (the form, the timeline)
    reason_ref: str  # EndContractInput.reasonRef sent to Upwork


# Why a contract ends: our codes, their labels and the Upwork reason each one is sent as.
#
# Assumed (the reference is silent): EndContractInput.reasonRef takes "a contract end reason ID"
# from Query.reasons(reasonType: CONTRACT_END_FIXED | CONTRACT_END_HOURLY), but the scrape holds
# neither the ReasonType values nor the reasons themselves. We assume the same reasons serve
# fixed-price and hourly contracts and that they are the codes Upwork's earlier REST API took
# for ending a contract (and that ContractDetails.closingReason.apiRef shows). That list has no
# reason for a spent budget, a poor fit or a cancelled project: those go as "work not needed".
# Before going live, compare with reasons(...) on a real key; this table is the one place to
# change.
REASONS: dict[str, Reason] = {
    "work_completed": Reason("work completed", "API_REAS_JOB_COMPLETED_SUCCESSFULLY"),
    "budget_exhausted": Reason("budget exhausted", "API_REAS_WORK_NOT_NEEDED"),
    "not_a_good_fit": Reason("not a good fit", "API_REAS_WORK_NOT_NEEDED"),
    "freelancer_unresponsive": Reason(
        "freelancer not responsive", "API_REAS_CONTRACTOR_NOT_RESPONSIVE"
    ),
    "project_cancelled": Reason("project cancelled", "API_REAS_WORK_NOT_NEEDED"),
    "other": Reason("other", "API_REAS_WORK_NOT_NEEDED"),
}
# What the feedback for the freelancer may be (the API schema and the web form use the same).
END_FIELDS = {"feedback": limits.Comment}


def choices() -> list[tuple[str, str]]:
    return [(code, reason.label) for code, reason in REASONS.items()]


def may_end(user, engagement: Engagement) -> bool:
    """Whether ``user`` may end the engagement's contract now (the page shows the form)."""
    return engagement.state in ENDABLE and permissions.may_run_engagement(user, engagement)


def is_marketplace(engagement: Engagement) -> bool:
    """A contract on Upwork: the engagement's sourcing names one."""
    return Sourcing.objects.filter(engagement=engagement).exclude(contract_id="").exists()


def end_contract(user, engagement: Engagement, reason: str, feedback: str = "") -> ContractEnd:
    """End the contract now (see the module docstring). Refused with NotAllowed for anyone but
    the hiring manager or a program admin, RuleViolation for an unknown reason or feedback out
    of bounds, InvalidTransition unless the engagement is contracted or active."""
    engagement = Engagement.objects.select_related("request").get(pk=engagement.pk)
    if not permissions.may_run_engagement(user, engagement):
        raise capabilities.deny(
            user,
            "engagement.end",
            engagement,
            "only the hiring manager or a program admin can end the contract",
        )
    reason = (reason or "").strip()
    feedback = (feedback or "").strip()
    problems = []
    if reason not in REASONS:
        problems.append(Problem("reason", "choose one of: " + ", ".join(REASONS)))
    problems += [Problem(f, m) for f, m in limits.violations({"feedback": feedback}, END_FIELDS)]
    if problems:
        raise RuleViolation(problems)
    return _end(user, engagement.pk, reason, feedback)


@transaction.atomic
def _end(user, engagement_id: int, reason: str, feedback: str) -> ContractEnd:
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("request")
        .get(pk=engagement_id)
    )
    earlier = ContractEnd.objects.filter(engagement=engagement).select_related("ended_by").first()
    if earlier is not None:
        who = earlier.ended_by.get_full_name() or earlier.ended_by.get_username()
        raise InvalidTransition(
            f"the contract of {engagement.reference} was already ended on "
            f"{earlier.ended_on.isoformat()} by {who}"
        )
    if engagement.state not in ENDABLE:
        raise InvalidTransition(
            f"{engagement.reference} is {engagement.state}: only a contracted or active "
            "engagement's contract can be ended"
        )
    label = REASONS[reason].label
    sourcing = Sourcing.objects.filter(engagement=engagement).exclude(contract_id="").first()
    if engagement.state == Engagement.State.CONTRACTED:
        # The lifecycle reaches offboarding through active (as when Upwork reports the end).
        engagement = transition_engagement(
            None, engagement, Engagement.State.ACTIVE, reason="the contract is being ended"
        )
    name = user.get_full_name() or user.get_username()
    engagement = transition_engagement(
        None,
        engagement,
        Engagement.State.OFFBOARDING,
        reason=f"contract ended by {name} ({label})",
    )
    now = clock.now()
    ending = ContractEnd.objects.create(
        engagement=engagement,
        ended_by=user,
        reason=reason,
        feedback=feedback,
        ended_on=clock.today(),
        ended_at=now,
        marketplace_state=ContractEnd.Marketplace.QUEUED
        if sourcing
        else ContractEnd.Marketplace.NONE,
    )
    if sourcing is not None:
        jobs.enqueue(END_JOB, {"engagement_id": engagement.pk}, key=f"{END_JOB}:{engagement.pk}")
    record(
        user=user,
        action="engagement.contract_ended",
        obj=engagement,
        after={
            "ending_reason": label,
            "reason_code": reason,
            "feedback": limits.audit_value(feedback),
            "upwork_contract": sourcing.contract_id if sourcing else None,
            "contract_end": engagement.contract_end.isoformat()
            if engagement.contract_end
            else None,
        },
    )
    return ending


# --- the outbox job ------------------------------------------------------------------------


def run_end_contract(engagement_id: int) -> str:
    """End the contract on Upwork, once."""
    from gigbridge.integrations.upwork import connection

    ending = ContractEnd.objects.select_related("engagement").get(engagement_id=engagement_id)
    if ending.marketplace_state != ContractEnd.Marketplace.QUEUED:
        return "done before"
    sourcing = Sourcing.objects.get(engagement_id=engagement_id)
    client = connection.client(sourcing.organization_id or None)
    # Check-then-act: an earlier attempt whose answer was lost, or the freelancer who ended it
    # first, shows as an ended contract.
    contract = ops.contract_details(client, sourcing.contract_id)
    if contract is not None and (contract.status or "").upper() == "ENDED":
        _ended(ending, sourcing, before=True)
        return "ended before"
    try:
        ops.end_contract(
            client,
            sourcing.contract_id,
            reason_ref=REASONS[ending.reason].reason_ref,
            feedback=ending.feedback or None,
        )
    except PermanentUpworkError as error:
        _failed(ending, sourcing, str(error))
        raise
    _ended(ending, sourcing, before=False)
    return "ended"


@transaction.atomic
def _ended(ending: ContractEnd, sourcing: Sourcing, before: bool) -> None:
    updated = ContractEnd.objects.filter(
        pk=ending.pk, marketplace_state=ContractEnd.Marketplace.QUEUED
    ).update(marketplace_state=ContractEnd.Marketplace.ENDED, marketplace_error="")
    Sourcing.objects.filter(pk=sourcing.pk).update(contract_status="ENDED", updated_at=clock.now())
    if updated:
        record(
            user=None,
            actor="upwork",
            action="marketplace.contract_ended",
            obj=ending.engagement,
            after={"contract": sourcing.contract_id, "ended_before": before},
        )


@transaction.atomic
def _failed(ending: ContractEnd, sourcing: Sourcing, error: str) -> None:
    ContractEnd.objects.filter(pk=ending.pk).update(
        marketplace_state=ContractEnd.Marketplace.FAILED, marketplace_error=error[:500]
    )
    record(
        user=None,
        actor="upwork",
        action="marketplace.contract_end_failed",
        obj=ending.engagement,
        after={"contract": sourcing.contract_id, "error": error[:500]},
    )


# --- the engagement page -------------------------------------------------------------------


def page_context(user, engagement: Engagement) -> dict:
    """What engagements/_end_contract.html needs."""
    ending = ContractEnd.objects.filter(engagement=engagement).select_related("ended_by").first()
    gave_up = ""
    if ending is not None and ending.marketplace_state == ContractEnd.Marketplace.QUEUED:
        # Retried until the outbox gave up (Upwork down for hours, the connection lost): say so.
        job = OutboxJob.objects.filter(
            idempotency_key=f"{END_JOB}:{engagement.pk}", state=OutboxJob.State.DEAD
        ).first()
        gave_up = (job.last_error or "no answer")[:500] if job else ""
    return {
        "ending": ending,
        "ending_gave_up": gave_up,
        "ending_label": REASONS[ending.reason].label if ending and ending.reason in REASONS else "",
        "may_end": ending is None and may_end(user, engagement),
        "end_reasons": choices(),
        "feedback_max": limits.COMMENT_MAX,
    }
