"""Configuration from the environment (12-factor).

Every secret can also come from ``NAME_FILE`` (a path whose content is the value), so that
container secrets and systemd credentials work without putting secrets in the environment.
Problems are collected and reported together by ``gigbridge.startup``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or invalid; the message says which and how to fix it."""


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the content of the file named by NAME_FILE."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_path!r} cannot be read: {exc.strerror}") from exc
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a whole number") from exc


def data_dir() -> Path:
    path = Path(env("GIGBRIDGE_DATA_DIR", str(Path.cwd() / ".data"))).resolve()
    # Owner only: it holds the database, keys and mail (gigbridge.filemodes repairs older ones).
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The content of ``path``; created once (0600) with ``make()`` if missing.

    The value is written to a temporary file and hard-linked into place: the link either
    appears complete or fails because another process won, so two processes starting together
    agree on one value and never read a half-written file.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def secret_key(data: Path) -> str:
    """GIGBRIDGE_SECRET_KEY, or (embedded default only) a key generated once in the data dir."""
    configured = env("GIGBRIDGE_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ConfigError("GIGBRIDGE_SECRET_KEY must be at least 32 characters long")
        return configured
    return read_or_create(data / "secret_key", lambda: secrets.token_urlsafe(50))
