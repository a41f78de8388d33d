"""File content on disk, under ``$GIGBRIDGE_DATA_DIR/sandbox/files/``.

- ``blobs/ab/abcdef…``: content by its SHA-256 (versions with the same bytes share one file);
  removed when no version refers to it any more.
- ``uploads/{session}.part``: the bytes an upload session has received so far.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from .common import Hashes

CHUNK = 1024 * 1024


def root() -> Path:
    path = Path(settings.SANDBOX_DIR) / "files"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def blob_path(sha256: str) -> Path:
    sha = sha256.lower()
    return root() / "blobs" / sha[:2] / sha


def part_path(session_id: str) -> Path:
    folder = root() / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{session_id}.part"


def hash_file(path: Path) -> Hashes:
    hashes = Hashes()
    with open(path, "rb") as handle:
        while data := handle.read(CHUNK):
            hashes.update(data)
    return hashes


def store_file(path: Path, hashes: Hashes) -> str:
    """Move a finished file into the blob store (or drop it if that content is there)."""
    sha = hashes.sha256.hexdigest()
    target = blob_path(sha)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if target.exists():
        path.unlink(missing_ok=True)
    else:
        os.replace(path, target)
    return sha


def store_bytes(data: bytes) -> tuple[str, Hashes]:
    hashes = Hashes()
    hashes.update(data)
    sha = hashes.sha256.hexdigest()
    target = blob_path(sha)
    if not target.exists():
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return sha, hashes


def read_blob(sha256: str) -> Iterator[bytes]:
    with open(blob_path(sha256), "rb") as handle:
        while data := handle.read(CHUNK):
            yield data


def forget(sha256_values) -> None:
    """Remove blobs no version refers to any more (after versions were deleted)."""
    from .models import DriveItemVersion

    for sha in set(sha256_values):
        if not DriveItemVersion.objects.filter(sha256=sha).exists():
            blob_path(sha).unlink(missing_ok=True)
