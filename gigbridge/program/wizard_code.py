"""The one-time set-up code: who reaches a new installation's web first cannot take it over.

Until a program is defined and its first admin exists, the web's set-up wizard asks for this
code before it creates the first admin. Whoever started the installation has it:
`gigbridge init` (and `gigbridge up` / `gigbridge web`, when needed) writes it to
``<data dir>/setup-code.txt`` (readable by its owner only) and prints it on the console.

The code is used once: the first admin's creation claims it by deleting the file (one claimant
wins even when two requests race). Comparison is in constant time; wrong codes count against
the address like wrong passwords (``gigbridge.web.signin``).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

FILE_NAME = "setup-code.txt"
# Easy to read aloud and type: no 0/O, 1/l/I. 16 characters of 31 symbols: about 79 bits.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_LENGTH = 16
MAX_TYPED = 64  # a typed code longer than this is not one of ours (and is not compared)


def code_file(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _LENGTH, 4))


def _normal(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def ensure_code(data_dir: Path) -> tuple[str, bool]:
    """The installation's set-up code, made (0600) if there is none yet; -> (code, created)."""
    path = code_file(data_dir)
    try:
        return read_code(data_dir), False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    code = _new_code()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago: theirs counts
        return read_code(data_dir), False
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "Gigbridge set-up code (used once, by the first admin in the web's set-up wizard)\n"
            f"code: {code}\n"
        )
    return code, True


def read_code(data_dir: Path) -> str:
    """The code in the file; FileNotFoundError when there is none (used, or never made)."""
    text = code_file(data_dir).read_text()
    for line in text.splitlines():
        if line.startswith("code: "):
            return line.removeprefix("code: ").strip()
    raise FileNotFoundError(code_file(data_dir))


def matches(data_dir: Path, typed: str) -> bool:
    """Is ``typed`` the installation's code? Constant time; False when there is no code."""
    try:
        expected = _normal(read_code(data_dir))
    except (FileNotFoundError, OSError):
        return False
    given = _normal(typed[:MAX_TYPED])
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def claim(data_dir: Path) -> str | None:
    """Use the code up: its text, or None if another request claimed it first."""
    path = code_file(data_dir)
    try:
        code = read_code(data_dir)
        path.unlink()
    except FileNotFoundError:
        return None
    return code


def restore(data_dir: Path, code: str) -> None:
    """Put a claimed code back (the admin could not be made after all)."""
    path = code_file(data_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "Gigbridge set-up code (used once, by the first admin in the web's set-up wizard)\n"
            f"code: {code}\n"
        )
