"""The ``/_sandbox/files/`` tools: upload as a person, and "can this person reach this item"."""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge.sandbox.graph.testing import tools_auth

from .files_support import advance_clock, conforms, guest, sandbox_now, sandbox_url, unified_group

AUDREY = "audrey@contoso.example"


def upload(http, info, data: bytes = b"data", status: int = 201, **params) -> dict:
    response = http.post(
        sandbox_url(info, "/_sandbox/files/upload"),
        params=params,
        content=data,
        auth=tools_auth(info),
    )
    assert response.status_code == status, response.text
    return response.json()


def reach(http, info, **params) -> dict:
    response = http.get(
        sandbox_url(info, "/_sandbox/files/reach"), params=params, auth=tools_auth(info)
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def shared(graph, http, info):
    """A group's library with the folder "Shared" shared (write, 30 days) with a new guest."""
    group = unified_group(graph)
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    folder = graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}/children",
        json={"name": "Shared", "folder": {}},
        status=201,
    )
    person = guest(graph)
    email = graph.ok("GET", f"/users/{person['id']}")["mail"]
    expires = sandbox_now(http, info) + dt.timedelta(days=30)
    graph.ok(
        "POST",
        f"/drives/{drive}/items/{folder['id']}/invite",
        json={
            "recipients": [{"email": email}],
            "roles": ["write"],
            "requireSignIn": True,
            "sendInvitation": False,
            "expirationDateTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    return {"group": group, "drive": drive, "root": root, "folder": folder, "guest": email}


def test_a_member_uploads_into_a_new_folder_then_a_new_version(graph, http, info):
    group = info["quarantine_group_id"]
    first = upload(http, info, b"one", **{"as": AUDREY}, group=group,
                   path="Quarantine/EN-9", name="report.pdf")  # fmt: skip
    conforms("driveItem", first["item"])
    item = first["item"]
    assert first["version"] == "1.0" and item["name"] == "report.pdf"
    assert item["createdBy"]["user"]["email"] == AUDREY
    assert item["createdBy"]["user"]["displayName"] == "Audrey Auditor"
    assert item["parentReference"]["path"] == f"/drives/{first['driveId']}/root:/Quarantine/EN-9"
    folder = graph.ok("GET", f"/drives/{first['driveId']}/root:/Quarantine")
    assert folder["createdBy"]["user"]["email"] == AUDREY

    second = upload(http, info, b"two!", status=200, **{"as": AUDREY}, group=group,
                    path="Quarantine/EN-9", name="report.pdf")  # fmt: skip
    assert second["version"] == "2.0" and second["item"]["id"] == item["id"]
    versions = graph.ok("GET", f"/drives/{first['driveId']}/items/{item['id']}/versions")
    assert [v["lastModifiedBy"]["user"]["email"] for v in versions["value"]] == [AUDREY] * 2
    taken = upload(http, info, b"3", status=409, **{"as": AUDREY}, group=group,
                   path="Quarantine/EN-9", name="report.pdf", conflict="fail")  # fmt: skip
    assert taken["error"] == "name_exists"


def test_a_guest_uploads_where_shared_with_write_only(http, info, shared):
    made = upload(http, info, b"deliverable", **{"as": shared["guest"]},
                  drive=shared["drive"], path="Shared/Week 1", name="draft.docx")  # fmt: skip
    assert made["item"]["lastModifiedBy"]["user"]["email"] == shared["guest"]
    refused = upload(http, info, b"x", status=403, **{"as": shared["guest"]},
                     drive=shared["drive"], path="", name="root.txt")  # fmt: skip
    assert refused["error"] == "no_access" and "not a member" in refused["message"]


def test_reach_by_membership_share_inheritance_and_expiry(http, info, shared):
    member = reach(http, info, **{"as": "carol.owner@contoso.example"}, item=shared["root"])
    assert member["reachable"] and member["canWrite"] and "owner" in member["why"]

    made = upload(http, info, b"x", **{"as": shared["guest"]}, drive=shared["drive"],
                  path="Shared", name="inside.txt")  # fmt: skip
    inside = reach(http, info, **{"as": shared["guest"]}, item=made["item"]["id"])
    assert inside["reachable"] and inside["canWrite"]
    assert "through 'Documents/Shared'" in inside["why"]
    direct = reach(http, info, **{"as": shared["guest"]}, item=shared["folder"]["id"])
    assert direct["reachable"] and "directly" in direct["why"]
    by_path = reach(http, info, **{"as": shared["guest"]}, drive=shared["drive"],
                    path="Shared/inside.txt")  # fmt: skip
    assert by_path["itemId"] == made["item"]["id"] and by_path["reachable"]
    root = reach(http, info, **{"as": shared["guest"]}, item=shared["root"])
    assert root == {**root, "reachable": False, "canWrite": False}
    assert root["why"].startswith("No access")

    advance_clock(http, info, 31 * 86400)
    later = reach(http, info, **{"as": shared["guest"]}, item=made["item"]["id"])
    assert not later["reachable"] and "expired" in later["why"]


def test_info_names_the_tools(info):
    files = info["tools"]["files"]
    assert files["upload_url"] == sandbox_url(info, "/_sandbox/files/upload")
    assert files["reach_url"] == sandbox_url(info, "/_sandbox/files/reach")
    assert files["expire_delta_url"] == sandbox_url(info, "/_sandbox/files/delta/expire")
    assert files["viewer_url"] == sandbox_url(info, "/files/")


def test_tool_errors(http, info, shared):
    url = sandbox_url(info, "/_sandbox/files/upload")
    assert http.post(url, params={"as": AUDREY}, content=b"x").status_code == 401
    cases = [
        ({"as": "nobody@contoso.example", "drive": shared["drive"], "name": "a"}, 404),
        ({"as": AUDREY, "group": "not-a-guid", "name": "a"}, 404),
        ({"as": AUDREY, "drive": "b!nope", "name": "a"}, 404),
        ({"as": shared["guest"], "drive": shared["drive"], "path": "Shared", "name": "a/b"}, 400),
        (
            {
                "as": shared["guest"],
                "drive": shared["drive"],
                "path": "Shared",
                "name": "a",
                "conflict": "merge",
            },
            400,
        ),  # fmt: skip
    ]
    for params, status in cases:
        answer = upload(http, info, b"x", status=status, **params)
        assert answer["error"] and answer["message"], answer
    missing = http.get(
        sandbox_url(info, "/_sandbox/files/reach"),
        params={"as": AUDREY, "item": "01NOPE"},
        auth=tools_auth(info),
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
