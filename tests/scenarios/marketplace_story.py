"""The sandbox marketplace (Upwork) and the steps of the marketplace story, shared by the
scenario tests and the browser test (the ``market`` fixture is in this package's conftest).

Time passes by moving the sandbox clock and the product's clock together, never by sleeping.
"""

from __future__ import annotations

import datetime as dt

import httpx

from conftest import request_payload
from gigbridge import clock
from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.people.models import Person
from gigbridge.program.models import CostCenter
from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import sync
from gigbridge.sourcing.models import Proposal, Sourcing

HOUR = 3600
DAY = 24 * HOUR
# Freelancers of the seeded marketplace that an offer should not go to in these stories:
# Dmitri lives in a blocked country, Grace declines every offer.
AVOID = {"1300000000000000004", "1300000000000000007"}
# A funded milestone is submitted two days later, four for the slowest freelancer (which of
# them propose, and so which is picked, depends on the tests that ran before in the session).
SUBMITTED_WITHIN = 5 * DAY


class Marketplace:
    """The sandbox marketplace's tools, and the clocks of both sides moving together."""

    def __init__(self, info: dict):
        self.info, self.up = info, info["upwork"]
        self.http = httpx.Client(verify=ssl_context_from(info["ca_cert"]), timeout=30)
        self.auth = (info["client_id"], info["client_secret"])
        self.org = self.up["default_tenant_id"]

    def close(self) -> None:
        self.http.close()

    def tool(self, path: str, body: dict | None = None) -> dict:
        url = f"{self.up['tools_url']}/{path}"
        if body is None:
            response = self.http.get(url, auth=self.auth)
        else:
            response = self.http.post(url, json=body, auth=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def now(self) -> dt.datetime:
        now = self.tool("tick", {})["now"]
        return dt.datetime.fromisoformat(now.replace("Z", "+00:00"))

    def advance(self, seconds: float) -> dt.datetime:
        """Move the sandbox clock and the product's clock to the same moment."""
        self.clock(advance_seconds=seconds)
        now = self.now()  # also performs what became due
        clock.set_now(now)
        return now

    def clock(self, **change) -> dict:
        response = self.http.post(
            f"{self.info['viewer_url']}_sandbox/clock", json=change, auth=self.auth
        )
        assert response.status_code == 200, response.text
        return response.json()

    def control(self, **changes) -> dict:
        return self.tool("control", changes)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """A GraphQL call as the Gigbridge app (to count what the marketplace has)."""
        token = self.http.post(
            self.up["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": self.up["client_id"],
                "client_secret": self.up["client_secret"],
            },
        ).json()["access_token"]
        response = self.http.post(
            self.up["graphql_url"],
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}", "X-Upwork-API-TenantId": self.org},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def approved_engagement(people, workspace=None, **overrides) -> Engagement:
    """A marketplace request by rita, approved by each stage's first eligible approver."""
    data = request_payload(**overrides)  # in EUR: Upwork's USD converts at the policy's rate
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    if workspace is not None:
        data["workspace"] = workspace  # chosen on the request form
    request = actions.create_request(people["rita"], data)
    actions.submit_request(people["rita"], request)
    while (step := request.steps.filter(state="pending").first()) is not None:
        approver = actions.eligible_users(step).first()
        actions.decide(approver, step, "approve")
    request.refresh_from_db()
    assert request.state == "approved", request.state
    return Engagement.objects.get(request=request)


def pass_of_sync(market: Marketplace) -> dict:
    return sync.sync_organization(market.org)


def proposals_arrive(market: Marketplace, engagement: Engagement) -> list[Proposal]:
    market.advance(9 * HOUR)  # every proposal comes within 8 hours of the posting
    pass_of_sync(market)
    return list(engagement.proposals.all())


def signed_freelancer(proposal: Proposal, country: str = "") -> Person:
    """The proposal's freelancer with NDA and MSA on file, put there as people do it: legal
    records the agreements they signed elsewhere (the product's action). With ``country``,
    HR's CSV export brings them in instead, living in ``country``, their agreements in the same
    file (``gigbridge people import``)."""
    from gigbridge.people.actions import record_agreement, users_with_role
    from gigbridge.people.models import Role

    if country:
        _hr_import(proposal, country)
    else:
        legal = users_with_role(Role.LEGAL).order_by("username").first()
        for name in ("NDA", "MSA"):
            record_agreement(
                legal,
                email=proposal.freelancer_email,
                name=name,
                signed_on=clock.today(),
                display_name=proposal.freelancer_name,
            )
    return Person.objects.get(email__iexact=proposal.freelancer_email)


def _hr_import(proposal: Proposal, country: str) -> None:
    import csv
    import tempfile
    from pathlib import Path

    from gigbridge.people.importer import import_file

    today = clock.today().isoformat()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "first_name", "kind", "country", "agreements"])
            writer.writerow(
                [
                    proposal.freelancer_email,
                    proposal.freelancer_name,
                    "freelancer",
                    country,
                    f"NDA:{today};MSA:{today}",
                ]
            )
        import_file(path, actor="HR export")


def good_proposal(engagement: Engagement) -> Proposal:
    """The first proposal whose freelancer may be engaged and accepts offers."""
    return next(p for p in engagement.proposals.all() if p.freelancer_upwork_id not in AVOID)


def sourced_and_posted(people, market, workspace=None, **overrides) -> Engagement:
    """An approved marketplace request whose job posting job has run: posted on the market."""
    from .conftest import run_jobs  # conftest imports this module

    engagement = approved_engagement(people, workspace, **overrides)
    assert engagement.state == Engagement.State.SOURCING
    run_jobs(marketplace.POST_JOB)
    sourcing = Sourcing.objects.get(engagement=engagement)
    assert sourcing.posting_state == Sourcing.Posting.POSTED, sourcing.last_error
    assert sourcing.job_posting_id
    return engagement
