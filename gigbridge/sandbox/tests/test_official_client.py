"""Upwork's own Python client (``python-upwork-oauth2``) walks a hiring story on the sandbox.

An outside client, not Gigbridge's connector: it signs in with the authorization-code flow on
the sandbox's consent page, then posts a job, shortlists a proposal, makes a fixed-price offer,
finds the contract the accepted offer became, adds, funds and approves a milestone, ends the
contract and reads the payments and the room, with Upwork's documented operations only.

What it takes to point the client at the sandbox, and why:

- **Hosts.** The client has no setting for its host: ``upwork.Config`` takes only the key,
  the grant, the redirect URI and a token. It joins its paths to module constants of
  ``upwork.upwork``: ``BASE_HOST`` (``https://www.upwork.com``; the authorize page is
  ``BASE_HOST + /ab/account-security/oauth2/authorize``, the token endpoint ``BASE_HOST +
  /api/v3/oauth2/token``) and ``GQL_EPOINT`` (``https://api.upwork.com/graphql``), read at
  each call, except the refresh URL, which ``upwork.Client()`` reads when it is made. So the
  test sets both constants (``monkeypatch.setattr``, undone after the test) before it makes the
  client: ``BASE_HOST`` to ``info["upwork"]["base_host"]`` (the sandbox serves Upwork's paths
  under it) and ``GQL_EPOINT`` to ``info["upwork"]["graphql_url"]``. Nothing else of the
  client is changed.
- **TLS.** The sandbox's certificate is signed by its own CA. The client talks through
  ``requests`` (``requests_oauthlib.OAuth2Session``), which reads ``REQUESTS_CA_BUNDLE`` when
  it is asked to verify: the test sets it to the sandbox's CA (``info["ca_cert"]``) only, so
  the handshake is verified against exactly that CA.
- **The redirect.** The app's registered callback is a loopback ``http://`` URL (RFC 8252's
  native-app redirect), which the consent page redirects the browser to. oauthlib refuses to
  read a code from a non-HTTPS URL unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set: the test
  sets it; the sandbox itself (authorize, token, GraphQL) is still reached over HTTPS only.

The documents are Upwork's own, verbatim from the committed copy of the reference
(``reference/operations-subset.graphql``), made valid GraphQL the one way the schema's
overrides say (``[string]`` read as ``[String]``; arguments the scrape listed as fields taken
out). Every step first checks its document and variables against the schema generated from
the reference (``reference/schema.graphql``, types.ts's input objects), so a failure after that
is the sandbox's, not the test's. Enum values are not in the reference: the ones sent here are
assumptions, named where they are sent. The person's consent is a form post, as the browser
sends it. Time passes on the sandbox clock, moved as ``gigbridge sandbox info`` says; no sleeps.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import upwork
from graphql import parse, print_ast, validate
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode
from upwork import upwork as upwork_hosts
from upwork.routers import graphql as upwork_graphql

from gigbridge.integrations.upwork.conformance import SUBSET_PATH
from gigbridge.integrations.upwork.tests.test_schema import generator, schema  # one copy of each

from .upwork_support import REDIRECT, pick

HOUR = 3600
PAID = ("PAID", "APPROVED", "RELEASED")  # gigbridge.engagements.milestones.PAID_STATES
USD = "USD"


@functools.cache
def documented(name: str) -> str:
    """Upwork's documented operation ``name``, as a GraphQL server can take it."""
    text = SUBSET_PATH.read_text(encoding="utf-8")
    for chunk in re.split(r"^(?=(?:query|mutation) )", text, flags=re.M)[1:]:
        if re.match(r"\w+ (\w+)", chunk).group(1) == name:
            return print_ast(generator().normalize_operation(chunk, schema()))
    raise AssertionError(f"{name} is not in {SUBSET_PATH.name}: the reference's copy lacks it")


class Marketplace:
    """GraphQL through Upwork's client: each step checked against the reference first."""

    def __init__(self, client: upwork.Client):
        self.api = upwork_graphql.Api(client)

    def __call__(self, name: str, **variables) -> dict:
        document = documented(name)
        parsed = parse(document)
        assert validate(schema(), parsed) == [], name
        (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        coerced = get_variable_values(schema(), operation.variable_definitions or (), variables)
        assert not isinstance(coerced, list), f"{name}: not the documented inputs: {coerced}"
        answer = self.api.execute({"query": document, "variables": variables})
        assert answer.get("errors") is None, f"{name}: the sandbox refused: {answer['errors']}"
        return answer["data"]


@pytest.fixture
def official(info, http, monkeypatch) -> tuple[upwork.Client, dict]:
    """Upwork's client pointed at the sandbox, signed in as the person would: it makes the
    authorize URL, the person consents on the sandbox's page, it trades the code for tokens."""
    market = info["upwork"]
    monkeypatch.setattr(upwork_hosts, "BASE_HOST", market["base_host"])
    monkeypatch.setattr(upwork_hosts, "GQL_EPOINT", market["graphql_url"])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", info["ca_cert"])
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the loopback http callback only
    config = upwork.Config(
        {"client_id": market["client_id"], "client_secret": market["client_secret"],
         "redirect_uri": REDIRECT}
    )  # fmt: skip
    client = upwork.Client(config)

    url, state = client.get_authorization_url()

    assert url.startswith(market["authorize_url"] + "?")
    consent = pick(http, url, market["user"])  # the person picks their account and allows
    assert consent.status_code == 302, consent.text
    callback = consent.headers["location"]
    assert callback.startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    token = client.get_access_token(callback)
    assert token["access_token"].startswith("oauth2v2_") and token["refresh_token"]
    # Ada is in two organizations: each request names one, as Upwork's docs say.
    client.set_org_uid_header(market["default_tenant_id"])
    return client, token


def advance(http, info, hours: float) -> None:
    """Let time pass on the sandbox clock, the way ``info["clock"]["move"]`` says."""
    moved = http.post(
        info["clock"]["url"],
        json={"advance_seconds": hours * HOUR},
        auth=(info["client_id"], info["client_secret"]),
    )
    assert moved.status_code == 200, moved.text


def freelancers(http, info) -> dict[str, dict]:
    """The simulated freelancers by user id (the tools URL ``info`` prints)."""
    url = info["tools"]["marketplace"]["freelancers_url"]
    answer = http.get(url, auth=(info["client_id"], info["client_secret"]))
    assert answer.status_code == 200, answer.text
    return {person["id"]: person for person in answer.json()["value"]}


def test_the_official_client_signs_in_with_the_authorization_code(official, info):
    client, _token = official
    marketplace = Marketplace(client)

    organization = marketplace("Organization")["organization"]

    assert organization["id"] == info["upwork"]["default_tenant_id"]
    assert organization["name"] == "Contoso Engineering"


def test_the_official_client_follows_a_hiring_story(official, info, http):
    from conftest import clock_start

    client, _token = official
    marketplace = Marketplace(client)
    org_id = info["upwork"]["default_tenant_id"]
    today = clock_start().astimezone(dt.UTC).date()
    people = freelancers(http, info)

    # 1. Post a fixed-price job (JobPostingCreateRequest). Assumed enum value: type FIXED_PRICE.
    job = marketplace(
        "CreateJobPosting",
        jobPostingRequest={
            "organizationId": org_id,
            "jobPostingInfo": {
                "title": "Data pipeline review",
                "description": "Review our Airflow pipelines and write down what to fix.",
                "type": "FIXED_PRICE",
                "amount": "1500.00",
                "startDate": (today + dt.timedelta(days=1)).isoformat(),
                "deliverables": "A written review",
            },
        },
    )["createJobPosting"]
    assert job["id"]

    # 2. The freelancers propose within hours: read the proposals.
    advance(http, info, 9)
    proposals = marketplace("ClientProposals", jobPostingId=job["id"], pagination={"first": 20})[
        "clientProposals"
    ]
    nodes = [edge["node"] for edge in proposals["edges"]]
    assert 3 <= proposals["totalCount"] == len(nodes) <= 5
    assert all(n["job"]["id"] == job["id"] and n["coverLetter"] for n in nodes)
    # One who accepts offers (a persona of the sandbox's; Grace declines every offer).
    chosen = next(n for n in nodes if not people[n["user"]["id"]]["persona"]["declines"])
    person = people[chosen["user"]["id"]]

    # 3. Shortlist it (ClientProposalShortlistRequest).
    shortlisted = marketplace(
        "ShortlistClientProposal",
        clientProposalShortlistRequest={
            "proposalId": chosen["id"], "jobPostingId": job["id"], "shortlisted": True,
        },
    )["shortlistClientProposal"]  # fmt: skip
    assert shortlisted["proposal"]["id"] == chosen["id"]

    # 4. Offer a fixed price with one milestone (CreationOfferInput). Amounts: the offer's
    # fields document "the lowest currency denominations" (cents) inside MoneyInput. Assumed
    # enum values (the reference has none): kind MARKETPLACE (its docs speak of marketplace
    # offers), offeror CLIENT, deliveryModel FIXED_PRICE; sourceType JobApplication is the one
    # OfferMetadataInput's doc names for an offer on a proposal.
    start = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
    offer = marketplace(
        "CreateOffer",
        offerInput={
            "kind": "MARKETPLACE",
            "offeror": "CLIENT",
            "clientTeamId": org_id,
            "vendorUser": {"userId": person["id"], "teamId": person["organizationId"]},
            "metadata": {
                "sourceType": "JobApplication", "sourceId": chosen["id"],
                "jobPostingId": job["id"],
            },
            "title": "Data pipeline review",
            "description": "Review the pipelines; one written report.",
            "contractStartDateTime": start.isoformat().replace("+00:00", "Z"),
            "deliveryModel": "FIXED_PRICE",
            "milestoneTerms": {
                # The budget is the milestones' sum ("milestone amount", its doc says).
                "budget": {"amount": "100000", "currency": USD},
                "milestoneList": [{
                    "description": "First findings", "amount": {"amount": "100000",
                    "currency": USD}, "dueDate": (today + dt.timedelta(days=7)).isoformat(),
                }],
            },
        },
    )["createOffer"]["offer"]  # fmt: skip
    assert offer["id"] and offer["vendorUserId"] == person["id"]

    # 5. The freelancer answers within hours and accepts: the contract's room names the offer.
    advance(http, info, 8)
    # The organization may have many rooms (the sandbox is shared by the other tests): page
    # through roomList as a client would, until the room naming the offer, or the last page.
    room = None
    after = None
    for _ in range(100):
        pagination = {"first": 50, **({"after": after} if after else {})}
        rooms = marketplace("RoomList", pagination=pagination)["roomList"]
        room = next(
            (e["node"] for e in rooms["edges"] if offer["id"] in (e["node"]["offerIds"] or [])),
            None,
        )
        page = rooms["pageInfo"]
        if room is not None or not page["hasNextPage"]:
            break
        assert page["endCursor"] and page["endCursor"] != after, "roomList does not advance"
        after = page["endCursor"]
    assert room is not None and room["contractId"], "no room names the accepted offer"
    contract_id = room["contractId"]
    # The documented direct read finds the same room.
    assert marketplace("OfferRoom", offerId=offer["id"])["offerRoom"]["id"] == room["id"]

    # 6. Read the contract (ContractList, ContractDetails).
    (listed,) = marketplace("ContractList", ids=[contract_id])["contractList"]["contracts"]
    assert listed["id"] == contract_id and listed["status"] == "ACTIVE"
    details = marketplace("ContractDetails", id=contract_id)["contractDetails"]
    assert details["freelancer"]["id"] == person["id"]
    assert details["offer"]["id"] == offer["id"]

    # 7. Add a milestone (CreateMilestoneInput: cents as a string) and fund it.
    milestone = marketplace(
        "CreateMilestoneV2",
        input={
            "contractId": contract_id, "description": "Final report",
            "instruction": "The written report, with the fixes in order of value.",
            "depositAmount": "50000",
            "dueDate": (today + dt.timedelta(days=10)).isoformat(),
        },
    )["createMilestoneV2"]  # fmt: skip
    assert milestone["id"] and milestone["description"] == "Final report"
    funded = marketplace(
        "ActivateMilestone", input={"id": milestone["id"], "message": "Funded, go ahead."}
    )["activateMilestone"]
    assert funded["id"] == milestone["id"] and funded["state"] == "ACTIVE"

    # 8. The freelancer submits within days; approve and pay it all (ApproveMilestoneInput).
    advance(http, info, 5 * 24)
    submitted = _milestone(marketplace, contract_id, milestone["id"])
    assert submitted["state"] == "SUBMITTED"
    approved = marketplace(
        "ApproveMilestone",
        input={
            "id": milestone["id"], "paidAmount": "50000", "paymentComment": "Thank you",
            "noteToContractor": "Clear and useful.",
        },
    )["approveMilestone"]  # fmt: skip
    assert approved["id"] == milestone["id"]
    # Paid: the reference has no state values; these are the ones Gigbridge's sync reads as paid.
    assert _milestone(marketplace, contract_id, milestone["id"])["state"] in PAID

    # 9. End the contract (EndContractInput; the reason ids are not in the reference).
    ended = marketplace(
        "EndContractByClient",
        contractId=contract_id,
        input={"reasonRef": "JOB_COMPLETED_SUCCESSFULLY",
               "feedbackInfo": {"comment": "Great work.", "qualityScore": 5.0}},
    )["endContractByClient"]  # fmt: skip
    assert ended["success"] is True
    closed = marketplace("ContractDetails", id=contract_id)["contractDetails"]
    assert closed["status"] != "ACTIVE" and closed["endDate"]

    # 10. The payment, by the organization's accounting entity (TransactionHistoryFilter).
    organization = marketplace("Organization")["organization"]
    assert organization["id"] == org_id
    accounting_entity = organization["company"]["accountingEntity"]
    assert accounting_entity, "organization.company.accountingEntity is empty"
    history = marketplace(
        "TransactionHistory",
        transactionHistoryFilter={
            "aceIds_any": [accounting_entity],
            "transactionDateTime_bt": {
                "rangeStart": today.isoformat(),
                "rangeEnd": (today + dt.timedelta(days=30)).isoformat(),
            },
        },
    )["transactionHistory"]
    rows = history["transactionDetail"]["transactionHistoryRow"]
    # One payment for the contract: the approved milestone (the offer's first was not approved).
    (paid,) = [r for r in rows if str(r["relatedAssignment"]) == contract_id]
    assert paid["transactionCreationDate"] >= today.isoformat()

    # 11. The room's messages (RoomStoryFilter): the freelancer said hello and submitted.
    stories = marketplace(
        "RoomStories",
        filter={"roomId_eq": room["id"], "storyFilter": {"pagination": {"first": 50}}},
    )["roomStories"]
    messages = [e["node"] for e in stories["edges"]]
    assert len(messages) >= 2
    assert all(m["room"]["id"] == room["id"] for m in messages)
    assert any(m["user"]["id"] == person["id"] for m in messages)


def _milestone(marketplace: Marketplace, contract_id: str, milestone_id: str) -> dict:
    details = marketplace("ContractDetails", id=contract_id)["contractDetails"]
    found = [m for m in details["offer"]["milestones"] if m["id"] == milestone_id]
    assert found, f"milestone {milestone_id} is not on contract {contract_id}"
    return found[0]
