"""Steps the Upwork sandbox tests share: tokens, GraphQL calls, tools, the clock."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

from . import helpers

REDIRECT = "http://127.0.0.1:8000/integrations/upwork/callback"


def upwork(info: dict) -> dict:
    return info["upwork"]


def tools(info: dict) -> tuple[str, str]:
    return info["client_id"], info["client_secret"]


def authorize_url(info: dict, **extra) -> str:
    params = {"response_type": "code", "client_id": upwork(info)["client_id"],
              "redirect_uri": REDIRECT, "state": "st-1", **extra}  # fmt: skip
    return f"{upwork(info)['authorize_url']}?{urlencode(params)}"


def pick(http: httpx.Client, url: str, email: str) -> httpx.Response:
    """Open the picker and click ``email``; returns the redirect."""
    return helpers.pick(http, url, rf'value="(\d+)" data-email="{re.escape(email)}"')


query_of = helpers.redirect_params  # the code and state (or error) a redirect carries


def token(http: httpx.Client, info: dict, client: dict | None = None, **data) -> httpx.Response:
    client = client or upwork(info)
    body = {"client_id": client["client_id"], "client_secret": client["client_secret"], **data}
    return http.post(upwork(info)["token_url"], data=body)


def app_token(http: httpx.Client, info: dict, client: dict | None = None) -> str:
    response = token(http, info, client, grant_type="client_credentials")
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Upwork:
    """GraphQL calls with a bearer token (and optionally a tenant)."""

    def __init__(
        self, http: httpx.Client, info: dict, access_token: str, tenant: str | None = None
    ):
        self.http, self.info, self.token, self.tenant = http, info, access_token, tenant

    def post(self, query: str, variables: dict | None = None, tenant: str | None = None, **kw):
        headers = {"Authorization": f"Bearer {self.token}"}
        if tenant or self.tenant:
            headers["X-Upwork-API-TenantId"] = tenant or self.tenant
        body = {"query": query, "variables": variables or {}, **kw}
        return self.http.post(upwork(self.info)["graphql_url"], json=body, headers=headers)

    def data(self, query: str, variables: dict | None = None, **kw) -> dict:
        response = self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def tool(http: httpx.Client, info: dict, path: str, body: dict | None = None) -> dict:
    url = f"{upwork(info)['tools_url']}/{path}"
    response = (
        http.post(url, json=body or {}, auth=tools(info))
        if body is not None
        else http.get(url, auth=tools(info))
    )
    assert response.status_code == 200, response.text
    return response.json()


def advance(http: httpx.Client, info: dict, seconds: float) -> dict:
    response = http.post(
        f"{info['viewer_url']}_sandbox/clock", json={"advance_seconds": seconds}, auth=tools(info)
    )
    assert response.status_code == 200, response.text
    return response.json()


def set_dials(http: httpx.Client, info: dict, **changes) -> dict:
    return tool(http, info, "control", changes)


RESET = {
    "throttle": {"rate": 10.0, "burst": 10},
    "faults": {"error_rate": 0.0, "latency_ms": 0, "seed": None, "retry_after": 1},
}

CREATE_JOB = """
mutation CreateJobPosting($jobPostingRequest: JobPostingCreateRequest!) {
  createJobPosting(jobPostingRequest: $jobPostingRequest) { id version }
}"""

PROPOSALS = """
query ClientProposals($jobPostingId: String!, $filter: ClientProposalFilter,
                      $pagination: Pagination) {
  clientProposals(jobPostingId: $jobPostingId, filter: $filter, pagination: $pagination) {
    totalCount
    edges { cursor node { id user { id name ciphertext }
            coverLetter status { status } auditDetails { createdDateTime modifiedDateTime } } }
    pageInfo { endCursor hasNextPage }
  }
}"""

CREATE_OFFER = """
mutation CreateOffer($offerInput: CreationOfferInput!) {
  createOffer(offerInput: $offerInput) { offer { id state deliveryModel vendorUserId title
    hourlyRateTerms { rate { rawValue } weeklyHoursLimit } milestoneTerms { milestones {
    description state } } createdDateTime } }
}"""

OFFER = """
query Offer($id: String!) { offer(id: $id) { id state title type
  freelancer { user { id name } } milestones { id state } } }"""

CONTRACT = """
query ContractDetails($id: String!) { contractDetails(id: $id) { id title status kind
  deliveryModel startDate endDate createDate modifyDate closingReason { reason apiRef }
  freelancer { id name } offer { id milestones { id state description sequenceId
  currentEscrowAmount { rawValue } } } } }"""

CONTRACT_ROOM = """
query ContractRoom($contractId: String!) { contractRoom(contractId: $contractId) {
  id roomName contractId latestStory { id message } } }"""

OFFER_ROOM = """
query OfferRoom($offerId: String!) { offerRoom(offerId: $offerId) { id contractId offerIds } }"""

ROOM_LIST = """
query RoomList($filter: RoomFilter, $pagination: Pagination) {
  roomList(filter: $filter, pagination: $pagination) { totalCount
    edges { node { id contractId offerIds latestStory { id createdDateTime } } }
    pageInfo { endCursor hasNextPage } } }"""

STORIES = """
query RoomStories($filter: RoomStoryFilter) { roomStories(filter: $filter) { totalCount
  edges { cursor node { id message createdDateTime user { id name }
          room { id contractId offerIds } } }
  pageInfo { endCursor hasNextPage } } }"""

TIME_REPORT = """
query ContractTimeReport($filter: TimeReportFilter, $pagination: Pagination) {
  contractTimeReport(filter: $filter, pagination: $pagination) { totalCount
    edges { cursor node { dateWorkedOn totalHoursWorked totalCharges contract { id }
            freelancer { id } } }
    pageInfo { endCursor hasNextPage } } }"""

TRANSACTIONS = """
query TransactionHistory($transactionHistoryFilter: TransactionHistoryFilter) {
  transactionHistory(transactionHistoryFilter: $transactionHistoryFilter) {
    transactionDetail { transactionHistoryRow { recordId type description
      transactionCreationDate relatedAssignment runningChargeableBalance { rawValue } } } } }"""


def hourly_job(organization_id: str, skills=("Python", "Django"), **changes) -> dict:
    """A ``JobPostingCreateRequest`` as the reference documents it; ``changes`` go into its
    ``jobPostingInfo``."""
    info = {"title": "Django upgrade", "description": "Move us to Django 5.2.", "type": "HOURLY",
            "hourlyBudgetMin": "40", "hourlyBudgetMax": "120", **changes}  # fmt: skip
    return {"organizationId": organization_id, "jobPostingInfo": info,
            "sandsJobPost": {"additionalSkills": [{"freetext": s} for s in skills]}}  # fmt: skip


def team_of(freelancer_id: str) -> str:
    """A simulated freelancer's own organization (the seed: user id + 10**17)."""
    return str(int(freelancer_id) + 100_000_000_000_000_000)


def cents(dollars) -> dict:
    """A MoneyInput in the lowest denomination, as offer terms document it."""
    return {"amount": str(int(round(float(dollars) * 100))), "currency": "USD"}


def offer_request(
    organization_id: str,
    freelancer_id: str,
    title: str,
    *,
    rate=None,
    weekly=None,
    milestones=(),
    proposal_id: str | None = None,
    job_id: str | None = None,
    **changes,
) -> dict:
    """A ``CreationOfferInput`` as the reference documents it: hourly with ``rate`` (dollars)
    and ``weekly``, fixed price with ``milestones`` of (description, dollars[, due])."""
    if proposal_id:
        metadata = {"sourceType": "JobApplication", "sourceId": proposal_id}
    else:
        metadata = {"sourceType": "Direct"}
    if job_id:
        metadata["jobPostingId"] = job_id
    offer = {"kind": "MARKETPLACE", "offeror": "CLIENT", "clientTeamId": organization_id,
             "vendorUser": {"userId": freelancer_id, "teamId": team_of(freelancer_id)},
             "metadata": metadata, "title": title,
             "deliveryModel": "HOURLY" if rate is not None else "FIXED_PRICE"}  # fmt: skip
    if rate is not None:
        offer["hourlyRateTerms"] = {"vendorRate": cents(rate)}
        if weekly is not None:
            offer["hourlyRateTerms"]["weeklyLimit"] = str(weekly)
    else:
        listed = [{"description": m[0], "amount": cents(m[1]),
                   **({"dueDate": m[2]} if len(m) > 2 else {})} for m in milestones]  # fmt: skip
        total = sum(float(m[1]) for m in milestones)
        offer["milestoneTerms"] = {"budget": cents(total), "milestoneList": listed}
    return {**offer, **changes}


def every_transaction(api: Upwork) -> dict:
    """A TransactionHistoryFilter for all of the organization's transactions: its accounting
    entity (organization.company.accountingEntity) over every date."""
    org = api.data("query Organization { organization { company { accountingEntity } } }")
    ace = org["organization"]["company"]["accountingEntity"]
    every_date = {"rangeStart": "2000-01-01", "rangeEnd": "2100-01-01"}
    return {"aceIds_any": [ace], "transactionDateTime_bt": every_date}
