"""What a grant is on, in words people use: the Team's name, the channel's name, the task's
title, the folder's path, never the tenant's ids.

A grant's ``target`` keeps the tenant's id (that is what the reconciler and the drift scan
compare); these names are looked up from the workspaces Gigbridge knows when shown. An id no
workspace explains any more (a workspace deleted since) is shown as such, never hidden.
"""

from __future__ import annotations

from gigbridge.program.models import TenantTeam, Workspace

from .models import Grant


class Names:
    """One lookup of every workspace and Team, for naming many grants and drift rows."""

    def __init__(self) -> None:
        self.workspaces = list(Workspace.objects.all())
        self.teams = dict(TenantTeam.objects.values_list("team_id", "display_name"))

    def team(self, team_id: str) -> str:
        for workspace in self.workspaces:
            if workspace.team_id and workspace.team_id == team_id:
                return f'Team "{workspace.team_name or workspace.name}"'
        if team_id in self.teams:
            return f'Team "{self.teams[team_id]}"'
        return f"a Team Gigbridge does not know ({team_id})"

    def plan(self, plan_id: str) -> Workspace | None:
        return next((w for w in self.workspaces if w.plan_id and w.plan_id == plan_id), None)

    def folder(self, target: str) -> str:
        drive_id, _, folder_id = target.partition(":")
        for workspace in self.workspaces:
            if workspace.drive_id == drive_id and workspace.folder_id == folder_id:
                team = workspace.team_name or workspace.name
                return f'folder "{workspace.folder_path}" of Team "{team}"'
        return f"a folder Gigbridge does not know ({target})"

    def of(self, kind: str, target: str, engagement=None, external_id: str = "") -> str:
        """A grant's (or a drift's) place, named."""
        if kind == Grant.Kind.GUEST:
            return "the tenant (guest account)"
        if kind == Grant.Kind.TEAM_MEMBER:
            return self.team(target)
        if kind in (Grant.Kind.PRIVATE_CHANNEL, Grant.Kind.CHANNEL_MEMBER):
            # The target is the channel's name; its Team is the first part of the tenant id.
            team_id = external_id.split(":", 1)[0] if external_id else ""
            if not team_id and engagement is not None and engagement.request.workspace:
                team_id = engagement.request.workspace.team_id
            return f'private channel "{target}"' + (f" in {self.team(team_id)}" if team_id else "")
        if kind == Grant.Kind.PLANNER_TASK:
            plan_id, _, index = target.partition(":")
            title = None
            if engagement is not None and index.isdigit():
                deliverables = engagement.request.deliverables or []
                if int(index) < len(deliverables):
                    title = f"{deliverables[int(index)]} ({engagement.reference})"
            workspace = self.plan(plan_id)
            where = (
                f' in the plan of Team "{workspace.team_name or workspace.name}"'
                if workspace
                else ""
            )
            return (
                f'task "{title}"'
                if title
                else f"task {int(index) + 1 if index.isdigit() else index}"
            ) + where
        if kind == Grant.Kind.FOLDER_SHARE:
            return self.folder(target)
        if kind in (Grant.Kind.WELCOME_MAIL, Grant.Kind.MANAGER_NOTE):
            return f"mail to {target}"
        return target


def grant_places(grants) -> list[tuple[Grant, str]]:
    """Each grant with its place named (one lookup for all of them)."""
    names = Names()
    return [(g, names.of(g.kind, g.target, g.engagement, g.external_id)) for g in grants]
