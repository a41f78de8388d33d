"""The policy's rules on where work may happen in Microsoft 365.

- ``access.workspace_kinds``: per data classification, the workspace kinds allowed (a Team made
  for the workspace, a Team the tenant already had, a private channel of its own). Checked when
  a request is saved, submitted and approved; the refusal names the rule.
- ``access.share_folder_across_engagements`` (off by default): a workspace's folder is never
  shared with the freelancer of one engagement while it is shared with the freelancer of
  another. Checked when a request is submitted and, as the guarantee, by the reconciler before
  it shares the folder.
"""

from __future__ import annotations

from gigbridge.engagements.errors import Problem
from gigbridge.program.policy import Policy

from .models import Grant

KIND_WORDS = {
    "new_team": "a Team made for it",
    "existing_team": "a Team the tenant already had",
    "private_channel": "a private channel of its own",
}


def workspace_kind(workspace, policy: Policy) -> str | None:
    """The kind of place an engagement in ``workspace`` works in (None: no workspace)."""
    if workspace is None:
        return None
    if getattr(workspace, "new_team", False):
        return "new_team"
    if policy.access.private_channel:
        return "private_channel"
    return "existing_team"


def workspace_problems(workspace, classification: str, policy: Policy) -> list[Problem]:
    """Why ``workspace`` may not hold work of ``classification`` (empty: it may)."""
    allowed = policy.access.workspace_kinds.get(classification)
    kind = workspace_kind(workspace, policy)
    if kind is None or allowed is None or kind in allowed:
        return []
    return [
        Problem(
            "workspace",
            f"{classification} work may only be done in "
            + " or ".join(KIND_WORDS[k] for k in allowed)
            + f"; {workspace.name} is {KIND_WORDS[kind]}",
            f"access.workspace_kinds.{classification}",
        )
    ]


def folder_held_by_others(workspace, freelancer_email: str, exclude_engagement_id=None):
    """Applied shares of ``workspace``'s folder held for another engagement's freelancer."""
    if workspace is None or not (workspace.drive_id and workspace.folder_id):
        return Grant.objects.none()
    held = Grant.objects.filter(
        kind=Grant.Kind.FOLDER_SHARE,
        state=Grant.State.APPLIED,
        target=f"{workspace.drive_id}:{workspace.folder_id}",
    ).select_related("engagement")
    if exclude_engagement_id is not None:
        held = held.exclude(engagement_id=exclude_engagement_id)
    if freelancer_email:
        held = held.exclude(principal__iexact=freelancer_email)
    return held


def folder_problems(workspace, freelancer_email: str, policy: Policy, engagement_id=None):
    """Why ``workspace``'s folder may not be shared for this engagement (empty: it may)."""
    if policy.access.share_folder_across_engagements:
        return []
    others = sorted(
        {
            g.engagement.reference
            for g in folder_held_by_others(workspace, freelancer_email, engagement_id)
        }
    )
    if not others:
        return []
    return [
        Problem(
            "workspace",
            f"the folder {workspace.folder_path} of {workspace.name} is shared with the "
            f"freelancer of {', '.join(others)}; it is shared with one engagement's freelancer "
            "at a time",
            "access.share_folder_across_engagements",
        )
    ]
