"""What access an engagement should have right now: a pure function of its state and the policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from gigbridge.engagements.models import Engagement
from gigbridge.program.policy import Policy

from .models import Grant

# Access starts when the contract starts and ends when it ends (plus the policy's grace days).
HOLDING_STATES = {Engagement.State.CONTRACTED, Engagement.State.ACTIVE}
# A contract that ended (on its day, early, or cancelled once made) keeps access for the grace
# days after its real end: ``transition_engagement`` records that end as ``contract_end``.
ENDED_STATES = {Engagement.State.OFFBOARDING, Engagement.State.CANCELLED}
# One-shot notices: sent once, never "revoked".
ONE_SHOT = {Grant.Kind.WELCOME_MAIL, Grant.Kind.MANAGER_NOTE}


@dataclass(frozen=True)
class Want:
    kind: str
    target: str
    reason: str
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.target


def access_ends(engagement: Engagement, policy: Policy) -> dt.date | None:
    if engagement.contract_end is None:
        return None
    return engagement.contract_end + dt.timedelta(days=policy.access.grace_days)


def window_open(engagement: Engagement, policy: Policy, today: dt.date) -> bool:
    if engagement.freelancer is None:
        return False
    if engagement.state in HOLDING_STATES:
        return True
    if engagement.state not in ENDED_STATES:
        return False
    if engagement.state == Engagement.State.CANCELLED and engagement.contract_start is None:
        return False  # cancelled before any contract: no access was ever due
    ends = access_ends(engagement, policy)
    return ends is not None and today <= ends


def share_expires(engagement: Engagement, policy: Policy) -> dt.datetime | None:
    """When a folder share must expire: the end of the last day of grace after the contract's
    real end (the planned end while it runs; the day it ended once it ended early).

    Days are the program's (settings.TIME_ZONE, as ``clock.today()``): in UTC+14 the last day
    ends ten hours before it does in UTC, and a share must not outlive it. Sent to Graph in UTC.
    """
    ends = access_ends(engagement, policy)
    if ends is None:
        return None
    last_moment = dt.datetime.combine(ends, dt.time(23, 59, 59))
    return timezone.make_aware(last_moment).astimezone(dt.UTC)


def desired(engagement: Engagement, policy: Policy, today: dt.date) -> list[Want]:
    """Every grant the engagement should hold today, in the order they must be applied."""
    if not window_open(engagement, policy, today):
        return []
    ref = engagement.reference
    email = engagement.freelancer.email
    wants = [Want(Grant.Kind.GUEST, email, f"{ref} is {engagement.state}")]
    workspace = engagement.request.workspace
    if workspace is not None:
        wants.append(
            Want(
                Grant.Kind.TEAM_MEMBER,
                workspace.team_id,
                f"{ref} works in the Team of {workspace.name}",
            )
        )
        if policy.access.private_channel:
            channel = f"{ref} {engagement.request.title}"[:50]
            wants.append(
                Want(
                    Grant.Kind.PRIVATE_CHANNEL,
                    channel,
                    "policy access.private_channel",
                    {"team_id": workspace.team_id},
                )
            )
            wants.append(
                Want(
                    Grant.Kind.CHANNEL_MEMBER,
                    channel,
                    "policy access.private_channel",
                    {"team_id": workspace.team_id},
                )
            )
        if workspace.plan_id and workspace.bucket_id:
            for index, title in enumerate(engagement.request.deliverables):
                wants.append(
                    Want(
                        Grant.Kind.PLANNER_TASK,
                        f"{workspace.plan_id}:{index}",
                        f"deliverable of {engagement.request.reference}",
                        {
                            "plan_id": workspace.plan_id,
                            "bucket_id": workspace.bucket_id,
                            "title": f"{title} ({ref})",
                        },
                    )
                )
        if workspace.drive_id and workspace.folder_id:
            wants.append(
                Want(
                    Grant.Kind.FOLDER_SHARE,
                    f"{workspace.drive_id}:{workspace.folder_id}",
                    f"project folder {workspace.folder_path or workspace.folder_id}",
                    {
                        "drive_id": workspace.drive_id,
                        "item_id": workspace.folder_id,
                        "role": policy.access.file_share_role,
                        "expires": share_expires(engagement, policy),
                    },
                )
            )
    wants.append(Want(Grant.Kind.WELCOME_MAIL, email, "welcome to the project"))
    wants.append(
        Want(
            Grant.Kind.MANAGER_NOTE,
            engagement.request.requester.email,
            f"{email} has access for {ref}",
        )
    )
    return wants
