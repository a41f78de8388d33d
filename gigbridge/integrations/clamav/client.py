"""A small client for clamd's own protocol (no maintained Python library exists for it).

    scanner = Clamd("unix:///srv/gigbridge/clamav/clamd.sock")   # or tcp://127.0.0.1:3310
    scanner.ping()                       # True
    scanner.version()                    # ScannerVersion("ClamAV 1.4.6", 27000, datetime, text)
    scanner.scan_stream(chunks)          # ScanResult("clean") / ("infected", "Eicar-...") / ...

    with scanner.session() as scan:      # the same, one chunk at a time (hash and scan in a pass)
        for chunk in download:
            scan.feed(chunk)             # no-op once clamd has answered (e.g. size limit)
        result = scan.finish()

Commands are the ``z`` form (NUL-terminated, answers NUL-terminated), one connection each.
``zINSTREAM`` sends the bytes as chunks, each prefixed by its length (4 bytes, big-endian),
then a zero length. clamd refuses a stream longer than its ``StreamMaxLength`` with
``INSTREAM size limit exceeded. ERROR`` and closes the connection: that is ``too_large``,
never clean. A file over ``MaxFileSize``/``MaxScanSize`` passes silently unless clamd has
``AlertExceedsMax`` on; it then answers ``Heuristics.Limits.Exceeded.* FOUND``, also
``too_large`` (the file was not fully scanned), not ``infected``.
"""

from __future__ import annotations

import datetime as dt
import select
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings

from .errors import ClamdError, ClamdUnavailable

Status = Literal["clean", "infected", "too_large"]
MAX_PIECE = 8 * 1024 * 1024  # bytes sent per INSTREAM chunk: a bigger one is split
MAX_REPLY = 64 * 1024  # clamd's answers are one short line; more is not clamd talking
SIZE_LIMIT = "INSTREAM size limit exceeded"
LIMIT_SIGNATURE = "Heuristics.Limits.Exceeded"  # AlertExceedsMax: not fully scanned


@dataclass(frozen=True)
class ScanResult:
    status: Status
    signature: str = ""

    @property
    def clean(self) -> bool:
        return self.status == "clean"


@dataclass(frozen=True)
class ScannerVersion:
    engine: str  # "ClamAV 1.4.6"
    database: int | None  # the signature database's version (None: no versioned database)
    database_date: dt.datetime | None  # when that database was built (UTC)
    text: str  # what VERSION said


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """``unix:///abs/path.sock`` -> (AF_UNIX, path); ``tcp://host:port`` -> (AF_INET, (h, p))."""
    parts = urlsplit(address or "")
    if parts.scheme == "unix" and not parts.netloc and parts.path.startswith("/"):
        return socket.AF_UNIX, parts.path
    if parts.scheme == "tcp" and parts.hostname and not parts.path.strip("/"):
        try:
            port = parts.port
        except ValueError:
            port = None
        if port:
            family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
            return family, (parts.hostname, port)
    raise ValueError(
        f"clamd address {address!r}: expected unix:///absolute/path.sock or tcp://host:port"
    )


def parse_reply(address: str, reply: str) -> ScanResult:
    """One INSTREAM answer -> its verdict; anything else is a ``ClamdError``."""
    if reply.startswith(SIZE_LIMIT):
        return ScanResult("too_large", SIZE_LIMIT)
    if reply.endswith(" ERROR"):
        raise ClamdError(address, "INSTREAM", f"clamd answered {reply!r}")
    name, sep, verdict = reply.partition(": ")
    if not sep or not name:
        raise ClamdError(address, "INSTREAM", f"unexpected answer {reply!r}")
    if verdict == "OK":
        return ScanResult("clean")
    if verdict.endswith(" FOUND") and len(verdict) > len(" FOUND"):
        signature = verdict.removesuffix(" FOUND")
        if signature.startswith(LIMIT_SIGNATURE):
            return ScanResult("too_large", signature)
        return ScanResult("infected", signature)
    raise ClamdError(address, "INSTREAM", f"unexpected answer {reply!r}")


def parse_version(address: str, reply: str) -> ScannerVersion:
    """``ClamAV 1.4.6/27000/Thu Dec  3 08:25:02 2026`` (or just ``ClamAV 1.4.6`` when no
    versioned database is loaded, as with the embedded test signatures)."""
    parts = reply.split("/")
    if not parts[0].startswith("ClamAV ") or len(parts) not in (1, 3):
        raise ClamdError(address, "VERSION", f"unexpected answer {reply!r}")
    if len(parts) == 1:
        return ScannerVersion(parts[0], None, None, reply)
    try:
        database = int(parts[1])
        built = dt.datetime.strptime(" ".join(parts[2].split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        raise ClamdError(address, "VERSION", f"unexpected answer {reply!r}") from None
    # clamd prints the database's build time without a zone; freshclam's databases are built
    # in UTC, and a day's error does not change how stale a database looks.
    return ScannerVersion(parts[0], database, built.replace(tzinfo=dt.UTC), reply)


class Clamd:
    """One clamd, reached over a Unix socket or TCP; every call opens its own connection."""

    def __init__(self, address: str, timeout: float = 60):
        self.family, self.target = parse_address(address)
        if not 0 < timeout <= 3600:
            raise ValueError(f"clamd timeout must be between 0 and 3600 seconds, not {timeout!r}")
        self.address = address
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Clamd({self.address!r})"

    def connect(self, operation: str) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.target)
        except OSError as exc:
            sock.close()
            raise self.unavailable(operation, exc) from None
        return sock

    def unavailable(self, operation: str, exc: BaseException) -> ClamdUnavailable:
        if isinstance(exc, TimeoutError | socket.timeout):
            detail = f"no answer within {self.timeout:g} s"
        else:
            detail = getattr(exc, "strerror", None) or type(exc).__name__
        return ClamdUnavailable(self.address, operation, detail)

    def command(self, name: str) -> str:
        """Send ``z{name}`` and read its one answer."""
        with self.connect(name) as sock:
            try:
                sock.sendall(b"z" + name.encode() + b"\0")
                return read_reply(sock, self.address, name)
            except OSError as exc:
                raise self.unavailable(name, exc) from None

    def ping(self) -> bool:
        """True when clamd answers PONG; False when it cannot be reached."""
        try:
            return self.command("PING") == "PONG"
        except ClamdUnavailable:
            return False

    def version(self) -> ScannerVersion:
        return parse_version(self.address, self.command("VERSION"))

    def session(self) -> ScanSession:
        return ScanSession(self).open()

    def scan_stream(self, chunks: Iterable[bytes]) -> ScanResult:
        """Scan the concatenation of ``chunks`` (read one at a time, never all held)."""
        with self.session() as scan:
            for chunk in chunks:
                if scan.done:
                    break  # clamd answered already (size limit): the rest is not needed
                scan.feed(chunk)
            return scan.finish()


def read_reply(sock: socket.socket, address: str, operation: str) -> str:
    """Read up to clamd's NUL (or the end of the connection); bounded."""
    data = b""
    while b"\0" not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
        if len(data) > MAX_REPLY:
            raise ClamdError(address, operation, f"an answer longer than {MAX_REPLY} bytes")
    reply = data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    if not reply:
        raise ClamdUnavailable(address, operation, "the connection closed without an answer")
    return reply


class ScanSession:
    """One INSTREAM: ``open()``, ``feed(chunk)`` as the bytes come, ``finish()`` -> ScanResult.

    clamd may answer before the end (the stream went over ``StreamMaxLength``): the answer is
    kept, ``done`` turns true and later ``feed`` calls send nothing, so a caller can go on
    reading its source (to hash it) and still get the verdict from ``finish()``.
    """

    def __init__(self, clamd: Clamd):
        self.clamd = clamd
        self.sock: socket.socket | None = None
        self.result: ScanResult | None = None
        self.sent = 0

    @property
    def done(self) -> bool:
        return self.result is not None

    def open(self) -> ScanSession:
        self.sock = self.clamd.connect("INSTREAM")
        try:
            self.sock.sendall(b"zINSTREAM\0")
        except OSError as exc:
            self.close()
            raise self.clamd.unavailable("INSTREAM", exc) from None
        return self

    def __enter__(self) -> ScanSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def feed(self, chunk: bytes) -> None:
        if self.result is not None or not chunk:
            return
        if self.sock is None:
            raise RuntimeError("feed() on a scan session that is not open (or finished)")
        view = memoryview(chunk)
        try:
            for start in range(0, len(view), MAX_PIECE):
                piece = view[start : start + MAX_PIECE]
                self.sock.sendall(struct.pack(">I", len(piece)))
                self.sock.sendall(piece)
                self.sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            self.answer()  # clamd stopped reading: its answer says why (the size limit)
            return
        except OSError as exc:
            self.close()
            raise self.clamd.unavailable("INSTREAM", exc) from None
        if self._answered_early():
            self.answer()

    def _answered_early(self) -> bool:
        """clamd writes before the end only to refuse the stream: look without waiting."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def answer(self) -> ScanResult:
        assert self.sock is not None
        try:
            reply = read_reply(self.sock, self.clamd.address, "INSTREAM")
        except OSError as exc:
            self.close()
            raise self.clamd.unavailable("INSTREAM", exc) from None
        finally:
            self.close()
        self.result = parse_reply(self.clamd.address, reply)
        return self.result

    def finish(self) -> ScanResult:
        if self.result is not None:
            return self.result
        if self.sock is None:
            raise RuntimeError("finish() on a scan session that is not open")
        try:
            self.sock.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered and closed meanwhile: read what it said
        except OSError as exc:
            self.close()
            raise self.clamd.unavailable("INSTREAM", exc) from None
        return self.answer()


def from_settings() -> Clamd | None:
    """The configured clamd (``settings.CLAMAV``), or None when no address is set."""
    config = settings.CLAMAV
    if not config.get("address"):
        return None
    return Clamd(config["address"], timeout=float(config.get("timeout") or 60))
