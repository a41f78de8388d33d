"""Steps of the deliverables stories, from an empty product as ``make run`` leaves it (story.py
says what they may use): people through the REST API with tokens they made, the freelancer
through the sandbox's SharePoint (its tools upload a file as them, and say what they can reach),
the product's worker, a real clamd, the tenant read through Graph.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from .api_story import Api, page_items, token_of
from .story import World

WORKSPACE = "Brand refresh"
FOLDER = f"Freelance/{WORKSPACE}"
FREELANCER = "nora.lind@freelancers.example"
NAME = "Nora Lind"
# The EICAR test file (every scanner's harmless "virus"), written in two parts so that no file
# of this repository is itself taken for one.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@dataclass
class Hired:
    """A direct hire under way: the engagement, its Team and the guest's account."""

    engagement_id: int
    reference: str
    team_id: str
    guest_id: str


def apis(world: World, *names: str) -> dict[str, Api]:
    return {name: Api(token_of(name, world.password)) for name in names}


def hire_directly(world: World, api: dict[str, Api]) -> Hired:
    """ada makes the workspace; rita asks for Nora by name; the approvers approve; lena records
    the signed NDA and MSA; rita starts the contract today. The worker gives Nora her access."""
    api["ada"].post("/workspaces", {"name": WORKSPACE}, status=201)
    world.work()
    today = world.today()
    for name in ("NDA", "MSA"):
        api["lena"].post(
            "/agreements",
            {
                "email": FREELANCER,
                "name": name,
                "signed_on": today.isoformat(),
                "display_name": NAME,
                "evidence_url": f"https://legal.contoso.example/signed/nora-{name.lower()}.pdf",
            },
            status=201,
        )
    draft = api["rita"].post(
        "/requests",
        {
            "title": "Brand refresh visuals",
            "description": "A logo and a brand guide for the refresh.",
            "deliverables": ["Logo", "Brand guide"],
            "skills": ["figma", "branding"],
            "task_category": "design",
            "cost_center": "CC-MKT",
            "pricing": "fixed",
            "budget": "4000.00",
            "currency": "EUR",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=60)).isoformat(),
            "data_classification": "internal",
            "sourcing": "direct",
            "freelancer_email": FREELANCER,
            "freelancer_country": "PT",
            "workspace": WORKSPACE,
        },
        status=201,
    )
    api["rita"].post(f"/requests/{draft['id']}/submit")
    for _ in range(4):  # each stage of the chain, whoever it asks
        world.work()
        decided = False
        for person in api.values():
            for waiting in page_items(person.get("/approvals")):
                if waiting["request"]["id"] == draft["id"]:
                    step = waiting["step"]["id"]
                    person.post(f"/approvals/{step}/decision", {"decision": "approve"})
                    decided = True
        if not decided:
            break
    request = api["rita"].get(f"/requests/{draft['id']}")
    assert request["state"] == "approved", request
    engagement_id = request["engagement_id"]
    api["rita"].post(f"/engagements/{engagement_id}/start", {})
    world.work()
    world.work()
    engagement = api["rita"].get(f"/engagements/{engagement_id}")
    assert engagement["state"] in ("contracted", "active"), engagement
    guest = world.user(FREELANCER)
    assert guest is not None and guest["userType"] == "Guest", guest
    team = world.team(WORKSPACE)
    assert world.folder_share(team["id"], FOLDER, FREELANCER)["roles"] == ["write"]
    return Hired(engagement_id, engagement["reference"], team["id"], guest["id"])


# -- the freelancer in SharePoint (the sandbox's tools) ----------------------------------------


def upload_as(world: World, email: str, team_id: str, name: str, content: bytes) -> dict:
    """``email`` saves ``name`` into the project folder (a new file or a new version)."""
    response = world.http.post(
        _tool_url(world, "/_sandbox/files/upload"),
        params={"as": email, "group": team_id, "path": FOLDER, "name": name},
        content=content,
        auth=world._tools,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def reach(world: World, email: str, item_id: str) -> dict:
    response = world.http.get(
        _tool_url(world, "/_sandbox/files/reach"),
        params={"as": email, "item": item_id},
        auth=world._tools,
    )
    assert response.status_code == 200, response.text
    return response.json()


def lose_next_notification(world: World) -> None:
    """Graph does not promise every change notification arrives: the sandbox loses the next."""
    response = world.http.post(
        _tool_url(world, "/_sandbox/control"),
        json={"files": {"lose_notifications": 1}},
        auth=world._tools,
    )
    assert response.status_code == 200, response.text


def slow_downloads(world: World, bytes_per_second: int | None) -> None:
    response = world.http.post(
        _tool_url(world, "/_sandbox/control"),
        json={"files": {"download_bytes_per_second": bytes_per_second}},
        auth=world._tools,
    )
    assert response.status_code == 200, response.text


def deliveries(world: World) -> list[dict]:
    """The change notifications the sandbox sent (or lost), newest first."""
    response = world.http.get(_tool_url(world, "/_sandbox/notifications"), auth=world._tools)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def content_of(world: World, path: str) -> bytes:
    """A file's current bytes, read as Gigbridge would: its downloadUrl from Graph, then the
    bytes from SharePoint's host without the token."""
    item = world.graph(path)
    assert item is not None, path
    response = world.http.get(item["@microsoft.graph.downloadUrl"])
    assert response.status_code == 200, response.text
    return response.content


def _tool_url(world: World, path: str) -> str:
    return world.info["graph_base_url"].removesuffix("/v1.0") + path


# -- waiting for what happens on its own -------------------------------------------------------


def deliverables(api: Api, engagement_id: int) -> list[dict]:
    return page_items(api.get(f"/engagements/{engagement_id}/deliverables"))


def work_until(world: World, done, what: str, timeout: float = 60.0, schedule: bool = False):
    """Run the worker until ``done()`` answers something true (a notification travels from the
    sandbox to /hooks/graph on its own thread: polled, bounded, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        world.work(schedule=schedule)
        found = done()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
