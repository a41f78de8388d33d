"""Quarantine (``files.quarantine``) and release (``files.release``) of a deliverable.

Graph v1.0 cannot delete one version of a file, and ``restoreVersion`` would make an earlier
version current while leaving the infected one in the file's history, where anyone with access
can still open it. So the infected file is rebuilt instead, in four steps, each recorded on the
deliverable's row and checked before it is done again (a crash between any two resumes at the
next one; a step that reached Graph but not the row is found by its deterministic name):

1. evidence: the infected version's bytes, streamed through a private temporary file in the data
   folder, uploaded to the quarantine group's drive, folder ``<quarantine_folder>/<EN-…>/``,
   named ``<name> (version <v>, <sha256[:12]>)`` (only that group's members, the security
   reviewers, can open it);
2. if another version is clean (recorded clean, or not a guest's), the newest such one (an
   earlier one, or one added after the infected one) is uploaded beside the original under a
   temporary name;
3. the original item is permanently deleted, with all its versions (not to the recycle bin);
4. the temporary file takes the original's name: the team finds the last clean version where
   the file was, and the freelancer can no longer reach the infected one.

A version already gone from SharePoint when the job runs (the file deleted, or removed by the
quarantine of another version of it) is out of reach already: the deliverable is quarantined
without a copy, and says so.

Release (queued by ``files.actions.release``, program admins only, with a reason) copies the
evidence back into the original folder under the original name, renamed by SharePoint if that
name is taken meanwhile (``conflictBehavior: rename``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from gigbridge import clock
from gigbridge.access.models import Grant
from gigbridge.audit.actions import record
from gigbridge.integrations.msgraph import drives, upload
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import Conflict, GraphError, NotFound
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.jobs.models import OutboxJob

from .models import Deliverable
from .scan import QUARANTINE_JOB

log = logging.getLogger(__name__)

RELEASE_JOB = "files.release"
CLOCK_SLACK = dt.timedelta(minutes=5)
ACTOR = "files quarantine"
GONE = "the infected version was gone from SharePoint before a copy was kept"
NO_GROUP = (
    "no quarantine group is configured (GIGBRIDGE_QUARANTINE_GROUP_ID): the file is still in "
    "the project folder"
)

__all__ = ["QUARANTINE_JOB", "RELEASE_JOB", "run_quarantine", "run_release"]


def _graph() -> GraphClient:
    from gigbridge.integrations.msgraph import connection

    return connection.client()


def scratch_folder() -> Path:
    """Where bytes wait between a download and an upload: private to Gigbridge's user."""
    folder = Path(settings.DATA_DIR) / "files" / "tmp"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


@contextlib.contextmanager
def _scratch():
    # An unnamed temporary file (mode 0600): gone when closed, or when the process dies.
    with tempfile.TemporaryFile(dir=scratch_folder()) as handle:
        yield handle


def evidence_name(row: Deliverable) -> str:
    return f"{row.name} (version {row.version_id}, {(row.sha256 or 'not hashed')[:12]})"


def restore_name(row: Deliverable) -> str:
    return f"gigbridge-restoring-{row.pk}-{row.name}"[:400]


def _save(row: Deliverable, **fields) -> None:
    Deliverable.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def _copy(
    client: GraphClient,
    url: str,
    row: Deliverable,
    drive_id: str,
    parent_id: str,
    name: str,
    expected_size: int,
    sha256: str = "",
    conflict: str = "replace",
) -> dict:
    """Download ``url`` to a scratch file and upload it as ``name``; the bytes are checked
    (size, and SHA-256 when known) before anything is uploaded."""
    with _scratch() as handle:
        size, digest = drives.download_to(client, url, handle)
        if size != expected_size or (sha256 and digest != sha256):
            # The URL served other bytes (a newer version arrived meanwhile): try again later.
            raise RetryableError(
                f"the download of {row.name} version {row.version_id} had {size} bytes "
                f"(sha256 {digest[:12]}), expected {expected_size} ({sha256[:12] or 'any'})"
            )
        handle.seek(0)
        return upload.upload_file(
            client, drive_id, parent_id, name, handle, size, conflict=conflict
        )


# -- quarantine --------------------------------------------------------------------------------


def run_quarantine(deliverable_id: int, client: GraphClient | None = None) -> str:
    row = Deliverable.objects.select_related("engagement").filter(pk=deliverable_id).first()
    if row is None:
        return "no such deliverable"
    if row.state != Deliverable.State.QUARANTINING:
        return f"nothing to do: {row.state}"
    group_id = settings.FILES["quarantine_group_id"]
    if not group_id:
        # Shown to people on the row; the job ends (it would fail the same way every time).
        _save(row, quarantine_error=NO_GROUP)
        log.error("deliverable %s cannot be quarantined: %s", row.pk, NO_GROUP)
        return "no quarantine group"
    client = client or _graph()
    try:
        if not row.quarantine_item_id and not row.original_removed:
            _keep_evidence(client, row, group_id)
        if not row.original_removed and not row.restore_item_id:
            _rebuild_clean(client, row)
        if not row.original_removed:
            _remove_original(client, row)
        if row.restore_item_id:
            _rename_back(client, row)
    except (GraphError, PermanentError, RetryableError) as error:
        _save(row, quarantine_error=str(error)[:500])
        raise
    return _finish(row)


def resume_waiting(window: str) -> int:
    """Scheduled (with the delta passes): quarantines that stopped for want of a quarantine
    group are queued again once one is configured, one job per deliverable and window."""
    if not settings.FILES["quarantine_group_id"]:
        return 0
    waiting = Deliverable.objects.filter(
        state=Deliverable.State.QUARANTINING, quarantine_error=NO_GROUP
    ).values_list("pk", flat=True)
    queued = 0
    with transaction.atomic():
        for deliverable_id in waiting:
            key = f"{QUARANTINE_JOB}:{deliverable_id}:{window}"
            if not OutboxJob.objects.filter(idempotency_key=key).exists():
                jobs.enqueue(QUARANTINE_JOB, {"deliverable_id": deliverable_id}, key=key)
                queued += 1
    return queued


def _keep_evidence(client: GraphClient, row: Deliverable, group_id: str) -> None:
    drive_id = drives.group_drive(client, group_id)["id"]
    base = (settings.FILES["quarantine_folder"] or "Quarantine").strip("/")
    folder = drives.ensure_folder(client, drive_id, f"{base}/{row.engagement.reference}")
    name = evidence_name(row)
    found = drives.find_child(client, drive_id, folder["id"], name)
    if found is None or found.get("size") != row.size:
        try:
            url = drives.download_url(client, row.drive_id, row.item_id, row.version_id)
            found = _copy(client, url, row, drive_id, folder["id"], name, row.size, row.sha256)
        except NotFound:
            # Deleted (by someone, or by the quarantine of another version of the same file)
            # before a copy was kept: out of everyone's reach already, nothing left to remove.
            _save(row, original_removed=True, quarantine_error=GONE)
            log.warning("deliverable %s: %s", row.pk, GONE)
            return
    _save(row, quarantine_drive_id=drive_id, quarantine_item_id=found["id"])
    log.info("deliverable %s: evidence kept in the quarantine folder", row.pk)


def _is_clean(row: Deliverable, version: dict) -> bool:
    recorded = Deliverable.objects.filter(
        drive_id=row.drive_id, item_id=row.item_id, version_id=str(version.get("id"))
    ).first()
    if recorded is not None:
        return recorded.verdict == Deliverable.Verdict.CLEAN
    author = str(((version.get("lastModifiedBy") or {}).get("user") or {}).get("id") or "")
    if not author:
        return True  # made by an application (Gigbridge's own restore, a migration tool)
    return not Grant.objects.filter(kind=Grant.Kind.GUEST, external_id__iexact=author).exists()


def _rebuild_clean(client: GraphClient, row: Deliverable) -> None:
    try:
        listed = drives.versions(client, row.drive_id, row.item_id)
    except NotFound:
        return  # the file is gone already: nothing to rebuild, nothing left to delete
    # The newest clean version other than the infected one: usually an earlier one, but a
    # clean version added after it (before the scan ended) must not be lost with the file.
    others = [v for v in listed if str(v.get("id")) != row.version_id]
    clean = next((v for v in others if _is_clean(row, v)), None)
    if clean is None:
        log.info("deliverable %s: no clean version to restore", row.pk)
        return
    item = drives.get_item(client, row.drive_id, row.item_id)
    parent_id = (item.get("parentReference") or {}).get("id")
    name = restore_name(row)
    found = drives.find_child(client, row.drive_id, parent_id, name)
    if found is None or found.get("size") != clean.get("size"):
        url = drives.download_url(client, row.drive_id, row.item_id, str(clean["id"]))
        found = _copy(client, url, row, row.drive_id, parent_id, name, clean.get("size"))
    _save(row, restore_item_id=found["id"], restored_version_id=str(clean["id"]))
    log.info("deliverable %s: version %s ready to restore", row.pk, clean["id"])


def _remove_original(client: GraphClient, row: Deliverable) -> None:
    try:
        drives.permanent_delete(client, row.drive_id, row.item_id)
    except NotFound:
        pass  # deleted by an earlier attempt whose answer was lost, or by someone: the goal holds
    _save(row, original_removed=True)
    log.info("deliverable %s: the infected file is deleted with its versions", row.pk)


def _rename_back(client: GraphClient, row: Deliverable) -> None:
    try:
        item = drives.get_item(client, row.drive_id, row.restore_item_id)
    except NotFound:
        log.warning("deliverable %s: the restored file was removed meanwhile", row.pk)
        return
    if item.get("name") == row.name:
        return
    try:
        drives.rename(client, row.drive_id, row.restore_item_id, row.name, conflict="fail")
    except Conflict:
        # Someone put a file of that name there meanwhile: theirs stays, ours gets "name 1".
        drives.rename(client, row.drive_id, row.restore_item_id, row.name, conflict="rename")


def _finish(row: Deliverable) -> str:
    with transaction.atomic():
        locked = Deliverable.objects.select_for_update().get(pk=row.pk)
        if locked.state != Deliverable.State.QUARANTINING:
            return f"nothing to do: {locked.state}"
        locked.state = Deliverable.State.QUARANTINED
        locked.quarantined_at = clock.now()
        locked.quarantine_error = "" if locked.quarantine_item_id else GONE
        locked.save(update_fields=["state", "quarantined_at", "quarantine_error"])
        record(
            user=None,
            actor=ACTOR,
            action="deliverable.quarantined",
            obj=row.engagement,
            after={
                "deliverable_id": row.pk,
                "file": row.name,
                "version": row.version_id,
                "verdict": row.verdict,
                "signature": row.signature,
                "evidence": evidence_name(row) if locked.quarantine_item_id else None,
                "restored_version": row.restored_version_id or None,
            },
        )
    log.info("deliverable %s quarantined", row.pk)
    return Deliverable.State.QUARANTINED


# -- release -----------------------------------------------------------------------------------


def run_release(deliverable_id: int, client: GraphClient | None = None) -> str:
    row = Deliverable.objects.select_related("engagement").filter(pk=deliverable_id).first()
    if row is None:
        return "no such deliverable"
    if row.state != Deliverable.State.RELEASING:
        return f"nothing to do: {row.state}"
    released_name = row.name
    if not row.quarantine_item_id:
        released_name = None  # no copy was kept (GONE): the release is recorded, nothing returns
    elif not row.released_item_id:
        client = client or _graph()
        folder = drives.ensure_folder(client, row.drive_id, row.folder_path)
        copy = _released_copy(client, row, folder["id"])
        if copy is None:
            evidence = drives.get_item(client, row.quarantine_drive_id, row.quarantine_item_id)
            url = evidence.get("@microsoft.graph.downloadUrl")
            if not url:
                raise PermanentError(f"the quarantined copy of {row.name} has no download URL")
            copy = _copy(
                client,
                url,
                row,
                row.drive_id,
                folder["id"],
                row.name,
                row.size,
                row.sha256,
                conflict="rename",
            )
        _save(row, released_item_id=copy["id"])
        released_name = copy.get("name") or row.name
    with transaction.atomic():
        locked = Deliverable.objects.select_for_update().get(pk=row.pk)
        if locked.state != Deliverable.State.RELEASING:
            return f"nothing to do: {locked.state}"
        locked.state = Deliverable.State.RELEASED
        locked.save(update_fields=["state"])
        record(
            user=None,
            actor=ACTOR,
            action="deliverable.returned",
            obj=row.engagement,
            after={
                "deliverable_id": row.pk,
                "file": row.name,
                "version": row.version_id,
                "folder": row.folder_path,
                "released_item_id": row.released_item_id,
                "name": released_name,
                **({} if row.quarantine_item_id else {"note": GONE}),
            },
        )
    log.info("deliverable %s released into %s", row.pk, row.folder_path)
    return Deliverable.State.RELEASED


def _released_copy(client: GraphClient, row: Deliverable, folder_id: str) -> dict | None:
    """A copy an earlier attempt uploaded before it could record it: Gigbridge's own file
    (created by an application), of the right size, named as the original or as SharePoint
    renames it ("name 1.ext"), made since the release was asked."""
    stem, dot, ext = row.name.rpartition(".")
    if not dot:
        stem, ext = row.name, ""
    renamed = re.compile(rf"{re.escape(stem)}(?: \(?\d+\)?)?{re.escape(dot + ext)}", re.IGNORECASE)
    # SharePoint's clock is not ours: a copy made a little "before" the release still counts.
    since = row.released_at - CLOCK_SLACK if row.released_at else None
    for child in drives.children(client, row.drive_id, folder_id):
        made = drives.parse_time(child.get("createdDateTime"))
        if (
            "file" in child
            and child.get("size") == row.size
            and renamed.fullmatch(child.get("name") or "")
            and "application" in (child.get("createdBy") or {})
            and "user" not in (child.get("createdBy") or {})
            and (since is None or made is None or made >= since)
        ):
            return child
    return None
