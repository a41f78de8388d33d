"""The typed wrappers: the variables they send (input field names in operations' table), and
results that tolerate nulls and odd shapes. No database; a MockTransport plays Upwork."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest

from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.client import StaticTokens, UpworkClient
from gigbridge.integrations.upwork.errors import MalformedResponse


class FakeUpwork:
    """Answers ``data`` by operation name; keeps the variables of each call."""

    def __init__(self, **data):
        self.data = data
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.calls.append((body["operationName"], body["variables"]))
        return httpx.Response(200, json={"data": self.data.get(body["operationName"], {})})

    def client(self) -> UpworkClient:
        return UpworkClient(
            "https://api.upwork.test/graphql",
            StaticTokens("t"),
            verify=True,
            transport=httpx.MockTransport(self),
            sleep=lambda s: None,
        )

    @property
    def variables(self) -> dict:
        return self.calls[-1][1]


def test_create_job_posting_fixed_price():
    fake = FakeUpwork(CreateJobPosting={"createJobPosting": {"id": 1234, "version": 1}})
    result = ops.create_job_posting(
        fake.client(),
        title="Brand refresh",
        description="A new visual identity",
        contract_type="FIXED_PRICE",
        skills=["figma", "branding"],
        budget=ops.money("4000", "usd"),
        start_date=dt.date(2026, 12, 15),
        end_date=dt.date(2027, 2, 15),
        visibility="INVITE_ONLY",
        organization_id="org-1",
    )
    assert result.id == "1234"
    assert fake.variables == {
        "jobPostingRequest": {
            "organizationId": "org-1",
            "jobPostingInfo": {
                "title": "Brand refresh",
                "description": "A new visual identity",
                "type": "FIXED_PRICE",
                "amount": "4000.00",  # JobPostingRequestInfo: a decimal string, not cents
                "startDate": "2026-12-15",
                "endDate": "2027-02-15",
                "access": "INVITE_ONLY",
            },
            "sandsJobPost": {"additionalSkills": [{"freetext": "figma"}, {"freetext": "branding"}]},
        }
    }


def test_create_job_posting_hourly_and_the_acting_organization():
    """Hourly bounds are decimal strings too; without an organization id the client's tenant is
    used, else one Organization read says which organization the client acts for."""
    fake = FakeUpwork(
        CreateJobPosting={"createJobPosting": {"id": "9"}},
        Organization={"organization": {"id": "org-7"}},
    )
    ops.create_job_posting(
        fake.client(),
        title="Pipeline",
        description="Build it",
        contract_type="HOURLY",
        hourly_budget_min=ops.money("40", "USD"),
        hourly_budget_max=Decimal("60.5"),
    )
    assert [name for name, _ in fake.calls] == ["Organization", "CreateJobPosting"]
    assert fake.variables["jobPostingRequest"] == {
        "organizationId": "org-7",
        "jobPostingInfo": {
            "title": "Pipeline",
            "description": "Build it",
            "type": "HOURLY",
            "hourlyBudgetMin": "40.00",
            "hourlyBudgetMax": "60.50",
        },
    }


def test_update_job_posting_sends_only_changes():
    fake = FakeUpwork(UpdateJobPosting={"updateJobPosting": {"id": "1234"}})
    client = fake.client().for_organization("org-1")
    ops.update_job_posting(client, "1234", title="New title")
    assert fake.variables == {
        "id": "1234",
        "jobPostingRequest": {"organizationId": "org-1", "jobPostingInfo": {"title": "New title"}},
    }
    with pytest.raises(ValueError):
        ops.update_job_posting(client, "1234")
    ops.close_job_posting(client, "1234")
    assert fake.variables == {
        "id": "1234",
        "jobPostingRequest": {"organizationId": "org-1", "jobPostingInfo": {"status": "CLOSED"}},
    }
    with pytest.raises(ValueError, match="OPEN or CLOSED"):
        ops.update_job_posting(client, "1234", status="FILLED")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        ops.money(12.5, "USD")
    assert ops.money(Decimal("12.5"), "eur") == {"rawValue": "12.50", "currency": "EUR"}


def test_client_proposals_page_with_profiles_and_nulls():
    fake = FakeUpwork(
        ClientProposals={
            "clientProposals": {
                "totalCount": 2,
                "edges": [
                    {
                        "cursor": "c1",
                        "node": {
                            "id": "p1",
                            "user": {
                                "id": "u1",
                                "name": "Lena Park",
                                "email": None,
                                "publicUrl": "https://www.upwork.com/freelancers/~01abc",
                                "ciphertext": "~01abc",
                            },
                            "organization": None,
                            "status": {"status": "ACTIVE"},
                            "annotations": None,
                        },
                    },
                    {"cursor": "c2", "node": {"id": "p2", "user": None, "status": None}},
                    {"cursor": "c3", "node": None},
                ],
                "pageInfo": {"endCursor": "c2", "hasNextPage": True},
            }
        }
    )
    page = ops.list_client_proposals(fake.client(), "job-1", first=2, after="c0")
    assert fake.variables == {"jobPostingId": "job-1", "pagination": {"first": 2, "after": "c0"}}
    assert [p.id for p in page.items] == ["p1", "p2"]
    assert page.items[0].freelancer.name == "Lena Park"
    assert page.items[0].freelancer.ciphertext == "~01abc"
    assert page.items[0].state == "ACTIVE" and page.items[1].state is None
    assert page.total_count == 2 and page.end_cursor == "c2" and page.has_next_page


def test_null_connection_is_an_empty_page():
    page = ops.list_client_proposals(
        FakeUpwork(ClientProposals={"clientProposals": None}).client(), "j"
    )
    assert page.items == [] and not page.has_next_page


def test_proposal_actions_and_invitation_inputs():
    fake = FakeUpwork(
        ShortlistClientProposal={"shortlistClientProposal": None},
        DeclineClientProposal={
            "declineClientProposal": {"proposal": {"id": "p1"}, "status": "DECLINED"}
        },
        CreateClientJobInvitation={"createClientJobInvitation": True},
        TalentProfileByProfileKey={
            "talentProfileByProfileKey": {"personId": "u-9", "identity": {"id": "u-9"}}
        },
    )
    client = fake.client()
    assert ops.shortlist_proposal(client, "p1", job_posting_id="job-1").proposal is None
    assert fake.variables == {
        "clientProposalShortlistRequest": {
            "proposalId": "p1",
            "jobPostingId": "job-1",
            "shortlisted": True,
        }
    }
    ops.shortlist_proposal(client, "p1", job_posting_id="job-1", shortlisted=False)
    assert fake.variables["clientProposalShortlistRequest"]["shortlisted"] is False
    assert ops.decline_proposal(client, "p1", message="Thanks").status == "DECLINED"
    assert fake.variables == {
        "clientProposalDeclineRequest": {"proposalId": "p1", "message": "Thanks"}
    }
    ops.decline_proposal(client, "p1", job_posting_id="job-1", message="Thanks")
    assert fake.variables == {
        "clientProposalDeclineRequest": {
            "proposalId": "p1",
            "jobPostingId": "job-1",
            "message": "Thanks",
        }
    }
    assert ops.freelancer_id(client, "~01abc") == "u-9"
    assert fake.variables == {"profileKey": "~01abc"}
    assert ops.invite_freelancer(client, "job-1", "u-9", "Would you join?") is True
    assert fake.variables == {
        "clientJobInvitationCreateRequest": {
            "jobPostingId": "job-1",
            "freelancerId": "u-9",
            "invitationLetter": "Would you join?",
        }
    }


def test_create_hourly_offer():
    fake = FakeUpwork(
        CreateOffer={
            "createOffer": {
                "offer": {
                    "id": "o1",
                    "state": "PENDING",
                    "hourlyRateTerms": {
                        "rate": {"rawValue": "85.00", "currency": "USD", "displayValue": "$85"},
                        "weeklyHoursLimit": 20,
                    },
                    "milestoneTerms": None,
                }
            }
        }
    )
    offer = ops.create_offer(
        fake.client().for_organization("org-1"),
        title="Brand refresh",
        description="Hourly",
        vendor_user_id="u1",
        vendor_team_id="t1",
        contract_type="HOURLY",
        contract_start=dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.UTC),
        hourly_rate=ops.money("85.50", "USD"),
        weekly_hours_limit=20,
        manual_time_allowed=True,
        client_proposal_id="p1",
    )
    assert offer.id == "o1" and offer.hourly_rate_terms.rate.amount == Decimal("85.00")
    assert offer.all_milestones == []
    assert fake.variables == {
        "offerInput": {
            "kind": "MARKETPLACE",
            "offeror": "CLIENT",
            "clientTeamId": "org-1",
            "vendorUser": {"userId": "u1", "teamId": "t1"},
            "metadata": {"sourceType": "JobApplication", "sourceId": "p1"},
            "title": "Brand refresh",
            "description": "Hourly",
            "contractStartDateTime": "2026-12-15T08:00:00Z",
            "deliveryModel": "HOURLY",
            "hourlyRateTerms": {
                "vendorRate": {"amount": "8550", "currency": "USD"},  # cents
                "weeklyLimit": "20",
                "manualTimeAllowed": True,
            },
        }
    }


def test_create_fixed_price_offer_with_milestones():
    fake = FakeUpwork(CreateOffer={"createOffer": {"offer": {"id": "o2"}}})
    ops.create_offer(
        fake.client(),
        title="Logo",
        description="Fixed",
        vendor_user_id="u1",
        vendor_team_id="t1",
        contract_type="FIXED_PRICE",
        contract_start=dt.date(2026, 12, 15),
        job_posting_id="j1",
        organization_id="org-1",
        milestones=[
            {
                "description": "Draft",
                "amount": ops.money("1000", "USD"),
                "due": dt.date(2027, 1, 5),
            },
            {"description": "Final", "amount": Decimal("250.25")},
        ],
    )
    sent = fake.variables["offerInput"]
    assert sent["metadata"] == {"sourceType": "JobPosting", "sourceId": "j1", "jobPostingId": "j1"}
    assert sent["deliveryModel"] == "FIXED_PRICE" and "hourlyRateTerms" not in sent
    assert sent["milestoneTerms"] == {
        "budget": {"amount": "125025", "currency": "USD"},
        "milestoneList": [
            {
                "amount": {"amount": "100000", "currency": "USD"},
                "description": "Draft",
                "dueDate": "2027-01-05",
            },
            {"amount": {"amount": "25025", "currency": "USD"}, "description": "Final"},
        ],
    }
    common = dict(title="x", description="x", vendor_user_id="u", vendor_team_id="t",
                  contract_start="2026-12-15", organization_id="org-1")  # fmt: skip
    with pytest.raises(ValueError, match="at least one milestone"):
        ops.create_offer(fake.client(), contract_type="FIXED_PRICE", **common)
    with pytest.raises(ValueError, match="fractions of a cent"):
        ops.create_offer(fake.client(), contract_type="HOURLY", hourly_rate="1.005", **common)
    with pytest.raises(ValueError, match="vendor_team_id"):
        ops.create_offer(fake.client(), contract_type="HOURLY", hourly_rate="1",
                         **{**common, "vendor_team_id": ""})  # fmt: skip


def test_create_offer_without_an_offer_is_malformed():
    fake = FakeUpwork(CreateOffer={"createOffer": {"offer": None}})
    with pytest.raises(MalformedResponse):
        ops.create_offer(
            fake.client(),
            title="x",
            description="x",
            vendor_user_id="u",
            vendor_team_id="t",
            organization_id="org-1",
            contract_type="HOURLY",
            contract_start="2026-12-15",
            hourly_rate=ops.money("1", "USD"),
        )


def test_get_offer_null_and_withdraw():
    fake = FakeUpwork(Offer={"offer": None}, WithdrawOffer={"withdrawOffer": "OK"})
    assert ops.get_offer(fake.client(), "o1") is None
    assert ops.withdraw_offer(fake.client(), "o1", message="Filled") is True
    assert fake.variables == {"input": {"offerId": "o1", "message": "Filled"}}


def test_contract_details_tolerates_nulls_and_single_objects():
    fake = FakeUpwork(
        ContractDetails={
            "contractDetails": {
                "id": "c1",
                "status": "ACTIVE",
                "offer": {
                    "id": "o1",
                    "milestones": [
                        {"id": "m1", "state": "ACTIVE", "currentEscrowAmount": None},
                        {"id": "m2", "currentEscrowAmount": {"rawValue": 500, "currency": "USD"}},
                    ],
                },
                "freelancer": None,
                "hourlyLimits": None,
                "terms": {"hourlyTerms": {"id": "t1", "startDate": "2026-12-15"}},
                "closingReason": None,
            }
        }
    )
    contract = ops.contract_details(fake.client(), "c1", on=dt.date(2026, 12, 20))
    assert fake.variables == {"id": "c1", "date": "2026-12-20"}
    assert [m.id for m in contract.milestones] == ["m1", "m2"]
    assert contract.milestones[1].current_escrow_amount.amount == Decimal(500)
    assert contract.hourly and contract.hourly_limits == [] and contract.freelancer is None


def test_unexpected_shape_is_malformed_not_a_crash():
    fake = FakeUpwork(ContractDetails={"contractDetails": {"id": "c1", "offer": "oops"}})
    with pytest.raises(MalformedResponse) as caught:
        ops.contract_details(fake.client(), "c1")
    assert "offer" in str(caught.value)


def test_end_contract_and_milestones():
    fake = FakeUpwork(
        EndContractByClient={"endContractByClient": {"success": True}},
        CreateMilestoneV2={"createMilestoneV2": {"id": "m3", "state": "NOT_FUNDED"}},
        ActivateMilestone={"activateMilestone": {"id": "m3", "state": "ACTIVE"}},
        ApproveMilestone={"approveMilestone": None},
    )
    client = fake.client()
    # EndContractInput as the reference has it: reasonRef, feedbackInfo (FeedbackInfoInput).
    assert ops.end_contract(client, "c1", reason_ref="API_REAS_X", feedback="Thanks") is True
    assert fake.variables == {
        "contractId": "c1",
        "input": {"reasonRef": "API_REAS_X", "feedbackInfo": {"comment": "Thanks"}},
    }
    ops.end_contract(client, "c1", reason_ref="API_REAS_X")
    assert fake.variables == {"contractId": "c1", "input": {"reasonRef": "API_REAS_X"}}
    with pytest.raises(ValueError):
        ops.end_contract(client, "c1", reason_ref="")
    milestone = ops.create_milestone(
        client, "c1", description="Phase 2", amount=ops.money("750", "USD"), due="2027-01-31"
    )
    assert milestone.id == "m3"
    assert fake.variables == {
        "input": {
            "contractId": "c1",
            "description": "Phase 2",
            "depositAmount": "75000",
            "dueDate": "2027-01-31",
        }
    }
    # The milestone inputs are named as types.ts documents them; amounts in cents, as strings.
    assert ops.activate_milestone(client, "m3").state == "ACTIVE"
    assert fake.variables == {"input": {"id": "m3"}}
    assert ops.approve_milestone(client, "m3", amount="10", message="Great") is None
    assert fake.variables == {
        "input": {"id": "m3", "paidAmount": "1000", "paymentComment": "Great"}
    }
    with pytest.raises(TypeError):  # paidAmount is documented as required
        ops.approve_milestone(client, "m3", message="Great")
    ops.approve_milestone(client, "m3", amount=ops.money("1200.5", "USD"), note="Thanks")
    assert fake.variables == {
        "input": {"id": "m3", "paidAmount": "120050", "noteToContractor": "Thanks"}
    }


def test_cents_are_whole_and_never_floats():
    assert ops.cents(ops.money("10", "USD")) == "1000"
    assert ops.cents(Decimal("0.01")) == "1"
    with pytest.raises(ValueError, match="fractions of a cent"):
        ops.cents("1.005")
    with pytest.raises(TypeError):
        ops.cents(1.5)


def test_asking_for_changes_names_the_submission_and_sends_documented_inputs():
    fake = FakeUpwork(
        Offer={
            "offer": {
                "id": "o1",
                "milestones": [
                    {
                        "id": "m1",
                        "state": "SUBMITTED",
                        "submissionEvents": [
                            {"submission": {"id": "s1", "createdDateTime": "2026-12-03T18:00:00Z"}},
                            {"submission": {"id": "s2", "createdDateTime": "2026-12-08T18:00:00Z"}},
                        ],
                    }
                ],
            }
        },
        RejectSubmittedMilestone={"rejectSubmittedMilestone": {"response": True}},
    )
    client = fake.client()
    milestone = ops.get_offer(client, "o1").all_milestones[0]
    assert milestone.latest_submission_id == "s2"
    assert ops.reject_milestone_submission(client, "s2", note="Bigger logo, please") is True
    assert fake.calls[-1] == (
        "RejectSubmittedMilestone",
        {"input": {"id": "s2", "noteToContractor": "Bigger logo, please", "attachments": []}},
    )
    assert ops.Milestone().latest_submission_id is None


def test_time_report_and_transactions():
    fake = FakeUpwork(
        ContractTimeReport={
            "contractTimeReport": {
                "edges": [{"node": {"dateWorkedOn": "2026-12-16", "totalHoursWorked": "7.5"}}],
                "pageInfo": None,
            }
        },
        TransactionHistory={
            "transactionHistory": {
                "transactionDetail": {
                    "transactionHistoryRow": [
                        {"recordId": 99, "type": "Payment", "runningChargeableBalance": None},
                        None,
                    ]
                }
            }
        },
    )
    client = fake.client()
    page = ops.contract_time_report(
        client, "c1", dt.date(2026, 12, 14), dt.date(2026, 12, 20), organization_id="424242"
    )
    assert page.items[0].total_hours_worked == 7.5 and not page.has_next_page
    assert fake.variables == {
        "filter": {
            "organizationId_eq": "424242",
            "contractIds": ["c1"],
            "timeReportDate_bt": {"rangeStart": "2026-12-14", "rangeEnd": "2026-12-20"},
        },
        "pagination": {"first": 50},
    }
    rows = ops.transaction_history(client, "2026-12-01", "2026-12-31", accounting_entity_ids=["7"])
    assert [r.record_id for r in rows] == ["99"]
    assert fake.variables == {
        "transactionHistoryFilter": {
            "aceIds_any": ["7"],
            "transactionDateTime_bt": {"rangeStart": "2026-12-01", "rangeEnd": "2026-12-31"},
        }
    }
    empty = FakeUpwork(
        TransactionHistory={"transactionHistory": None},
        Organization={"organization": {"id": "o", "company": {"accountingEntity": "ace-9"}}},
    )
    assert ops.transaction_history(empty.client(), "2026-12-01", "2026-12-31") == []
    # Without ids: the accounting entity of the organization the client acts for.
    assert [name for name, _ in empty.calls] == ["Organization", "TransactionHistory"]
    assert empty.variables["transactionHistoryFilter"]["aceIds_any"] == ["ace-9"]
    nameless = FakeUpwork(Organization={"organization": {"id": "o", "company": None}})
    with pytest.raises(MalformedResponse):
        ops.transaction_history(nameless.client(), "2026-12-01", "2026-12-31")


def test_rooms_and_messages():
    fake = FakeUpwork(
        ContractRoom={
            "contractRoom": {"id": "r1", "roomName": "Brand refresh", "latestStory": None}
        },
        RoomStories={
            "roomStories": {
                "edges": [
                    {
                        "node": {
                            "id": "s1",
                            "message": "Hi team",
                            "user": {"id": "u1", "name": "Lena"},
                            "attachments": None,
                        }
                    }
                ],
                "pageInfo": {"endCursor": "x", "hasNextPage": False},
            }
        },
        CreateRoomStoryV2={"createRoomStoryV2": {"id": "s2", "message": "Hello"}},
    )
    client = fake.client()
    assert ops.contract_room(client, "c1").id == "r1"
    since = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    page = ops.room_stories(client, "r1", since)
    assert page.items[0].user.name == "Lena" and page.items[0].attachments == []
    assert fake.variables == {
        "filter": {
            "roomId_eq": "r1",
            "storyFilter": {
                "pagination": {"first": 50},
                "storyCreatedDateTime_bt": {"rangeStart": "2026-12-01T10:00:00Z"},
            },
        }
    }
    assert ops.send_room_message(client, "r1", "Hello").id == "s2"
    assert fake.variables == {"input": {"roomId": "r1", "message": "Hello"}}
    with pytest.raises(ValueError):
        ops.room_stories(client, "r1", dt.datetime(2026, 12, 1))  # naive


def test_connection_check_queries():
    fake = FakeUpwork(
        CompanySelector={
            "companySelector": {
                "items": [{"title": "Contoso", "organizationId": 424242, "typeTitle": "Client"}]
            }
        },
        Organization={"organization": {"id": "424242", "name": "Contoso", "flag": None}},
    )
    client = fake.client()
    assert [i.organization_id for i in ops.company_selector(client)] == ["424242"]
    assert ops.organization(client).name == "Contoso"
    assert ops.company_selector(FakeUpwork(CompanySelector={}).client()) == []
