"""Upwork emulator inputs: the connector's names and the sandbox's first guesses both work, Money
objects and plain numbers both count, and anything else is an error naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gigbridge.sandbox.upwork.executor import UpworkError
from gigbridge.sandbox.upwork.inputs import either, money

from .upwork_support import (
    CONTRACT_ROOM,
    CREATE_JOB,
    CREATE_OFFER,
    OFFER_ROOM,
    RESET,
    ROOM_LIST,
    STORIES,
    Upwork,
    advance,
    app_token,
    hourly_job,
    offer_request,
    set_dials,
    tool,
)

HOUR = 3600
ANA = "1300000000000000001"
MILESTONE = """mutation CreateMilestoneV2($input: CreateMilestoneInput!) {
  createMilestoneV2(input: $input) { id dueDateTime currentEscrowAmount { rawValue } } }"""
APPROVE = """mutation ApproveMilestone($input: ApproveMilestoneInput!) {
  approveMilestone(input: $input) { id state payComments } }"""
DECLINE = """mutation DeclineClientProposal($r: ClientProposalDeclineRequest) {
  declineClientProposal(clientProposalDeclineRequest: $r) { proposal { status { status } } } }"""


# -- the checks themselves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [{"rawValue": "12.50", "currency": "USD"}, {"rawValue": 12.5}, {"amount": "12.5"}, "12.50",
     12.5, {"rawValue": "12.50", "currency": "usd", "displayValue": "$12.50"}],
)  # fmt: skip
def test_money_objects_and_plain_numbers(value):
    assert money(value, "T.amount") == Decimal("12.5")


@pytest.mark.parametrize(
    ("value", "named"),
    [({"rawValue": "1", "cents": 5}, '"cents"'), ({"rawValue": "1", "currency": "EUR"}, "USD"),
     ({"currency": "USD"}, "T.amount.rawValue"), (True, "T.amount"), ("ten", "T.amount"),
     ({"rawValue": "1", "amount": "1"}, "alternatives"), ("NaN", "T.amount")],
)  # fmt: skip
def test_bad_money_names_the_field(value, named):
    with pytest.raises(UpworkError) as raised:
        money(value, "T.amount")
    assert named in raised.value.message


def test_either_takes_one_name_of_two():
    assert either({"a": None, "b": 2}, "T", "a", "b") == 2
    assert either({"a": None, "b": None}, "T", "a", "b") is None
    with pytest.raises(UpworkError, match='"T.a" and "T.b" are alternatives'):
        either({"a": 1, "b": 2}, "T", "a", "b")
    with pytest.raises(UpworkError, match='"T.a" or "T.b"'):
        either({}, "T", "a", "b", required=True)


# -- over the network ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def unthrottled(http, info):
    set_dials(http, info, throttle=None)
    yield
    set_dials(http, info, **RESET)


@pytest.fixture
def api(http, info):
    return Upwork(http, info, app_token(http, info))


def errors_of(api, query, variables) -> str:
    body = api.post(query, variables).json()
    assert body.get("errors"), body
    return "\n".join(error["message"] for error in body["errors"])


def test_job_posting_as_documented(api, info):
    """JobPostingCreateRequest {organizationId!, jobPostingInfo, sandsJobPost, ...}: every
    documented field is accepted, the flat names of before are refused, the organization must
    be the request's, and closing is jobPostingInfo.status of an update."""
    org = info["upwork"]["default_tenant_id"]
    job = hourly_job(org, type="FIXED_PRICE", hourlyBudgetMin=None, hourlyBudgetMax=None,
                     amount="1500.00", startDate="2031-01-05", endDate="2031-02-05",
                     categoryId="531770282580668418", access="INVITE_ONLY")  # fmt: skip
    job["jobPostingInfo"] = {k: v for k, v in job["jobPostingInfo"].items() if v is not None}
    documented = {**job, "questions": [], "segmentationData": [], "attachmentIds": [],
                  "enterpriseCustomFields": [], "invitePost": False}  # fmt: skip
    job_id = api.data(CREATE_JOB, {"jobPostingRequest": documented})["createJobPosting"]["id"]
    backwards = {**job, "jobPostingInfo": {**job["jobPostingInfo"], "endDate": "2030-12-31"}}
    assert "endDate" in errors_of(api, CREATE_JOB, {"jobPostingRequest": backwards})
    for flat in ({"title": "Flat"}, {"budget": {"rawValue": "1.00"}}, {"skills": ["Python"]}):
        message = errors_of(api, CREATE_JOB, {"jobPostingRequest": {**job, **flat}})
        assert f"'JobPostingCreateRequest' not to include unknown field '{next(iter(flat))}'" in (
            message
        )
    nested = {**job, "jobPostingInfo": {**job["jobPostingInfo"], "contractType": "HOURLY"}}
    assert "JobPostingRequestInfo" in errors_of(api, CREATE_JOB, {"jobPostingRequest": nested})
    missing = {k: v for k, v in job.items() if k != "organizationId"}
    assert "organizationId" in errors_of(api, CREATE_JOB, {"jobPostingRequest": missing})
    other = {**job, "organizationId": info["upwork"]["tenant_ids"][1]}
    assert "no access" in errors_of(api, CREATE_JOB, {"jobPostingRequest": other})
    untyped = {**job, "jobPostingInfo": {**job["jobPostingInfo"], "type": "FIXED"}}
    assert "'FIXED' does not exist in 'JobPostType' enum" in errors_of(
        api, CREATE_JOB, {"jobPostingRequest": untyped}
    )
    update = """mutation UpdateJobPosting($id: String!, $r: JobPostingUpdateRequest!) {
      updateJobPosting(id: $id, jobPostingRequest: $r) { id version } }"""
    closed = api.data(
        update, {"id": job_id, "r": {"organizationId": org, "jobPostingInfo": {"status": "CLOSED"}}}
    )
    assert closed["updateJobPosting"]["version"] == 2
    flat_close = {"organizationId": org, "status": "CLOSED"}
    assert "unknown field 'status'" in errors_of(api, update, {"id": job_id, "r": flat_close})


def test_offer_as_documented_and_its_errors(api, http, info):
    """CreationOfferInput as the reference documents it (MoneyInput in cents, vendorUser,
    metadata, deliveryModel); the names of before are refused."""
    org = info["upwork"]["default_tenant_id"]
    hourly = offer_request(org, ANA, "Terms", rate="85.50", weekly=10,
                           contractStartDateTime="2031-01-05T09:00:00Z")  # fmt: skip
    hourly["hourlyRateTerms"]["manualTimeAllowed"] = True
    documented = {**hourly, "attachments": [], "idempotencyKey": "k-1", "closeOnAccept": False}
    made = api.data(CREATE_OFFER, {"offerInput": documented})["createOffer"]["offer"]
    assert made["vendorUserId"] == ANA and made["hourlyRateTerms"]["rate"]["rawValue"] == "85.50"
    assert made["hourlyRateTerms"]["weeklyHoursLimit"] == 10

    def refused(**changes) -> str:
        return errors_of(api, CREATE_OFFER, {"offerInput": {**hourly, **changes}})

    for old in ("contractType", "vendorUserId", "clientProposalId", "hourlyRate",
                "messageToContractor"):  # fmt: skip
        assert f"'CreationOfferInput' not to include unknown field '{old}'" in refused(**{old: "x"})
    terms = hourly["hourlyRateTerms"]
    assert "'rate'" in refused(hourlyRateTerms={**terms, "rate": 85})
    assert "whole cents" in refused(hourlyRateTerms={**terms, "vendorRate": {
        "amount": "85.50", "currency": "USD"}})  # fmt: skip
    assert "weeklyLimit" in refused(hourlyRateTerms={**terms, "weeklyLimit": "ten"})
    assert "not milestoneTerms" in refused(
        milestoneTerms={"budget": {"amount": "1", "currency": "USD"}}
    )
    assert "contractEndDateTime" in refused(contractEndDateTime="2030-01-01T00:00:00Z")
    assert "'RETAINER' does not exist in 'CreateOfferDeliveryModelInput'" in refused(
        deliveryModel="RETAINER"
    )
    assert "MARKETPLACE" in refused(kind="ENTERPRISE")
    assert "no access" in refused(clientTeamId=info["upwork"]["tenant_ids"][1])
    assert "teamId" in refused(vendorUser={"userId": ANA, "teamId": org})
    assert "sourceId" in refused(metadata={"sourceType": "Direct", "sourceId": "1"})
    assert "vendorUser" in errors_of(api, CREATE_OFFER, {"offerInput": {
        k: v for k, v in hourly.items() if k != "vendorUser"}})  # fmt: skip

    fixed = offer_request(org, ANA, "Milestones",
                          milestones=[("One", "100.00", "2031-01-31"), ("Two", 50)])  # fmt: skip
    made = api.data(CREATE_OFFER, {"offerInput": fixed})["createOffer"]["offer"]
    assert [m["description"] for m in made["milestoneTerms"]["milestones"]] == ["One", "Two"]
    terms = fixed["milestoneTerms"]
    wrong_sum = {**terms, "budget": {"amount": "100", "currency": "USD"}}
    assert "not the sum" in errors_of(api, CREATE_OFFER, {"offerInput": {
        **fixed, "milestoneTerms": wrong_sum}})  # fmt: skip
    zero = {
        **terms,
        "milestoneList": [{"description": "Z", "amount": {"amount": "0", "currency": "USD"}}],
    }
    assert "milestoneList[0].amount" in errors_of(api, CREATE_OFFER, {"offerInput": {
        **fixed, "milestoneTerms": zero}})  # fmt: skip
    old_list = {**terms, "milestones": terms["milestoneList"]}
    assert "unknown field 'milestones'" in errors_of(api, CREATE_OFFER, {"offerInput": {
        **fixed, "milestoneTerms": old_list}})  # fmt: skip
    hourly_terms = {**fixed, "hourlyRateTerms": hourly["hourlyRateTerms"]}
    assert "not hourly terms" in errors_of(api, CREATE_OFFER, {"offerInput": hourly_terms})

    contract_id = tool(http, info, "act", {"action": "accept_offer", "offerId": made["id"]})[
        "contractId"
    ]
    # CreateMilestoneInput as types.ts documents it: depositAmount in cents (a string), dueDate,
    # instruction; the connector's old names are refused.
    extra = api.data(MILESTONE, {"input": {"contractId": contract_id, "description": "Three",
                                           "depositAmount": "7500", "dueDate": "2031-03-31",
                                           "instruction": "PNG", "attachmentIds": []}})  # fmt: skip
    assert extra["createMilestoneV2"]["dueDateTime"].startswith("2031-03-31")
    plain = {"contractId": contract_id, "description": "Four"}
    for undocumented in ({"amount": 25}, {"dueDateTime": "2031-04-30T00:00:00Z"},
                         {"instructions": "PNG"}):  # fmt: skip
        name = next(iter(undocumented))
        body = {**plain, "depositAmount": "2500", **undocumented}
        assert f"unknown field '{name}'" in errors_of(api, MILESTONE, {"input": body})
    assert "depositAmount" in errors_of(api, MILESTONE, {"input": plain})
    for bad in ("25.00", "-100", "0"):
        message = errors_of(api, MILESTONE, {"input": {**plain, "depositAmount": bad}})
        assert "depositAmount" in message, (bad, message)
    first = api.data(
        "query ContractDetails($id: String!) { contractDetails(id: $id) { offer { milestones {"
        " id state } } } }",
        {"id": contract_id},
    )["contractDetails"]["offer"]["milestones"][0]
    paid = api.data(APPROVE, {"input": {"id": first["id"], "paidAmount": "9000",
                                        "paymentComment": "Thanks"}})  # fmt: skip
    assert paid["approveMilestone"] == {"id": first["id"], "state": "PAID", "payComments": "Thanks"}
    for old in ({"milestoneId": first["id"]}, {"amount": {"rawValue": "90.00"}},
                {"paymentComments": "b"}, {"message": "a"}, {"note": "n"}):  # fmt: skip
        body = {"id": first["id"], "paidAmount": "100", **old}
        message = errors_of(api, APPROVE, {"input": body})
        assert f"unknown field '{next(iter(old))}'" in message


def test_offer_for_a_proposal_must_name_its_freelancer(api, http, info):
    job_id = api.data(
        CREATE_JOB,
        {"jobPostingRequest": hourly_job(info["upwork"]["default_tenant_id"], title="Who")},
    )["createJobPosting"]["id"]
    advance(http, info, 9 * HOUR)
    proposals = api.data(
        "query ClientProposals($j: String!) { clientProposals(jobPostingId: $j) { edges { node {"
        " id user { id } } } } }",
        {"j": job_id},
    )["clientProposals"]["edges"]
    proposal = proposals[0]["node"]
    other = next(e["node"]["user"]["id"] for e in proposals if e["node"]["id"] != proposal["id"])
    org = info["upwork"]["default_tenant_id"]
    wrong = offer_request(org, other, "Who", rate=60, proposal_id=proposal["id"], job_id=job_id)
    assert "not " + other in errors_of(api, CREATE_OFFER, {"offerInput": wrong})
    right = offer_request(org, proposal["user"]["id"], "Who", rate=60, proposal_id=proposal["id"],
                          job_id=job_id)  # fmt: skip
    assert api.data(CREATE_OFFER, {"offerInput": right})["createOffer"]["offer"]["id"]
    elsewhere = {**right, "metadata": {**right["metadata"], "jobPostingId": "1"}}
    assert "jobPostingId" in errors_of(api, CREATE_OFFER, {"offerInput": elsewhere})

    declined = api.data(DECLINE, {"r": {"proposalId": proposals[1]["node"]["id"],
                                        "jobPostingId": job_id, "reason": "146",
                                        "message": "No"}})  # fmt: skip
    assert declined["declineClientProposal"]["proposal"]["status"]["status"] == "DECLINED"
    # ClientProposalDeclineRequest as types.ts documents it: no reasonId, jobPostingId required
    # and the proposal's.
    undocumented = {"proposalId": proposals[2]["node"]["id"], "jobPostingId": job_id,
                    "reasonId": "146"}  # fmt: skip
    assert "unknown field 'reasonId'" in errors_of(api, DECLINE, {"r": undocumented})
    missing = {"proposalId": proposals[2]["node"]["id"], "reason": "146"}
    assert "jobPostingId" in errors_of(api, DECLINE, {"r": missing})
    wrong = {"proposalId": proposals[2]["node"]["id"], "jobPostingId": "1", "reason": "146"}
    assert "is not of job posting" in errors_of(api, DECLINE, {"r": wrong})


def test_room_stories_between_and_after(api, http, info):
    offer = offer_request(info["upwork"]["default_tenant_id"], ANA, "Stories", rate=85)
    made = api.data(CREATE_OFFER, {"offerInput": offer})["createOffer"]["offer"]
    contract_id = tool(http, info, "act", {"action": "accept_offer", "offerId": made["id"]})[
        "contractId"
    ]
    room_id = api.data(CONTRACT_ROOM, {"contractId": contract_id})["contractRoom"]["id"]
    hello = api.data(STORIES, {"filter": {"roomId_eq": room_id}})["roomStories"]
    (edge,) = hello["edges"]
    at = edge["node"]["createdDateTime"]

    def count(**flt) -> int:
        body = api.data(STORIES, {"filter": {"roomId_eq": room_id, **flt}})
        return body["roomStories"]["totalCount"]

    # RoomStoryFilter as types.ts documents it: the range and the page inside storyFilter.
    assert count(storyFilter={"storyCreatedDateTime_bt": {"rangeStart": at}}) == 1  # inclusive
    assert count(storyFilter={"storyCreatedDateTime_bt": {"rangeEnd": at}}) == 1
    assert count(storyFilter={"pagination": {"first": 1}}) == 1
    for old in ({"createdDateTime_bt": {"rangeStart": at}}, {"createdDateTime_gt": at},
                {"contractId_eq": contract_id}, {"pagination": {"first": 1}}):  # fmt: skip
        name = next(iter(old))
        message = errors_of(api, STORIES, {"filter": {"roomId_eq": room_id, **old}})
        assert f"unknown field '{name}'" in message
    assert "roomId_eq" in errors_of(api, STORIES, {"filter": {}})
    odd = {"roomId_eq": room_id, "storyFilter": {"storyCreatedDateTime_bt": {"rangeBegin": at}}}
    assert "'rangeBegin'" in errors_of(api, STORIES, {"filter": odd})
    # RoomFilter: activeSince_eq lists the rooms with activity since then, others are accepted.
    listed = api.data(ROOM_LIST, {"filter": {"activeSince_eq": at, "subscribed_eq": True}})
    assert room_id in [e["node"]["id"] for e in listed["roomList"]["edges"]]
    later = "2100-01-01T00:00:00Z"
    assert api.data(ROOM_LIST, {"filter": {"activeSince_eq": later}})["roomList"]["edges"] == []
    assert "'activeAfter'" in errors_of(api, ROOM_LIST, {"filter": {"activeAfter": at}})
    assert api.data(OFFER_ROOM, {"offerId": made["id"]})["offerRoom"]["contractId"] == contract_id


END_CONTRACT = """mutation EndContractByClient($contractId: String!, $input: EndContractInput!) {
  endContractByClient(contractId: $contractId, input: $input) { success } }"""


def test_end_contract_takes_the_references_end_contract_input(api, http, info):
    offer = offer_request(info["upwork"]["default_tenant_id"], ANA, "To end", rate=85)
    made = api.data(CREATE_OFFER, {"offerInput": offer})["createOffer"]["offer"]
    contract_id = tool(http, info, "act", {"action": "accept_offer", "offerId": made["id"]})[
        "contractId"
    ]

    def refused(**given) -> str:
        return errors_of(api, END_CONTRACT, {"contractId": contract_id, "input": given})

    # The names the sandbox once guessed are not the reference's.
    assert "unknown field 'reason'" in refused(reason="done")
    assert "'message'" in refused(reasonRef="done", message="Thanks")
    assert "EndContractInput.reasonRef" in refused(feedbackInfo={"comment": "Thanks"})
    assert "'stars'" in refused(reasonRef="done", feedbackInfo={"stars": 5})
    assert "qualityScore" in refused(reasonRef="done", feedbackInfo={"qualityScore": "great"})
    ended = api.data(
        END_CONTRACT,
        {
            "contractId": contract_id,
            "input": {
                "reasonRef": "API_REAS_JOB_COMPLETED_SUCCESSFULLY",
                "feedbackInfo": {"comment": "Thank you!", "qualityScore": 5},
            },
        },
    )
    assert ended["endContractByClient"]["success"] is True
    details = api.data(
        "query ContractDetails($id: String!) { contractDetails(id: $id) { status"
        " closingReason { apiRef reason } } }",
        {"id": contract_id},
    )["contractDetails"]
    assert details["status"] == "ENDED"
    assert details["closingReason"] == {
        "apiRef": "CLIENT",
        "reason": "API_REAS_JOB_COMPLETED_SUCCESSFULLY",
    }
    assert "already ended" in refused(reasonRef="API_REAS_JOB_COMPLETED_SUCCESSFULLY")
