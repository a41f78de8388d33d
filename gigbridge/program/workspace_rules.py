"""The policy's rule on where work may happen in Microsoft 365.

``access.workspace_kinds``: per data classification, the workspace kinds allowed (a Team made
for the workspace, a Team the tenant already had, a private channel of its own). Checked when a
request is saved, submitted and approved; the refusal names the rule. The program's (it is about
its workspaces and its policy), so engagements checks it without importing access.
"""

from __future__ import annotations

from gigbridge.domainerrors import Problem

from .policy import Policy

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
