"""Outbox handlers of the marketplace side: each calls Upwork, check-then-act."""

from gigbridge.jobs.registry import handler

from . import actions as marketplace
from . import ending, hired, milestones, sync


@handler(marketplace.POST_JOB)
def post_job_job(payload: dict) -> None:
    marketplace.run_post_job(payload["engagement_id"])


@handler(marketplace.SHORTLIST_JOB)
def shortlist_job(payload: dict) -> None:
    marketplace.run_shortlist(payload["proposal_id"])


@handler(marketplace.OFFER_JOB)
def send_offer_job(payload: dict) -> None:
    marketplace.run_send_offer(payload["offer_id"])


@handler(marketplace.INVITE_JOB)
def invite_job(payload: dict) -> None:
    marketplace.run_invite(payload)


@handler(sync.SYNC_JOB)
def sync_job(payload: dict) -> None:
    sync.sync_organization(payload["organization_id"])


@handler(ending.END_JOB)
def end_contract_job(payload: dict) -> None:
    ending.run_end_contract(payload["engagement_id"])


@handler(hired.DECLINE_OTHERS_JOB)
def decline_others_job(payload: dict) -> None:
    hired.run_decline_others(payload["engagement_id"])


@handler(milestones.DECISION_JOB)
def milestone_decision_job(payload: dict) -> None:
    milestones.run_decision(payload["decision_id"])
