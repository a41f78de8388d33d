"""File content in the Graph emulator: upload sessions, versions, resuming, small uploads."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import operator
import os
from urllib.parse import quote, urlsplit

import httpx
import pytest

from gigbridge.integrations.msgraph.upload import CHUNK_UNIT, download_file, upload_file
from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sandbox.graph.testing import Graph, assert_graph_error

from .files_support import conforms, product_client, unified_group

SIZE = 1_500_000  # 1.5 MB: four 320 KiB chunks and a shorter last one


@pytest.fixture
def place(graph):
    group = unified_group(graph)
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    return drive, root


def quick_xor(data: bytes) -> str:
    """Microsoft's quickXorHash written out plainly (to check the sandbox's): byte ``i`` is
    XORed in at bit ``11 * i mod 160`` of a 160-bit register, wrapping around; bytes 160 apart
    land on the same bits, so each of the 160 positions takes the XOR of its bytes."""
    register = 0
    for index in range(min(160, len(data))):
        byte = functools.reduce(operator.xor, data[index::160], 0)
        shift = (index * 11) % 160
        register ^= ((byte << shift) | (byte >> (160 - shift))) & ((1 << 160) - 1)
    result = bytearray(register.to_bytes(20, "little"))
    for index, byte in enumerate(len(data).to_bytes(8, "little")):
        result[12 + index] ^= byte
    return base64.b64encode(bytes(result)).decode()


def download(graph: Graph, http: httpx.Client, drive: str, item: str) -> bytes:
    redirect = graph.call("GET", f"/drives/{drive}/items/{item}/content")
    assert redirect.status_code == 302, redirect.text
    content = http.get(redirect.headers["location"])  # pre-authenticated: no bearer
    assert content.status_code == 200
    return content.content


class Flaky(httpx.BaseTransport):
    """Fails chosen PUTs to upload URLs: ``before`` (never reaches the sandbox) or ``after``
    (the sandbox took the chunk, the answer is lost)."""

    def __init__(self, inner: httpx.BaseTransport, plan: dict[int, str]):
        self.inner, self.plan, self.puts = inner, plan, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and "/_sharepoint/uploadSession" in str(request.url):
            self.puts += 1
            action = self.plan.get(self.puts)
            if action == "before":
                raise httpx.ConnectError("simulated: connection refused", request=request)
            if action == "after":
                response = self.inner.handle_request(request)
                response.read()
                response.close()
                raise httpx.ReadTimeout("simulated: the answer was lost", request=request)
        return self.inner.handle_request(request)


def test_upload_a_file_and_a_new_version(client, graph, http, place):
    drive, root = place
    first = os.urandom(SIZE)

    item = upload_file(
        client, drive, root, "deliverable.bin", io.BytesIO(first), SIZE, chunk_size=CHUNK_UNIT
    )
    conforms("driveItem", item)
    assert item["size"] == SIZE and item["name"] == "deliverable.bin"
    hashes = item["file"]["hashes"]
    assert hashes["sha256Hash"] == hashlib.sha256(first).hexdigest().upper()
    assert hashes["quickXorHash"] == quick_xor(first)
    assert download(graph, http, drive, item["id"]) == first

    second = os.urandom(SIZE - 1000)
    again = upload_file(
        client,
        drive,
        root,
        "deliverable.bin",
        io.BytesIO(second),
        len(second),
        chunk_size=2 * CHUNK_UNIT,
    )
    assert again["id"] == item["id"]
    assert again["cTag"] != item["cTag"] and again["size"] == len(second)
    versions = graph.ok("GET", f"/drives/{drive}/items/{item['id']}/versions")
    conforms("driveItemVersion", versions, collection=True)
    assert [(v["id"], v["size"]) for v in versions["value"]] == [
        ("2.0", len(second)),
        ("1.0", SIZE),
    ]
    assert download(graph, http, drive, item["id"]) == second
    quota = graph.ok("GET", f"/drives/{drive}")["quota"]
    assert quota["used"] == SIZE + len(second)


def test_upload_resumes_after_failed_chunks(info, tokens, problems, graph, http, place):
    drive, root = place
    data = os.urandom(SIZE)
    inner = httpx.HTTPTransport(verify=ssl_context_from(info["ca_cert"]))
    flaky = Flaky(inner, {2: "after", 3: "before"})
    with product_client(info, tokens, problems, transport=flaky) as client:
        item = upload_file(
            client, drive, root, "resumed.bin", io.BytesIO(data), SIZE, chunk_size=CHUNK_UNIT
        )
    # Five chunks; the 2nd arrived but its answer was lost (resumed after it, not resent),
    # the 3rd never arrived (sent again): six PUTs in all.
    assert flaky.puts == 6
    assert item["file"]["hashes"]["sha256Hash"] == hashlib.sha256(data).hexdigest().upper()
    assert download(graph, http, drive, item["id"]) == data


def test_chunk_rules(client, graph, http, place):
    drive, root = place
    session = graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}:/rules.bin:/createUploadSession",
        json={"item": {"@microsoft.graph.conflictBehavior": "rename", "fileSize": 2 * CHUNK_UNIT}},
    )
    conforms("uploadSession", session)
    url = session["uploadUrl"]
    assert session["nextExpectedRanges"]
    # SharePoint's host, not Graph's: a client sends its Graph token to Graph's host only.
    assert urlsplit(url).netloc != urlsplit(graph.base).netloc
    assert urlsplit(url).hostname == "localhost" and urlsplit(graph.base).hostname == "127.0.0.1"

    def put(first: int, last: int, total: int = 2 * CHUNK_UNIT, **headers):
        body = b"x" * (last - first + 1)
        return http.put(
            url, content=body, headers={"Content-Range": f"bytes {first}-{last}/{total}", **headers}
        )

    assert_graph_error(put(0, CHUNK_UNIT - 1, Authorization="Bearer x"), 401, "unauthenticated")
    assert_graph_error(put(0, 100 * 1024 - 1), 400, "invalidRequest")  # not 320 KiB
    gap = put(CHUNK_UNIT, 2 * CHUNK_UNIT - 1)
    assert gap.status_code == 416 and gap.json()["nextExpectedRanges"] == ["0-"]
    assert_graph_error(put(0, CHUNK_UNIT - 1, total=5 * CHUNK_UNIT), 400, "invalidRequest")

    accepted = put(0, CHUNK_UNIT - 1)
    assert accepted.status_code == 202
    conforms("uploadSession", accepted.json())
    assert accepted.json()["nextExpectedRanges"] == [f"{CHUNK_UNIT}-"]
    status = http.get(url)
    assert status.status_code == 200 and status.json()["nextExpectedRanges"] == [f"{CHUNK_UNIT}-"]
    overlap = put(0, CHUNK_UNIT - 1)
    assert overlap.status_code == 416
    assert overlap.json()["error"]["code"] == "invalidRange"

    assert http.delete(url).status_code == 204
    assert_graph_error(http.get(url), 404, "itemNotFound")
    assert_graph_error(put(CHUNK_UNIT, 2 * CHUNK_UNIT - 1), 404, "itemNotFound")

    for bad in (100 * 1024, 60 * 1024 * 1024):  # the client refuses them before sending
        with pytest.raises(ValueError):
            upload_file(client, drive, root, "x.bin", io.BytesIO(b"x"), 1, chunk_size=bad)


def test_a_chunk_of_60_mib_is_too_large(graph, http, place):
    drive, root = place
    session = graph.ok("POST", f"/drives/{drive}/items/{root}:/big.bin:/createUploadSession")
    size = 60 * 1024 * 1024
    response = http.put(
        session["uploadUrl"],
        content=bytes(size),
        headers={"Content-Range": f"bytes 0-{size - 1}/{size + 1}"},
    )
    assert_graph_error(response, 413, "requestTooLarge")


def test_small_uploads_and_conflicts(graph, http, place):
    drive, root = place
    path = f"/drives/{drive}/items/{root}:/{quote('notes 1.txt')}:/content"
    made = graph.call("PUT", path, content=b"first", headers={"Content-Type": "text/plain"})
    assert made.status_code == 201, made.text
    conforms("driveItem", made.json())
    assert made.json()["file"]["mimeType"] == "text/plain"
    replaced = graph.call("PUT", path, content=b"second")
    assert replaced.status_code == 200 and replaced.json()["id"] == made.json()["id"]
    refused = graph.call("PUT", path + "?@microsoft.graph.conflictBehavior=fail", content=b"x")
    assert_graph_error(refused, 409, "nameAlreadyExists")
    by_id = graph.call(
        "PUT", f"/drives/{drive}/items/{made.json()['id']}/content", content=b"third"
    )
    assert by_id.status_code == 200
    assert download(graph, http, drive, made.json()["id"]) == b"third"
    assert len(graph.ok("GET", f"/drives/{drive}/items/{made.json()['id']}/versions")["value"]) == 3

    # A session under "fail" (the default) loses to a file made meanwhile, at its last chunk.
    session = graph.ok(
        "POST",
        f"/drives/{drive}/items/{root}:/late.txt:/createUploadSession",
        json={"item": {"name": "late.txt"}},
    )
    graph.call("PUT", f"/drives/{drive}/items/{root}:/late.txt:/content", content=b"early")
    last = http.put(session["uploadUrl"], content=b"late", headers={"Content-Range": "bytes 0-3/4"})
    assert_graph_error(last, 409, "nameAlreadyExists")


class Recording(httpx.BaseTransport):
    """Notes the host and the Authorization header of every request it passes on."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner, self.seen = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.host, request.headers.get("Authorization")))
        return self.inner.handle_request(request)


def test_file_urls_are_on_another_host_and_get_no_bearer(info, tokens, problems, graph, place):
    drive, root = place
    size = 3 * CHUNK_UNIT + 12_345
    data = os.urandom(size)
    recording = Recording(httpx.HTTPTransport(verify=ssl_context_from(info["ca_cert"])))
    with product_client(info, tokens, problems, transport=recording) as client:
        item = upload_file(
            client, drive, root, "hosts.bin", io.BytesIO(data), size, chunk_size=CHUNK_UNIT
        )
    assert item["size"] == size
    with product_client(info, tokens, problems, transport=recording) as client:
        assert download_file(client, drive, item["id"]) == data
    graph_host = urlsplit(graph.base).hostname
    to_graph = [seen for seen in recording.seen if seen[1] == graph_host]
    to_files = [seen for seen in recording.seen if seen[1] != graph_host]
    # createUploadSession, then the item (for its downloadUrl)
    assert [method for method, _, _ in to_graph] == ["POST", "GET"]
    assert all(auth and auth.startswith("Bearer ") for _, _, auth in to_graph)
    assert [method for method, _, _ in to_files] == ["PUT"] * 4 + ["GET"]
    assert {host for _, host, _ in to_files} == {"localhost"}
    assert all(auth is None for _, _, auth in to_files)

    # The downloadUrl and /content's 302 point at the files host too, pre-authenticated.
    found = graph.ok("GET", f"/drives/{drive}/items/{item['id']}")
    # ``items/root`` is the root's alias, as in Microsoft's samples.
    assert graph.ok("GET", f"/drives/{drive}/items/root:/hosts.bin")["id"] == item["id"]
    assert urlsplit(found["@microsoft.graph.downloadUrl"]).hostname == "localhost"
    assert urlsplit(found["webUrl"]).hostname == "localhost"
    redirect = graph.call("GET", f"/drives/{drive}/items/{item['id']}/content")
    assert urlsplit(redirect.headers["location"]).hostname == "localhost"
    with httpx.Client(verify=ssl_context_from(info["ca_cert"]), timeout=10) as plain:
        assert plain.get(redirect.headers["location"]).content == data
        # The same paths on Graph's host do not exist, as on graph.microsoft.com.
        on_graph = urlsplit(redirect.headers["location"])._replace(
            netloc=urlsplit(graph.base).netloc
        )
        assert_graph_error(plain.get(on_graph.geturl()), 404, "itemNotFound")
