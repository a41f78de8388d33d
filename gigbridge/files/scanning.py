"""Scan a file version as it downloads: one pass feeds SHA-256 and clamd, memory stays flat.

    scanned = scan_download(download_url, expected_size=version["size"])
    scanned.result.status      # "clean" | "infected" | "too_large"
    scanned.sha256, scanned.size, scanned.scanner   # "ClamAV 1.4.6/27000/Thu Dec  3 ..."

The URL is a pre-authenticated download URL on SharePoint's host (``@microsoft.graph.download
Url``, or the ``Location`` of ``…/content``): it carries its own credential, so no bearer token
is sent; TLS is trusted as for Graph (``settings.GRAPH["ca_bundle"]``). The bytes are read
``settings.CLAMAV["chunk_bytes"]`` at a time and each chunk goes to the hash and to clamd before
the next is read. When clamd refuses the stream (over its ``StreamMaxLength``) the rest is still
read, for the hash: the verdict is ``too_large``, never clean. Sending to clamd runs in a thread
beside the download, so a scan takes about as long as the slower of the two, not their sum.

Errors, as the outbox needs them:
- the download: 429, 5xx, timeouts, lost connections -> ``RetryableGraphError``; 401, 403, 404,
  410 and other refusals -> ``PermanentGraphError`` (the URL expired or the version is gone: ask
  Graph for a new URL);
- fewer or more bytes than ``expected_size`` -> ``DownloadSizeMismatch`` (retryable: never a
  verdict on bytes that are not the version's);
- clamd: ``ClamdUnavailable`` (retryable, also when no clamd is configured) or ``ClamdError``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from gigbridge.integrations.clamav.client import Clamd, ScanResult, from_settings
from gigbridge.integrations.clamav.errors import ClamdUnavailable
from gigbridge.integrations.msgraph.errors import (
    GraphError,
    PermanentGraphError,
    RetryableGraphError,
    error_for_status,
)
from gigbridge.integrations.outbound.classify import TransportFailure
from gigbridge.integrations.outbound.http import new_client

log = logging.getLogger("gigbridge.files.scanning")

USER_AGENT = "Gigbridge (files scan)"
MIN_CHUNK = 64 * 1024
MAX_CHUNK = 16 * 1024 * 1024  # a chunk is held in memory twice at most: keep it small
MAX_ERROR_BODY = 64 * 1024
DOWNLOAD_TIMEOUT = 60.0  # seconds without a byte from the files host
QUEUE_DEPTH = 2  # chunks read ahead of clamd
_FINISH = object()
_ABORT = object()


@dataclass(frozen=True)
class Scanned:
    size: int
    sha256: str
    result: ScanResult
    scanner: str  # what clamd's VERSION said: engine / signature database version / its date


class DownloadSizeMismatch(RetryableGraphError):
    """The download had another size than the version's: a cut or changed stream, no verdict."""


def chunk_bytes() -> int:
    wanted = int(settings.CLAMAV.get("chunk_bytes") or 1024 * 1024)
    return max(MIN_CHUNK, min(MAX_CHUNK, wanted))


def _path(url: str) -> str:
    """What errors and logs show of a download URL: its path, never its query (the credential)."""
    parts = urlsplit(url)
    return parts.path or "/"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _refusal(response: httpx.Response, url: str) -> GraphError:
    body = None
    try:  # Graph's error JSON, when the files host sent one (bounded: it may be anything)
        raw = b""
        for piece in response.iter_bytes():
            raw += piece
            if len(raw) > MAX_ERROR_BODY:
                break
        body = json.loads(raw) if raw and len(raw) <= MAX_ERROR_BODY else None
    except (ValueError, httpx.HTTPError):
        body = None
    if 300 <= response.status_code < 400:
        return PermanentGraphError(
            response.status_code,
            "unexpectedRedirect",
            "a download URL answered with a redirect: it is not followed",
            response.headers.get("request-id"),
            "GET",
            _path(url),
        )
    return error_for_status(
        response.status_code,
        body,
        response.headers,
        "GET",
        _path(url),
        retry_after=_retry_after(response),
    )


def _transport_error(exc: httpx.HTTPError, url: str) -> GraphError:
    failure = TransportFailure.from_httpx(exc)
    cls = RetryableGraphError if failure.kind.retryable else PermanentGraphError
    return cls(None, failure.code, f"the download failed ({failure.name})", None, "GET", _path(url))


def _mismatch(url: str, expected: int, got: str) -> DownloadSizeMismatch:
    return DownloadSizeMismatch(
        None,
        "sizeMismatch",
        f"the version has {expected} bytes, the download {got}",
        None,
        "GET",
        _path(url),
    )


class _Sender:
    """Hashes and feeds clamd from a thread while the caller downloads the next chunks.

    Serially a scan would take the download's time plus clamd's; overlapped it takes about the
    slower of the two. The queue holds ``QUEUE_DEPTH`` chunks at most: memory stays a handful
    of chunks whatever the size. A clamd failure is raised in the caller at its next ``put``;
    once clamd has answered early (too large) chunks are dropped (the caller reads on for the
    hash).
    """

    def __init__(self, scanner: Clamd, digest):
        self.digest = digest
        self.session = scanner.session()
        self.chunks: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self.error: BaseException | None = None
        self.result: ScanResult | None = None
        self.thread = threading.Thread(target=self._run, name="clamd-sender", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.chunks.get()
            if item is _FINISH:
                if self.error is None:
                    try:
                        self.result = self.session.finish()
                    except BaseException as exc:  # handed to the caller
                        self.error = exc
                return
            if item is _ABORT:
                return
            if self.error is not None:
                continue  # the caller stops at its next put; drain until then
            self.digest.update(item)  # here, not in the caller: hashing overlaps the download
            if not self.session.done:
                try:
                    self.session.feed(item)
                except BaseException as exc:  # handed to the caller; the queue still drains
                    self.error = exc

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(chunk)

    def finish(self) -> ScanResult:
        self.chunks.put(_FINISH)
        self.thread.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.thread.is_alive():
            self.chunks.put(_ABORT)  # the sender drains the queue, so this put returns
            self.thread.join()
        self.session.close()


def scan_download(
    url: str, *, expected_size: int | None = None, scanner: Clamd | None = None
) -> Scanned:
    """Download ``url`` (no token) and scan it with clamd as it arrives; see the module doc."""
    if expected_size is not None and (not isinstance(expected_size, int) or expected_size < 0):
        raise ValueError(f"expected_size must be a byte count, not {expected_size!r}")
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("a download URL must be an https URL")
    scanner = scanner or from_settings()
    if scanner is None:
        raise ClamdUnavailable(
            "(none)", "INSTREAM", "no clamd is configured: set GIGBRIDGE_CLAMD_ADDRESS"
        )
    # Asked first: an unreachable clamd fails before gigabytes are downloaded for nothing.
    scanner_text = scanner.version().text
    size = chunk_bytes()
    digest = hashlib.sha256()
    received = 0
    started = time.perf_counter()
    http = new_client(
        user_agent=USER_AGENT,
        verify=settings.GRAPH["ca_bundle"] or True,
        timeout=DOWNLOAD_TIMEOUT,
        accept="*/*",
    )
    status: int | str = "error"
    try:
        with http, http.stream("GET", url) as response:
            status = response.status_code
            if response.status_code != 200:
                raise _refusal(response, url)
            with _Sender(scanner, digest) as sender:
                for chunk in response.iter_bytes(size):
                    received += len(chunk)
                    if expected_size is not None and received > expected_size:
                        raise _mismatch(url, expected_size, f"more ({received}+)")
                    sender.put(chunk)
                if expected_size is not None and received != expected_size:
                    raise _mismatch(url, expected_size, str(received))
                result = sender.finish()
    except httpx.HTTPError as exc:
        raise _transport_error(exc, url) from None
    finally:
        elapsed = time.perf_counter() - started
        log.info(
            "files download GET %s %s %dms bytes=%d",
            parts.netloc,
            status,
            elapsed * 1000,
            received,
        )
    return Scanned(size=received, sha256=digest.hexdigest(), result=result, scanner=scanner_text)
