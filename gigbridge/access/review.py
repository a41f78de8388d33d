"""Access review: every guest, what each can reach, why, until when; and drift.

Drift is access in the tenant that no engagement explains: a guest account, a guest in a
workspace's Team, or a share on a workspace folder with no applied grant behind it. It is
reported always and removed when the policy says ``access.remove_drift``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import NotFound
from gigbridge.program import actions as program
from gigbridge.program.models import Workspace

from .desired import access_ends
from .models import Drift, Grant
from .names import Names

KIND_NAMES = dict(Grant.Kind.choices)


@dataclass
class Row:
    guest: str
    kind: str
    access: str  # the kind, in words ("Team membership")
    on: str  # where, by name: Team, channel, task title, folder path (``names``)
    target: str  # the tenant's id of the same place, for tools and auditors
    why: str
    engagement: str
    until: str
    drift: bool


def granted_rows() -> list[Row]:
    _, policy = program.current()
    rows = []
    grants = (
        Grant.objects.filter(state=Grant.State.APPLIED)
        .exclude(kind__in=[Grant.Kind.WELCOME_MAIL, Grant.Kind.MANAGER_NOTE])
        .select_related("engagement__request__workspace")
    )
    names = Names()
    for grant in grants.order_by("principal", "kind"):
        ends = (
            timezone.localdate(grant.expires_at)
            if grant.expires_at
            else access_ends(grant.engagement, policy)
        )
        rows.append(
            Row(
                guest=grant.principal,
                kind=grant.kind,
                access=grant.get_kind_display(),
                on=names.of(grant.kind, grant.target, grant.engagement, grant.external_id),
                target=grant.target,
                why=grant.reason,
                engagement=grant.engagement.reference,
                until=ends.isoformat() if ends else "",
                drift=False,
            )
        )
    return rows


def find_drift(client: GraphClient) -> list[Drift]:
    """Read the tenant and record every guest access no applied grant explains.

    The scan is full: drift it no longer finds where it looked is resolved, and resolved or
    removed drift it finds again is reopened, so the review shows what is there now."""
    applied = Grant.objects.filter(state=Grant.State.APPLIED)
    known_guests = {g.external_id for g in applied.filter(kind=Grant.Kind.GUEST)}
    known_members = {(g.target, g.external_id) for g in applied.filter(kind=Grant.Kind.TEAM_MEMBER)}
    known_shares = {(g.target, g.external_id) for g in applied.filter(kind=Grant.Kind.FOLDER_SHARE)}
    found: list[tuple[str, str, str, str]] = []  # kind, target, principal, external id
    # (kind, target) whose every access was read: only drift there may be resolved. A team or
    # folder that is gone counts as read (its access went with it).
    scanned: set[tuple[str, str]] = set()
    guests = {}
    for user in client.iterate(
        "/users",
        params={"$filter": "userType eq 'Guest'", "$select": "id,mail,userPrincipalName"},
        type_name="user",
    ):
        guests[user["id"]] = user.get("mail") or user.get("userPrincipalName") or user["id"]
        if user["id"] not in known_guests:
            found.append((Grant.Kind.GUEST, user["id"], guests[user["id"]], user["id"]))
    for workspace in Workspace.objects.all():
        try:
            members = client.list_team_members(workspace.team_id)
        except NotFound:
            scanned.add((Grant.Kind.TEAM_MEMBER, workspace.team_id))
            continue
        scanned.add((Grant.Kind.TEAM_MEMBER, workspace.team_id))
        for member in members:
            if (
                "guest" in (member.get("roles") or [])
                and (workspace.team_id, member["id"]) not in known_members
            ):
                principal = member.get("email") or guests.get(member.get("userId"), "")
                found.append((Grant.Kind.TEAM_MEMBER, workspace.team_id, principal, member["id"]))
        if workspace.drive_id and workspace.folder_id:
            target = f"{workspace.drive_id}:{workspace.folder_id}"
            try:
                permissions = client.list_permissions(workspace.drive_id, workspace.folder_id)
            except NotFound:
                scanned.add((Grant.Kind.FOLDER_SHARE, target))
                continue
            scanned.add((Grant.Kind.FOLDER_SHARE, target))
            for permission in permissions:
                if permission.get("inheritedFrom"):
                    continue  # the library's own permissions, not a share
                email = (permission.get("invitation") or {}).get("email") or ""
                if email and (target, permission["id"]) not in known_shares:
                    found.append((Grant.Kind.FOLDER_SHARE, target, email, permission["id"]))
    drifts = [_remember(*item) for item in found]
    resolve_unseen({d.pk for d in drifts}, scanned)
    return drifts


def _remember(kind: str, target: str, principal: str, external_id: str) -> Drift:
    now = clock.now()
    with transaction.atomic():
        drift, created = Drift.objects.get_or_create(
            key=f"{kind}:{target}:{external_id}",
            defaults={
                "kind": kind,
                "target": target,
                "principal": principal,
                "external_id": external_id,
                "first_seen": now,
                "last_seen": now,
            },
        )
        if created:
            _audit("access.drift.found", drift)
        elif drift.resolved_at is not None or drift.removed_at is not None:
            # Gone at an earlier scan (or removed by us) and back: open again, so it is shown
            # and, when the policy says so, removed again.
            Drift.objects.filter(pk=drift.pk).update(
                last_seen=now, resolved_at=None, removed_at=None, reopened_at=now
            )
            drift.refresh_from_db()
            _audit("access.drift.reopened", drift)
        else:
            Drift.objects.filter(pk=drift.pk).update(last_seen=now)
    return drift


def resolve_unseen(seen: set[int], scanned: set[tuple[str, str]]) -> int:
    """Resolve drift a full scan no longer found where it looked: a guest removed by hand,
    access now explained by a grant. Guests are always scanned (every guest is listed)."""
    now = clock.now()
    resolved = 0
    for drift in Drift.objects.filter(resolved_at__isnull=True).exclude(pk__in=seen):
        if drift.kind != Grant.Kind.GUEST and (drift.kind, drift.target) not in scanned:
            continue  # its team or folder was not read this time
        with transaction.atomic():
            if not Drift.objects.filter(pk=drift.pk, resolved_at__isnull=True).update(
                resolved_at=now
            ):
                continue  # another scan got there first
            if drift.removed_at is None:  # our own removal is audited already
                _audit("access.drift.resolved", drift)
        resolved += 1
    return resolved


def _audit(action: str, drift: Drift) -> None:
    record(
        user=None,
        actor="access review",
        action=action,
        object_type="drift",
        object_id=drift.pk,
        after={"kind": drift.kind, "target": drift.target, "principal": drift.principal},
        rule="access.remove_drift",
    )


def remove_drift(client: GraphClient, drifts: list[Drift]) -> int:
    removed = 0
    for drift in drifts:
        if drift.removed_at is not None:
            continue
        try:
            if drift.kind == Grant.Kind.GUEST:
                client.delete_user(drift.external_id)
            elif drift.kind == Grant.Kind.TEAM_MEMBER:
                client.remove_team_member(drift.target, drift.external_id)
            elif drift.kind == Grant.Kind.FOLDER_SHARE:
                drive_id, item_id = drift.target.split(":", 1)
                client.delete_permission(drive_id, item_id, drift.external_id)
        except NotFound:
            pass
        with transaction.atomic():
            Drift.objects.filter(pk=drift.pk).update(removed_at=clock.now())
            _audit("access.drift.removed", drift)
        removed += 1
    return removed


def drift_rows() -> list[Row]:
    """Open drift (neither removed nor resolved), as recorded by the last scan."""
    names = Names()
    return [
        Row(
            guest=d.principal,
            kind=d.kind,
            access=KIND_NAMES.get(d.kind, d.kind),
            on=names.of(d.kind, d.target),
            target=d.target,
            why="no engagement explains this access",
            engagement="",
            until="",
            drift=True,
        )
        for d in Drift.objects.filter(removed_at__isnull=True, resolved_at__isnull=True).order_by(
            "principal"
        )
    ]


def review(client: GraphClient | None) -> list[Row]:
    """Scan the tenant for drift (removing it if the policy says so), then every row."""
    if client is not None:
        drifts = find_drift(client)
        _, policy = program.current()
        if policy.access.remove_drift:
            remove_drift(client, drifts)
    return granted_rows() + drift_rows()


def render(rows: list[Row], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(Row.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return out.getvalue()
