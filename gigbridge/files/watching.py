"""Watching the workspace drives: what a freelancer adds to the project folder becomes a
recorded deliverable, found by Graph's drive ``delta`` from a stored link.

- A change notification on a drive root (``access.watch`` hands it here) only asks for a pass:
  ``request_pass`` queues one ``files.delta`` job unless one is already waiting, so a burst of
  notifications is one pass. The scheduler asks for a pass of every workspace drive in each
  15-minute window as well (``schedule_delta``): a lost notification delays a record, it never
  loses one.
- ``run_pass`` reads the delta from the drive's stored link (none: the whole drive), page by
  page. For each file below a workspace's folder it lists the versions newer than those already
  recorded; each one whose author (``lastModifiedBy.user.id``) is the guest account of an
  engagement of that workspace, holding access when the version was made, becomes one
  ``Deliverable`` (unique per drive, item and version: a version seen twice is recorded once),
  with its audit event on the engagement's timeline and its scan job. The link is stored after
  its page is handled, so a pass that dies resumes from the page it was on.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q

from gigbridge import clock
from gigbridge.access.models import Grant
from gigbridge.audit.actions import record
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.msgraph import drives
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import GraphError, NotFound
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.models import OutboxJob
from gigbridge.program.models import Workspace

from .models import Deliverable, WatchedDrive

log = logging.getLogger(__name__)

DELTA_JOB = "files.delta"
SCAN_JOB = "files.scan"
ACTOR = "files watcher"
EVERY = dt.timedelta(minutes=15)  # each watched drive is read at least this often
DRIVE_RESOURCE = re.compile(r"drives/([^/]+)/root", re.IGNORECASE)
DRIVE_CHANGES = ("updated",)  # Graph: driveItem subscriptions support "updated" only
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _graph() -> GraphClient:
    from gigbridge.integrations.msgraph import connection

    return connection.client()


# -- what is watched, and asking for a pass ------------------------------------------------------


def wanted_resources() -> dict[str, tuple[str, ...]]:
    """For access.watch: the root of every workspace drive."""
    drive_ids = Workspace.objects.exclude(drive_id="").values_list("drive_id", flat=True)
    return {f"/drives/{drive_id}/root": DRIVE_CHANGES for drive_id in sorted(set(drive_ids))}


def on_notification(client: GraphClient, notification: dict) -> str:
    """A drive changed (or its notifications were missed): ask for a pass. Level-triggered:
    what changed is read from the delta, never from the notification."""
    found = DRIVE_RESOURCE.search(notification.get("resource") or "")
    if found is None:
        return "ignored: no drive in the resource"
    drive_id = found.group(1)
    if not Workspace.objects.filter(drive_id=drive_id).exists():
        return f"drive {drive_id[:60]} is no workspace's"
    reason = notification.get("lifecycleEvent") or notification.get("changeType") or "changed"
    queued = request_pass(drive_id, f"notification: {reason}")
    return f"drive {drive_id[:60]} changed: delta pass {'queued' if queued else 'already waiting'}"


def _watched(drive_id: str) -> WatchedDrive:
    watched, _ = WatchedDrive.objects.get_or_create(drive_id=drive_id)
    return watched


def request_pass(drive_id: str, reason: str) -> bool:
    """Queue a delta pass of the drive unless one is waiting (not yet started); False then."""
    now = clock.now()
    with transaction.atomic():
        watched = _watched(drive_id)
        WatchedDrive.objects.filter(pk=watched.pk, pass_requested_at__isnull=True).update(
            pass_requested_at=now
        )
        waiting = OutboxJob.objects.filter(
            kind=DELTA_JOB,
            state=OutboxJob.State.PENDING,
            claimed_until__isnull=True,
            payload__drive_id=drive_id,
        )
        if waiting.exists():
            return False
        # Unique per request (two may come within one clock tick); the check above keeps a
        # burst to one waiting pass.
        jobs.enqueue(
            DELTA_JOB,
            {"drive_id": drive_id, "reason": reason[:200]},
            key=f"{DELTA_JOB}:{watched.pk}:{now.isoformat()}:{uuid.uuid4().hex}",
        )
    return True


def schedule_delta() -> int:
    """Scheduled: one pass of each workspace drive per 15-minute window, however many
    schedulers run (and the quarantines that waited for a quarantine group); returns how many
    jobs were queued."""
    from gigbridge.integrations.msgraph import connection

    if not connection.configured():
        return 0
    now = clock.now()
    window = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    queued = 0
    drive_ids = Workspace.objects.exclude(drive_id="").values_list("drive_id", flat=True)
    with transaction.atomic():
        for drive_id in sorted(set(drive_ids)):
            key = f"{DELTA_JOB}:{_watched(drive_id).pk}:{window.isoformat()}"
            if OutboxJob.objects.filter(idempotency_key=key).exists():
                continue
            jobs.enqueue(DELTA_JOB, {"drive_id": drive_id, "reason": "schedule"}, key=key)
            queued += 1
    from . import quarantine  # it builds on the scan, which builds on this module

    queued += quarantine.resume_waiting(window.isoformat())
    return queued


# -- the pass ------------------------------------------------------------------------------------


def run_pass(drive_id: str, client: GraphClient | None = None) -> dict[str, int]:
    """Read the drive's changes from its stored link and record the guests' new versions."""
    client = client or _graph()
    watched = _watched(drive_id)
    started = clock.now()
    workspaces = list(Workspace.objects.filter(drive_id=drive_id).exclude(folder_id=""))
    counts = {"pages": 0, "files": 0, "recorded": 0}
    folders = _Folders(client, drive_id)
    guests_since = _guests_since(workspaces)
    try:
        for page in drives.delta(client, drive_id, watched.delta_link):
            if page.resynced and counts["pages"] == 0:
                log.warning("drive %s: stored delta link refused, reading it whole", drive_id)
            for item in page.items:
                if "file" not in item or "deleted" in item:
                    continue
                found = _workspace_of(item, workspaces, folders)
                if found is None:
                    continue
                workspace, below = found
                counts["files"] += 1
                if not _may_hold_a_guest_version(item, workspace, guests_since):
                    continue
                counts["recorded"] += _record_versions(client, workspace, item, below, folders)
            WatchedDrive.objects.filter(pk=watched.pk).update(delta_link=page.link)
            counts["pages"] += 1
    except GraphError as error:
        WatchedDrive.objects.filter(pk=watched.pk).update(last_error=str(error)[:500])
        raise
    WatchedDrive.objects.filter(pk=watched.pk).update(last_pass_at=clock.now(), last_error="")
    # A request that came while this pass ran may have missed what it read: it stays asked.
    WatchedDrive.objects.filter(pk=watched.pk, pass_requested_at__lte=started).update(
        pass_requested_at=None
    )
    return counts


def _guests_since(workspaces) -> dict[int, dt.datetime]:
    """Per workspace: when its first guest got access (no entry: it never had a guest)."""
    since: dict[int, dt.datetime] = {}
    grants = Grant.objects.filter(
        kind=Grant.Kind.GUEST, engagement__request__workspace__in=workspaces
    ).values_list("engagement__request__workspace_id", "applied_at")
    for workspace_id, applied_at in grants:
        if workspace_id not in since or applied_at < since[workspace_id]:
            since[workspace_id] = applied_at
    return since


def _may_hold_a_guest_version(item: dict, workspace, guests_since) -> bool:
    """False when no version of the file can be a guest's: the workspace never had a guest, or
    the file last changed before the first one got access (its versions are all older). Spares
    a versions call per file on the first read of a big library."""
    first = guests_since.get(workspace.pk)
    if first is None:
        return False
    modified = drives.parse_time(item.get("lastModifiedDateTime"))
    return modified is None or modified >= first


class _Folders:
    """Folder paths by id within one pass: delta results may not carry
    ``parentReference.path``, so a file's folder is found by its parent's id."""

    def __init__(self, client: GraphClient, drive_id: str):
        self.client = client
        self.drive_id = drive_id
        self.paths: dict[str, str | None] = {}

    def path_of(self, item: dict) -> str | None:
        """The file's folder below the drive's root ("Freelance/Spring"), or None if gone."""
        parent = item.get("parentReference") or {}
        if parent.get("path"):
            return _relative(parent["path"])
        parent_id = parent.get("id")
        if not parent_id:
            return None
        if parent_id not in self.paths:
            try:
                folder = drives.get_item(self.client, self.drive_id, parent_id)
            except NotFound:
                self.paths[parent_id] = None
            else:
                above = (folder.get("parentReference") or {}).get("path")
                if "root" in folder:
                    self.paths[parent_id] = ""
                elif above is not None:
                    self.paths[parent_id] = _join(_relative(above), folder.get("name") or "")
                else:
                    self.paths[parent_id] = None
        return self.paths[parent_id]


def _relative(path: str) -> str:
    """``/drives/{d}/root:/Freelance/Spring`` -> ``Freelance/Spring``."""
    _, _, below = path.partition("root:")
    return below.strip("/")


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}".strip("/")


def _workspace_of(item: dict, workspaces, folders: _Folders):
    """(workspace, folder below the drive root) when the file is under a workspace's folder."""
    if not workspaces:
        return None
    parent_id = (item.get("parentReference") or {}).get("id")
    for workspace in workspaces:  # directly in a project folder: no lookup needed
        if parent_id and parent_id == workspace.folder_id:
            path = (item.get("parentReference") or {}).get("path")
            return workspace, _relative(path) if path else workspace.folder_path.strip("/")
    path = folders.path_of(item)
    if path is None:
        return None
    for workspace in sorted(workspaces, key=lambda w: -len(w.folder_path)):
        base = workspace.folder_path.strip("/").lower()
        if base and (path.lower() == base or path.lower().startswith(base + "/")):
            return workspace, path
    return None


def _record_versions(client, workspace: Workspace, item: dict, folder: str, folders) -> int:
    drive_id = workspace.drive_id
    known = set(
        Deliverable.objects.filter(drive_id=drive_id, item_id=item["id"]).values_list(
            "version_id", flat=True
        )
    )
    listed = drives.versions(client, drive_id, item["id"])
    newer = []
    for version in listed:  # newest first: stop at the newest version already recorded
        if str(version.get("id")) in known:
            break
        newer.append(version)
    recorded = 0
    for version in reversed(newer):  # oldest first, so records follow the file's history
        recorded += _record_one(workspace, item, version, folder, is_current=version is listed[0])
    return recorded


def guest_engagement(workspace: Workspace, user_id: str, at: dt.datetime) -> Engagement | None:
    """The engagement of this workspace whose guest account is ``user_id`` and held access at
    ``at``: the grant applied by then and not removed before."""
    if not user_id:
        return None
    grants = (
        Grant.objects.filter(
            kind=Grant.Kind.GUEST,
            external_id__iexact=user_id,
            engagement__request__workspace=workspace,
            applied_at__lte=at,
        )
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gte=at))
        .select_related("engagement")
        .order_by("-applied_at", "-pk")
    )
    grant = grants.first()
    return grant.engagement if grant else None


def _record_one(workspace, item: dict, version: dict, folder: str, is_current: bool) -> int:
    who = (version.get("lastModifiedBy") or {}).get("user") or {}
    added_at = drives.parse_time(version.get("lastModifiedDateTime")) or clock.now()
    engagement = guest_engagement(workspace, str(who.get("id") or ""), added_at)
    if engagement is None:
        return 0  # an employee's version, or someone no engagement explains
    version_id = str(version.get("id"))
    title, task_id = planner_match(engagement, item.get("name") or "", folder, workspace)
    size = version.get("size")
    if not isinstance(size, int) or size < 0:
        size = item.get("size") if is_current and isinstance(item.get("size"), int) else 0
    try:
        with transaction.atomic():
            deliverable = Deliverable.objects.create(
                engagement=engagement,
                drive_id=workspace.drive_id,
                item_id=item["id"],
                version_id=version_id,
                name=(item.get("name") or "")[:400],
                folder_path=folder[:1000],
                web_url=(item.get("webUrl") or "")[:2000],
                size=size,
                author_id=str(who.get("id") or "")[:100],
                author_name=str(who.get("displayName") or "")[:300],
                author_email=str(who.get("email") or engagement.freelancer.email or "")[:300],
                added_at=added_at,
                recorded_at=clock.now(),
                deliverable_title=title[:300],
                planner_task_id=task_id[:100],
            )
            record(
                user=None,
                actor=ACTOR,
                action="deliverable.recorded",
                obj=engagement,
                after={
                    "deliverable_id": deliverable.pk,
                    "file": deliverable.name,
                    "folder": deliverable.folder_path,
                    "version": version_id,
                    "size": size,
                    "author": deliverable.author_name or deliverable.author_email,
                    **({"deliverable": title} if title else {}),
                },
            )
            jobs.enqueue(
                SCAN_JOB, {"deliverable_id": deliverable.pk}, key=f"{SCAN_JOB}:{deliverable.pk}"
            )
    except IntegrityError:
        return 0  # recorded by another pass meanwhile: the unique version makes it one record
    log.info("recorded %s version %s for %s", item["id"], version_id, engagement.reference)
    return 1


# -- which request deliverable (Planner task) a file answers ------------------------------------


def words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text or "")}


def planner_match(
    engagement: Engagement, name: str, folder: str, workspace: Workspace
) -> tuple[str, str]:
    """(deliverable title, Planner task id) whose words all appear in the file's name or its
    folder below the project folder; the most specific title wins. ("", "") when none."""
    base = workspace.folder_path.strip("/")
    below = folder[len(base) :] if folder.lower().startswith(base.lower()) else folder
    found = words(name) | words(below)
    best: tuple[int, int, str] | None = None
    for index, title in enumerate(engagement.request.deliverables or []):
        wanted = words(str(title))
        if wanted and wanted <= found and (best is None or len(wanted) > best[0]):
            best = (len(wanted), index, str(title))
    if best is None:
        return "", ""
    _, index, title = best
    task = Grant.objects.filter(
        engagement=engagement, kind=Grant.Kind.PLANNER_TASK, target=f"{workspace.plan_id}:{index}"
    ).first()
    return title, (task.external_id if task else "")
