"""Changes to driveItems in the Graph emulator: a version's content, permanentDelete, rename and
move (PATCH), and the drive-root notification and delta entry every change makes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit

import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.sandbox.graph.testing import Graph, assert_graph_error

from .files_support import Receiver, conforms, sandbox_now, unified_group


@pytest.fixture
def place(graph):
    drive = graph.ok("GET", f"/groups/{unified_group(graph)}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    return drive, root


def make_folder(graph: Graph, drive: str, parent: str, name: str) -> dict:
    body = {"name": name, "folder": {}}
    return graph.ok("POST", f"/drives/{drive}/items/{parent}/children", json=body, status=201)


def put_file(graph: Graph, drive: str, path: str, data: bytes, status: int = 201) -> dict:
    return graph.ok(
        "PUT", f"/drives/{drive}/root:/{quote(path)}:/content", content=data, status=status
    )


def patch(graph: Graph, drive: str, item: str, body: dict, status: int = 200, **kwargs):
    assert conformance.validate("driveItem", body, direction="request") == []
    response = graph.call("PATCH", f"/drives/{drive}/items/{item}", json=body, **kwargs)
    assert response.status_code == status, response.text
    if status == 200:
        conforms("driveItem", response.json())
    return response.json()


def changed_since(graph: Graph, link: str) -> tuple[dict[str, dict], str]:
    found: dict[str, dict] = {}
    while True:
        body = graph.ok("GET", link)
        conforms("driveItem", body, collection=True)
        found.update({i["id"]: i for i in body["value"]})
        if "@odata.deltaLink" in body:
            return found, body["@odata.deltaLink"]
        link = body["@odata.nextLink"]


def latest(graph: Graph, drive: str) -> str:
    return graph.ok("GET", f"/drives/{drive}/root/delta?token=latest")["@odata.deltaLink"]


def test_each_version_has_its_own_content(graph, http, place):
    drive, _ = place
    item = put_file(graph, drive, "draft.txt", b"first")
    put_file(graph, drive, "draft.txt", b"second, longer", status=200)
    for version, data in (("1.0", b"first"), ("2.0", b"second, longer"), ("2", b"second, longer")):
        redirect = graph.call(
            "GET", f"/drives/{drive}/items/{item['id']}/versions/{version}/content"
        )
        assert redirect.status_code == 302, redirect.text
        location = redirect.headers["location"]
        assert urlsplit(location).hostname != urlsplit(graph.base).hostname  # the files host
        content = http.get(location)  # pre-authenticated: no bearer
        assert content.status_code == 200 and content.content == data
    for bad in ("3.0", "x", "1.5"):
        response = graph.call("GET", f"/drives/{drive}/items/{item['id']}/versions/{bad}/content")
        assert_graph_error(response, 404, "itemNotFound")


def test_permanent_delete_removes_the_item_and_its_versions(graph, http, place):
    drive, root = place
    folder = make_folder(graph, drive, root, "Bin")
    item = put_file(graph, drive, "Bin/bad.exe", b"one")
    put_file(graph, drive, "Bin/bad.exe", b"two", status=200)
    link = latest(graph, drive)
    old_url = graph.call("GET", f"/drives/{drive}/items/{item['id']}/versions/1.0/content")
    old_url = old_url.headers["location"]

    with_body = graph.call(
        "POST", f"/drives/{drive}/items/{item['id']}/permanentDelete", json={"force": True}
    )
    assert_graph_error(with_body, 400, "invalidRequest")  # the action has no parameters
    response = graph.call("POST", f"/drives/{drive}/items/{item['id']}/permanentDelete")
    assert response.status_code == 204 and not response.content
    for path in ("", "/versions", "/versions/1.0", "/versions/1.0/content", "/content"):
        gone = graph.call("GET", f"/drives/{drive}/items/{item['id']}{path}")
        assert_graph_error(gone, 404, "itemNotFound")
    assert http.get(old_url).status_code == 404  # its bytes are gone too
    again = graph.call("POST", f"/drives/{drive}/items/{item['id']}/permanentDelete")
    assert_graph_error(again, 404, "itemNotFound")
    refused = graph.call("POST", f"/drives/{drive}/items/{root}/microsoft.graph.permanentDelete")
    assert_graph_error(refused, 403, "accessDenied")

    found, _ = changed_since(graph, link)
    assert found[item["id"]]["deleted"] == {"state": "deleted"}
    assert found[item["id"]]["parentReference"]["id"] == folder["id"]
    assert "deleted" not in found[folder["id"]]


def test_rename_and_move_within_the_drive(graph, place):
    drive, root = place
    inbox = make_folder(graph, drive, root, "Inbox")
    done = make_folder(graph, drive, root, "Done")
    item = put_file(graph, drive, "Inbox/report.txt", b"r")
    link = latest(graph, drive)

    renamed = patch(graph, drive, item["id"], {"name": "report v2.txt"})
    assert renamed["name"] == "report v2.txt" and renamed["id"] == item["id"]
    assert renamed["eTag"] != item["eTag"] and renamed["cTag"] == item["cTag"]
    moved = patch(graph, drive, item["id"], {"parentReference": {"id": done["id"]}})
    assert moved["parentReference"]["id"] == done["id"]
    assert moved["parentReference"]["path"] == f"/drives/{drive}/root:/Done"
    by_path = graph.ok("GET", f"/drives/{drive}/root:/Done/{quote('report v2.txt')}")
    assert by_path["id"] == item["id"]
    both = patch(
        graph,
        drive,
        item["id"],
        {"name": "final.txt", "parentReference": {"path": f"/drives/{drive}/root:/Inbox"}},
    )
    assert both["name"] == "final.txt" and both["parentReference"]["id"] == inbox["id"]

    found, _ = changed_since(graph, link)
    assert found[item["id"]]["name"] == "final.txt"  # once, in its latest state
    assert {inbox["id"], done["id"], root} <= set(found)  # both folders' content changed


def test_name_conflicts_and_bad_updates(graph, place):
    drive, root = place
    folder = make_folder(graph, drive, root, "Work")
    inner = make_folder(graph, drive, folder["id"], "Inner")
    a = put_file(graph, drive, "Work/a.txt", b"a")
    b = put_file(graph, drive, "Work/b.txt", b"b")

    taken = patch(graph, drive, b["id"], {"name": "A.TXT"}, status=409)
    assert taken["error"]["code"] == "nameAlreadyExists"
    renamed = patch(
        graph, drive, b["id"], {"name": "a.txt", "@microsoft.graph.conflictBehavior": "rename"}
    )
    assert renamed["name"] == "a 1.txt"
    replaced = patch(
        graph, drive, b["id"], {"name": "a.txt", "@microsoft.graph.conflictBehavior": "replace"}
    )
    assert replaced["name"] == "a.txt"
    assert_graph_error(graph.call("GET", f"/drives/{drive}/items/{a['id']}"), 404, "itemNotFound")

    bad = [
        ({"size": 3}, 400, "invalidRequest"),  # not something PATCH changes here
        ({"name": "a/b"}, 400, "invalidRequest"),
        ({"name": 7}, 400, "invalidRequest"),  # refused by the metadata's type
        ({"parentReference": {"id": b["id"]}}, 400, "invalidRequest"),  # a file
        ({"parentReference": {"id": "01NOPE"}}, 404, "itemNotFound"),
        ({"parentReference": {"id": root, "driveId": "b!other"}}, 400, "invalidRequest"),
    ]
    for body, status, code in bad:
        response = graph.call("PATCH", f"/drives/{drive}/items/{b['id']}", json=body)
        assert_graph_error(response, status, code)
    into_itself = graph.call(
        "PATCH",
        f"/drives/{drive}/items/{folder['id']}",
        json={"parentReference": {"id": inner["id"]}},
    )
    assert_graph_error(into_itself, 400, "invalidRequest")
    stale = graph.call(
        "PATCH",
        f"/drives/{drive}/items/{b['id']}",
        json={"name": "c.txt"},
        headers={"If-Match": b["eTag"]},
    )
    assert_graph_error(stale, 412, "preconditionFailed")
    root_patch = graph.call("PATCH", f"/drives/{drive}/items/{root}", json={"name": "x"})
    assert_graph_error(root_patch, 403, "accessDenied")


def test_every_change_is_announced_on_the_drive_root(graph, place):
    drive, root = place
    receiver = Receiver()
    expires = sandbox_now(graph.http, graph.info) + dt.timedelta(hours=12)
    subscription = graph.ok(
        "POST",
        "/subscriptions",
        status=201,
        json={
            "changeType": "updated",
            "notificationUrl": receiver.url(),
            "resource": f"/drives/{drive}/root",
            "expirationDateTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "clientState": "state",
        },
    )
    try:
        folder = make_folder(graph, drive, root, "Notes")
        acts = [
            lambda: put_file(graph, drive, "Notes/n.txt", b"1"),  # create
            lambda: put_file(graph, drive, "Notes/n.txt", b"2", status=200),  # new version
            lambda: patch(graph, drive, item()["id"], {"name": "m.txt"}),  # rename
            lambda: patch(graph, drive, item()["id"], {"parentReference": {"id": root}}),  # move
            lambda: graph.call("DELETE", f"/drives/{drive}/items/{folder['id']}"),  # delete
            lambda: graph.call(
                "POST", f"/drives/{drive}/items/{item()['id']}/permanentDelete"
            ),  # permanentDelete
        ]

        def item() -> dict:
            children = graph.ok("GET", f"/drives/{drive}/root/delta")["value"]
            return next(c for c in children if c["name"] in ("n.txt", "m.txt"))

        receiver.wait(timeout=15)  # the folder
        for act in acts:
            act()
            delivery = receiver.wait(timeout=15)
            note = delivery["body"]["value"][0]
            assert note["subscriptionId"] == subscription["id"]
            assert note["resource"] == f"drives/{drive}/root" and note["changeType"] == "updated"
    finally:
        graph.call("DELETE", f"/subscriptions/{subscription['id']}")
        receiver.close()
