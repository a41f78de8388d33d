"""Hiring closes the job, and a contract ended early from Gigbridge ends everywhere: against the
sandbox marketplace (Upwork) and tenant (Graph), both clocks moving together, never sleeping.

On hire the job's other proposals are declined on the marketplace and the posting is closed.
Ended from Gigbridge, the contract ends on the marketplace, the engagement is offboarding at
once, the folder share's expiry is cut back to today + grace in the tenant, and when the grace
days are over every grant goes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.access.actions import reconcile
from gigbridge.access.workspaces import create_workspace
from gigbridge.audit.actions import verify
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import Engagement
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import ending, hired
from gigbridge.sourcing.models import ContractEnd, Sourcing

from .conftest import run_jobs
from .marketplace_story import (
    DAY,
    HOUR,
    Marketplace,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)
from .test_access import contracted_engagement, end_of_grace, move_clocks, share_expiry

pytestmark = [pytest.mark.django_db(transaction=True)]

PROPOSALS = """query($id: String!) { clientProposals(jobPostingId: $id, pagination: {first: 100})
  { edges { node { id status { status } job { canClientReceiveContractProposal } } } } }"""
CONTRACT = """query($id: String!) { contractDetails(id: $id) { status
  closingReason { apiRef reason } } }"""


def on_the_marketplace(market: Marketplace, job_posting_id: str) -> tuple[dict, bool]:
    """Each proposal's status by id, and whether the posting still takes proposals."""
    edges = market.graphql(PROPOSALS, {"id": job_posting_id})["clientProposals"]["edges"]
    statuses = {e["node"]["id"]: e["node"]["status"]["status"] for e in edges}
    open_posting = any(e["node"]["job"]["canClientReceiveContractProposal"] for e in edges)
    return statuses, open_posting


def test_hire_closes_the_job_and_an_early_end_ends_the_contract_and_access(
    graph, people, market, tenant_info
):
    workspace = create_workspace(people["ada"], "Ended early")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    assert workspace.ready and workspace.folder_id
    engagement = sourced_and_posted(people, market, workspace)
    job_posting_id = engagement.sourcing.job_posting_id
    proposals = proposals_arrive(market, engagement)
    assert len(proposals) >= 3
    chosen = good_proposal(engagement)
    freelancer = signed_freelancer(chosen)
    marketplace.pick(people["rita"], chosen, amount=Decimal("3000.00"))
    run_jobs(marketplace.OFFER_JOB)
    market.advance(7 * HOUR)  # the freelancer accepts
    assert pass_of_sync(market)["contracted"] == 1
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    contract_id = engagement.sourcing.contract_id

    # Hired: the other proposals are declined on the marketplace, the posting closes, and
    # Microsoft 365 access starts (the folder share until the planned end + grace).
    assert OutboxJob.objects.filter(kind=hired.DECLINE_OTHERS_JOB).count() == 1
    run_jobs()
    statuses, open_posting = on_the_marketplace(market, job_posting_id)
    others = {pid: s for pid, s in statuses.items() if pid != chosen.upwork_id}
    assert others and set(others.values()) == {"DECLINED"}, statuses
    assert statuses[chosen.upwork_id] == "HIRED"
    assert open_posting is False
    assert Sourcing.objects.get(engagement=engagement).posting_state == Sourcing.Posting.CLOSED
    rows = dict(engagement.proposals.values_list("upwork_id", "state"))
    assert {rows[pid] for pid in others} == {"DECLINED"}
    summary = AuditEvent.objects.get(action="marketplace.others_declined")
    assert summary.after["declined"] == len(others) and summary.after["posting_closed"] is True
    planned_end = engagement.contract_end
    share = engagement.grants.get(kind="folder_share", state="applied")
    assert share_expiry(graph, workspace, share) == end_of_grace(planned_end)
    guest = graph.find_user_by_mail(freelancer.email)
    assert guest is not None

    # Two days on, the hiring manager ends the contract: offboarding at once.
    market.advance(2 * DAY)
    ended_on = clock.today()
    assert ended_on < planned_end
    ended = ending.end_contract(people["rita"], engagement, "project_cancelled", "Thank you!")
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFBOARDING
    assert engagement.contract_end == ended_on
    run_jobs()  # ends it on the marketplace; the access pass cuts the share back

    contract = market.graphql(CONTRACT, {"id": contract_id})["contractDetails"]
    assert contract["status"] == "ENDED"
    assert contract["closingReason"] == {
        "apiRef": "CLIENT",
        "reason": ending.REASONS["project_cancelled"].reason_ref,
    }
    ended.refresh_from_db()
    assert ended.marketplace_state == ContractEnd.Marketplace.ENDED
    assert share_expiry(graph, workspace, share) == end_of_grace(ended_on)
    assert AuditEvent.objects.filter(action="access.folder_share.shortened").exists()

    # The marketplace's own report of the end changes nothing: no second offboarding.
    market.advance(HOUR)
    assert pass_of_sync(market)["ended"] == 0
    assert AuditEvent.objects.filter(action="engagement.offboarding").count() == 1

    # Grace: still there on its last day, gone after it (both clocks move).
    market.advance(3 * DAY)
    assert clock.today() == ended_on + dt.timedelta(days=3)
    reconcile(engagement.pk)
    assert engagement.grants.filter(kind="folder_share", state="applied").exists()
    market.advance(DAY)
    reconcile(engagement.pk)
    assert share_expiry(graph, workspace, share) is None
    assert not (
        engagement.grants.filter(state="applied")
        .exclude(kind__in=["welcome_mail", "manager_note"])
        .exists()
    )
    assert graph.find_user_by_mail(freelancer.email) is None
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CLOSED
    assert verify().ok


def test_a_direct_hire_ended_through_the_api_cuts_access_without_any_marketplace(
    graph, people, tenant_info, api
):
    workspace = create_workspace(people["ada"], "Direct end")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    engagement = contracted_engagement(people, workspace)
    run_jobs()
    share = engagement.grants.get(kind="folder_share", state="applied")
    planned_end = engagement.contract_end
    assert share_expiry(graph, workspace, share) == end_of_grace(planned_end)

    move_clocks(tenant_info, days=5)
    response = api("rita").post(
        f"/api/v1/engagements/{engagement.pk}/end",
        {"reason": "work_completed", "feedback": "Lovely work"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["contract_id"] == ""
    assert not OutboxJob.objects.filter(kind=ending.END_JOB).exists()
    run_jobs()
    assert share_expiry(graph, workspace, share) == end_of_grace(clock.today())
    move_clocks(tenant_info, days=4)
    reconcile(engagement.pk)
    assert share_expiry(graph, workspace, share) is None
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CLOSED
