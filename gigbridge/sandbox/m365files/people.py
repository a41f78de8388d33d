"""Acting as a person of the tenant in the document libraries: what they reach, and uploads in
their name (the Files view and the ``/_sandbox/files/`` tools use both).

What a person reaches, as SharePoint decides it for a group's team site:

- a member or owner of the group reaches its whole library and may write (the site's Members
  and Owners groups);
- anyone else reaches an item shared with their address (or tenant user id) on the item itself
  or on a folder above it (inherited), while that share has not expired by the sandbox clock;
  ``write`` shares may upload;
- a disabled account reaches nothing.

An upload as a person goes the way Graph's do (``drives.commit_file``): a new file, or a new
version of the file of that name; the change log, delta and the drive-root notification
follow; ``createdBy`` / ``lastModifiedBy`` name that person (id, displayName, email).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from ..models import GraphGroup, GraphGroupMember, SandboxUser
from . import changes, clock, storage
from .common import item_id, valid_name
from .drives import child_named, commit_file, drive_for_group, path_of, root_of
from .models import Drive, DriveItem, DrivePermission

MAX_FOLDER_DEPTH = 32  # folders a tool's path may name


def _when(moment) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Reach:
    reachable: bool
    why: str
    can_write: bool = False


def person_by_email(email: str) -> SandboxUser | None:
    email = (email or "").strip()
    if not email:
        return None
    return (
        SandboxUser.objects.filter(mail__iexact=email).first()
        or SandboxUser.objects.filter(user_principal_name__iexact=email).first()
    )


def address(user: SandboxUser) -> str:
    return user.mail or user.user_principal_name


def identity(user: SandboxUser) -> dict:
    """The identitySet Graph writes for what a signed-in user did."""
    return {"user": {"id": str(user.id), "displayName": user.display_name, "email": address(user)}}


def membership(user: SandboxUser, drive: Drive) -> GraphGroupMember | None:
    found = GraphGroupMember.objects.filter(group_id=drive.group_id, user=user).first()
    return found if found is not None and (found.member or found.owner) else None


def _is_theirs(permission: DrivePermission, user: SandboxUser) -> bool:
    if permission.user_id == user.id:
        return True
    mine = {a.lower() for a in (user.mail, user.user_principal_name) if a}
    return permission.email.lower() in mine


def folder_path(item: DriveItem) -> str:
    """``Documents/a/b`` for the folder b (``Documents`` for the root)."""
    names = [i.name for i in path_of(item)[1:]] + ([item.name] if item.parent_id else [])
    return "/".join(["Documents", *names])


def reach(user: SandboxUser, item: DriveItem) -> Reach:
    name = user.display_name or address(user)
    if not user.account_enabled:
        return Reach(False, f"{name}'s account is disabled.")
    drive = item.drive
    member = membership(user, drive)
    if member is not None:
        role = "an owner" if member.owner else "a member"
        return Reach(True, f"{name} is {role} of the group '{drive.group_name}'.", True)
    now = clock.now()
    live, expired = [], []
    for holder in reversed([*path_of(item), item]):  # the item first, then up to the root
        for permission in holder.permissions.all():
            if _is_theirs(permission, user):
                ok = permission.expires is None or permission.expires > now
                (live if ok else expired).append((permission, holder))
    if live:
        permission, holder = live[0]
        where = "directly" if holder.pk == item.pk else f"through '{folder_path(holder)}'"
        until = f" until {_when(permission.expires)}" if permission.expires else ""
        roles = "write" if any("write" in p.roles for p, _ in live) else "read"
        return Reach(
            True,
            f"Shared with {permission.email} {where} ({roles}{until}).",
            roles == "write",
        )
    if expired:
        permission, holder = expired[0]
        return Reach(
            False,
            f"No access: the share with {permission.email} on '{folder_path(holder)}' expired "
            f"at {_when(permission.expires)} (sandbox clock).",
        )
    return Reach(
        False,
        f"No access: {name} is not a member of the group '{drive.group_name}' and nothing here "
        f"or in a folder above is shared with {address(user)}.",
    )


# -- what a person can open -------------------------------------------------------------------


def libraries(user: SandboxUser) -> list[Drive]:
    """The libraries of the Microsoft 365 groups the person is a member or owner of."""
    groups = GraphGroup.objects.filter(
        Q(memberships__member=True) | Q(memberships__owner=True), memberships__user=user
    ).distinct()
    found = []
    for group in groups.order_by("display_name"):
        if "Unified" in (group.group_types or []):
            found.append(drive_for_group(group))
    return found


def shared_with(user: SandboxUser) -> list[tuple[DriveItem, DrivePermission]]:
    """Items shared with the person (live shares) in libraries they are not a member of."""
    now = clock.now()
    theirs = Q(user_id=user.id)
    for known in (user.mail, user.user_principal_name):
        if known:
            theirs |= Q(email__iexact=known)
    found = []
    permissions = DrivePermission.objects.select_related("item__drive").order_by("created")
    for permission in permissions.filter(theirs):
        if permission.expires is not None and permission.expires <= now:
            continue
        if membership(user, permission.item.drive) is None:
            found.append((permission.item, permission))
    seen, unique = set(), []
    for item, permission in found:
        if item.pk not in seen:
            seen.add(item.pk)
            unique.append((item, permission))
    return unique


# -- uploads in a person's name ---------------------------------------------------------------


class UploadRefused(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def ensure_folder(user: SandboxUser, drive: Drive, path: str) -> DriveItem:
    """The folder at ``path`` (``a/b``) in the drive, made as the person where missing."""
    parts = [p for p in (path or "").split("/") if p]
    if len(parts) > MAX_FOLDER_DEPTH:
        raise UploadRefused(400, "invalid_request", f"path: at most {MAX_FOLDER_DEPTH} folders")
    folder = root_of(drive)
    for part in parts:
        if not valid_name(part):
            raise UploadRefused(400, "invalid_request", f"path: '{part}' is not a valid name")
        found = child_named(folder, part)
        if found is not None and not found.is_folder:
            raise UploadRefused(400, "invalid_request", f"path: '{part}' is a file, not a folder")
        if found is None:
            allowed = reach(user, folder)
            if not allowed.can_write:
                raise UploadRefused(403, "no_access", allowed.why)
            who = identity(user)
            found = DriveItem.objects.create(
                id=item_id(),
                drive=drive,
                parent=folder,
                name=part,
                is_folder=True,
                created_by=who,
                modified_by=who,
                created=clock.now(),
                modified=clock.now(),
            )
            changes.changed(found)
        folder = found
    return folder


def upload(
    user: SandboxUser,
    folder: DriveItem,
    name: str,
    chunks: Iterable[bytes],
    *,
    behavior: str = "replace",
    max_bytes: int,
) -> tuple[DriveItem, bool]:
    """Store the bytes as ``name`` in ``folder`` in the person's name: (item, is new).
    Refused (``UploadRefused``) without write access, on a bad name, above ``max_bytes``, or
    on a taken name under ``fail``."""
    if not folder.is_folder:
        raise UploadRefused(400, "invalid_request", "files are uploaded into a folder")
    if not valid_name(name):
        raise UploadRefused(400, "invalid_request", f"name: '{str(name)[:100]}' is not valid")
    if behavior not in ("replace", "rename", "fail"):
        raise UploadRefused(400, "invalid_request", "conflict: replace, rename or fail")
    allowed = reach(user, folder)
    if not allowed.can_write:
        raise UploadRefused(403, "no_access", allowed.why)
    part = storage.part_path(f"person-{secrets.token_hex(8)}")
    try:
        size = 0
        with open(part, "wb") as out:
            for data in chunks:
                size += len(data)
                if size > max_bytes:
                    raise UploadRefused(413, "too_large", f"at most {max_bytes} bytes")
                out.write(data)
        hashes = storage.hash_file(part)
        sha = hashes.sha256.hexdigest()
        try:
            with transaction.atomic():
                item, is_new = commit_file(folder, name, sha, hashes, behavior, identity(user))
        except Exception as exc:  # a GraphError: the name is taken under "fail"
            if getattr(exc, "code", "") == "nameAlreadyExists":
                raise UploadRefused(409, "name_exists", exc.message) from None
            raise
        storage.store_file(part, hashes)
        return item, is_new
    finally:
        part.unlink(missing_ok=True)
