"""Where the sandbox keeps its state, and how it writes files that hold secrets.

No Django here: the CA code, the runner and the settings module all need these before (or
without) Django being set up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gigbridge import config


def sandbox_dir() -> Path:
    """``$GIGBRIDGE_DATA_DIR/sandbox``, readable only by its owner (it holds keys and secrets)."""
    path = config.data_dir() / "sandbox"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with a 0600 file, so a reader never sees half a key."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_secret() -> str:
    return secrets.token_urlsafe(32)
