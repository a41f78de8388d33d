"""The data folder is its owner's alone: it holds the database (session keys, Graph clientState
secrets, encrypted marketplace tokens), the secret key, mail and the sandbox's CA key.

New files are private because every entry point sets ``umask 077`` (``gigbridge.cli``);
``tighten`` repairs folders made before that (or by hand) when a service starts.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("gigbridge.startup")

PRIVATE_UMASK = 0o077
OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO  # anything for group or others


def _tighten_one(path: Path, st: os.stat_result) -> bool:
    """Drop group/other bits of one path we own; False if it was already private."""
    mode = stat.S_IMODE(st.st_mode)
    if not mode & OPEN_BITS:
        return False
    os.chmod(path, mode & ~OPEN_BITS, follow_symlinks=False)
    return True


def tighten(root: Path) -> list[str]:
    """Make ``root`` and everything under it private (0700 folders, 0600 files).

    One log line per entry directly in ``root``; what was fixed inside a sub-folder (the mail
    folder may hold thousands of files) is counted in that folder's line. Paths owned by
    someone else, symlinks, and sticky folders such as /tmp are left alone: changing those is
    not ours to do. Returns the log lines (for tests and callers that print).
    """
    lines: list[str] = []
    uid = os.geteuid()

    def fix(path: Path) -> tuple[str, str] | None:
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode) or st.st_uid != uid:
            return None
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
            log.warning("not tightening %s: a shared (sticky) folder", path)
            return None
        before = stat.S_IMODE(st.st_mode)
        try:
            changed = _tighten_one(path, st)
        except OSError as exc:
            log.warning("cannot tighten permissions of %s: %s", path, exc.strerror)
            return None
        return (f"{before:04o}", f"{before & ~OPEN_BITS:04o}") if changed else None

    def say(path: Path, modes: tuple[str, str] | None, inside: int) -> None:
        if modes is None and not inside:
            return
        text = f"tightened permissions of {path}"
        if modes:
            text += f" from {modes[0]} to {modes[1]}"
        if inside:
            text += f" ({inside} entries under it made private)"
        log.warning("%s", text)
        lines.append(text)

    if not root.is_dir():
        return lines
    say(root, fix(root), 0)
    for entry in sorted(root.iterdir()):
        modes, inside = fix(entry), 0
        if entry.is_dir() and not entry.is_symlink():
            for folder, dirs, files in os.walk(entry):
                for name in dirs + files:
                    if fix(Path(folder) / name):
                        inside += 1
        say(entry, modes, inside)
    return lines
