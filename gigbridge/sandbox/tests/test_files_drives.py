"""A group's document library in the Graph emulator: folders, paths, sharing with expiry."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import quote

import pytest

from gigbridge.integrations.msgraph.errors import Conflict, NotFound
from gigbridge.sandbox.graph.testing import Graph, assert_graph_error, sent_mail

from .files_support import (
    advance_clock,
    conforms,
    guest,
    sandbox_now,
    unified_group,
)


@pytest.fixture
def drive(graph):
    group = unified_group(graph)
    body = graph.ok("GET", f"/groups/{group}/drive")
    conforms("drive", body)
    return body["id"]


@pytest.fixture
def clock(http, info):
    """clock(seconds) makes time pass on the sandbox clock (every test starts it afresh)."""
    return lambda seconds: advance_clock(http, info, seconds)


def folder(
    graph: Graph, drive: str, parent: str, name: str, behavior: str | None = None, status: int = 201
):
    body = {"name": name, "folder": {}}
    if behavior:
        body["@microsoft.graph.conflictBehavior"] = behavior
    response = graph.call("POST", f"/drives/{drive}/items/{parent}/children", json=body)
    assert response.status_code == status, response.text
    if status < 300:
        conforms("driveItem", response.json())
    return response.json()


def test_the_groups_drive_and_its_root(graph, drive):
    again = graph.ok("GET", f"/drives/{drive}")
    conforms("drive", again)
    assert again["driveType"] == "documentLibrary" and again["name"] == "Documents"
    assert again["quota"]["used"] == 0
    root = graph.ok("GET", f"/drives/{drive}/root")
    conforms("driveItem", root)
    assert root["root"] == {} and root["folder"]["childCount"] == 0
    assert root["parentReference"]["driveId"] == drive
    assert_graph_error(graph.call("GET", "/drives/b!nope"), 404, "itemNotFound")
    assert_graph_error(graph.call("GET", "/drives/nope"), 400, "invalidRequest")


def test_folders_paths_conflicts_and_paging(graph, drive):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    project = folder(graph, drive, root, "Project A")
    assert project["parentReference"]["path"] == f"/drives/{drive}/root:"
    inner = folder(graph, drive, project["id"], "Deliverables")
    assert inner["parentReference"]["path"] == f"/drives/{drive}/root:/Project A"

    by_path = graph.ok("GET", f"/drives/{drive}/root:/{quote('Project A')}/deliverables")
    conforms("driveItem", by_path)
    assert by_path["id"] == inner["id"]  # names match regardless of case
    under = graph.ok("GET", f"/drives/{drive}/root:/{quote('Project A')}:/children")
    assert [c["name"] for c in under["value"]] == ["Deliverables"]
    assert_graph_error(graph.call("GET", f"/drives/{drive}/root:/Nope"), 404, "itemNotFound")

    taken = folder(graph, drive, root, "project a", status=409)
    assert taken["error"]["code"] == "nameAlreadyExists"
    renamed = folder(graph, drive, root, "Project A", "rename")
    assert renamed["name"] == "Project A 1"
    replaced = folder(graph, drive, root, "Project A 1", "replace")
    assert replaced["id"] != renamed["id"]

    first = graph.ok("GET", f"/drives/{drive}/items/{root}/children?$top=1")
    conforms("driveItem", first, collection=True)
    assert len(first["value"]) == 1 and first["@odata.nextLink"].startswith(graph.base)
    rest = graph.all_pages(f"/drives/{drive}/items/{root}/children?$top=1", "driveItem")
    assert [c["name"] for c in rest] == ["Project A", "Project A 1"]
    root_after = graph.ok("GET", f"/drives/{drive}/root")
    assert root_after["folder"]["childCount"] == 2
    assert root_after["eTag"] != graph.ok("GET", f"/drives/{drive}/items/{project['id']}")["eTag"]


def test_deleted_folder_is_gone_with_everything_in_it(graph, drive):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    top = folder(graph, drive, root, "Old")
    child = folder(graph, drive, top["id"], "Inner")

    assert graph.call("DELETE", f"/drives/{drive}/items/{top['id']}").status_code == 204
    for item in (top, child):
        gone = graph.call("GET", f"/drives/{drive}/items/{item['id']}")
        assert_graph_error(gone, 404, "itemNotFound")
    assert_graph_error(
        graph.call("DELETE", f"/drives/{drive}/items/{top['id']}"), 404, "itemNotFound"
    )
    assert_graph_error(graph.call("DELETE", f"/drives/{drive}/items/{root}"), 403, "accessDenied")


def test_invite_a_guest_with_expiry_then_list_and_delete(client, graph, http, info, drive):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    shared = folder(graph, drive, root, "Shared with freelancer")
    below = folder(graph, drive, shared["id"], "Inputs")
    email = guest(graph)  # a B2B guest of the tenant
    address = graph.ok("GET", f"/users/{email['id']}")["mail"]
    expires = sandbox_now(http, info).replace(microsecond=0) + dt.timedelta(days=30)

    granted = client.invite_to_drive_item(
        drive, shared["id"], address, "write", expires, message="Welcome aboard"
    )
    assert len(granted) == 1
    permission = granted[0]
    assert permission["roles"] == ["write"]
    assert permission["invitation"]["email"] == address
    assert permission["grantedToV2"]["user"]["id"] == email["id"]
    assert permission["expirationDateTime"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    mails = sent_mail(http, info, to=address)
    assert mails and "Welcome aboard" in mails[0]["message"]["body"]["content"]

    own = client.list_permissions(drive, shared["id"])
    mine = [p for p in own if p["id"] == permission["id"]]
    assert len(mine) == 1 and "inheritedFrom" not in mine[0]
    assert {"owner", "write", "read"} <= {r for p in own for r in p["roles"]}
    inherited = [
        p for p in client.list_permissions(drive, below["id"]) if p["id"] == permission["id"]
    ]
    assert inherited[0]["inheritedFrom"]["id"] == shared["id"]

    # Inviting again replaces roles and expiry of the same permission.
    again = client.invite_to_drive_item(
        drive,
        shared["id"],
        address,
        "read",
        expires.date() + dt.timedelta(days=1),
        send_invitation=False,
    )
    assert again[0]["id"] == permission["id"] and again[0]["roles"] == ["read"]

    with pytest.raises(Exception) as refused:
        client.delete_permission(drive, below["id"], permission["id"])
    assert getattr(refused.value, "status", None) == 400
    client.delete_permission(drive, shared["id"], permission["id"])
    assert permission["id"] not in {p["id"] for p in client.list_permissions(drive, shared["id"])}
    with pytest.raises(NotFound):
        client.delete_permission(drive, shared["id"], permission["id"])


def test_expired_permissions_disappear(client, graph, http, info, drive, clock):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    shared = folder(graph, drive, root, "Short")
    address = f"someone-{uuid.uuid4().hex[:6]}@fabrikam.example"  # not (yet) in the tenant
    soon = sandbox_now(http, info) + dt.timedelta(hours=2)
    permission = client.invite_to_drive_item(
        drive, shared["id"], address, "read", soon, send_invitation=False
    )[0]
    assert "user" not in permission["grantedToV2"]
    assert permission["grantedToV2"]["siteUser"]["loginName"].endswith(f"#{address}")

    clock(3 * 3600)
    assert permission["id"] not in {p["id"] for p in client.list_permissions(drive, shared["id"])}
    with pytest.raises(NotFound):
        client.delete_permission(drive, shared["id"], permission["id"])
    past = graph.call(
        "POST",
        f"/drives/{drive}/items/{shared['id']}/invite",
        json={
            "recipients": [{"email": address}],
            "roles": ["read"],
            "requireSignIn": True,
            "expirationDateTime": soon.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    assert_graph_error(past, 400, "invalidRequest")


def test_a_permissions_expiry_and_roles_can_be_updated(client, graph, http, info, drive, clock):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    shared = folder(graph, drive, root, "Shortened")
    below = folder(graph, drive, shared["id"], "Inside")
    address = f"someone-{uuid.uuid4().hex[:6]}@fabrikam.example"
    now = sandbox_now(http, info).replace(microsecond=0)
    permission = client.invite_to_drive_item(
        drive, shared["id"], address, "write", now + dt.timedelta(days=90), send_invitation=False
    )[0]
    path = f"/drives/{drive}/items/{shared['id']}/permissions/{permission['id']}"

    sooner = now + dt.timedelta(days=3)
    updated = client.update_permission_expiry(drive, shared["id"], permission["id"], sooner)
    conforms("permission", updated)
    assert updated["id"] == permission["id"] and updated["roles"] == ["write"]
    assert updated["expirationDateTime"] == sooner.strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = next(
        p for p in client.list_permissions(drive, shared["id"]) if p["id"] == permission["id"]
    )
    assert listed["expirationDateTime"] == updated["expirationDateTime"]
    assert graph.ok("PATCH", path, json={"roles": ["read"]})["roles"] == ["read"]

    for body in (
        {"expirationDateTime": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"expirationDateTime": "next week"},
        {"roles": ["owner"]},
        {"shareId": "x"},  # a property of permission, but not one that can be changed
        {"colour": "red"},
    ):
        assert_graph_error(graph.call("PATCH", path, json=body), 400, "invalidRequest")
    inherited = f"/drives/{drive}/items/{below['id']}/permissions/{permission['id']}"
    later = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_graph_error(
        graph.call("PATCH", inherited, json={"expirationDateTime": later}), 400, "invalidRequest"
    )

    clock(4 * 86400)  # past the shortened expiry: gone, and so no longer updatable
    assert permission["id"] not in {p["id"] for p in client.list_permissions(drive, shared["id"])}
    with pytest.raises(NotFound):
        client.update_permission_expiry(
            drive, shared["id"], permission["id"], now + dt.timedelta(days=9)
        )


def test_invite_checks_its_parameters(graph, drive):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    path = f"/drives/{drive}/items/{root}/invite"
    for body in (
        {"recipients": [], "roles": ["read"]},
        {"recipients": [{"email": "a@b.example"}], "roles": ["owner"]},
        {"recipients": [{"email": "not-an-address"}], "roles": ["read"]},
        {"recipients": [{"email": "a@b.example"}], "roles": ["read"], "colour": "red"},
    ):
        assert_graph_error(graph.call("POST", path, json=body), 400, "invalidRequest")


def test_folder_creation_through_the_client_conflicts_typed(client, graph, drive):
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    path = f"/drives/{drive}/items/{root}/children"
    made = client.post_json(path, {"name": "Via client", "folder": {}}, type_name="driveItem")
    assert made["folder"] == {"childCount": 0}
    with pytest.raises(Conflict):
        client.post_json(
            path,
            {"name": "Via client", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"},
            type_name="driveItem",
        )
