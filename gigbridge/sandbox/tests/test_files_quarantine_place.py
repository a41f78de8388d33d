"""Where quarantined deliverables go in the sandbox tenant (the "Security Review" group and the
environment ``gigbridge up`` gives the product), and the dial that slows downloads."""

from __future__ import annotations

import pytest

from gigbridge.sandbox.connect import product_env
from gigbridge.sandbox.graph.testing import control_url, set_dials, tools_auth
from gigbridge.sandbox.m365files.pacing import paced

from .files_support import conforms, unified_group


def test_the_security_review_group_and_its_library(graph, info):
    group = info["quarantine_group_id"]
    body = graph.ok("GET", f"/groups/{group}", type_name="group")
    assert body["displayName"] == "Security Review"
    assert body["mailNickname"] == "securityreview"
    assert body["groupTypes"] == ["Unified"] and body["visibility"] == "Private"
    members = graph.ok("GET", f"/groups/{group}/members")["value"]
    assert [m["mail"] for m in members] == ["audrey@contoso.example"]
    drive = graph.ok("GET", f"/groups/{group}/drive")
    conforms("drive", drive)
    assert drive["owner"]["group"]["id"] == group


def test_gigbridge_up_gives_the_product_the_quarantine_group(info):
    env = product_env(info)
    assert env["GIGBRIDGE_QUARANTINE_GROUP_ID"] == info["quarantine_group_id"]
    older = {k: v for k, v in info.items() if k != "quarantine_group_id"}
    assert "GIGBRIDGE_QUARANTINE_GROUP_ID" not in product_env(older)


def test_the_group_survives_a_second_seed(sandbox, info):
    assert sandbox.info()["quarantine_group_id"] == info["quarantine_group_id"]


class FakeTime:
    def __init__(self) -> None:
        self.now, self.slept = 100.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_paced_reading_keeps_to_the_rate(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 40)  # 10 240 bytes
    fake = FakeTime()
    pieces = list(paced(path, 1000, sleep=fake.sleep, monotonic=fake.monotonic))
    assert b"".join(pieces) == path.read_bytes()
    assert {len(p) for p in pieces[:-1]} == {250}  # a quarter second's worth each
    assert fake.now - 100.0 == pytest.approx((len(pieces) - 1) * 0.25)
    with pytest.raises(ValueError, match="at least 1 byte"):
        list(paced(path, 0))


@pytest.fixture
def slow_downloads(http, info):
    yield lambda rate: set_dials(http, info, files={"download_bytes_per_second": rate})
    set_dials(http, info, files={"download_bytes_per_second": None})


def test_the_download_dial(graph, http, info, slow_downloads):
    drive = graph.ok("GET", f"/groups/{unified_group(graph)}/drive")["id"]
    data = bytes(range(256)) * 1200  # 307 200 bytes
    item = graph.ok("PUT", f"/drives/{drive}/root:/slow.bin:/content", content=data, status=201)

    answer = slow_downloads(4_000_000)
    assert answer["files"]["download_bytes_per_second"] == 4_000_000
    url = item["@microsoft.graph.downloadUrl"]
    with http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(data))
        assert 'filename="slow.bin"' in response.headers["content-disposition"]
        pieces = list(response.iter_raw())
    assert b"".join(pieces) == data
    # A client that goes away in the middle leaves the sandbox serving others.
    with http.stream("GET", url) as response:
        next(response.iter_raw())
    assert http.get(url).content == data

    for bad in (0, -5, 1.5, "fast", 10 * 1024**3 + 1):
        refused = http.post(
            control_url(info),
            json={"files": {"download_bytes_per_second": bad}},
            auth=tools_auth(info),
        )
        assert refused.status_code == 400, bad
        assert "files.download_bytes_per_second" in refused.json()["message"]
    assert slow_downloads(None)["files"]["download_bytes_per_second"] is None


def test_the_download_dial_from_the_environment():
    from gigbridge.sandbox.graph import dials

    env = {"GIGBRIDGE_SANDBOX_GRAPH_DOWNLOAD_BYTES_PER_SECOND": "65536"}
    update = dials.from_env(env.get)
    assert update == {"files": {"download_bytes_per_second": 65536}}
    assert dials.merge(dials.DEFAULTS, update)["files"]["download_bytes_per_second"] == 65536
    off = dials.from_env({"GIGBRIDGE_SANDBOX_GRAPH_DOWNLOAD_BYTES_PER_SECOND": "off"}.get)
    assert dials.merge(dials.DEFAULTS, off)["files"]["download_bytes_per_second"] is None
