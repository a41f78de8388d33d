"""Project workspaces in the tenant: link an existing Team, or have a new one made.

A workspace is shared by every engagement of its project. Its Team, the folder in the Team's
document library and a Planner plan are resolved (or created) by a worker job, never in a web
request; re-running the job finds what an earlier, interrupted run already made.
"""

from __future__ import annotations

from django.db import transaction

from gigbridge import clock, limits
from gigbridge.audit.actions import record
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import NotFound
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import RetryableError
from gigbridge.program.models import TenantTeam, Workspace

from .actions import request_reconcile

WORKSPACE_JOB = "access.workspace"
CATALOG_JOB = "access.catalog"


@transaction.atomic
def create_workspace(user, name: str, *, team_id: str = "", folder_path: str = "") -> Workspace:
    """A workspace on an existing Team (``team_id``) or, without one, on a new Team."""
    name = name.strip()
    if not name:
        raise ValueError("a workspace needs a name")
    bounds = limits.violations(
        {"name": name, "team_id": team_id, "folder_path": folder_path},
        {"name": limits.RequiredName, "team_id": limits.Code, "folder_path": limits.Path},
    )
    if bounds:  # the API's WorkspaceIn has the same bounds; the web form comes here
        raise ValueError("; ".join(f"{field}: {message}" for field, message in bounds))
    if Workspace.objects.filter(name=name).exists():
        raise ValueError(f"a workspace called {name!r} exists already")
    if team_id and not TenantTeam.objects.filter(team_id=team_id).exists():
        raise ValueError("that Team is not in the tenant (refresh the list of Teams)")
    workspace = Workspace.objects.create(
        name=name,
        team_id=team_id,
        new_team=not team_id,
        team_name=TenantTeam.objects.get(team_id=team_id).display_name if team_id else name,
        folder_path=folder_path.strip("/") or f"Freelance/{name}",
    )
    record(
        user=user,
        action="workspace.created",
        obj=workspace,
        after={"name": name, "team_id": team_id or "(new Team)", "folder": workspace.folder_path},
    )
    jobs.enqueue(
        WORKSPACE_JOB, {"workspace_id": workspace.pk}, key=f"{WORKSPACE_JOB}:{workspace.pk}"
    )
    return workspace


def provision(client: GraphClient, workspace_id: int, owner_mail: str) -> Workspace:
    workspace = Workspace.objects.get(pk=workspace_id)
    if not workspace.team_id:
        existing = next(
            (t for t in client.list_teams() if t.get("displayName") == workspace.team_name), None
        )
        if existing is not None:
            team_id = existing["id"]  # an earlier run made it, then died before saving
        else:
            owner = client.find_user_by_mail(owner_mail)
            if owner is None:
                raise NotFound(
                    404,
                    "ownerNotFound",
                    f"{owner_mail} is not in the tenant",
                    None,
                    "GET",
                    "/users",
                )
            team_id = client.create_team(
                workspace.team_name, f"{workspace.name}: work with freelancers", owner["id"]
            )
        Workspace.objects.filter(pk=workspace.pk).update(team_id=team_id)
        workspace.team_id = team_id
    try:
        client.get_team(workspace.team_id)
    except NotFound as exc:
        raise RetryableError("the new Team is still being provisioned", retry_after=5) from exc
    drive = client.group_drive(workspace.team_id)
    folder = client.ensure_folder(drive["id"], workspace.folder_path)
    plan_id, bucket_id = client.ensure_plan(workspace.team_id, f"Freelance: {workspace.name}")
    with transaction.atomic():
        Workspace.objects.filter(pk=workspace.pk).update(
            drive_id=drive["id"],
            folder_id=folder["id"],
            plan_id=plan_id,
            bucket_id=bucket_id,
            ready=True,
            last_error="",
        )
        workspace.refresh_from_db()
        record(
            user=None,
            actor="access reconciler",
            action="workspace.ready",
            obj=workspace,
            after={
                "team_id": workspace.team_id,
                "drive_id": workspace.drive_id,
                "folder": workspace.folder_path,
                "plan_id": plan_id,
            },
        )
        for engagement in Engagement.objects.filter(request__workspace=workspace):
            request_reconcile(engagement, f"workspace {workspace.name} is ready")
    return workspace


def sync_catalog(client: GraphClient) -> int:
    """Refresh the list of the tenant's Teams offered for a workspace."""
    now = clock.now()
    teams = client.list_teams()
    with transaction.atomic():
        for team in teams:
            TenantTeam.objects.update_or_create(
                team_id=team["id"],
                defaults={"display_name": team.get("displayName") or team["id"], "synced_at": now},
            )
        TenantTeam.objects.exclude(team_id__in=[t["id"] for t in teams]).delete()
    return len(teams)


def request_catalog_refresh() -> None:
    now = clock.now()
    with transaction.atomic():
        jobs.enqueue(CATALOG_JOB, {}, key=f"{CATALOG_JOB}:{now:%Y%m%d%H%M}")
