"""What the handlers of this part share: ids in Graph's shapes, ETags, identities, hashes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid

from ..graph.dispatch import GraphRequest
from ..models import AppRegistration

# -- ids ------------------------------------------------------------------------------------


def planner_id() -> str:
    """28 characters of base64url, as Planner's plan, bucket and task ids are."""
    return secrets.token_urlsafe(21)


def drive_id() -> str:
    """``b!`` and base64url, as SharePoint's drive ids are."""
    return "b!" + secrets.token_urlsafe(48)


def item_id() -> str:
    """``01`` and 32 upper-case base32 characters, as SharePoint's driveItem ids are."""
    return "01" + base64.b32encode(secrets.token_bytes(20)).decode()[:32]


def permission_id() -> str:
    return base64.b64encode(f"i:0#.f|membership|{uuid.uuid4()}".encode()).decode().rstrip("=")


# -- ETags ----------------------------------------------------------------------------------


def planner_etag(kind: str) -> str:
    """A new weak ETag in Planner's style: ``W/"JzEtVGFzayAg…"`` (base64 of a version stamp).

    Every change gets a new random one; clients must treat them as opaque.
    """
    stamp = f"'1-{kind}  {secrets.token_hex(8)}'".encode()
    return f'W/"{base64.b64encode(stamp).decode()}"'


def item_etag(unique_id, version: int) -> str:
    return f'"{{{str(unique_id).upper()}}},{version}"'


def item_ctag(unique_id, version: int) -> str:
    return f'"c:{{{str(unique_id).upper()}}},{version}"'


# -- who did it -----------------------------------------------------------------------------


def identity_of(request: GraphRequest) -> dict:
    """The identitySet for the caller: the app (app-only) or the signed-in user."""
    principal = request.principal
    if principal.user is not None:
        user = principal.user
        return {
            "user": {
                "id": str(user.id),
                "displayName": user.display_name,
                "email": user.mail or None,
            }
        }
    app = AppRegistration.objects.filter(client_id=_uuid(principal.client_id)).first()
    return {
        "application": {
            "id": principal.client_id,
            "displayName": app.display_name if app else None,
        }
    }


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def is_guid(value) -> bool:
    return isinstance(value, str) and _uuid(value) is not None and len(value) == 36


# -- hashes ---------------------------------------------------------------------------------

_WIDTH_BITS = 160
_SHIFT = 11
_SLICE = 160 * 2048  # bytes folded at a time; a multiple of 160 keeps every slice aligned


class QuickXorHash:
    """Microsoft's quickXorHash (what SharePoint and OneDrive report in ``file.hashes``).

    Byte ``i`` of the content is XORed into a 160-bit register at bit ``11 * i mod 160``
    (wrapping around), then the length (64-bit little-endian) is XORed into the last 8 bytes;
    the result is base64 of the register's 20 little-endian bytes. Bytes 160 apart land at the
    same position, so the content is first XOR-folded to 160 bytes, big slices at a time.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._folded = 0  # _SLICE bytes wide, little-endian
        self._length = 0

    def update(self, data: bytes) -> None:
        self._length += len(data)
        self._pending += data
        while len(self._pending) >= _SLICE:
            self._folded ^= int.from_bytes(self._pending[:_SLICE], "little")
            del self._pending[:_SLICE]

    def digest(self) -> bytes:
        folded = self._folded ^ int.from_bytes(bytes(self._pending), "little")
        bits = _SLICE * 8
        while bits > _WIDTH_BITS * 8:  # halve: 2048 blocks of 160 bytes -> 1
            bits //= 2
            folded = (folded & ((1 << bits) - 1)) ^ (folded >> bits)
        mask = (1 << _WIDTH_BITS) - 1
        register = 0
        for k in range(160):
            value = (folded >> (8 * k)) & 0xFF
            if value:
                shift = (_SHIFT * k) % _WIDTH_BITS
                register ^= ((value << shift) | (value >> (_WIDTH_BITS - shift))) & mask
        result = bytearray(register.to_bytes(20, "little"))
        for index, byte in enumerate(self._length.to_bytes(8, "little")):
            result[12 + index] ^= byte
        return bytes(result)

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode()


class Hashes:
    """sha256 and quickXor of a stream, fed chunk by chunk."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.quick_xor = QuickXorHash()
        self.size = 0

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        self.quick_xor.update(data)
        self.size += len(data)


# -- names ----------------------------------------------------------------------------------

# What SharePoint refuses in file and folder names.
_BAD_NAME = re.compile(r'["*:<>?/\\|]|^\s|\s$|^\.\.?$|^~\$')


def valid_name(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 400 and not _BAD_NAME.search(name)
