"""The Teams app package an admin uploads (Teams admin center > Manage apps > Upload).

A zip of ``manifest.json`` (schema v1.17) and two icons: ``color.png`` (192 x 192) and
``outline.png`` (32 x 32, white on transparent, as Teams requires). The manifest declares the
bot (personal chats and teams, no files) and the resource-specific consent
``ChannelMessage.Read.Group``, which lets the bot receive every message in the channels of a
team it is installed in without being @mentioned (the conversation bridge needs that).

The icons are drawn here (no image library): a bridge arc over two piers.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

MANIFEST_VERSION = "1.17"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x5F, 0x8B)  # #1F5F8B
RSC_PERMISSIONS = [{"name": "ChannelMessage.Read.Group", "type": "Application"}]


class PackageError(Exception):
    """The package cannot be made (no bot app id configured, a bad URL)."""


@dataclass(frozen=True)
class AppInfo:
    app_id: str
    base_url: str  # where Gigbridge is reached (its host becomes a valid domain)
    version: str = "1.0.0"
    developer_name: str = "Gigbridge"
    website_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""
    short_name: str = "Gigbridge"


def manifest(info: AppInfo) -> dict:
    if not info.app_id:
        raise PackageError(
            "no bot app id: set GIGBRIDGE_TEAMS_APP_ID (the Azure Bot's Microsoft App ID)"
        )
    host = urlsplit(info.base_url).hostname
    if not host:
        raise PackageError(f"not a URL: {info.base_url!r} (set GIGBRIDGE_BASE_URL)")
    website = info.website_url or info.base_url.rstrip("/") + "/"
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": info.version,
        "id": info.app_id,
        "developer": {
            "name": info.developer_name,
            "websiteUrl": website,
            "privacyUrl": info.privacy_url or website,
            "termsOfUseUrl": info.terms_url or website,
        },
        "name": {"short": info.short_name[:30], "full": "Gigbridge: freelance work, approved"},
        "description": {
            "short": "Approvals, notices and freelancer conversations from Gigbridge.",
            "full": (
                "Gigbridge brings its approvals (approve, reject or ask for changes from the "
                "card), notices (milestones, spend alerts, agreements, access changes) and each "
                "engagement's conversation with its freelancer into Teams. Replies in an "
                "engagement's channel thread go to the marketplace room, and the freelancer's "
                "messages appear in the thread."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": info.app_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
        "webApplicationInfo": {"id": info.app_id},
        "authorization": {"permissions": {"resourceSpecific": RSC_PERMISSIONS}},
    }


# -- icons (PNG written by hand: signature, IHDR, one IDAT, IEND) ---------------------------------


def png(width: int, height: int, pixel) -> bytes:
    """An RGBA PNG; ``pixel(x, y)`` -> (r, g, b, a)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _bridge(x: float, y: float, size: int) -> bool:
    """A bridge: an arc between two piers and a deck, in a ``size`` square."""
    u, v = x / size, y / size
    deck = 0.56 <= v <= 0.64 and 0.12 <= u <= 0.88
    piers = 0.64 <= v <= 0.84 and (0.2 <= u <= 0.28 or 0.72 <= u <= 0.8)
    dx, dy = (u - 0.5) / 0.36, (v - 0.58) / 0.34
    ring = dy <= 0 and 0.78 <= dx * dx + dy * dy <= 1.0
    return deck or piers or ring


def color_icon() -> bytes:
    white, accent = (255, 255, 255, 255), (*ACCENT, 255)
    return png(192, 192, lambda x, y: white if _bridge(x + 0.5, y + 0.5, 192) else accent)


def outline_icon() -> bytes:
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)
    return png(32, 32, lambda x, y: white if _bridge(x + 0.5, y + 0.5, 32) else clear)


def build(info: AppInfo) -> bytes:
    """The package as zip bytes (files at the root of the archive, as Teams expects)."""
    body = json.dumps(manifest(info), indent=2).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            ("manifest.json", body),
            ("color.png", color_icon()),
            ("outline.png", outline_icon()),
        ):
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # reproducible
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return out.getvalue()


def from_settings(**overrides) -> AppInfo:
    from django.conf import settings

    return AppInfo(
        app_id=settings.TEAMS.get("app_id") or "", base_url=settings.BASE_URL, **overrides
    )
