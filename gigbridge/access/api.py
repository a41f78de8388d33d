"""REST endpoints for workspaces and the access review."""

import datetime as dt

from ninja import Field, Router, Schema, Status

from gigbridge import limits
from gigbridge.api.inputs import InputSchema
from gigbridge.domainerrors import Problem, RuleViolation
from gigbridge.people.capabilities import Capability, require
from gigbridge.program import actions as program
from gigbridge.program.models import TenantTeam, Workspace
from gigbridge.program.reach import reach

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
    # What a freelancer engaged in it will be able to open, under the policy in force.
    kind: str = Field(description="new_team, existing_team or private_channel")
    kind_words: str
    guest_can_open: list[str] = Field(description="each place a guest will be able to open")


def _with_reach(workspace: Workspace, policy) -> Workspace:
    found = reach(workspace, policy)
    workspace.kind, workspace.kind_words = found.kind, found.kind_words
    workspace.guest_can_open = list(found.can_open)
    return workspace


class WorkspaceIn(InputSchema):
    name: limits.RequiredName
    team_id: limits.Code = ""
    folder_path: limits.Path = ""


class TeamOut(Schema):
    team_id: str
    display_name: str
    synced_at: dt.datetime


@router.get("/workspaces", response=list[WorkspaceOut], summary="Project workspaces")
def list_workspaces(request):
    _, policy = program.current()
    return [_with_reach(w, policy) for w in Workspace.objects.all()]


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
    return Status(201, _with_reach(workspace, program.current()[1]))


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
