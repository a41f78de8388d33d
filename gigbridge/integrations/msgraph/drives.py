"""SharePoint / OneDrive drive items as Graph v1.0 documents them: change tracking (``delta``),
versions and their bytes, permanent deletion, rename, and uploads that must not replace.

    for page in delta(client, drive_id, stored_link):    # full read when stored_link is ""
        handle(page.items); store(page.link)               # nextLink, then the final deltaLink
    versions(client, drive_id, item_id)                    # newest first (the first is current)
    download_url(client, drive_id, item_id, "2.0")         # pre-authenticated, files host
    download_to(client, url, out)                          # -> (size, sha256), flat memory

Facts this module designs by (Graph's docs):

- ``GET /drives/{d}/root/delta`` pages with ``@odata.nextLink`` and ends with an
  ``@odata.deltaLink``, both absolute URLs on Graph's host, both usable later to continue. A
  token Graph no longer knows answers ``410 Gone`` (``resyncRequired`` and friends): the only
  way on is a full read from no token, which ``delta`` starts by itself (``Page.resynced``).
  Deleted items come with a ``deleted`` facet; ``parentReference.path`` may be missing in delta
  results (Graph does not send it there), so callers find an item's folder by id.
- ``GET …/versions/{id}/content`` answers ``302`` with the version's pre-authenticated URL;
  Graph does not serve the *current* version that way, so ``download_url`` takes the item's
  ``@microsoft.graph.downloadUrl`` for it. Download URLs are on SharePoint's host: they never get
  the bearer token (``auth=False``) and the 302 is never followed with it.
- ``POST …/permanentDelete`` (204) removes the item and all its versions, without the recycle
  bin; v1.0 has no call to delete one version.
- ``PATCH …/items/{id}`` renames or moves; ``@microsoft.graph.conflictBehavior`` belongs in the
  query string (it is also put in the body, where the annotation is allowed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterator
from typing import IO, NamedTuple
from urllib.parse import quote

import httpx

from .client import GraphClient, segment
from .errors import GraphError, NotFound, PermanentGraphError, RetryableGraphError
from .upload import _item_path

log = logging.getLogger("gigbridge.integrations.msgraph")

CONFLICT = "@microsoft.graph.conflictBehavior"
BEHAVIORS = ("fail", "replace", "rename")
DOWNLOAD_CHUNK = 1024 * 1024  # bytes read at a time from a download URL: memory stays flat
MAX_DELTA_PAGES = 100_000  # a bound on one pass (Graph pages hold up to a few hundred items)
REDIRECTS = (301, 302, 303, 307, 308)


class Page(NamedTuple):
    """One page of a delta read. ``link`` is where to continue from after handling ``items``:
    the ``@odata.nextLink`` while pages follow, else the final ``@odata.deltaLink``."""

    items: list[dict]
    link: str
    final: bool
    resynced: bool = False


def _drive(drive_id: str) -> str:
    return f"/drives/{segment(drive_id)}"


def _item(drive_id: str, item_id: str) -> str:
    return f"{_drive(drive_id)}/items/{segment(item_id)}"


def _resync(error: GraphError) -> bool:
    return error.status == 410


def delta(client: GraphClient, drive_id: str, link: str = "") -> Iterator[Page]:
    """The drive's changes since ``link`` (a stored next or delta link; "" = every item).

    A link Graph no longer accepts (410) starts a full read once; a second 410 is raised."""
    start = f"{_drive(drive_id)}/root/delta"
    url = link or start
    resynced = False
    for _ in range(MAX_DELTA_PAGES):
        try:
            page = client.get_json(url, type_name="Collection(driveItem)")
        except PermanentGraphError as error:
            if not _resync(error) or resynced:
                raise
            log.warning("delta of drive %s: %s; reading the whole drive again", drive_id, error)
            url, resynced = start, True
            continue
        page = page or {}
        next_link = page.get("@odata.nextLink")
        delta_link = page.get("@odata.deltaLink")
        if not (next_link or delta_link):
            raise PermanentGraphError(
                200, "noDeltaLink", "a delta page without nextLink or deltaLink", None, "GET", start
            )
        items = list(page.get("value") or [])
        yield Page(items, next_link or delta_link, not next_link, resynced)
        if not next_link:
            return
        url = next_link
    raise PermanentGraphError(
        None, "tooManyPages", f"more than {MAX_DELTA_PAGES} delta pages", None, "GET", start
    )


def latest_link(client: GraphClient, drive_id: str) -> str:
    """A deltaLink for "now" (``token=latest``): changes from this moment on, none before."""
    page = client.get_json(
        f"{_drive(drive_id)}/root/delta", {"token": "latest"}, type_name="Collection(driveItem)"
    )
    return str((page or {}).get("@odata.deltaLink") or "")


def get_item(client: GraphClient, drive_id: str, item_id: str) -> dict:
    return client.get_json(_item(drive_id, item_id), type_name="driveItem")


def find_child(client: GraphClient, drive_id: str, parent_id: str, name: str) -> dict | None:
    """The item called ``name`` in folder ``parent_id`` (by path), or None."""
    try:
        return client.get_json(_item_path(drive_id, parent_id, name), type_name="driveItem")
    except NotFound:
        return None


def children(client: GraphClient, drive_id: str, folder_id: str) -> list[dict]:
    return list(client.iterate(f"{_item(drive_id, folder_id)}/children", type_name="driveItem"))


def group_drive(client: GraphClient, group_id: str) -> dict:
    return client.group_drive(group_id)


def ensure_folder(client: GraphClient, drive_id: str, path: str) -> dict:
    return client.ensure_folder(drive_id, path)


def versions(client: GraphClient, drive_id: str, item_id: str) -> list[dict]:
    """The file's versions, newest (the current one) first, as Graph lists them."""
    return list(
        client.iterate(f"{_item(drive_id, item_id)}/versions", type_name="driveItemVersion")
    )


def _redirect_location(client: GraphClient, path: str) -> str:
    """GET ``path`` with the token and answer the 302's Location, never following it."""

    def attempt(number: int) -> str:
        response = client.send("GET", path, attempt=number)
        if response.status_code in REDIRECTS and response.headers.get("Location"):
            return response.headers["Location"]
        if response.is_success:
            raise PermanentGraphError(
                response.status_code,
                "noRedirect",
                "expected a 302 to the download URL",
                response.headers.get("request-id"),
                "GET",
                client.log_path(client._url(path)),
            )
        raise client.error_for(response, "GET", client._url(path))

    return client.retrier.run(attempt, idempotent=True, retryable=RetryableGraphError)


def version_download_url(client: GraphClient, drive_id: str, item_id: str, version_id: str) -> str:
    """``GET …/versions/{id}/content`` -> the 302's Location (an earlier version's bytes)."""
    return _redirect_location(
        client, f"{_item(drive_id, item_id)}/versions/{segment(version_id)}/content"
    )


def download_url(client: GraphClient, drive_id: str, item_id: str, version_id: str) -> str:
    """Where the bytes of one version are: the item's own download URL for the current version
    (Graph does not serve it under ``versions``), the version's 302 for an earlier one."""
    listed = versions(client, drive_id, item_id)
    ids = [str(v.get("id")) for v in listed]
    if version_id not in ids:
        raise NotFound(
            404,
            "versionNotFound",
            f"version {version_id} is no longer among the item's versions",
            None,
            "GET",
            f"{_item(drive_id, item_id)}/versions",
        )
    if ids[0] == version_id:
        item = get_item(client, drive_id, item_id)
        url = (item or {}).get("@microsoft.graph.downloadUrl")
        if url:
            return url
    return version_download_url(client, drive_id, item_id, version_id)


def download_to(
    client: GraphClient, url: str, out: IO[bytes], *, chunk: int = DOWNLOAD_CHUNK
) -> tuple[int, str]:
    """Stream a pre-authenticated download URL into ``out`` (no bearer token, same TLS trust
    as Graph's client); -> (bytes, sha256 hex). Retryable failures raise RetryableGraphError."""
    path = client.log_path(url)  # never the query string: it carries the URL's credential
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    try:
        with client.http.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                raise client.error_for(response, "GET", url)
            for data in response.iter_bytes(chunk):
                out.write(data)
                digest.update(data)
                size += len(data)
    except httpx.TransportError as exc:
        raise RetryableGraphError(
            None, type(exc).__name__, "download failed", None, "GET", path
        ) from None
    finally:
        log.info("graph GET %s download %d bytes %.0fms", path, size, _ms(started))
    return size, digest.hexdigest()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def permanent_delete(client: GraphClient, drive_id: str, item_id: str) -> None:
    """``POST …/permanentDelete`` (204). Re-sending is safe in effect: a gone item is 404."""
    client.request("POST", f"{_item(drive_id, item_id)}/permanentDelete", idempotent=True)


def rename(
    client: GraphClient,
    drive_id: str,
    item_id: str,
    name: str,
    *,
    parent_id: str | None = None,
    conflict: str = "fail",
) -> dict:
    """Rename (and with ``parent_id`` move within the drive); 409 Conflict on a taken name
    with ``fail``."""
    if conflict not in BEHAVIORS:
        raise ValueError(f"conflict must be one of {BEHAVIORS}, not {conflict!r}")
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"not a file name: {name!r}")
    body: dict = {"name": name, CONFLICT: conflict}
    if parent_id:
        body["parentReference"] = {"id": parent_id}
    path = f"{_item(drive_id, item_id)}?{quote(CONFLICT, safe='@')}={conflict}"
    return client.patch_json(path, body, type_name="driveItem")


def parse_time(value) -> dt.datetime | None:
    """A Graph timestamp (``2026-12-03T14:05:00Z``) as an aware datetime; None when absent or
    not a timestamp (a property Graph left out must not stop a pass)."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
