"""Upwork emulator end to end: a hiring flow against the simulated freelancers.

Time passes by moving the sandbox clock (``/_sandbox/clock``), never by sleeping: what the
freelancers have due is done on the next request.
"""

from __future__ import annotations

import pytest

from .upwork_support import (
    CONTRACT,
    CONTRACT_ROOM,
    CREATE_JOB,
    CREATE_OFFER,
    OFFER,
    OFFER_ROOM,
    PROPOSALS,
    RESET,
    ROOM_LIST,
    STORIES,
    TIME_REPORT,
    TRANSACTIONS,
    Upwork,
    advance,
    app_token,
    every_transaction,
    hourly_job,
    offer_request,
    set_dials,
    tool,
)

HOUR = 3600
DAY = 24 * HOUR
GRACE = "1300000000000000007"  # declines every offer
ANA = "1300000000000000001"


@pytest.fixture(autouse=True)
def unthrottled(http, info):
    """These tests make many calls a second; the rate limit has its own test."""
    set_dials(http, info, throttle=None)
    yield
    set_dials(http, info, **RESET)


@pytest.fixture
def api(http, info):
    return Upwork(http, info, app_token(http, info))


def messages(body: dict) -> str:
    """Every error message of a refused request (graphql-core reports each problem)."""
    assert body.get("errors"), body
    return "\n".join(error["message"] for error in body["errors"])


def proposals_of(api, job_id, **variables):
    return api.data(PROPOSALS, {"jobPostingId": job_id, **variables})["clientProposals"]


def ORG(api) -> str:  # noqa: N802 - reads like the constant it is
    return api.info["upwork"]["default_tenant_id"]


def create_job(api, **changes) -> str:
    org = api.info["upwork"]["default_tenant_id"]
    job = hourly_job(org, **changes)
    return api.data(CREATE_JOB, {"jobPostingRequest": job})["createJobPosting"]["id"]


def contract_of_offer(api, offer_id, since=None) -> str:
    """How a poller finds the contract of an accepted offer: its room (offerRoom) names it, and
    the room is listed by roomList as active since the offer was made."""
    room = api.data(OFFER_ROOM, {"offerId": offer_id})["offerRoom"]
    assert offer_id in room["offerIds"]
    if since:
        active = api.data(ROOM_LIST, {"filter": {"activeSince_eq": since}})["roomList"]
        assert room["id"] in [e["node"]["id"] for e in active["edges"]]
    return room["contractId"]


def test_proposals_arrive_over_the_following_hours_and_paginate(api, http, info):
    job_id = create_job(api)
    assert proposals_of(api, job_id)["totalCount"] == 0

    advance(http, info, 9 * HOUR)
    everything = proposals_of(api, job_id)
    assert 3 <= everything["totalCount"] <= 5
    page = proposals_of(api, job_id, pagination={"first": 2})
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = proposals_of(
        api, job_id, pagination={"first": 50, "after": page["pageInfo"]["endCursor"]}
    )
    ids = [e["node"]["id"] for e in page["edges"] + rest["edges"]]
    assert ids == [e["node"]["id"] for e in everything["edges"]]
    # ClientProposalFilter as documented: status_eq filters; a watermark filter is not
    # documented (a poller keeps the page cursor instead).
    pending = proposals_of(api, job_id, filter={"status_eq": "PENDING", "country_any": []})
    assert pending["totalCount"] == everything["totalCount"]
    first_at = everything["edges"][0]["node"]["auditDetails"]["createdDateTime"]
    body = api.post(PROPOSALS, {"jobPostingId": job_id, "filter": {"createdDateTime_gt": first_at}})
    assert "unknown field 'createdDateTime_gt'" in messages(body.json())


def test_shortlist_decline_and_invite(api, http, info):
    job_id = create_job(api, title="Design review")
    advance(http, info, 9 * HOUR)
    first, second = [e["node"]["id"] for e in proposals_of(api, job_id)["edges"][:2]]
    shortlist = """mutation ShortlistClientProposal($r: ClientProposalShortlistRequest) {
      shortlistClientProposal(clientProposalShortlistRequest: $r) { status proposal { id
      status { status } } } }"""
    decline = """mutation DeclineClientProposal($r: ClientProposalDeclineRequest) {
      declineClientProposal(clientProposalDeclineRequest: $r) {
        proposal { status { status } } } }"""
    invite = """mutation CreateClientJobInvitation($r: ClientJobInvitationCreateRequestInput!) {
      createClientJobInvitation(clientJobInvitationCreateRequest: $r) }"""

    profile = """query TalentProfileByProfileKey($k: String!) {
      talentProfileByProfileKey(profileKey: $k) { personId identity { id ciphertext } } }"""

    request = {"proposalId": first, "jobPostingId": job_id, "shortlisted": True}
    shortlisted = api.data(shortlist, {"r": request})["shortlistClientProposal"]
    declined = api.data(decline, {"r": {"proposalId": second, "jobPostingId": job_id,
                                        "reason": "budget"}})  # fmt: skip
    found = api.data(profile, {"k": "~01a1b2c3d4e5f60005"})["talentProfileByProfileKey"]
    assert found["identity"] == {"id": found["personId"], "ciphertext": "~01a1b2c3d4e5f60005"}
    invited = api.data(invite, {"r": {"jobPostingId": job_id, "freelancerId": found["personId"],
                                      "invitationLetter": "Would you apply?"}})  # fmt: skip
    # Undocumented names are refused; the job posting must be the proposal's.
    for wrong, name in (({"jobPostingId": job_id, "profileKey": "~01a1b2c3d4e5f60005",
                          "freelancerId": found["personId"]}, "profileKey"),
                        ({"jobPostingId": job_id, "freelancerId": found["personId"],
                          "message": "Hi"}, "message")):  # fmt: skip
        body = api.post(invite, {"r": wrong}).json()
        assert f"unknown field '{name}'" in messages(body)
    body = api.post(shortlist, {"r": {"proposalId": first}}).json()
    assert "jobPostingId" in messages(body)
    body = api.post(shortlist, {"r": {**request, "jobPostingId": "1"}}).json()
    assert "is not of job posting" in messages(body)

    assert shortlisted["proposal"]["status"]["status"] == "SHORTLISTED"
    assert declined["declineClientProposal"]["proposal"]["status"]["status"] == "DECLINED"
    assert invited["createClientJobInvitation"]
    advance(http, info, 2 * HOUR)  # the invited freelancer answers within the hour
    names = [e["node"]["user"]["ciphertext"] for e in proposals_of(api, job_id)["edges"]]
    assert "~01a1b2c3d4e5f60005" in names


def test_hourly_offer_accepted_logs_hours_and_bills_them(api, http, info):
    job_id = create_job(api, title="API hardening")
    advance(http, info, 9 * HOUR)
    proposal = next(
        e["node"] for e in proposals_of(api, job_id)["edges"] if e["node"]["user"]["id"] != GRACE
    )
    offer = api.data(
        CREATE_OFFER,
        {
            "offerInput": offer_request(
                ORG(api),
                proposal["user"]["id"],
                "API hardening",
                rate=80,
                weekly=20,
                proposal_id=proposal["id"],
                job_id=job_id,
            )
        },
    )
    offer = offer["createOffer"]["offer"]
    assert offer["state"] == "OPEN" and offer["hourlyRateTerms"]["weeklyHoursLimit"] == 20
    since = offer["createdDateTime"]

    advance(http, info, 7 * HOUR)
    assert api.data(OFFER, {"id": offer["id"]})["offer"]["state"] == "ACCEPTED"
    contract_id = contract_of_offer(api, offer["id"], since)
    details = api.data(CONTRACT, {"id": contract_id})["contractDetails"]
    assert details["status"] == "ACTIVE" and details["kind"] == "HOURLY"
    room = api.data(CONTRACT_ROOM, {"contractId": contract_id})["contractRoom"]
    assert room["latestStory"]["message"].startswith("Thanks for the offer")

    advance(http, info, 7 * DAY)
    org = info["upwork"]["default_tenant_id"]
    everything = {"rangeStart": "2000-01-01", "rangeEnd": "2100-01-01"}
    report = api.data(TIME_REPORT, {"filter": {"organizationId_eq": org, "contractIds": [
        contract_id], "timeReportDate_bt": everything}})  # fmt: skip
    rows = [e["node"] for e in report["contractTimeReport"]["edges"]]
    # Seven days hold five weekdays (four when the contract started in a weekday's afternoon,
    # before 18:00); at 4 to 8 hours a day, a week's 20-hour limit allows three of them at least.
    assert len(rows) >= 3
    assert sum(r["totalHoursWorked"] for r in rows) <= 20 * 2  # at most two weeks at the limit
    for row in rows:
        assert row["totalCharges"] == pytest.approx(row["totalHoursWorked"] * 80)
    window = api.data(TIME_REPORT, {"filter": {
        "organizationId_eq": org, "contractIds": [contract_id], "timeReportDate_bt": {
        "rangeStart": rows[0]["dateWorkedOn"].replace("-", ""),
        "rangeEnd": rows[0]["dateWorkedOn"]}}})  # fmt: skip
    assert window["contractTimeReport"]["totalCount"] == 1
    # TimeReportFilter as types.ts documents it: the organization and the dates are required,
    # the old names are refused, another organization is forbidden.
    body = api.post(TIME_REPORT, {"filter": {"contractIds": [contract_id],
                                             "timeReportDate_bt": everything}}).json()  # fmt: skip
    assert "organizationId_eq" in messages(body)
    body = api.post(TIME_REPORT, {"filter": {"organizationId_eq": org}}).json()
    assert "timeReportDate_bt" in messages(body)
    body = api.post(TIME_REPORT, {"filter": {"organizationId_eq": org, "contractId_eq": contract_id,
                                             "timeReportDate_bt": everything}}).json()  # fmt: skip
    assert "unknown field 'contractId_eq'" in messages(body)
    design = info["upwork"]["tenant_ids"][1]
    body = api.post(TIME_REPORT, {"filter": {"organizationId_eq": design,
                                             "timeReportDate_bt": everything}}).json()  # fmt: skip
    assert "no access to organization" in messages(body)
    payments = api.data(TRANSACTIONS, {"transactionHistoryFilter": every_transaction(api)})
    billed = [
        r
        for r in payments["transactionHistory"]["transactionDetail"]["transactionHistoryRow"]
        if str(r["relatedAssignment"]) == contract_id
    ]
    assert len(billed) == len(rows) and {r["type"] for r in billed} == {"Hourly"}


def test_declining_persona_declines(api, http, info):
    created = api.data(
        CREATE_OFFER,
        {"offerInput": offer_request(ORG(api), GRACE, "Docs", rate=50)},
    )
    offer_id = created["createOffer"]["offer"]["id"]
    advance(http, info, 3 * HOUR)
    assert api.data(OFFER, {"id": offer_id})["offer"]["state"] == "DECLINED"


def test_fixed_price_milestones_submit_approve_pay(api, http, info):
    created = api.data(
        CREATE_OFFER,
        {
            "offerInput": offer_request(
                ORG(api),
                ANA,
                "Landing page",
                milestones=[("Wireframes", 300), ("Build", 700, "2031-01-31")],
            )
        },
    )
    offer = created["createOffer"]["offer"]
    assert [m["description"] for m in offer["milestoneTerms"]["milestones"]] == [
        "Wireframes",
        "Build",
    ]
    accepted = tool(http, info, "act", {"action": "accept_offer", "offerId": offer["id"]})
    contract_id = accepted["contractId"]
    milestones = api.data(CONTRACT, {"id": contract_id})["contractDetails"]["offer"]["milestones"]
    assert [m["state"] for m in milestones] == ["ACTIVE", "NOT_FUNDED"]

    advance(http, info, 3 * DAY)  # Ana submits two days after funding
    milestones = api.data(CONTRACT, {"id": contract_id})["contractDetails"]["offer"]["milestones"]
    assert milestones[0]["state"] == "SUBMITTED"

    approve = """mutation ApproveMilestone($input: ApproveMilestoneInput!) {
      approveMilestone(input: $input) { id state } }"""
    activate = """mutation ActivateMilestone($input: ActivateMilestoneInput) {
      activateMilestone(input: $input) { id state } }"""
    create = """mutation CreateMilestoneV2($input: CreateMilestoneInput!) {
      createMilestoneV2(input: $input) { id state sequenceId description } }"""
    paid = api.data(approve, {"input": {"id": milestones[0]["id"], "paidAmount": "30000"}})
    funded = api.data(activate, {"input": {"id": milestones[1]["id"]}})
    old_name = api.post(activate, {"input": {"milestoneId": milestones[1]["id"]}}).json()
    assert "unknown field 'milestoneId'" in messages(old_name)
    extra = api.data(create, {"input": {"contractId": contract_id, "description": "Polish",
                                        "depositAmount": "15000"}})  # fmt: skip

    assert paid["approveMilestone"]["state"] == "PAID"
    assert funded["activateMilestone"]["state"] == "ACTIVE"
    assert extra["createMilestoneV2"]["sequenceId"] == 3
    rows = api.data(TRANSACTIONS, {"transactionHistoryFilter": every_transaction(api)})[
        "transactionHistory"
    ]["transactionDetail"]["transactionHistoryRow"]
    fixed = [r for r in rows if str(r["relatedAssignment"]) == contract_id]  # an Int
    assert [r["type"] for r in fixed] == ["Fixed Price"]


def test_messages_get_replies_and_poll_by_time(api, http, info):
    offer = api.data(
        CREATE_OFFER,
        {"offerInput": offer_request(ORG(api), ANA, "Chat", rate=85)},
    )
    contract_id = tool(
        http,
        info,
        "act",
        {"action": "accept_offer", "offerId": offer["createOffer"]["offer"]["id"]},
    )["contractId"]
    room_id = api.data(CONTRACT_ROOM, {"contractId": contract_id})["contractRoom"]["id"]
    post = """mutation CreateRoomStoryV2($input: RoomStoryCreateInputV2!) {
      createRoomStoryV2(input: $input) { id message createdDateTime } }"""

    sent = api.data(post, {"input": {"roomId": room_id, "message": "Kick-off tomorrow?"}})
    since = sent["createRoomStoryV2"]["createdDateTime"]
    advance(http, info, 2 * HOUR)
    stories = api.data(STORIES, {"filter": {"roomId_eq": room_id, "storyFilter": {
        "storyCreatedDateTime_bt": {"rangeStart": since}}}})  # fmt: skip

    mine = sent["createRoomStoryV2"]["id"]
    replies = [e["node"] for e in stories["roomStories"]["edges"] if e["node"]["id"] != mine]
    assert len(replies) == 1 and replies[0]["user"]["id"] == ANA
    tool(http, info, "act", {"action": "message", "contractId": contract_id, "message": "Done."})
    assert api.data(STORIES, {"filter": {"roomId_eq": room_id}})["roomStories"]["totalCount"] == 4


def test_end_contract_both_sides_and_withdraw(api, http, info):
    def hire():
        offer = api.data(
            CREATE_OFFER,
            {"offerInput": offer_request(ORG(api), ANA, "Short job", rate=85)},
        )
        offer_id = offer["createOffer"]["offer"]["id"]
        return tool(http, info, "act", {"action": "accept_offer", "offerId": offer_id})[
            "contractId"
        ]

    end = """mutation EndContractByClient($contractId: String!, $input: EndContractInput!) {
      endContractByClient(contractId: $contractId, input: $input) { success } }"""
    by_client, by_freelancer = hire(), hire()
    assert (
        api.data(
            end,
            {
                "contractId": by_client,
                "input": {"reasonRef": "done", "feedbackInfo": {"comment": "Thanks"}},
            },
        )["endContractByClient"]["success"]
        is True
    )
    tool(http, info, "act", {"action": "end_contract", "contractId": by_freelancer})
    for contract_id, side in ((by_client, "CLIENT"), (by_freelancer, "FREELANCER")):
        details = api.data(CONTRACT, {"id": contract_id})["contractDetails"]
        assert details["status"] == "ENDED" and details["closingReason"]["apiRef"] == side

    offer = api.data(
        CREATE_OFFER,
        {"offerInput": offer_request(ORG(api), ANA, "Never mind", rate=85)},
    )
    offer_id = offer["createOffer"]["offer"]["id"]
    withdraw = (
        "mutation WithdrawOffer($input: WithdrawOfferInput!) { withdrawOffer(input: $input) }"
    )
    assert api.data(withdraw, {"input": {"offerId": offer_id}})["withdrawOffer"] == "true"
    assert api.data(OFFER, {"id": offer_id})["offer"]["state"] == "WITHDRAWN"


def test_objects_of_another_organization_are_not_found(api, http, info):
    job_id = create_job(api, title="Engineering only")
    design = info["upwork"]["tenant_ids"][1]
    body = api.post(PROPOSALS, {"jobPostingId": job_id}, tenant=design).json()
    assert body["data"]["clientProposals"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_bulk_contracts_and_tick(http, info):
    made = tool(http, info, "bulk-contracts", {"count": 50})
    assert len(made["contractIds"]) == 50
    assert "performed" in tool(http, info, "tick", {})


def test_state_survives_a_restart(api, http, info, sandbox):
    job_id = create_job(api, title="Survivor")
    advance(http, info, 9 * HOUR)
    before = proposals_of(api, job_id)

    sandbox.restart()

    after = Upwork(http, info, app_token(http, info))
    assert proposals_of(after, job_id) == before


def test_viewer_shows_the_marketplace_without_secrets(api, http, info):
    create_job(api, title="Visible in the viewer")
    page = http.get("/upwork/")
    assert page.status_code == 200
    assert "Visible in the viewer" in page.text and "Dmitri Ivanov" in page.text
    assert info["upwork"]["client_secret"] not in page.text
    assert "/upwork/" in http.get("/").text  # linked from the tenant viewer
