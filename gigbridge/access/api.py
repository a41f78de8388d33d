"""REST endpoints for workspaces and the access review."""

import datetime as dt

from ninja import Router, Schema, Status

from gigbridge import limits
from gigbridge.engagements.errors import Problem, RuleViolation
from gigbridge.engagements.permissions import Capability, require
from gigbridge.program.models import TenantTeam, Workspace

from . import workspaces
from .review import Row, drift_rows, granted_rows

router = Router(tags=["access"])


class WorkspaceOut(Schema):
    name: str
    team_id: str
    team_name: str
    folder_path: str
    ready: bool
    last_error: str


class WorkspaceIn(Schema):
    name: limits.RequiredName
    team_id: limits.Code = ""
    folder_path: limits.Path = ""


class TeamOut(Schema):
    team_id: str
    display_name: str
    synced_at: dt.datetime


@router.get("/workspaces", response=list[WorkspaceOut], summary="Project workspaces")
def list_workspaces(request):
    return Workspace.objects.all()


@router.post(
    "/workspaces",
    response={201: WorkspaceOut},
    summary="Link an existing Team (team_id) or have a new Team made (program admins)",
)
def create_workspace(request, payload: WorkspaceIn):
    require(request.user, Capability.MANAGE_WORKSPACES, f"{request.method} {request.path}")
    try:
        workspace = workspaces.create_workspace(
            request.user, payload.name, team_id=payload.team_id, folder_path=payload.folder_path
        )
    except ValueError as exc:
        raise RuleViolation(
            [Problem("name" if "name" in str(exc) else "team_id", str(exc))]
        ) from exc
    return Status(201, workspace)


@router.get(
    "/workspaces/teams",
    response=list[TeamOut],
    summary="The tenant's Teams, as last read (refresh with POST)",
)
def list_teams(request):
    return TenantTeam.objects.all()


@router.post(
    "/workspaces/teams/refresh",
    response={202: dict},
    summary="Read the tenant's Teams again (program admins)",
)
def refresh_teams(request):
    require(request.user, Capability.MANAGE_WORKSPACES, f"{request.method} {request.path}")
    workspaces.request_catalog_refresh()
    return Status(202, {"detail": "the list of Teams will be read from the tenant shortly"})


@router.get(
    "/access/review",
    response=list[Row],  # the same rows as the page and the CLI
    summary="Every guest's access, why and until when; drift from the last scan",
)
def access_review(request):
    require(request.user, Capability.REVIEW_ACCESS, f"{request.method} {request.path}")
    return granted_rows() + drift_rows()
