"""``gigbridge teams package``: a zip Teams accepts: the manifest (bot, RSC) and two icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.management import CommandError, call_command

from gigbridge.integrations.teams import package

from .conftest import APP_ID


def png_info(data: bytes) -> tuple[int, int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    crc = struct.unpack(">I", data[29:33])[0]
    assert crc == zlib.crc32(data[12:29])
    return width, height, depth, color


def test_the_package_has_a_manifest_and_two_icons(settings, tmp_path):
    settings.TEAMS = {**settings.TEAMS, "app_id": APP_ID}
    settings.BASE_URL = "https://gigbridge.contoso.example"
    out = tmp_path / "app.zip"
    call_command("teams", "package", "--out", str(out), stdout=io.StringIO(), stderr=io.StringIO())
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_info(archive.read("color.png"))[:2] == (192, 192)
        assert png_info(archive.read("outline.png"))[:2] == (32, 32)
        outline = archive.read("outline.png")
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["id"] == APP_ID
    assert manifest["bots"] == [
        {
            "botId": APP_ID,
            "scopes": ["personal", "team"],
            "supportsFiles": False,
            "isNotificationOnly": False,
        }
    ]
    assert manifest["webApplicationInfo"] == {"id": APP_ID}
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}
    ]
    assert manifest["validDomains"] == ["gigbridge.contoso.example"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["developer"]["websiteUrl"].startswith("https://")
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    # The outline icon is white on transparent: every pixel is one of those two.
    pixels = zlib.decompress(outline[33 + 8 : -12])  # IDAT payload (one chunk)
    row = 1 + 32 * 4
    colours = {
        pixels[r * row + 1 + 4 * x : r * row + 5 + 4 * x] for r in range(32) for x in range(32)
    }
    assert colours == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}


def test_no_app_id_is_a_clear_error(settings, tmp_path):
    settings.TEAMS = {**settings.TEAMS, "app_id": None}
    with pytest.raises(CommandError, match="GIGBRIDGE_TEAMS_APP_ID"):
        call_command("teams", "package", "--out", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


def test_the_package_is_reproducible():
    info = package.AppInfo(app_id=APP_ID, base_url="https://g.example")
    assert package.build(info) == package.build(info)
