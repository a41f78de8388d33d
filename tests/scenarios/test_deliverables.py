"""What a freelancer delivers into the project folder, from an empty product as ``make run``
leaves it, against the sandbox tenant and a real clamd (story.py and files_story.py say what the
test may use).

Nora, hired directly, saves files into the project's SharePoint folder as the guest she is.
Graph's change notifications reach ``/hooks/graph``; the worker reads the drive's delta, records
each version she added, streams it through clamd and keeps the verdict. A clean logo is a
deliverable answering the "Logo" task; a notification Graph loses is made up by the scheduled
delta pass; a new version carrying the EICAR test virus is taken out of everyone's reach (kept in
the Security Review group's library, the clean version current again), the hiring manager and
the security contact are told; only a program admin can release it, with a reason, audited.
"""

from __future__ import annotations

import hashlib

import pytest

from gigbridge.audit.actions import verify

from .files_story import (
    EICAR,
    FOLDER,
    FREELANCER,
    apis,
    content_of,
    deliverables,
    deliveries,
    hire_directly,
    lose_next_notification,
    reach,
    upload_as,
    work_until,
)
from .story import HOUR, own_sandbox, start_world

pytestmark = [pytest.mark.django_db(transaction=True)]
_ = own_sandbox  # a fixture

LOGO = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="40" fill="#0a5"/></svg>\n'
GUIDE = b"%PDF-1.4\n% Brand guide, first draft\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def world(own_sandbox, settings, tmp_path, live_server, clamav):  # noqa: F811
    # Served for real: the sandbox posts its change notifications to the product's /hooks/graph.
    world = start_world(settings, own_sandbox, tmp_path / "data", live_server.url)
    yield world
    world.close()


def one(found: list[dict], **wanted) -> dict | None:
    matches = [d for d in found if all(d[k] == v for k, v in wanted.items())]
    assert len(matches) <= 1, matches  # never recorded twice
    return matches[0] if matches else None


def test_deliverables_are_scanned_recorded_and_quarantined(world):
    api = apis(world, "ada", "rita", "max", "paula", "lena", "hank", "fiona", "audrey")
    hired = hire_directly(world, api)
    rita = api["rita"]
    world.work()  # the scheduler's watch subscribes to the workspace's drive

    # A clean logo: recorded as Nora's, scanned clean, answering the "Logo" task.
    saved = upload_as(world, FREELANCER, hired.team_id, "Logo.svg", LOGO)
    logo_id = saved["item"]["id"]
    logo = work_until(
        world,
        lambda: one(deliverables(rita, hired.engagement_id), file="Logo.svg", verdict="clean"),
        "the logo to be recorded and scanned",
    )
    assert logo["version"] == "1.0" and logo["size"] == len(LOGO)
    assert logo["sha256"] == hashlib.sha256(LOGO).hexdigest()
    assert logo["author_email"] == FREELANCER and logo["answers"] == "Logo"
    assert logo["planner_task_id"] and "ClamAV" in logo["scanner"]
    assert logo["state"] == "available" and logo["open_url"]
    timeline = rita.get(f"/engagements/{hired.engagement_id}/timeline")
    sentences = " ".join(event["text"] for event in timeline)
    assert "Logo.svg" in sentences, sentences
    assert {"deliverable.recorded", "deliverable.scanned"} <= {e["action"] for e in timeline}

    # A notification Graph loses: nothing happens until the scheduled delta pass.
    lose_next_notification(world)
    upload_as(world, FREELANCER, hired.team_id, "Brand guide draft.pdf", GUIDE)
    for _ in range(3):
        world.work(schedule=False)
    assert one(deliverables(rita, hired.engagement_id), file="Brand guide draft.pdf") is None
    assert any("lost on purpose" in d["lastStatus"] for d in deliveries(world))
    world.advance(HOUR / 4)  # the next 15-minute window: the scheduler reads every drive
    guide = work_until(
        world,
        lambda: one(deliverables(rita, hired.engagement_id), file="Brand guide draft.pdf"),
        "the scheduled delta pass to find the guide",
        schedule=True,
    )
    assert guide["answers"] == "Brand guide"
    guide = work_until(
        world,
        lambda: one(deliverables(rita, hired.engagement_id), file="Brand guide draft.pdf",
                    verdict="clean"),
        "the guide's scan",
    )  # fmt: skip

    # A second version of the logo carries the EICAR test virus.
    infected_version = upload_as(world, FREELANCER, hired.team_id, "Logo.svg", EICAR)
    assert infected_version["version"] == "2.0"
    bad = work_until(
        world,
        lambda: one(deliverables(rita, hired.engagement_id), file="Logo.svg", version="2.0",
                    state="quarantined"),
        "the infected version to be quarantined",
    )  # fmt: skip
    assert bad["verdict"] == "infected" and "Eicar" in bad["signature"]
    assert bad["blocked"] and bad["open_url"] is None
    assert bad["sha256"] == hashlib.sha256(EICAR).hexdigest()
    # Out of reach: the folder's Logo.svg is the clean logo again, with no infected version.
    current = world.graph(f"/groups/{hired.team_id}/drive/root:/{FOLDER}/Logo.svg")
    assert content_of(world, f"/groups/{hired.team_id}/drive/root:/{FOLDER}/Logo.svg") == LOGO
    versions = world.graph(f"/drives/{current['parentReference']['driveId']}/items/"
                           f"{current['id']}/versions")["value"]  # fmt: skip
    assert all(v["size"] != len(EICAR) for v in versions), versions
    assert world.graph(f"/drives/{current['parentReference']['driveId']}/items/{logo_id}") is None
    # Kept for the security reviewers only: the Security Review group's library.
    group = world.info["quarantine_group_id"]
    kept = world.graph(f"/groups/{group}/drive/root:/Quarantine/{hired.reference}:/children")
    evidence = [i for i in kept["value"] if i["name"].startswith("Logo.svg")]
    assert len(evidence) == 1 and evidence[0]["size"] == len(EICAR), kept
    assert not reach(world, FREELANCER, evidence[0]["id"])["reachable"]
    assert not reach(world, "rita@contoso.example", evidence[0]["id"])["reachable"]
    assert reach(world, "audrey@contoso.example", evidence[0]["id"])["reachable"]
    assert reach(world, FREELANCER, current["id"])["reachable"]  # the clean logo stays hers
    # The hiring manager and the security contact are told.
    for person in ("rita@contoso.example", "audrey@contoso.example"):
        told = [m for m in world.mail(person) if "Logo.svg" in m["subject"]]
        assert len(told) == 1, (person, [m["subject"] for m in world.mail(person)])
    waiting = page_of(api["audrey"], "/deliverables/quarantined")
    assert [d["id"] for d in waiting] == [bad["id"]]

    # Only a program admin releases it, with a reason; the copy goes back beside the clean one.
    refused = rita.client.post(
        f"/api/v1/deliverables/{bad['id']}/release",
        {"reason": "I trust her"},
        content_type="application/json",
    )
    assert refused.status_code == 403, refused.content
    api["ada"].post(
        f"/deliverables/{bad['id']}/release",
        {"reason": "The security team confirmed it is the EICAR test file, sent on purpose."},
        status=202,
    )
    released = work_until(
        world,
        lambda: one(deliverables(rita, hired.engagement_id), id=bad["id"], state="released"),
        "the release",
    )
    assert released["released_by"] == "Ada Admin"
    folder = world.graph(f"/groups/{hired.team_id}/drive/root:/{FOLDER}:/children")["value"]
    names = sorted(i["name"] for i in folder)
    assert "Logo.svg" in names and "Logo 1.svg" in names, names  # beside the clean one
    timeline = rita.get(f"/engagements/{hired.engagement_id}/timeline")
    release = [e for e in timeline if e["action"] == "deliverable.released"]
    assert len(release) == 1 and release[0]["actor"] == "ada", release
    assert "confirmed it is the EICAR test file" in release[0]["after"]["reason"]
    assert "deliverable.returned" in {e["action"] for e in timeline}
    assert verify().ok  # the audit chain holds every one of these decisions


def page_of(api, path: str) -> list[dict]:
    body = api.get(path)
    return body["items"] if isinstance(body, dict) else body
