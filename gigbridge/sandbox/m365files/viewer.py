"""What the read-only viewer shows of Planner and the document libraries: tasks (title, who they
are assigned to, bucket and plan, due) and folder shares with their expiry (item path, grantee,
roles, expirationDateTime). Names, not ids: users, groups and folders are looked up once per
page, not once per row."""

from __future__ import annotations

from ..models import GraphGroup, SandboxUser, Tenant
from . import clock
from .models import DriveItem, DrivePermission, PlannerTask

SHOWN = 100  # newest rows of each kind


def _names(tenant: Tenant, ids) -> dict[str, str]:
    wanted = {str(i) for i in ids if i}
    if not wanted:
        return {}
    users = SandboxUser.objects.filter(tenant=tenant, id__in=wanted)
    return {str(u.id): u.display_name or u.user_principal_name for u in users}


def planner_tasks(tenant: Tenant) -> list[dict]:
    tasks = list(
        PlannerTask.objects.filter(plan__tenant=tenant)
        .select_related("plan", "bucket")
        .order_by("-created", "-id")[:SHOWN]
    )
    people = _names(tenant, (uid for task in tasks for uid in task.assignments))
    groups = {
        str(g.id): g.display_name
        for g in GraphGroup.objects.filter(id__in={t.plan.group_id for t in tasks})
    }
    return [
        {
            "title": task.title,
            "assigned": sorted(people.get(uid, "a user no longer in the tenant")
                               for uid in task.assignments),
            "bucket": task.bucket.name if task.bucket else "",
            "plan": task.plan.title,
            "group": groups.get(str(task.plan.group_id), ""),
            "due": task.due,
            "percent_complete": task.percent_complete,
        }
        for task in tasks
    ]  # fmt: skip


def _paths(drive_ids) -> dict[str, str]:
    """Every folder's path in these drives ("Documents/Engagement 7/Deliverables"), from one
    query of the folders (shares are on folders; a file's path is its folder's plus its name)."""
    folders = {
        row["id"]: row
        for row in DriveItem.objects.filter(drive_id__in=drive_ids, is_folder=True).values(
            "id", "parent_id", "name"
        )
    }
    paths: dict[str, str] = {}

    def path_of(item_id: str, depth: int = 0) -> str:
        if item_id in paths:
            return paths[item_id]
        row = folders.get(item_id)
        if row is None or depth > 64:
            return ""
        parent = row["parent_id"]
        name = "Documents" if parent is None else row["name"]  # the root is the library
        found = f"{path_of(parent, depth + 1)}/{name}" if parent else name
        paths[item_id] = found
        return found

    for item_id in folders:
        path_of(item_id)
    return paths


def shares(tenant: Tenant) -> list[dict]:
    now = clock.now()  # expiry is judged by the sandbox clock
    permissions = list(
        DrivePermission.objects.filter(item__drive__tenant=tenant)
        .select_related("item__drive")
        .order_by("-created", "-id")[:SHOWN]
    )
    paths = _paths({p.item.drive_id for p in permissions})
    people = _names(tenant, (p.user_id for p in permissions))
    rows = []
    for p in permissions:
        item = p.item
        path = paths.get(item.id) if item.is_folder else None
        if path is None:
            path = f"{paths.get(item.parent_id or '', 'Documents')}/{item.name}"
        rows.append(
            {
                "site": item.drive.group_name,
                "path": path,
                "folder": item.is_folder,
                "grantee": people.get(str(p.user_id)) or p.display_name or p.email,
                "email": p.email,
                "roles": p.roles,
                "expires": p.expires,
                "expired": p.expires is not None and p.expires <= now,
            }
        )
    return rows


def summary(tenant: Tenant) -> dict:
    return {"tasks": planner_tasks(tenant), "shares": shares(tenant)}
