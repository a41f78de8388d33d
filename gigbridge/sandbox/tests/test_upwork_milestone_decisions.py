"""Upwork emulator: the client's decisions on milestones with the inputs types.ts documents.

``rejectSubmittedMilestone`` takes exactly ``RejectMilestoneSubmissionInput`` {id (the
submission's), noteToContractor, attachments}: the milestone is active again and the simulated
freelancer submits anew later. ``approveMilestone`` takes ``ApproveMilestoneInput`` {id,
paidAmount in cents, paymentComment, ...} and never pays more than the escrow;
``activateMilestone`` takes ``ActivateMilestoneInput`` {id, message}.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .upwork_support import (
    CONTRACT,
    CREATE_OFFER,
    RESET,
    TRANSACTIONS,
    Upwork,
    advance,
    app_token,
    every_transaction,
    offer_request,
    set_dials,
    tool,
)

DAY = 24 * 3600
ANA = "1300000000000000001"  # submits a funded milestone two days later

OFFER_MILESTONES = """query Offer($id: String!) { offer(id: $id) { milestones { id state
  submissionCount submissionEvents { submission { id createdDateTime sequenceId }
  submissionMessage { message } } } } }"""
REJECT = """mutation RejectSubmittedMilestone($input: RejectMilestoneSubmissionInput) {
  rejectSubmittedMilestone(input: $input) { response } }"""
APPROVE = """mutation ApproveMilestone($input: ApproveMilestoneInput!) {
  approveMilestone(input: $input) { id state payComments } }"""
ACTIVATE = """mutation ActivateMilestone($input: ActivateMilestoneInput) {
  activateMilestone(input: $input) { id state } }"""


@pytest.fixture(autouse=True)
def unthrottled(http, info):
    set_dials(http, info, throttle=None)
    yield
    set_dials(http, info, **RESET)


@pytest.fixture
def api(http, info):
    return Upwork(http, info, app_token(http, info))


def errors_of(api, query: str, variables: dict) -> str:
    response = api.post(query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors"), body
    return " ".join(e["message"] for e in body["errors"])


def _offer(api, http, info) -> tuple[str, str]:
    made = api.data(
        CREATE_OFFER,
        {
            "offerInput": offer_request(
                api.info["upwork"]["default_tenant_id"],
                ANA,
                "Brand refresh",
                milestones=[("Logo", "300.00"), ("Brand guide", "700.00")],
            )
        },
    )["createOffer"]["offer"]
    contract = tool(http, info, "act", {"action": "accept_offer", "offerId": made["id"]})
    return made["id"], contract["contractId"]


def _milestones(api, offer_id: str) -> list[dict]:
    return api.data(OFFER_MILESTONES, {"id": offer_id})["offer"]["milestones"]


def test_changes_asked_with_the_documented_input_send_the_work_back(api, http, info):
    offer_id, contract_id = _offer(api, http, info)
    advance(http, info, 3 * DAY)  # the first milestone is funded on acceptance, submitted 2 days on
    logo, guide = _milestones(api, offer_id)
    assert logo["state"] == "SUBMITTED" and logo["submissionCount"] == 1
    [event] = logo["submissionEvents"]
    submission = event["submission"]["id"]
    assert submission != logo["id"] and event["submissionMessage"]["message"]

    # Only the documented fields, by their documented names.
    note = "The logo needs more contrast."
    undocumented = {"milestoneId": logo["id"], "noteToContractor": note, "attachments": []}
    assert "'RejectMilestoneSubmissionInput' not to include unknown field 'milestoneId'" in (
        errors_of(api, REJECT, {"input": undocumented})
    )
    assert "not found" in errors_of(  # a milestone's id is not a submission's
        api, REJECT, {"input": {"id": logo["id"], "noteToContractor": note, "attachments": []}}
    )
    answer = api.data(
        REJECT, {"input": {"id": submission, "noteToContractor": note, "attachments": []}}
    )
    assert answer == {"rejectSubmittedMilestone": {"response": True}}
    states = api.data(CONTRACT, {"id": contract_id})["contractDetails"]["offer"]["milestones"]
    assert [m["state"] for m in states] == ["ACTIVE", "NOT_FUNDED"]
    # The same submission cannot be sent back twice; paying is still possible later.
    assert "not the pending submission" in errors_of(
        api, REJECT, {"input": {"id": submission, "noteToContractor": note, "attachments": []}}
    )

    # The freelancer works on it and submits again (as long after as after funding).
    advance(http, info, 3 * DAY)
    logo, _ = _milestones(api, offer_id)
    assert logo["state"] == "SUBMITTED" and logo["submissionCount"] == 2
    assert [e["submission"]["sequenceId"] for e in logo["submissionEvents"]] == [1, 2]
    assert logo["submissionEvents"][1]["submission"]["id"] != submission
    assert guide["state"] == "NOT_FUNDED"


def test_approving_pays_cents_within_the_escrow_and_funding_takes_the_id(api, http, info):
    offer_id, contract_id = _offer(api, http, info)
    advance(http, info, 3 * DAY)
    logo, guide = _milestones(api, offer_id)

    too_much = {"id": logo["id"], "paidAmount": "30001", "paymentComment": "Thanks"}
    assert "more than the milestone's escrow" in errors_of(api, APPROVE, {"input": too_much})
    assert "whole cents" in errors_of(
        api, APPROVE, {"input": {"id": logo["id"], "paidAmount": "250.00"}}
    )
    assert "unknown field 'milestoneId'" in errors_of(
        api, APPROVE, {"input": {"id": logo["id"], "paidAmount": "100", "milestoneId": "1"}}
    )
    assert "paidAmount" in errors_of(api, APPROVE, {"input": {"id": logo["id"]}})
    part = {"id": logo["id"], "paidAmount": "25000", "paymentComment": "Thanks",
            "noteToContractor": "Half the icons were not needed."}  # fmt: skip
    paid = api.data(APPROVE, {"input": part})["approveMilestone"]
    assert paid == {"id": logo["id"], "state": "PAID", "payComments": "Thanks"}
    rows = api.data(TRANSACTIONS, {"transactionHistoryFilter": every_transaction(api)})[
        "transactionHistory"
    ]["transactionDetail"]["transactionHistoryRow"]
    [at] = [i for i, r in enumerate(rows) if str(r["relatedAssignment"]) == contract_id]
    assert rows[at]["type"] == "Fixed Price"
    balances = [Decimal("0")] + [Decimal(r["runningChargeableBalance"]["rawValue"]) for r in rows]
    assert balances[at + 1] - balances[at] == Decimal("250.00")  # the row's own amount

    funded = api.data(ACTIVATE, {"input": {"id": guide["id"], "message": "Go ahead."}})
    assert funded == {"activateMilestone": {"id": guide["id"], "state": "ACTIVE"}}
    assert "not NOT_FUNDED" in errors_of(api, ACTIVATE, {"input": {"id": guide["id"]}})
