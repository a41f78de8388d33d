"""driveItem delta in the Graph emulator: full enumeration, changes since a token, deleted
items, ``token=latest``, 410 ``resyncRequired``."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from gigbridge.sandbox.graph.testing import Graph, assert_graph_error

from .files_support import conforms, tools, unified_group


@pytest.fixture
def place(graph):
    group = unified_group(graph)
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    return group, drive, root


def make_folder(graph: Graph, drive: str, parent: str, name: str) -> dict:
    body = {"name": name, "folder": {}}
    return graph.ok("POST", f"/drives/{drive}/items/{parent}/children", json=body, status=201)


def put_file(graph: Graph, drive: str, path: str, data: bytes, status: int = 201) -> dict:
    return graph.ok(
        "PUT", f"/drives/{drive}/root:/{quote(path)}:/content", content=data, status=status
    )


def pages(graph: Graph, url: str) -> tuple[list[list[dict]], str]:
    """Every page of a delta round (each checked against the metadata) and its deltaLink."""
    found = []
    while True:
        body = graph.ok("GET", url)
        conforms("driveItem", body, collection=True)
        found.append(body["value"])
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            assert body["@odata.deltaLink"].startswith(graph.base + "/drives/")
            return found, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]
        assert url.startswith(graph.base + "/drives/"), url
        assert len(found) < 100


def test_full_enumeration_pages_then_a_delta_link(graph, place):
    group, drive, root = place
    work = make_folder(graph, drive, root, "Work")
    put_file(graph, drive, "Work/a.txt", b"a")
    put_file(graph, drive, "Work/b.txt", b"bb")

    found, link = pages(graph, f"/drives/{drive}/root/delta?$top=2")
    assert [len(p) for p in found] == [2, 2]
    items = [i for page in found for i in page]
    assert [i["name"] for i in items] == ["root", "Work", "a.txt", "b.txt"]
    assert items[0]["root"] == {} and items[0]["id"] == root
    file = items[2]
    assert file["parentReference"]["driveId"] == drive
    assert file["parentReference"]["id"] == work["id"]
    assert file["parentReference"]["path"] == f"/drives/{drive}/root:/Work"
    assert set(file["file"]["hashes"]) == {"quickXorHash", "sha256Hash"}
    assert file["size"] == 1 and file["cTag"] and file["eTag"]

    # The same through the group's drive, and Graph's function spellings.
    by_group, _ = pages(graph, f"/groups/{group}/drive/root/delta")
    assert [i["id"] for i in by_group[0]] == [i["id"] for i in items]
    spelled = graph.ok("GET", f"/drives/{drive}/items/{root}/microsoft.graph.delta()")
    assert [i["id"] for i in spelled["value"]] == [i["id"] for i in items]

    # Nothing changed since: one empty page and a deltaLink.
    again, link2 = pages(graph, link)
    assert again == [[]]
    assert link2.startswith(graph.base)


def test_changes_since_a_token_each_item_once_in_its_latest_state(graph, place):
    group, drive, root = place
    keep = make_folder(graph, drive, root, "Keep")
    old = make_folder(graph, drive, root, "Old")
    inner = put_file(graph, drive, "Old/inner.txt", b"x")
    _, link = pages(graph, f"/drives/{drive}/root/delta")

    first = put_file(graph, drive, "Keep/report.txt", b"one")
    put_file(graph, drive, "Keep/report.txt", b"two, longer", status=200)  # version 2
    assert graph.call("DELETE", f"/drives/{drive}/items/{old['id']}").status_code == 204

    found, link = pages(graph, link)
    items = [i for page in found for i in page]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)), "each changed item once"
    by_id = {i["id"]: i for i in items}
    assert set(ids) == {root, keep["id"], first["id"], old["id"], inner["id"]}
    report = by_id[first["id"]]
    assert "deleted" not in report and report["size"] == len(b"two, longer")  # latest state
    versions = graph.ok("GET", f"/drives/{drive}/items/{first['id']}/versions")["value"]
    assert [v["id"] for v in versions] == ["2.0", "1.0"]
    for gone in (old, inner):
        tombstone = by_id[gone["id"]]
        assert tombstone["deleted"] == {"state": "deleted"}
        assert tombstone["parentReference"]["driveId"] == drive
        assert tombstone["name"] == gone["name"]
    assert by_id[inner["id"]]["parentReference"]["id"] == old["id"]
    assert ids.index(root) < ids.index(keep["id"]) < ids.index(first["id"])  # parents first

    # The next round starts after these.
    again, _ = pages(graph, link)
    assert again == [[]]


def test_changes_page_with_top(graph, place):
    _, drive, root = place
    _, link = pages(graph, f"/drives/{drive}/root/delta")
    for n in range(5):
        put_file(graph, drive, f"f{n}.txt", bytes([n]))
    found, _ = pages(graph, link + "&$top=2")
    assert [len(p) for p in found] == [2, 2, 2]  # the root and five files
    names = [i["name"] for page in found for i in page]
    assert names == ["root", "f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]


def test_token_latest_answers_now_and_nothing_else(graph, place):
    _, drive, root = place
    make_folder(graph, drive, root, "Before")
    body = graph.ok("GET", f"/drives/{drive}/root/delta?token=latest")
    conforms("driveItem", body, collection=True)
    assert body["value"] == [] and "@odata.nextLink" not in body
    after = make_folder(graph, drive, root, "After")
    found, _ = pages(graph, body["@odata.deltaLink"])
    assert [i["name"] for i in found[0]] == ["root", "After"]
    assert found[0][1]["id"] == after["id"]


def test_bad_or_expired_tokens_answer_410_resync_required(graph, http, info, place):
    group, drive, root = place
    response = graph.call("GET", f"/drives/{drive}/root/delta?token=not-a-token")
    assert_graph_error(response, 410, "resyncRequired")
    assert response.headers["location"] == f"{graph.base}/drives/{drive}/root/delta"

    # A token of another drive is not this drive's.
    other = graph.ok("GET", f"/groups/{unified_group(graph)}/drive")["id"]
    foreign = graph.ok("GET", f"/drives/{other}/root/delta?token=latest")["@odata.deltaLink"]
    token = foreign.split("token=", 1)[1]
    response = graph.call("GET", f"/drives/{drive}/root/delta?token={token}")
    assert_graph_error(response, 410, "resyncRequired")

    # Graph can no longer follow changes from a token (here: the sandbox tool says so).
    _, link = pages(graph, f"/drives/{drive}/root/delta")
    make_folder(graph, drive, root, "Later")
    answer = tools(http, info, "POST", "/_sandbox/files/delta/expire", json={"driveId": drive})
    assert answer["driveId"] == drive and answer["floor"] > 0
    assert_graph_error(graph.call("GET", link), 410, "resyncRequired")
    # Enumerating again works, and its deltaLink is good.
    found, fresh = pages(graph, f"/drives/{drive}/root/delta")
    assert "Later" in [i["name"] for i in found[0]]
    assert pages(graph, fresh)[0] == [[]]


def test_delta_only_on_the_root(graph, place):
    _, drive, root = place
    folder = make_folder(graph, drive, root, "Sub")
    response = graph.call("GET", f"/drives/{drive}/items/{folder['id']}/delta")
    assert_graph_error(response, 400, "invalidRequest")
