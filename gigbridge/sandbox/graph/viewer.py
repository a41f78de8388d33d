"""What the read-only viewer shows of the Graph emulator (never a secret, never a mail body)."""

from __future__ import annotations

from ..m365files import clock
from ..models import GraphGroup, GraphInvitation, GraphSentMail, GraphTeam, Tenant
from . import control
from .teams import roles_of

MAIL_SHOWN = 50


def summary(tenant: Tenant) -> dict:
    now = clock.now()  # team readiness is judged by the sandbox clock
    teams = []
    found = (
        GraphTeam.objects.filter(group__tenant=tenant)
        .select_related("group")
        .prefetch_related("channels__members__user", "group__memberships__user")
        .order_by("created")
    )
    for team in found:
        members = [
            {"user": m.user, "roles": roles_of(m.user, m.owner)}
            for m in team.group.memberships.all()
            if m.member
        ]
        channels = [
            {
                "channel": channel,
                "members": [
                    {"user": m.user, "roles": roles_of(m.user, m.owner)}
                    for m in channel.members.all()
                ],
            }
            for channel in team.channels.all()
        ]
        teams.append(
            {"team": team, "ready": team.ready_at <= now, "members": members, "channels": channels}
        )
    groups = GraphGroup.objects.filter(tenant=tenant, team__isnull=True).order_by("created")
    return {
        "teams": teams,
        "groups": groups,
        "invitations": GraphInvitation.objects.filter(tenant=tenant).select_related("user")[:50],
        "mail": GraphSentMail.objects.filter(tenant=tenant)[:MAIL_SHOWN],
    }


def dials() -> dict:
    return control.current()
