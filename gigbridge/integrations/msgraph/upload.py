"""Large-file upload to SharePoint / OneDrive through a Graph upload session.

    item = upload_file(client, drive_id, folder_id, "deliverable.zip", stream, size)

As Graph documents it: ``POST .../items/{parent}:/{name}:/createUploadSession`` answers an
``uploadUrl``; the bytes then go there in order with ``PUT`` and ``Content-Range: bytes a-b/size``
(no Authorization header: the URL carries its own credential), in chunks that are multiples of
320 KiB and under 60 MiB. Each chunk is answered 202 with ``nextExpectedRanges`` until the last
one, answered 201 (or 200) with the driveItem.

Upload and download URLs are on SharePoint's host, not Graph's, and carry their own credential
(``tempauth``): the Graph bearer token is never sent to them (``auth=False``; the client also
refuses to send it anywhere but Graph's origin). ``download_file`` reads a file the same way:
the item's ``@microsoft.graph.downloadUrl`` from Graph with the token, then its bytes from that
URL without it.

After a failed chunk (5xx, 429, a timeout, a lost connection, 416) the session is asked where it
stands (``GET uploadUrl`` -> ``nextExpectedRanges``) and the upload resumes from there, seeking
the stream. After ``max_retries`` failures in a row it gives up with ``RetryableGraphError`` (the
outbox job starts over later with a new session; the old one expires by itself). A permanent
failure cancels the session (``DELETE uploadUrl``) and raises the typed error.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import quote

from .client import GraphClient, segment
from .errors import GraphError, PermanentGraphError, RetryableGraphError

CHUNK_UNIT = 320 * 1024  # Graph: chunk sizes are multiples of 320 KiB
MAX_CHUNK = 60 * 1024 * 1024  # ... and under 60 MiB
DEFAULT_CHUNK = 10 * CHUNK_UNIT  # 3.125 MiB, as Graph's samples use
CONFLICT = "@microsoft.graph.conflictBehavior"
CONFLICT_BEHAVIORS = ("replace", "rename", "fail")


def validate_chunk_size(chunk_size: int) -> None:
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool):
        raise ValueError(f"chunk_size must be an int, not {chunk_size!r}")
    if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
        raise ValueError(f"chunk_size must be a positive multiple of 320 KiB ({CHUNK_UNIT} bytes)")
    if chunk_size >= MAX_CHUNK:
        raise ValueError(f"chunk_size must be under 60 MiB ({MAX_CHUNK} bytes)")


def _item_path(drive_id: str, parent_id: str, filename: str) -> str:
    if not filename or "/" in filename or "\\" in filename or filename in (".", ".."):
        raise ValueError(f"not a file name: {filename!r}")
    return f"/drives/{segment(drive_id)}/items/{segment(parent_id)}:/{quote(filename, safe='')}:"


def _read_exact(stream: IO[bytes], count: int) -> bytes:
    parts = []
    remaining = count
    while remaining > 0:
        data = stream.read(remaining)
        if not data:
            raise ValueError(f"the stream ended {remaining} bytes before the size given")
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _first_expected(ranges: Any) -> int | None:
    """``["26-", "100-200"]`` -> 26 (the lowest start); None when there is none."""
    starts = []
    for text in ranges or []:
        start = str(text).split("-", 1)[0].strip()
        if start.isdigit():
            starts.append(int(start))
    return min(starts) if starts else None


class _Upload:
    def __init__(self, client: GraphClient, upload_url: str, stream, size, chunk_size, retries):
        self.client = client
        self.url = upload_url
        self.stream = stream
        self.size = size
        self.chunk_size = chunk_size
        self.max_retries = retries
        self.origin = stream.tell()
        self.failures = 0
        self.budget = client.retrier.budget()

    def failed(self, error: GraphError) -> None:
        """Count a failure; give up (raise) or wait before resuming."""
        self.failures += 1
        if self.failures > self.max_retries:
            raise RetryableGraphError(
                error.status,
                error.code or "uploadFailed",
                f"upload gave up after {self.failures} failures in a row: {error.message}",
                error.request_id,
                error.method,
                error.path,
                retry_after=getattr(error, "retry_after", None),
            )
        delay = self.budget.delay(self.failures, getattr(error, "retry_after", None))
        if not self.budget.wait_for(delay):
            raise RetryableGraphError(
                error.status,
                error.code or "uploadFailed",
                "upload gave up: waiting longer than max_wait",
                error.request_id,
                error.method,
                error.path,
                retry_after=delay,
            )

    def status_offset(self) -> int:
        """Ask the session where to go on: GET uploadUrl -> nextExpectedRanges."""
        response = self.client.send("GET", self.url, auth=False, attempt=self.failures + 1)
        if response.status_code == 404:
            raise self.expired(response)
        if not response.is_success:
            raise self.client.error_for(response, "GET", self.url)
        offset = _first_expected((response.json() or {}).get("nextExpectedRanges"))
        if offset is None or not 0 <= offset < self.size:
            raise RetryableGraphError(
                response.status_code,
                "uploadIncomplete",
                "the upload session expects no more bytes but made no item",
                response.headers.get("request-id"),
                "GET",
                self.client.log_path(self.url),
            )
        return offset

    def expired(self, response) -> RetryableGraphError:
        # The session is gone (expired, or cancelled): only a new session can help.
        return RetryableGraphError(
            404,
            "uploadSessionNotFound",
            "the upload session no longer exists",
            response.headers.get("request-id"),
            response.request.method,
            self.client.log_path(self.url),
        )

    def run(self) -> dict:
        offset = 0
        resume = False
        while True:
            if resume:
                try:
                    offset = self.status_offset()
                except RetryableGraphError as exc:
                    if exc.code == "uploadSessionNotFound":
                        raise
                    self.failed(exc)
                    continue
                resume = False
            self.stream.seek(self.origin + offset)
            end = min(offset + self.chunk_size, self.size) - 1
            data = _read_exact(self.stream, end - offset + 1)
            headers = {"Content-Range": f"bytes {offset}-{end}/{self.size}"}
            try:
                response = self.client.send(
                    "PUT",
                    self.url,
                    content=data,
                    headers=headers,
                    auth=False,
                    attempt=self.failures + 1,
                )
            except RetryableGraphError as exc:
                self.failed(exc)
                resume = True
                continue
            status = response.status_code
            if status in (200, 201):
                item = response.json()
                self.client.emit_body("driveItem", item, "response")
                return item
            if status == 202:
                self.failures = 0  # progress: the streak of failures starts again
                body = response.json() if response.content else {}
                following = _first_expected((body or {}).get("nextExpectedRanges"))
                offset = end + 1 if following is None else following
                continue
            if status == 404:
                raise self.expired(response)
            error = self.client.error_for(response, "PUT", self.url)
            if status == 416 or isinstance(error, RetryableGraphError):
                self.failed(error)
                resume = True
                continue
            raise error  # permanent: the caller cancels the session

    def cancel(self) -> None:
        try:
            self.client.send("DELETE", self.url, auth=False)
        except GraphError:
            pass  # the session expires by itself


def upload_file(
    client: GraphClient,
    drive_id: str,
    parent_id: str,
    filename: str,
    stream: IO[bytes],
    size: int,
    chunk_size: int = DEFAULT_CHUNK,
    *,
    max_retries: int | None = None,
    conflict: str = "replace",
) -> dict:
    """Upload ``size`` bytes from ``stream`` (seekable, at the file's start) as ``filename``
    in folder ``parent_id``; -> the driveItem. A file of that name gets a new version
    (``conflict="replace"``), or the upload lands beside it as "name 1.ext" (``"rename"``), or
    it is refused with 409 (``"fail"``)."""
    if conflict not in CONFLICT_BEHAVIORS:
        raise ValueError(f"conflict must be one of {CONFLICT_BEHAVIORS}, not {conflict!r}")
    validate_chunk_size(chunk_size)
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be a byte count, not {size!r}")
    if not stream.seekable():
        raise ValueError("the stream must be seekable, to resume after a failed chunk")
    path = _item_path(drive_id, parent_id, filename)
    if size == 0:
        # Upload sessions cannot carry an empty file; a simple upload can (idempotent PUT).
        response = client.request(
            "PUT",
            f"{path}/content?{quote(CONFLICT, safe='@')}={conflict}",
            content=b"",
            headers={"Content-Type": "application/octet-stream"},
        )
        item = response.json()
        client.emit_body("driveItem", item, "response")
        return item
    body = {"item": {CONFLICT: conflict, "name": filename}}
    # Creating a session changes nothing in the drive, so it is safe to re-send.
    session = client.post_json(
        f"{path}/createUploadSession",
        body,
        type_name="driveItem/createUploadSession",
        idempotent=True,
    )
    upload_url = (session or {}).get("uploadUrl")
    if not upload_url:
        raise RetryableGraphError(
            None,
            "noUploadUrl",
            "createUploadSession returned no uploadUrl",
            None,
            "POST",
            f"{path}/createUploadSession",
        )
    upload = _Upload(
        client,
        upload_url,
        stream,
        size,
        chunk_size,
        client.max_retries if max_retries is None else max_retries,
    )
    try:
        return upload.run()
    except RetryableGraphError:
        raise
    except Exception:
        upload.cancel()
        raise


def download_file(client: GraphClient, drive_id: str, item_id: str) -> bytes:
    """A file's current bytes: its pre-authenticated ``@microsoft.graph.downloadUrl`` (asked
    of Graph, with the token), fetched without the token (the URL is its own credential)."""
    path = f"/drives/{segment(drive_id)}/items/{segment(item_id)}"
    item = client.get_json(path, type_name="driveItem")
    url = (item or {}).get("@microsoft.graph.downloadUrl")
    if not url:
        raise PermanentGraphError(
            None, "noDownloadUrl", "the item has no downloadUrl (not a file?)", None, "GET", path
        )
    response = client.send("GET", url, auth=False)
    if not response.is_success:
        raise client.error_for(response, "GET", url)
    return response.content
