"""scan_download against the sandbox's files host and a real clamd: one pass, flat memory."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import httpx
import pytest

from gigbridge.files import scanning
from gigbridge.files.scanning import DownloadSizeMismatch, scan_download
from gigbridge.integrations.clamav import daemon
from gigbridge.integrations.clamav.client import Clamd, ScanResult
from gigbridge.integrations.clamav.errors import ClamdUnavailable
from gigbridge.integrations.msgraph.errors import (
    NotFound,
    PermanentGraphError,
    RetryableGraphError,
    Unauthorized,
)
from gigbridge.integrations.msgraph.upload import upload_file

MIB = 1024 * 1024
EICAR_SIGNATURE = f"{daemon.SIGNATURE_NAME}.UNOFFICIAL"


@pytest.fixture(scope="module")
def graph_http(tenant_info):
    from gigbridge.sandbox.client import ssl_context_from

    with httpx.Client(verify=ssl_context_from(tenant_info["ca_cert"]), timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def place(tenant_info, graph_http):
    """A new group's document library in the session's sandbox tenant: (graph, drive, root)."""
    from gigbridge.sandbox.graph.testing import Graph, app_token
    from gigbridge.sandbox.tests.files_support import unified_group

    graph = Graph(graph_http, tenant_info, app_token(tenant_info))
    group = unified_group(graph, "Scanning")
    drive = graph.ok("GET", f"/groups/{group}/drive")["id"]
    root = graph.ok("GET", f"/drives/{drive}/root")["id"]
    return graph, drive, root


@pytest.fixture
def upload(tenant_info, place):
    """upload(name, data) -> the driveItem (with its @microsoft.graph.downloadUrl)."""
    from gigbridge.sandbox.tests.files_support import product_client, token_provider

    problems: list[str] = []
    _, drive, root = place

    def send(name: str, data: bytes) -> dict:
        with product_client(tenant_info, token_provider(tenant_info), problems) as client:
            return upload_file(client, drive, root, name, io.BytesIO(data), len(data))

    yield send
    assert problems == []


@pytest.fixture
def trusted(settings, tenant_info, clamav):
    """Graph's TLS trust (the sandbox CA) and the session's clamd, as a deployment has them."""
    settings.GRAPH = {**settings.GRAPH, "ca_bundle": tenant_info["ca_cert"]}
    settings.CLAMAV = {**settings.CLAMAV, "chunk_bytes": MIB}


@pytest.fixture(scope="module")
def small_clamd(tmp_path_factory):
    running = daemon.start(
        tmp_path_factory.mktemp("scan-small-clamd"),
        daemon.Limits(stream_max_length="1M", max_file_size="1M", max_scan_size="1M"),
    )
    yield Clamd(running.address)
    running.stop()


def url_of(item: dict) -> str:
    return item["@microsoft.graph.downloadUrl"]


def test_a_clean_file_is_hashed_and_scanned_in_one_pass(trusted, upload):
    data = os.urandom(3 * MIB + 12345)
    item = upload("report.bin", data)
    scanned = scan_download(url_of(item), expected_size=len(data))
    assert scanned.result == ScanResult("clean")
    assert scanned.size == len(data)
    assert scanned.sha256 == hashlib.sha256(data).hexdigest()
    assert scanned.sha256.upper() == item["file"]["hashes"]["sha256Hash"]
    assert scanned.scanner.startswith("ClamAV 1.")


def test_an_eicar_file_is_infected(trusted, upload):
    item = upload("invoice.com", daemon.eicar())
    scanned = scan_download(url_of(item), expected_size=68)
    assert scanned.result == ScanResult("infected", EICAR_SIGNATURE)
    assert scanned.sha256 == hashlib.sha256(daemon.eicar()).hexdigest()


def test_a_file_over_clamds_stream_limit_is_too_large_and_still_hashed(
    trusted, upload, small_clamd
):
    data = os.urandom(3 * MIB)
    item = upload("video.bin", data)
    scanned = scan_download(url_of(item), expected_size=len(data), scanner=small_clamd)
    assert scanned.result.status == "too_large"
    assert not scanned.result.clean
    assert scanned.size == len(data)
    assert scanned.sha256 == hashlib.sha256(data).hexdigest()  # the whole file's, read on


def test_a_size_other_than_the_versions_is_an_error_never_a_verdict(trusted, upload):
    data = os.urandom(2 * MIB)
    item = upload("sized.bin", data)
    with pytest.raises(DownloadSizeMismatch, match="the version has 2097153 bytes"):
        scan_download(url_of(item), expected_size=len(data) + 1)
    with pytest.raises(DownloadSizeMismatch, match=r"the download more \(") as caught:
        scan_download(url_of(item), expected_size=MIB)
    assert isinstance(caught.value, RetryableGraphError)


def test_refused_downloads_are_permanent_graph_errors(trusted, upload, place, tenant_info):
    graph, drive, _ = place
    item = upload("gone.bin", b"soon gone")
    url = url_of(item)
    with pytest.raises(Unauthorized) as caught:
        scan_download(url.split("tempauth=")[0] + "tempauth=forged")
    assert "tempauth" not in str(caught.value) and "forged" not in str(caught.value)
    graph.ok("DELETE", f"/drives/{drive}/items/{item['id']}", status=204)
    with pytest.raises(NotFound) as caught:
        scan_download(url)
    assert str(caught.value).startswith("Graph GET /_sharepoint/download -> 404 itemNotFound")


def test_memory_stays_flat_for_a_50_mb_file(trusted, upload):
    data = os.urandom(50 * MIB)
    item = upload("big.bin", data)
    expected = hashlib.sha256(data).hexdigest()
    del data
    tracemalloc.start()
    try:
        scanned = scan_download(url_of(item), expected_size=50 * MIB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scanned.sha256 == expected and scanned.result.clean
    assert peak < 6 * MIB, f"peak {peak} bytes: more than a handful of 1 MiB chunks held"


# -- the download's HTTP side, with a transport standing in for the files host -------------------


@pytest.fixture
def files_host(monkeypatch, settings, clamav):
    """Answers of a fake files host: ``files_host.answer = handler``; requests are recorded."""

    class Host:
        answer = staticmethod(lambda request: httpx.Response(200, content=b"fine"))
        requests: list[httpx.Request] = []

    real = scanning.new_client

    def handle(request: httpx.Request) -> httpx.Response:
        Host.requests.append(request)
        return Host.answer(request)

    monkeypatch.setattr(
        scanning,
        "new_client",
        lambda **kw: real(**kw, transport=httpx.MockTransport(handle)),
    )
    Host.requests = []
    return Host


URL = "https://contoso.sharepoint.com/_layouts/15/download.aspx?tempauth=secret"


def test_no_bearer_token_goes_to_the_download_url(files_host):
    scanned = scan_download(URL, expected_size=4)
    assert scanned.result.clean
    (request,) = files_host.requests
    assert "authorization" not in request.headers
    assert request.url == httpx.URL(URL)


@pytest.mark.parametrize(
    "status,error,retry_after",
    [
        (429, RetryableGraphError, 7.0),
        (503, RetryableGraphError, 7.0),
        (410, PermanentGraphError, None),
    ],
)
def test_statuses_map_to_graph_errors(files_host, status, error, retry_after):
    body = {"error": {"code": "c", "message": "m"}}
    files_host.answer = lambda request: httpx.Response(
        status, json=body, headers={"Retry-After": "7"}
    )
    with pytest.raises(error) as caught:
        scan_download(URL)
    assert type(caught.value) is error or status == 410
    assert caught.value.status == status
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert "secret" not in str(caught.value)


def test_a_redirect_is_not_followed(files_host):
    files_host.answer = lambda request: httpx.Response(302, headers={"Location": "https://x/"})
    with pytest.raises(PermanentGraphError, match="unexpectedRedirect"):
        scan_download(URL)
    assert len(files_host.requests) == 1


def test_a_lost_connection_is_retryable(files_host):
    def drop(request):
        raise httpx.ConnectError("refused", request=request)

    files_host.answer = drop
    with pytest.raises(RetryableGraphError, match="connectionError"):
        scan_download(URL)


def test_without_a_reachable_clamd_nothing_is_downloaded(files_host, settings, tmp_path):
    settings.CLAMAV = {**settings.CLAMAV, "address": f"unix://{tmp_path}/none.sock"}
    with pytest.raises(ClamdUnavailable):
        scan_download(URL)
    settings.CLAMAV = {**settings.CLAMAV, "address": ""}
    with pytest.raises(ClamdUnavailable, match="set GIGBRIDGE_CLAMD_ADDRESS"):
        scan_download(URL)
    assert files_host.requests == []


@pytest.mark.parametrize("url", ["http://x/download", "not a url", ""])
def test_only_https_urls(clamav, url):
    with pytest.raises(ValueError, match="https URL"):
        scan_download(url)


def test_a_clamd_lost_mid_stream_is_unavailable_and_the_download_stops(
    files_host, settings, tmp_path
):
    """clamd answers VERSION, then drops the INSTREAM connection after the first bytes."""
    import socket
    import threading

    path = tmp_path / "dying.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(2)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            conn.sendall(b"ClamAV 1.4.6\0")
        conn, _ = server.accept()
        with conn:
            conn.recv(64 * 1024)  # then gone, without a word

    threading.Thread(target=serve, daemon=True).start()
    settings.CLAMAV = {**settings.CLAMAV, "address": f"unix://{path}", "chunk_bytes": 64 * 1024}
    files_host.answer = lambda request: httpx.Response(200, content=b"z" * (32 * MIB))
    with server, pytest.raises(ClamdUnavailable, match="INSTREAM"):
        scan_download(URL)
