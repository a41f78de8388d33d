"""The policy's rule on sharing a workspace's folder (the rule on which kinds of workspace may
hold which work is the program's: ``program.workspace_rules``).

- ``access.share_folder_across_engagements`` (off by default): a workspace's folder is never
  shared with the freelancer of one engagement while it is shared with the freelancer of
  another. Checked when a request is submitted and, as the guarantee, by the reconciler before
  it shares the folder.
"""

from __future__ import annotations

from gigbridge.domainerrors import Problem
from gigbridge.program.policy import Policy

from .models import Grant


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
