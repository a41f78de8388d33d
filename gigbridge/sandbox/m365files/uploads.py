"""The SharePoint side of files: upload URLs, download URLs, and web URLs.

``/_sharepoint/uploadSession?guid=…&tempauth=…`` is an upload session's ``uploadUrl``: the
URL is the credential (no bearer token; a request that sends ``Authorization`` anyway is 401,
which Graph warns may happen). As Graph documents it:

- ``PUT`` with ``Content-Range: bytes {first}-{last}/{total}`` and a matching
  ``Content-Length``. Chunks come in order: one that does not start at the next expected byte
  (overlapping what arrived, or leaving a gap) is 416 ``invalidRange`` with the session's
  ``nextExpectedRanges`` in the body next to the error. Every chunk but the last must be a
  multiple of 320 KiB (400 ``invalidRequest`` otherwise) and any chunk under 60 MiB (413
  otherwise); the total must stay the one first given (and match ``item.fileSize`` when that
  was sent). Accepted chunks answer 202 ``{expirationDateTime, nextExpectedRanges}`` and renew
  the session's expiry; the last one answers 201 with the new driveItem or 200 with the file
  it made a new version of (409 ``nameAlreadyExists`` under ``fail`` when the name was taken
  meanwhile; the session then stays until it expires).
- ``GET``: the session's state, ``{expirationDateTime, nextExpectedRanges}``.
- ``DELETE``: cancels the session and drops its bytes (204).
- An unknown, finished, cancelled or expired session is 404 ``itemNotFound``.

These routes answer only on the files host (``settings.SANDBOX_FILES_URL``, ``localhost`` when
Graph is ``127.0.0.1``, and the other way round): on Graph's host they are 404, as
``graph.microsoft.com`` has no such paths. A client that sends its Graph token only to Graph's
host (Microsoft's SDKs keep a list of allowed hosts) thus sends none here.

``/_sharepoint/download?tempauth=…`` serves a file version's bytes (the ``downloadUrl``, valid
for an hour, no bearer needed). The dial ``files.download_bytes_per_second``
(``/_sandbox/control``) paces it, so a test can stop a client in the middle of a download; a
paced download holds one of the sandbox's workers while it lasts. ``/_sharepoint/sites/…``
(the ``webUrl`` of drives and items) opens the sandbox's viewer.
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import re
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from ..graph.dispatch import JSON_TYPE, iso
from ..graph.errors import GraphError, error_body
from ..models import digest
from . import clock, storage
from .drives import SESSION_LIFETIME, commit_file, item_json, read_download_token
from .models import DriveItem, DriveItemVersion, UploadSession
from .pacing import paced

UNIT = 320 * 1024
MAX_CHUNK = 60 * 1024 * 1024  # chunks must be under this
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
READ = 256 * 1024


class UploadError(Exception):
    def __init__(self, status: int, code: str, message: str, extra: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


def _json(status: int, body: dict | None, request_id: str) -> HttpResponse:
    if body is None:
        response = HttpResponse(status=status)
        del response["Content-Type"]
    else:
        response = HttpResponse(json.dumps(body), status=status, content_type=JSON_TYPE)
    response["request-id"] = request_id
    response["Cache-Control"] = "no-cache"
    return response


def _error(exc: UploadError, request_id: str, client_request_id: str) -> HttpResponse:
    body = {**error_body(exc.code, exc.message, request_id, client_request_id), **exc.extra}
    return _json(exc.status, body, request_id)


def _ranges(session: UploadSession) -> list[str]:
    return [f"{session.received}-"]


def _state(session: UploadSession) -> dict:
    return {"expirationDateTime": iso(session.expires), "nextExpectedRanges": _ranges(session)}


def _find(request: HttpRequest) -> UploadSession:
    session = UploadSession.objects.filter(id=request.GET.get("guid", "")).first()
    token = request.GET.get("tempauth", "")
    if session is not None and not hmac.compare_digest(digest(token), session.token_hash):
        raise UploadError(401, "unauthenticated", "The upload URL's credential is not valid.")
    if session is not None and session.expires <= clock.now():
        _drop(session)
        session = None
    if session is None:
        raise UploadError(
            404,
            "itemNotFound",
            "The upload session was not found (it may have expired, been cancelled or completed).",
        )
    return session


def _drop(session: UploadSession) -> None:
    storage.part_path(session.id).unlink(missing_ok=True)
    UploadSession.objects.filter(pk=session.pk).delete()


def on_files_host(view):
    """Answer 404 unless the request came to the files host (SharePoint's, not Graph's)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wanted = urlsplit(settings.SANDBOX_FILES_URL).netloc.lower()
        if request.get_host().lower() != wanted:
            request_id = str(uuid.uuid4())
            return _error(
                UploadError(
                    404,
                    "itemNotFound",
                    f"Upload and download URLs are served on {wanted}, not on "
                    f"{request.get_host()} (Graph's host).",
                ),
                request_id,
                request.headers.get("client-request-id") or request_id,
            )
        return view(request, *args, **kwargs)

    return wrapped


@csrf_exempt  # the URL is the credential; no cookies
@on_files_host
def upload_session(request: HttpRequest) -> HttpResponse:
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    try:
        if request.headers.get("Authorization"):
            raise UploadError(
                401,
                "unauthenticated",
                "Do not send an Authorization header to an upload URL: the URL carries its own "
                "credential.",
            )
        session = _find(request)
        if request.method == "GET":
            return _json(200, _state(session), request_id)
        if request.method == "DELETE":
            _drop(session)
            return _json(204, None, request_id)
        if request.method == "PUT":
            status, body = _put(request, session)
            response = _json(status, body, request_id)
            response["client-request-id"] = client_request_id
            return response
        raise UploadError(
            405,
            "invalidRequest",
            f"{request.method} is not supported on an upload URL (PUT, GET or DELETE).",
        )
    except UploadError as exc:
        response = _error(exc, request_id, client_request_id)
        response["client-request-id"] = client_request_id
        return response


def _put(request: HttpRequest, session: UploadSession) -> tuple[int, dict]:
    found = _RANGE.fullmatch(request.headers.get("Content-Range", "").strip())
    if not found:
        raise UploadError(
            400,
            "invalidRequest",
            "The Content-Range header is missing or not 'bytes {first}-{last}/{total}'.",
        )
    if found.group(3) == "*":
        raise UploadError(400, "invalidRequest", "The total size in Content-Range must be known.")
    first, last, total = (int(found.group(i)) for i in (1, 2, 3))
    length = last - first + 1
    declared = request.headers.get("Content-Length")
    if last < first or last >= total:
        raise UploadError(
            400, "invalidRequest", f"The range {first}-{last} does not fit a file of {total} bytes."
        )
    if declared is None or not declared.isdigit() or int(declared) != length:
        raise UploadError(
            400,
            "invalidRequest",
            f"Content-Length ({declared}) must be the size "
            f"of the range in Content-Range ({length}).",
        )
    if length >= MAX_CHUNK:
        _discard(request, length)
        raise UploadError(
            413, "requestTooLarge", f"A fragment must be smaller than 60 MiB ({MAX_CHUNK} bytes)."
        )
    expected_total = session.total_size if session.total_size is not None else session.declared_size
    if expected_total is not None and total != expected_total:
        _discard(request, length)
        raise UploadError(
            400,
            "invalidRequest",
            f"The total size {total} differs from the file's size {expected_total} given before.",
        )
    if first != session.received:
        _discard(request, length)
        raise UploadError(
            416,
            "invalidRange",
            "The fragment does not start at the next expected byte: fragments must be uploaded "
            f"in order. Next expected range: {session.received}-.",
            {"nextExpectedRanges": _ranges(session)},
        )
    if last + 1 < total and length % UNIT:
        _discard(request, length)
        raise UploadError(
            400,
            "invalidRequest",
            f"The fragment size {length} is not a multiple "
            f"of 320 KiB ({UNIT} bytes); only the last fragment may be shorter.",
        )
    # The bytes go to a scratch file first, outside any transaction: a slow client does not
    # hold the database's write lock.
    scratch = storage.part_path(f"{session.id}.{secrets.token_hex(4)}")
    try:
        received = 0
        with open(scratch, "wb") as out:
            while received < length:
                data = request.read(min(READ, length - received))
                if not data:
                    break
                out.write(data)
                received += len(data)
        if received != length:
            raise UploadError(
                400,
                "invalidRequest",
                f"The request body has {received} bytes; Content-Length said {length}.",
            )
        return _append(session.pk, first, last, total, scratch)
    finally:
        scratch.unlink(missing_ok=True)


def _discard(request: HttpRequest, length: int) -> None:
    """Read and drop a refused chunk, so the client hears the answer instead of a reset."""
    remaining = length
    while remaining > 0:
        data = request.read(min(READ, remaining))
        if not data:
            return
        remaining -= len(data)


def _append(pk: str, first: int, last: int, total: int, scratch) -> tuple[int, dict]:
    with transaction.atomic():
        session = UploadSession.objects.select_related("parent", "drive").filter(pk=pk).first()
        if session is None:
            raise UploadError(404, "itemNotFound", "The upload session was not found.")
        if session.received != first:  # another request got there first
            raise UploadError(
                416,
                "invalidRange",
                f"The fragment does not start at the next expected byte ({session.received}).",
                {"nextExpectedRanges": _ranges(session)},
            )
        part = storage.part_path(session.id)
        with open(part, "r+b" if part.exists() else "wb") as out, open(scratch, "rb") as data:
            out.seek(first)
            out.truncate()
            while chunk := data.read(storage.CHUNK):
                out.write(chunk)
        session.received = last + 1
        session.total_size = total
        session.expires = clock.now() + SESSION_LIFETIME
        session.save(update_fields=["received", "total_size", "expires"])
        if session.received < total:
            return 202, _state(session)
        return _complete(session, part)


def _complete(session: UploadSession, part) -> tuple[int, dict]:
    try:
        parent = DriveItem.objects.get(pk=session.parent_id)
    except DriveItem.DoesNotExist:
        raise UploadError(
            404, "itemNotFound", "The folder of this upload no longer exists."
        ) from None
    hashes = storage.hash_file(part)
    try:
        with transaction.atomic():  # a savepoint: a name conflict keeps the session
            sha = hashes.sha256.hexdigest()
            item, is_new = commit_file(
                parent,
                session.name,
                sha,
                hashes,
                session.conflict_behavior,
                session.created_by,
                description=session.description,
            )
    except GraphError as exc:
        raise UploadError(exc.status, exc.code, exc.message) from None
    storage.store_file(part, hashes)
    UploadSession.objects.filter(pk=session.pk).delete()
    return (201 if is_new else 200), item_json(item)


@on_files_host
@require_GET
def download(request: HttpRequest) -> HttpResponse:
    found = read_download_token(request.GET.get("tempauth", ""))
    request_id = str(uuid.uuid4())
    if found is None:
        return _error(
            UploadError(401, "unauthenticated", "The download URL is not valid (or has expired)."),
            request_id,
            request_id,
        )
    item_key, number = found
    version = (
        DriveItemVersion.objects.filter(item_id=item_key, number=number)
        .select_related("item")
        .first()
    )
    if version is None or not storage.blob_path(version.sha256).exists():
        return _error(
            UploadError(404, "itemNotFound", "The resource could not be found."),
            request_id,
            request_id,
        )
    path = storage.blob_path(version.sha256)
    rate = _download_rate()
    if rate:
        response = StreamingHttpResponse(paced(path, rate), content_type=version.mime_type)
        response["Content-Disposition"] = content_disposition_header(True, version.item.name)
    else:
        response = FileResponse(
            open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
            content_type=version.mime_type,
            as_attachment=True,
            filename=version.item.name,
        )
        # Django's default is 4 KiB a write: over TLS, one small record each, which costs the
        # client (Gigbridge's scanner) four times the work of SharePoint's 16 KiB records.
        response.block_size = DOWNLOAD_BLOCK
    response["Content-Length"] = str(os.path.getsize(path))
    response["request-id"] = request_id
    return response


DOWNLOAD_BLOCK = 256 * 1024  # bytes handed to the server per write of a download


def _download_rate() -> int | None:
    from ..graph.throttle import settings_row

    return settings_row().download_bytes_per_second


@require_GET
def site(request: HttpRequest, rest: str = "") -> HttpResponse:
    # A webUrl (on the files host) opens the sandbox's viewer, which lives on Graph's host.
    return HttpResponseRedirect(f"{settings.SANDBOX_URL}/")
