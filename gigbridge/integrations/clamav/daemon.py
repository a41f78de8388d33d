"""Our own clamd (Debian's clamav-daemon) for the embedded default and the tests.

    folder = prepare(data_dir)            # <data>/clamav/: clamd.conf, db/, tmp/, clamd.log (0700)
    running = start(data_dir)             # waits (bounded) until clamd answers PING
    running.address                       # "unix:///<data>/clamav/clamd.sock"
    running.stop()

Signatures cannot be downloaded here, so the database is one line made at run time with
``sigtool --md5`` from an EICAR test file (built from two halves, so that no file of ours holds
the test string and trips a scanner). A real deployment runs its own clamd kept fresh by
``freshclam`` and sets ``GIGBRIDGE_CLAMD_ADDRESS`` (docs/scanning.md).

Limits (clamd.conf): a stream longer than ``StreamMaxLength`` is refused (``too_large``);
``MaxFileSize``/``MaxScanSize`` bound what is scanned inside it, and ``AlertExceedsMax`` makes a
file over them an alert instead of a silent pass. clamd cannot scan a file over 2 GiB - 1 byte.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .client import Clamd
from .errors import ClamdUnavailable

FOLDER = "clamav"
SIGNATURE_NAME = "Eicar-Test-Signature"  # ClamAV's own name for it; answers "....UNOFFICIAL"
START_DEADLINE = 60.0  # seconds; with the test database clamd answers in well under one
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with its NUL
# clamd's sizes are "<n>M". It cannot scan a file over 2 GiB - 1 byte (it caps MaxFileSize there
# and says so): 2047 MiB is the most it can take whole.
DEFAULT_MAX = "2047M"

_EICAR_HEAD = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$"
_EICAR_TAIL = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def eicar() -> bytes:
    """The EICAR anti-virus test file (harmless; every scanner reports it)."""
    return (_EICAR_HEAD + _EICAR_TAIL).encode("ascii")


@dataclass(frozen=True)
class Limits:
    """clamd.conf's size limits, as clamd writes them (``100M``, ``2047M``, ``64K``)."""

    stream_max_length: str = DEFAULT_MAX
    max_file_size: str = DEFAULT_MAX
    max_scan_size: str = DEFAULT_MAX


@dataclass(frozen=True)
class Paths:
    folder: Path

    @property
    def conf(self) -> Path:
        return self.folder / "clamd.conf"

    @property
    def socket(self) -> Path:
        return self.folder / "clamd.sock"

    @property
    def database(self) -> Path:
        return self.folder / "db"

    @property
    def temporary(self) -> Path:
        return self.folder / "tmp"

    @property
    def log(self) -> Path:
        return self.folder / "clamd.log"

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"


class DaemonError(Exception):
    """clamd is not installed, or did not start: the message says what to do."""


def executable(name: str) -> str | None:
    """Debian puts clamd in /usr/sbin, which is not on every PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def installed() -> bool:
    return executable("clamd") is not None and executable("sigtool") is not None


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_private(path: Path, text: str | bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(text.encode() if isinstance(text, str) else text)
    os.chmod(path, 0o600)


def config_text(paths: Paths, limits: Limits) -> str:
    return "\n".join(
        [
            "# Written by Gigbridge (gigbridge/integrations/clamav/daemon.py) on each start.",
            f"LocalSocket {paths.socket}",
            "LocalSocketMode 600",
            "Foreground yes",
            f"DatabaseDirectory {paths.database}",
            f"TemporaryDirectory {paths.temporary}",
            f"LogFile {paths.log}",
            "LogFileMaxSize 5M",
            "LogTime yes",
            f"StreamMaxLength {limits.stream_max_length}",
            f"MaxFileSize {limits.max_file_size}",
            f"MaxScanSize {limits.max_scan_size}",
            # Never a silent pass: a file over the limits answers Heuristics.Limits.Exceeded.
            "AlertExceedsMax yes",
            # A big file's verdict takes a while: the connection must not be dropped meanwhile.
            "ReadTimeout 300",
            "CommandReadTimeout 30",
            "SelfCheck 600",
            "",
        ]
    )


def write_test_database(paths: Paths) -> Path:
    """``db/gigbridge-test.hdb``: the EICAR file's MD5 signature, made by ``sigtool --md5``."""
    sigtool = executable("sigtool")
    if sigtool is None:
        raise DaemonError("sigtool is not installed: run `make clamav` (Debian package clamav)")
    sample = paths.temporary / SIGNATURE_NAME
    _write_private(sample, eicar())
    try:
        made = subprocess.run(
            [sigtool, "--md5", str(sample)], capture_output=True, text=True, timeout=30
        )
    finally:
        sample.unlink(missing_ok=True)
    line = made.stdout.strip()
    if made.returncode != 0 or not line.endswith(f":{SIGNATURE_NAME}"):
        raise DaemonError(f"sigtool --md5 failed ({made.returncode}): {made.stderr.strip()[:300]}")
    database = paths.database / "gigbridge-test.hdb"
    _write_private(database, line + "\n")
    return database


def locate(data_dir: Path) -> Paths:
    """Where our clamd lives under ``data_dir`` (nothing is written)."""
    paths = Paths(Path(data_dir).resolve() / FOLDER)
    if len(str(paths.socket)) > SOCKET_PATH_MAX:
        raise DaemonError(
            f"the clamd socket path {paths.socket} is longer than {SOCKET_PATH_MAX} bytes "
            "(a Unix socket limit): use a shorter GIGBRIDGE_DATA_DIR"
        )
    return paths


def prepare(data_dir: Path, limits: Limits | None = None) -> Paths:
    """Make ``<data_dir>/clamav/`` (private) with clamd.conf and the test signatures."""
    paths = locate(data_dir)
    for folder in (paths.folder, paths.database, paths.temporary):
        _private_folder(folder)
    _write_private(paths.conf, config_text(paths, limits or Limits()))
    if not any(paths.database.iterdir()):
        write_test_database(paths)
    return paths


def command(paths: Paths) -> list[str]:
    clamd = executable("clamd")
    if clamd is None:
        raise DaemonError("clamd is not installed: run `make clamav` (Debian clamav-daemon)")
    return [clamd, "--config-file", str(paths.conf), "--foreground"]


def clear_stale_socket(paths: Paths) -> None:
    """A socket left by a clamd that died: clamd refuses to start over it."""
    if paths.socket.exists() and not Clamd(paths.address, timeout=2).ping():
        paths.socket.unlink(missing_ok=True)


@dataclass
class Running:
    paths: Paths
    process: subprocess.Popen
    address: str = field(init=False)

    def __post_init__(self) -> None:
        self.address = self.paths.address

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def log_tail(paths: Paths) -> str:
    try:
        return paths.log.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def start(
    data_dir: Path, limits: Limits | None = None, *, deadline: float = START_DEADLINE
) -> Running:
    """Start clamd on ``<data_dir>/clamav`` and wait (at most ``deadline`` s) for its PONG."""
    paths = prepare(data_dir, limits)
    clear_stale_socket(paths)
    with open(paths.folder / "clamd.out", "ab") as out:
        process = subprocess.Popen(command(paths), stdout=out, stderr=subprocess.STDOUT)
    running = Running(paths, process)
    scanner = Clamd(paths.address, timeout=2)
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if process.poll() is not None:
            raise DaemonError(
                f"clamd exited with {process.returncode} at start:\n{log_tail(paths)}"
            )
        if paths.socket.exists():
            try:
                if scanner.command("PING") == "PONG":
                    return running
            except ClamdUnavailable:
                pass
        time.sleep(0.05)
    running.stop()
    raise DaemonError(f"clamd did not answer PING within {deadline:g} s:\n{log_tail(paths)}")
