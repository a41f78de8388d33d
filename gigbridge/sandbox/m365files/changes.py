"""A drive's change log, which ``delta`` reads, and the one place every change is announced.

Every change below a drive's root goes through here, whoever makes it (Graph handlers, upload
URLs, the viewer's and tools' uploads): ``changed(item)`` after an item was created, given a new
version, renamed or moved; ``removed(item)`` before an item and everything under it is deleted.
Each logs the folders above the item too, root first (their eTag and size change with what is
in them, and Graph's delta reports them as well), then fires the drive-root notification
(``notify.drive_changed``), in the caller's transaction: a change that is rolled back is
neither logged nor announced.

The log is bounded: past ``MAX_ENTRIES`` entries a drive's oldest ones are dropped and
``delta_floor`` rises, so delta tokens from before it answer 410 ``resyncRequired``.
"""

from __future__ import annotations

from django.db.models import F

from . import notify
from .models import Drive, DriveChange, DriveItem

MAX_ENTRIES = 50_000  # per drive
PRUNE_EVERY = 1_000  # entries dropped at once when the log is full


def _next(drive: Drive) -> int:
    Drive.objects.filter(pk=drive.pk).update(last_change=F("last_change") + 1)
    drive.last_change = Drive.objects.values_list("last_change", flat=True).get(pk=drive.pk)
    return drive.last_change


def _chain(item: DriveItem) -> list[DriveItem]:
    """The folders from the root down to ``item``, and ``item``."""
    chain = [item]
    current = item.parent
    while current is not None and len(chain) < 1000:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def _log(drive: Drive, item: DriveItem) -> None:
    seq = _next(drive)
    DriveChange.objects.create(
        drive=drive,
        seq=seq,
        item_id=item.id,
        parent_id=item.parent_id or "",
        name=item.name,
        is_folder=item.is_folder,
    )
    if not item.first_change:
        DriveItem.objects.filter(pk=item.pk).update(first_change=seq)
        item.first_change = seq


def _prune(drive: Drive) -> None:
    floor = drive.last_change - MAX_ENTRIES
    if floor > drive.delta_floor + PRUNE_EVERY:
        DriveChange.objects.filter(drive=drive, seq__lte=floor).delete()
        Drive.objects.filter(pk=drive.pk).update(delta_floor=floor)
        drive.delta_floor = floor


def changed(item: DriveItem, *, also: DriveItem | None = None) -> None:
    """``item`` (and the folders above it) changed; ``also``: another folder whose content
    changed in the same act (the old parent of a moved item), logged with its own parents."""
    drive = item.drive
    logged: set[str] = set()
    for chain in ([] if also is None else _chain(also)), _chain(item):
        for each in chain:
            if each.id not in logged:
                logged.add(each.id)
                _log(drive, each)
    _prune(drive)
    notify.drive_changed(drive)


def removed(item: DriveItem) -> None:
    """``item`` and everything under it are about to be deleted: the folders above it changed,
    and each deleted item gets a tombstone entry (deepest first)."""
    drive = item.drive
    for folder in _chain(item)[:-1]:
        _log(drive, folder)
    gone, level = [], [item]
    while level:
        gone.extend(level)
        level = list(DriveItem.objects.filter(parent_id__in=[i.pk for i in level if i.is_folder]))
    for each in reversed(gone):
        DriveChange.objects.create(
            drive=drive,
            seq=_next(drive),
            item_id=each.id,
            deleted=True,
            parent_id=each.parent_id or "",
            name=each.name,
            is_folder=each.is_folder,
        )
    _prune(drive)
    notify.drive_changed(drive)


def expire_tokens(drive: Drive) -> int:
    """Make every delta token of the drive issued so far too old (410 ``resyncRequired``), as
    Graph does when it cannot track changes from a token any more. Returns the new floor."""
    Drive.objects.filter(pk=drive.pk).update(delta_floor=F("last_change"))
    drive.refresh_from_db(fields=["delta_floor", "last_change"])
    DriveChange.objects.filter(drive=drive, seq__lte=drive.delta_floor).delete()
    return drive.delta_floor
