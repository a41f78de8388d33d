"""What a freelancer will be able to open, per workspace kind, in words for the people who
choose a workspace and for those who approve it.

The one place this is said: the request form, the API's description of a request's
``workspace``, the workspaces page and API, the request page and the decision page (and its
mail) all take it from here. It follows what the reconciler grants (``access.desired``): a
guest account; membership of the workspace's Team, whatever the kind (Teams lets only a
Team's members into its channels, private ones included); with ``access.private_channel`` a
private channel of the engagement's own; a Planner task per deliverable in the workspace's
plan; and a share of the workspace's folder until the contract's end plus the grace days.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import WORKSPACE_KINDS, Policy
from .workspace_rules import KIND_WORDS, workspace_kind

# What a guest of each kind of workspace can open, in one sentence (the kinds of
# ``access.workspace_kinds``, worded as in ``workspace_rules.KIND_WORDS``).
KIND_REACH: dict[str, str] = {
    "new_team": (
        "every standard channel and every file of the Team's document library; the Team was "
        "made for this workspace, so only this project's work is there"
    ),
    "existing_team": (
        "every standard channel and every file of the Team's document library, including "
        "the Team's other work, not only this project's"
    ),
    "private_channel": (
        "the engagement's private channel, whose files only its members open, and, since "
        "Teams lets only a Team's members into a channel, every standard channel and every "
        "file of the Team's document library too"
    ),
}
assert set(KIND_REACH) == set(WORKSPACE_KINDS), "say what each workspace kind opens"

NO_WORKSPACE = (
    "No workspace: the freelancer gets a guest account only, with nothing to open in Teams, "
    "Planner or SharePoint."
)


def kinds_described() -> str:
    """Every kind and what its guest can open, in one paragraph (help texts, the API)."""
    return " ".join(f"In {KIND_WORDS[k]}: {KIND_REACH[k]}." for k in WORKSPACE_KINDS)


@dataclass(frozen=True)
class Reach:
    """What a guest of one workspace will be able to open under one policy."""

    workspace: str
    kind: str
    kind_words: str
    summary: str  # KIND_REACH of the kind
    can_open: tuple[str, ...]  # one line per place, with its name

    def as_dict(self) -> dict:
        """Strings only, so a mail's outbox payload can hold it (the workspace's name aside)."""
        return {
            "kind": self.kind,
            "kind_words": self.kind_words,
            "summary": self.summary,
            "can_open": list(self.can_open),
        }


def reach(workspace, policy: Policy) -> Reach | None:
    """What a freelancer engaged in ``workspace`` will be able to open (None: no workspace)."""
    kind = workspace_kind(workspace, policy)
    if kind is None:
        return None
    team = workspace.team_name or workspace.name
    lines = []
    if workspace.new_team:
        lines.append(
            f'Team "{team}" (made for this workspace): every standard channel and every file '
            "of its document library"
        )
    else:
        lines.append(
            f'Team "{team}" (the tenant had it already): every standard channel and every '
            "file of its document library, the Team's other work included"
        )
    if policy.access.private_channel:
        lines.append(
            f'a private channel of the engagement\'s own in Team "{team}"; its files open '
            "only for the channel's members"
        )
    lines.append(
        f'the Planner plan "Freelance: {workspace.name}", with a task for each deliverable '
        "assigned to them"
    )
    grace = policy.access.grace_days
    role = "to read and change" if policy.access.file_share_role == "write" else "to read"
    lines.append(
        f'the folder "{workspace.folder_path}", shared with them {role} until the contract '
        f"ends plus {grace} day{'' if grace == 1 else 's'} of grace"
    )
    return Reach(
        workspace=workspace.name,
        kind=kind,
        kind_words=KIND_WORDS[kind],
        summary=KIND_REACH[kind],
        can_open=tuple(lines),
    )


def of_request(request) -> Reach | None:
    """``reach`` of a request's workspace, under the policy it was submitted under (a draft:
    the policy in force)."""
    from gigbridge.program import actions as program

    if request.workspace is None:
        return None
    if request.policy_version_id:
        policy = program.policy_of(request.policy_version)
    else:
        policy = program.current()[1]
    return reach(request.workspace, policy)


def choices(workspaces, policy: Policy) -> list[Reach]:
    """``reach`` of each workspace offered for a request, in the given order."""
    return [r for r in (reach(w, policy) for w in workspaces) if r is not None]
