"""The people of the demo working through the REST API: each signs in on the web once, makes a
personal API token on their profile page and from then on uses only ``/api/v1`` (story.py says
what a story may use). Shared by the API stories."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.test import Client

from .story import AVOID, HOUR, World, end_of_grace

WORKSPACE = "Autumn campaign"


def csrf_of(client: Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def token_of(username: str, password: str) -> str:
    """``username`` signs in on the web once and makes an API token on their profile page."""
    browser = Client(enforce_csrf_checks=True)
    signed_in = browser.post(
        "/login/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": csrf_of(browser, "/login/"),
        },
    )
    assert signed_in.status_code == 302, signed_in.content.decode()[:500]
    page = browser.post(
        "/me/",
        {"what": "token", "name": "story", "csrfmiddlewaretoken": csrf_of(browser, "/me/")},
    )
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page.content.decode())
    assert secret, page.content.decode()[:2000]
    return secret.group(1)


class Api:
    """A person's REST client: their bearer token on every call, JSON in and out."""

    def __init__(self, token: str):
        self.client = Client(headers={"authorization": f"Bearer {token}"})

    def get(self, path: str, **params):
        response = self.client.get(f"/api/v1{path}", params)
        assert response.status_code == 200, (path, response.status_code, response.content[:800])
        return response.json()

    def post(self, path: str, body: dict | None = None, status: int = 200):
        response = self.client.post(f"/api/v1{path}", body or {}, content_type="application/json")
        assert response.status_code == status, (path, response.status_code, response.content[:800])
        return response.json()


def page_items(body) -> list:
    return body["items"] if isinstance(body, dict) and "items" in body else body


@dataclass
class OnTheMarketplace:
    """A fixed-price marketplace contract under way, its freelancer a guest of the tenant."""

    engagement_id: int
    email: str
    team: dict
    guest: dict
    start: dt.date
    end: dt.date


def contracted_on_the_marketplace(
    world: World, api: dict[str, Api], workspace: str = WORKSPACE, base_url: str = ""
) -> OnTheMarketplace:
    """ada makes the workspace; rita's request is approved by max, paula and lena; the job is
    posted, proposals arrive, the freelancer signs the NDA and MSA through the mailed link and
    accepts rita's offer: a contract whose freelancer is a guest with the Team, a task per
    deliverable and the folder until the end + grace. ``base_url``: where the product's mail
    links point (the signing link is followed in-process)."""
    rita = api["rita"]
    folder = f"Freelance/{workspace}"
    # Work starts the day after tomorrow: still ahead when the offer is accepted (at most 16
    # hours from now), come when the milestone is submitted, whatever the hour it is now.
    start = world.today() + dt.timedelta(days=2)
    end = start + dt.timedelta(days=59)

    # The program admin makes the workspace; the worker provisions it in the tenant.
    made = api["ada"].post("/workspaces", {"name": workspace}, status=201)
    assert made["name"] == workspace
    world.work()
    ready = {w["name"]: w for w in api["ada"].get("/workspaces")}
    assert ready[workspace]["ready"], ready

    draft = rita.post(
        "/requests",
        {
            "title": "Campaign visuals for the autumn launch",
            "description": "Key visuals and a style guide for the launch.",
            "deliverables": ["Logo", "Brand guide"],
            "skills": ["figma", "branding"],
            "task_category": "design",
            "cost_center": "CC-MKT",
            "pricing": "fixed",
            "budget": "8000.00",
            "currency": "EUR",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "data_classification": "confidential",
            "sourcing": "marketplace",
            "workspace": workspace,
        },
        status=201,
    )
    submitted = rita.post(f"/requests/{draft['id']}/submit")
    assert submitted["state"] == "in_approval"
    assert [s["role"] for s in submitted["steps"]] == ["manager", "procurement", "legal"]

    # Each approver finds the request in their inbox and decides.
    for name in ("max", "paula", "lena"):
        world.work()
        inbox = page_items(api[name].get("/approvals"))
        step = next(a["step"] for a in inbox if a["request"]["id"] == draft["id"])
        decided = api[name].post(
            f"/approvals/{step['id']}/decision", {"decision": "approve", "comment": "Fine."}
        )
        assert decided["state"] == "approved"
    request = rita.get(f"/requests/{draft['id']}")
    assert request["state"] == "approved"
    engagement_id = request["engagement_id"]

    # The job is posted; proposals arrive within eight hours.
    world.work()
    market = rita.get(f"/engagements/{engagement_id}/marketplace")
    assert market["posting_state"] == "posted" and market["job_posting_id"], market
    world.advance(9 * HOUR)
    world.work()
    market = rita.get(f"/engagements/{engagement_id}/marketplace")
    assert 3 <= len(market["proposals"]) <= 5, market["proposals"]
    people = {f["name"]: f for f in world.market.tool("freelancers")["value"]}
    proposal = next(
        p for p in market["proposals"] if people[p["freelancer_name"]]["id"] not in AVOID
    )
    freelancer = people[proposal["freelancer_name"]]
    email = proposal["freelancer_email"]

    # Not signed yet: the pick is refused, naming what is missing.
    refused = rita.client.post(
        f"/api/v1/engagements/{engagement_id}/proposals/{proposal['id']}/pick",
        {"amount": "3000"},
        content_type="application/json",
    )
    assert refused.status_code == 422, refused.content
    assert "has not signed NDA, MSA" in refused.content.decode()

    # rita sends the agreements; the freelancer signs through the mailed link.
    sent = rita.post(
        "/agreements/send",
        {"email": email, "display_name": proposal["freelancer_name"]},
        status=202,
    )
    assert sent["names"] == ["NDA", "MSA"]
    world.work()
    link, to = world.link_in_mail(r"/s/[^/\s]+/", to=email, subject="Please sign")
    path = link.removeprefix(base_url)
    freelancer_browser = Client(enforce_csrf_checks=True)
    signed = freelancer_browser.post(
        path,
        {
            "typed_name": proposal["freelancer_name"],
            "accept": "yes",
            "csrfmiddlewaretoken": csrf_of(freelancer_browser, path),
        },
    )
    assert signed.status_code == 200 and "You signed NDA and MSA" in signed.content.decode()
    assert freelancer_browser.get(path).status_code == 400  # the link works once
    on_file = api["lena"].get("/agreements", email=email)
    assert sorted(a["name"] for a in page_items(on_file)) == ["MSA", "NDA"]

    rita.post(f"/engagements/{engagement_id}/proposals/{proposal['id']}/shortlist")
    market = rita.post(
        f"/engagements/{engagement_id}/proposals/{proposal['id']}/pick", {"amount": "3000"}
    )
    assert [o["state"] for o in market["offers"]] == ["queued"]
    world.work()
    world.advance(freelancer["persona"]["answer_hours"] * HOUR + HOUR)
    world.work()
    world.work()
    engagement = rita.get(f"/engagements/{engagement_id}")
    assert engagement["state"] == "contracted", engagement
    assert engagement["contract_end"] == end.isoformat()

    # The tenant: guest, Team membership, a task per deliverable, the folder until end + grace.
    guest = world.user(email)
    assert guest is not None and guest["userType"] == "Guest", guest
    team = world.team(workspace)
    assert world.team_membership(team["id"], guest["id"])["roles"] == ["guest"]
    tasks = [t for t in world.tasks(team["id"]) if guest["id"] in (t.get("assignments") or {})]
    assert sorted(t["title"].split(" (")[0] for t in tasks) == ["Brand guide", "Logo"], tasks
    share = world.folder_share(team["id"], folder, email)
    assert share["expirationDateTime"] == end_of_grace(end), share
    review = [r for r in api["ada"].get("/access/review") if r["guest"] == email]
    assert {r["kind"] for r in review} == {"guest", "team_member", "planner_task", "folder_share"}
    folder_row = next(r for r in review if r["kind"] == "folder_share")
    assert folder_row["until"] == (end + dt.timedelta(days=3)).isoformat(), folder_row
    return OnTheMarketplace(engagement_id, email, team, guest, start, end)
