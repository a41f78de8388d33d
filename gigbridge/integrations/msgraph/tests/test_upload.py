"""Upload sessions against the fake Graph of test_client.py: chunking, resume, give up, cancel."""

from __future__ import annotations

import hashlib
import io
import json
import re

import httpx
import pytest

from gigbridge.integrations.msgraph.errors import Forbidden, RetryableGraphError
from gigbridge.integrations.msgraph.upload import (
    CHUNK_UNIT,
    MAX_CHUNK,
    upload_file,
    validate_chunk_size,
)

from .test_client import (
    DRIVE_ID,
    FOLDER_ID,
    TOKEN,
    UPLOAD_HOST,
    Bodies,
    FakeGraph,
    FakeTime,
    build_client,
    check_body,
    graph_error,
)


@pytest.fixture
def graph():
    return FakeGraph()


@pytest.fixture
def clock():
    return FakeTime()


@pytest.fixture
def bodies():
    return Bodies()


@pytest.fixture
def make_client(graph, clock, bodies):
    return lambda **options: build_client(graph, clock, bodies, **options)


@pytest.fixture
def client(make_client):
    return make_client()


KIB = 1024


def payload(size: int) -> bytes:
    """Deterministic bytes that differ at every offset (so a misplaced chunk shows)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out.extend(hashlib.sha256(counter.to_bytes(8, "big")).digest())
        counter += 1
    return bytes(out[:size])


def session_of(graph) -> tuple[str, dict]:
    (session_id, session), *_ = graph.uploads.items()
    return session_id, session


def test_upload_in_320_kib_chunks_without_authorization(client, graph, bodies):
    data = payload(3 * 320 * KIB + 12_345)
    item = upload_file(
        client,
        DRIVE_ID,
        FOLDER_ID,
        "deliverable v2.zip",
        io.BytesIO(data),
        len(data),
        chunk_size=CHUNK_UNIT,
    )
    assert item["name"] == "deliverable v2.zip" and item["size"] == len(data)
    _, session = session_of(graph)
    assert bytes(session["received"]) == data
    assert session["chunks"] == [
        (0, 327679, 327680),
        (327680, 655359, 327680),
        (655360, 983039, 327680),
        (983040, len(data) - 1, 12345),
    ]
    create = graph.sent("POST", "/drives/")[0]
    assert create.url.raw_path.decode().endswith(
        f"/items/{FOLDER_ID}:/deliverable%20v2.zip:/createUploadSession"
    )
    assert json.loads(create.content) == {
        "item": {"@microsoft.graph.conflictBehavior": "replace", "name": "deliverable v2.zip"}
    }
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    puts = [r for r in graph.requests if r.url.host == UPLOAD_HOST]
    assert len(puts) == 4 and all("authorization" not in r.headers for r in puts)
    assert puts[-1].headers["content-range"] == f"bytes 983040-{len(data) - 1}/{len(data)}"
    assert puts[-1].headers["content-length"] == "12345"
    # The session request and the item conform to Graph's metadata.
    for type_name, body, direction in bodies.seen:
        assert check_body(type_name, body, direction) == [], (type_name, direction)
    assert [(t, d) for t, _, d in bodies.seen] == [
        ("driveItem/createUploadSession", "request"),
        ("driveItem/createUploadSession", "response"),
        ("driveItem", "response"),
    ]


def test_default_chunk_size_is_ten_units(client, graph):
    data = payload(10 * 320 * KIB + 1)
    upload_file(client, DRIVE_ID, FOLDER_ID, "big.bin", io.BytesIO(data), len(data))
    _, session = session_of(graph)
    assert [c[2] for c in session["chunks"]] == [10 * 320 * KIB, 1]
    assert bytes(session["received"]) == data


@pytest.mark.parametrize(
    "fault",
    [
        graph_error(500, "generalException", "boom"),
        graph_error(503, "serviceNotAvailable", "later", {"Retry-After": "2"}),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("reset"),
        graph_error(416, "invalidRange", "Requested range not satisfiable"),
    ],
    ids=["500", "503", "timeout", "connection", "416"],
)
def test_resumes_from_next_expected_ranges_after_a_failed_chunk(client, graph, clock, fault):
    data = payload(4 * 320 * KIB + 99)
    # The session is created on the first call; fail the second chunk once.
    original = graph.upload

    def flaky(request):
        _, session = session_of(graph)
        if request.method == "PUT" and len(session["chunks"]) == 1 and not flaky.done:
            flaky.done = True
            session["chunks"].append(("failed",))
            if isinstance(fault, Exception):
                raise fault
            return fault
        return original(request)

    flaky.done = False
    graph.upload = flaky
    upload_file(
        client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
    )
    _, session = session_of(graph)
    assert bytes(session["received"]) == data
    methods = [r.method for r in graph.requests if r.url.host == UPLOAD_HOST]
    assert methods == ["PUT", "PUT", "GET", "PUT", "PUT", "PUT", "PUT"]
    assert len(clock.sleeps) == 1
    if fault is not None and isinstance(fault, httpx.Response) and "Retry-After" in fault.headers:
        assert clock.sleeps == [2.0]


def test_resume_skips_bytes_the_server_already_has(client, graph, clock):
    """The chunk arrived but its answer was lost: resume where the server says, not where we
    were (seeking the stream forward)."""
    data = payload(3 * 320 * KIB)
    original = graph.upload
    lost = []

    def lose_an_answer(request):
        response = original(request)
        if request.method == "PUT" and not lost:
            lost.append(True)
            raise httpx.ReadTimeout("answer lost")
        return response

    graph.upload = lose_an_answer
    upload_file(
        client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
    )
    _, session = session_of(graph)
    assert bytes(session["received"]) == data
    starts = [c[0] for c in session["chunks"]]
    assert starts == [0, 327680, 655360]  # chunk 0 was not sent twice


def test_resume_from_an_unaligned_offset(client, graph):
    """The server kept part of a chunk: the next one starts exactly where it says."""
    data = payload(2 * 320 * KIB + 10)
    original = graph.upload
    state = {"cut": False}

    def keep_half(request):
        _, session = session_of(graph)
        if request.method == "PUT" and not state["cut"]:
            state["cut"] = True
            session["received"].extend(request.content[:1000])
            return graph_error(500, "generalException", "connection dropped mid-chunk")
        return original(request)

    graph.upload = keep_half
    upload_file(
        client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
    )
    _, session = session_of(graph)
    assert bytes(session["received"]) == data
    assert session["chunks"][0][0] == 1000


def test_stream_not_at_zero_and_offsets_relative_to_its_start(client, graph):
    data = payload(320 * KIB + 5)
    stream = io.BytesIO(b"HEADER" + data)
    stream.seek(6)
    upload_file(client, DRIVE_ID, FOLDER_ID, "f.bin", stream, len(data), chunk_size=CHUNK_UNIT)
    assert bytes(session_of(graph)[1]["received"]) == data


def test_gives_up_after_max_retries_without_cancelling(make_client, graph, clock):
    client = make_client(max_retries=2)
    original = graph.upload

    def always_fail_puts(request):
        if request.method == "PUT":
            return graph_error(503, "serviceNotAvailable", "later", {"Retry-After": "1"})
        return original(request)

    graph.upload = always_fail_puts
    data = payload(2 * 320 * KIB)
    with pytest.raises(RetryableGraphError, match="gave up after 3 failures") as caught:
        upload_file(
            client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
        )
    assert caught.value.retry_after == 1
    assert clock.sleeps == [1, 1]
    methods = [r.method for r in graph.requests if r.url.host == UPLOAD_HOST]
    assert methods == ["PUT", "GET", "PUT", "GET", "PUT"]
    assert not session_of(graph)[1]["cancelled"]
    assert "tempauth" not in str(caught.value)


def test_permanent_failure_cancels_the_session(client, graph):
    original = graph.upload

    def forbid(request):
        if request.method == "PUT":
            return graph_error(403, "accessDenied", "no")
        return original(request)

    graph.upload = forbid
    data = payload(320 * KIB)
    with pytest.raises(Forbidden):
        upload_file(
            client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
        )
    assert [r.method for r in graph.requests if r.url.host == UPLOAD_HOST] == ["PUT", "DELETE"]
    assert session_of(graph)[1]["cancelled"]


def test_a_stream_shorter_than_its_size_cancels(client, graph):
    with pytest.raises(ValueError, match="ended"):
        upload_file(
            client,
            DRIVE_ID,
            FOLDER_ID,
            "f.bin",
            io.BytesIO(b"short"),
            400 * KIB,
            chunk_size=CHUNK_UNIT,
        )
    assert session_of(graph)[1]["cancelled"]


def test_an_expired_session_is_retryable(client, graph):
    original = graph.upload

    def expire(request):
        session_of(graph)[1]["cancelled"] = True
        return original(request)

    graph.upload = expire
    data = payload(320 * KIB)
    with pytest.raises(RetryableGraphError) as caught:
        upload_file(
            client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(data), len(data), chunk_size=CHUNK_UNIT
        )
    assert caught.value.code == "uploadSessionNotFound"


@pytest.mark.parametrize(
    "size", [0, 1000, CHUNK_UNIT + 1, CHUNK_UNIT // 2, 192 * CHUNK_UNIT, MAX_CHUNK, -CHUNK_UNIT]
)
def test_chunk_sizes_are_validated(client, graph, size):
    with pytest.raises(ValueError, match="chunk_size"):
        upload_file(client, DRIVE_ID, FOLDER_ID, "f.bin", io.BytesIO(b"x"), 1, chunk_size=size)
    assert graph.requests == []


def test_chunk_size_limits():
    validate_chunk_size(CHUNK_UNIT)
    validate_chunk_size(191 * CHUNK_UNIT)  # the largest multiple under 60 MiB
    assert 191 * CHUNK_UNIT < MAX_CHUNK <= 192 * CHUNK_UNIT
    with pytest.raises(ValueError):
        validate_chunk_size(True)


def test_bad_names_and_streams_are_refused(client, graph):
    for name in ("", "a/b", "..", "a\\b"):
        with pytest.raises(ValueError, match="name"):
            upload_file(client, DRIVE_ID, FOLDER_ID, name, io.BytesIO(b"x"), 1)

    class Pipe(io.RawIOBase):
        def readable(self):
            return True

    with pytest.raises(ValueError, match="seekable"):
        upload_file(client, DRIVE_ID, FOLDER_ID, "f.bin", Pipe(), 1)
    assert graph.requests == []


def test_an_empty_file_uses_a_simple_upload(client, graph):
    item = upload_file(client, DRIVE_ID, FOLDER_ID, "empty.txt", io.BytesIO(b""), 0)
    assert item["size"] == 0
    (put,) = graph.requests
    assert put.method == "PUT" and re.search(r":/empty.txt:/content$", put.url.path)
