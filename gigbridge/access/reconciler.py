"""The access reconciler: make the tenant match what each engagement should have.

Level-triggered and idempotent. For every desired grant it first reads the tenant (check), then
acts only if the access is missing (act); for every recorded grant no longer desired it removes
the access. A crash at any point is repaired by the next pass: a guest invited just before a
crash is found by its mail address next time, so there is never a second invitation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.engagements.actions import transition_engagement
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.msgraph.client import GraphClient
from gigbridge.integrations.msgraph.errors import (
    GraphError,
    NotFound,
    PermanentGraphError,
    PreconditionFailed,
)
from gigbridge.jobs.errors import PermanentError
from gigbridge.notifications import actions as notices
from gigbridge.program import actions as program

from .desired import ONE_SHOT, Want, access_ends, desired, window_open
from .models import Grant
from .names import Names
from .rules import folder_problems

log = logging.getLogger(__name__)

# The hiring manager's notices (kind ``access_changed``): templates of notifications.
ACCESS_GIVEN = "access_given"
ACCESS_REMOVED = "access_removed"


class AccessProblem(PermanentError):
    """A pass that applied what it could but not everything: the message names what not."""


class Refused(Exception):
    """The policy forbids one grant (e.g. a folder shared with another engagement's
    freelancer): the rest of the access goes ahead, the pass fails naming the rule."""


@dataclass
class Settings:
    invite_redirect_url: str
    mail_sender: str  # the mailbox (id or UPN) Gigbridge sends Outlook mail from


# A share expiring later than this past its desired expiry is corrected (a tenant that stores
# the expiry a little differently must not be patched on every pass).
EXPIRY_SLACK = dt.timedelta(minutes=1)


@dataclass
class Outcome:
    """What one pass did. Only a change the pass made in the tenant counts as granted or
    revoked; access it found already as desired, or already gone, is counted apart."""

    granted: list[str] = field(default_factory=list)  # given in the tenant by this pass
    revoked: list[str] = field(default_factory=list)  # taken away in the tenant by this pass
    shortened: list[str] = field(default_factory=list)  # share expiry cut back
    sent: list[str] = field(default_factory=list)  # welcome mail, note to the manager
    in_place: list[str] = field(default_factory=list)  # found as desired, only recorded
    gone: list[str] = field(default_factory=list)  # already removed in the tenant
    kept: list[str] = field(default_factory=list)  # ended here, kept there by design

    def __str__(self) -> str:
        text = f"{len(self.granted)} granted, {len(self.revoked)} revoked"
        for count, words in (
            (len(self.shortened), "shortened"),
            (len(self.sent), "mail sent" if len(self.sent) == 1 else "mails sent"),
            (len(self.in_place), "already in place"),
            (len(self.gone), "already gone"),
            (len(self.kept), "kept in the tenant by policy"),
        ):
            if count:
                text += f", {count} {words}"
        return text


class Reconciler:
    def __init__(self, client: GraphClient, settings: Settings):
        self.client = client
        self.settings = settings

    # -- the pass ---------------------------------------------------------------------------

    def run(self, engagement: Engagement) -> Outcome:
        version, policy = program.current()
        self.policy_version = version.number
        self.policy = policy
        self.engagement = engagement
        self.outcome = Outcome()
        self.channel_ids: dict[str, str] = {}
        wants = desired(engagement, policy, clock.today())
        recorded = {(g.kind, g.target): g for g in engagement.grants.all()}
        guest_id = None
        problems = []
        for want in wants:
            grant = recorded.get(want.key)
            if want.kind in ONE_SHOT and grant is not None and grant.state != Grant.State.SENDING:
                continue
            if want.kind == Grant.Kind.GUEST:
                guest_id = self._ensure_guest(want, grant)  # nothing else works without it
                continue
            try:
                getattr(self, f"_ensure_{want.kind}")(want, grant, guest_id)
            except (PermanentGraphError, Refused) as error:
                # One broken target (a folder deleted, a Team archived) must not hold back the
                # rest of the access; the pass ends as failed, naming it, and is retried later.
                problems.append(f"{want.kind} on {want.target}: {error}")
                log.warning("cannot grant %s for %s: %s", want.kind, engagement.reference, error)
        wanted = {want.key for want in wants}
        for key, grant in recorded.items():
            if (
                key not in wanted
                and grant.state == Grant.State.APPLIED
                and grant.kind not in ONE_SHOT
                and grant.kind != Grant.Kind.GUEST
            ):
                getattr(self, f"_revoke_{grant.kind}")(grant)
        for key, grant in recorded.items():
            if (
                key not in wanted
                and grant.kind == Grant.Kind.GUEST
                and grant.state == Grant.State.APPLIED
            ):
                self._revoke_guest(grant, policy)
        self._finish_offboarding(policy)
        if problems:
            raise AccessProblem(f"{self.outcome}; could not grant " + "; ".join(problems))
        return self.outcome

    # -- recording ---------------------------------------------------------------------------

    def _granted(
        self, want: Want, external_id: str, grant: Grant | None, changed: bool = True, **extra
    ) -> None:
        """Record a grant; ``changed``: this pass made it in the tenant (else it was found)."""
        now = clock.now()
        with transaction.atomic():
            Grant.objects.update_or_create(
                engagement=self.engagement,
                kind=want.kind,
                target=want.target,
                defaults={
                    "state": Grant.State.APPLIED,
                    "external_id": external_id,
                    "principal": self.engagement.freelancer.email,
                    "reason": want.reason,
                    "applied_at": now,
                    "removed_at": None,
                    "expires_at": want.params.get("expires"),
                },
            )
            record(
                user=None,
                actor="access reconciler",
                action=f"access.{want.kind}.granted",
                obj=self.engagement,
                after={
                    "target": want.target,
                    "external_id": external_id,
                    "principal": self.engagement.freelancer.email,
                    "reason": want.reason,
                    **({} if changed else {"found_in_tenant": True}),
                    **extra,
                },
                policy_version=self.policy_version,
                rule=_rule(want.kind),
            )
        done = f"{want.kind}:{want.target}"
        if not changed:
            self.outcome.in_place.append(done)
        elif want.kind in ONE_SHOT:
            self.outcome.sent.append(done)
        else:
            self.outcome.granted.append(done)
        log.info("granted %s on %s for %s", want.kind, want.target, self.engagement.reference)

    def _revoked(self, grant: Grant, reason: str, effect: str = "revoked") -> None:
        """Record a grant's end; ``effect``: "revoked" (this pass removed it in the tenant),
        "gone" (it was gone already) or "kept" (it stays in the tenant by design)."""
        with transaction.atomic():
            grant.state, grant.removed_at = Grant.State.REMOVED, clock.now()
            grant.save(update_fields=["state", "removed_at"])
            told = grant.kind not in ONE_SHOT and self._notify_removed(grant, effect, reason)
            record(
                user=None,
                actor="access reconciler",
                action=f"access.{grant.kind}.revoked",
                obj=self.engagement,
                after={
                    "target": grant.target,
                    "external_id": grant.external_id,
                    "principal": grant.principal,
                    "reason": reason,
                    **({} if effect == "revoked" else {"in_tenant": effect}),
                    **({"notice": ACCESS_REMOVED} if told else {}),
                },
                policy_version=self.policy_version,
                rule=_rule(grant.kind),
            )
        getattr(self.outcome, effect).append(f"{grant.kind}:{grant.target}")
        log.info("revoked %s on %s for %s", grant.kind, grant.target, self.engagement.reference)

    def _end_reason(self) -> str:
        return f"{self.engagement.reference} is {self.engagement.state}"

    # -- guest account -----------------------------------------------------------------------

    def _ensure_guest(self, want: Want, grant: Grant | None) -> str:
        user = self.client.find_user_by_mail(want.target)
        if user is None:
            invitation = self.client.invite_guest(
                want.target,
                self.settings.invite_redirect_url,
                display_name=self.engagement.freelancer.display_name,
                message=f"Welcome to {self.engagement.request.title}.",
            )
            user_id = invitation["invitedUser"]["id"]
            self._granted(want, user_id, grant, invited=True)
            return user_id
        if grant is None or grant.state != Grant.State.APPLIED or grant.external_id != user["id"]:
            self._granted(want, user["id"], grant, changed=False, invited=False)
        return user["id"]

    def _revoke_guest(self, grant: Grant, policy) -> None:
        still_needed = Engagement.objects.filter(freelancer__email__iexact=grant.target).exclude(
            pk=self.engagement.pk
        )
        if any(window_open(e, policy, clock.today()) for e in still_needed):
            self._revoked(
                grant, f"{self._end_reason()}; the account stays for another engagement", "kept"
            )
            return
        if policy.access.remove_guest_on_end:
            effect = "revoked"
            try:
                self.client.delete_user(grant.external_id)
            except NotFound:
                effect = "gone"  # already gone: the goal holds
            self._revoked(grant, f"{self._end_reason()}; policy access.remove_guest_on_end", effect)
        else:
            self._revoked(
                grant, f"{self._end_reason()}; account kept (remove_guest_on_end off)", "kept"
            )

    # -- Team and channels -------------------------------------------------------------------

    def _member_of(self, members: list[dict], user_id: str) -> dict | None:
        return next((m for m in members if m.get("userId") == user_id), None)

    def _ensure_team_member(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        member = self._member_of(self.client.list_team_members(want.target), guest_id)
        added = member is None
        if added:
            member = self.client.add_team_member(want.target, guest_id, roles=["guest"])
        if grant is None or grant.state != Grant.State.APPLIED or grant.external_id != member["id"]:
            self._granted(want, member["id"], grant, changed=added)

    def _revoke_team_member(self, grant: Grant) -> None:
        effect = "revoked"
        try:
            self.client.remove_team_member(grant.target, grant.external_id)
        except NotFound:
            effect = "gone"
        self._revoked(grant, self._end_reason(), effect)

    def _ensure_private_channel(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        team_id = want.params["team_id"]
        channel = self.client.find_channel(team_id, want.target)
        created = channel is None
        if created:
            owner = self.client.find_user_by_mail(self.engagement.request.requester.email)
            if owner is None:
                raise NotFound(
                    404,
                    "ownerNotFound",
                    "the hiring manager has no account in the tenant to own the private channel",
                    None,
                    "GET",
                    "/users",
                )
            channel = self.client.create_private_channel(
                team_id, want.target, owner["id"], f"Work with {self.engagement.freelancer.email}"
            )
        if grant is None or grant.state != Grant.State.APPLIED:
            self._granted(want, f"{team_id}:{channel['id']}", grant, changed=created)
        self.channel_ids[want.target] = channel["id"]

    def _revoke_private_channel(self, grant: Grant) -> None:
        # The channel and its history stay with the hiring team; only membership ends.
        self._revoked(grant, f"{self._end_reason()}; channel kept for the team's history", "kept")

    def _ensure_channel_member(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        team_id = want.params["team_id"]
        channel_id = self.channel_ids[want.target]
        members = self.client.list_channel_members(team_id, channel_id)
        member = self._member_of(members, guest_id)
        added = member is None
        if added:
            member = self.client.add_channel_member(team_id, channel_id, guest_id)
        if grant is None or grant.state != Grant.State.APPLIED:
            self._granted(want, f"{team_id}:{channel_id}:{member['id']}", grant, changed=added)

    def _revoke_channel_member(self, grant: Grant) -> None:
        team_id, channel_id, membership_id = grant.external_id.split(":", 2)
        effect = "revoked"
        try:
            self.client.remove_channel_member(team_id, channel_id, membership_id)
        except NotFound:
            effect = "gone"
        self._revoked(grant, self._end_reason(), effect)

    # -- Planner -----------------------------------------------------------------------------

    def _ensure_planner_task(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        if grant is not None and grant.external_id:
            try:
                task, etag = self.client.get_task(grant.external_id)
            except NotFound:
                task = None
            if task is not None:
                assigned = guest_id not in (task.get("assignments") or {})
                if assigned:
                    self._assign(grant.external_id, etag, guest_id, assign=True)
                if grant.state != Grant.State.APPLIED:
                    self._granted(want, grant.external_id, grant, changed=assigned)
                elif assigned:  # unassigned by hand in the tenant: given back
                    self.outcome.granted.append(f"{want.kind}:{want.target}")
                return
        task, _ = self.client.create_task(
            want.params["plan_id"], want.params["bucket_id"], want.params["title"], [guest_id]
        )
        self._granted(want, task["id"], grant)

    def _assign(self, task_id: str, etag: str, user_id: str, assign: bool) -> None:
        change = (
            {"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}
            if assign
            else None
        )
        try:
            self.client.update_task(task_id, etag, {"assignments": {user_id: change}})
        except PreconditionFailed:
            # Someone edited the task meanwhile: read the new version and apply again.
            task, etag = self.client.get_task(task_id)
            if (user_id in (task.get("assignments") or {})) != assign:
                self.client.update_task(task_id, etag, {"assignments": {user_id: change}})

    def _revoke_planner_task(self, grant: Grant) -> None:
        guest = self.engagement.grants.filter(kind=Grant.Kind.GUEST).first()
        effect = "gone"
        try:
            task, etag = self.client.get_task(grant.external_id)
            if guest and guest.external_id in (task.get("assignments") or {}):
                # Unassign only: the task and its history stay in the plan.
                self._assign(grant.external_id, etag, guest.external_id, assign=False)
                effect = "revoked"
        except NotFound:
            pass
        self._revoked(grant, f"{self._end_reason()}; task kept, assignment removed", effect)

    # -- SharePoint folder -------------------------------------------------------------------

    def _share_of(self, permissions: list[dict], email: str, guest_id: str) -> dict | None:
        for permission in permissions:
            invited = ((permission.get("invitation") or {}).get("email") or "").lower()
            granted = ((permission.get("grantedToV2") or {}).get("user") or {}).get("id")
            if invited == email.lower() or (guest_id and granted == guest_id):
                return permission
        return None

    def _ensure_folder_share(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        drive_id, item_id = want.params["drive_id"], want.params["item_id"]
        email = self.engagement.freelancer.email
        permission = self._share_of(
            self.client.list_permissions(drive_id, item_id), email, guest_id
        )
        shared = permission is None
        if shared:
            refused = folder_problems(
                self.engagement.request.workspace, email, self.policy, self.engagement.pk
            )
            if refused:
                raise Refused(f"{refused[0].message} (policy {refused[0].rule})")
            created = self.client.invite_to_drive_item(
                drive_id,
                item_id,
                email,
                want.params["role"],
                want.params["expires"],
                send_invitation=False,
            )
            permission = created[0]
        else:
            permission = self._shorten_share(want, permission, grant)
            if (
                grant is not None
                and grant.expires_at != want.params["expires"]
                and _parse_expiry(permission.get("expirationDateTime")) == want.params["expires"]
            ):
                # Shortened in the tenant by a pass that died before recording it.
                Grant.objects.filter(pk=grant.pk).update(expires_at=want.params["expires"])
        if (
            grant is None
            or grant.state != Grant.State.APPLIED
            or grant.external_id != permission["id"]
        ):
            self._granted(
                want,
                permission["id"],
                grant,
                changed=shared,
                role=want.params["role"],
                expires=want.params["expires"],
            )

    def _shorten_share(self, want: Want, permission: dict, grant: Grant | None) -> dict:
        """A share that outlives the desired expiry (the contract ended early, or someone
        extended it in the tenant) is cut back to it at once. Level-triggered: the desired
        expiry comes from the contract's real end, so any pass repairs it."""
        wanted = want.params["expires"]
        actual = _parse_expiry(permission.get("expirationDateTime"))
        if wanted is None or (actual is not None and actual <= wanted + EXPIRY_SLACK):
            return permission
        drive_id, item_id = want.params["drive_id"], want.params["item_id"]
        updated = self.client.update_permission_expiry(drive_id, item_id, permission["id"], wanted)
        with transaction.atomic():
            if grant is not None:
                Grant.objects.filter(pk=grant.pk).update(expires_at=wanted)
            record(
                user=None,
                actor="access reconciler",
                action="access.folder_share.shortened",
                obj=self.engagement,
                before={"expires": actual.isoformat() if actual else None},
                after={
                    "target": want.target,
                    "external_id": permission["id"],
                    "principal": self.engagement.freelancer.email,
                    "expires": wanted.isoformat(),
                    "reason": f"{self._end_reason()}; contract ended "
                    f"{self.engagement.contract_end.isoformat()}",
                },
                policy_version=self.policy_version,
                rule="access.grace_days",
            )
        self.outcome.shortened.append(f"{want.kind}:{want.target}")
        log.info(
            "shortened %s on %s for %s to %s",
            want.kind,
            want.target,
            self.engagement.reference,
            wanted.isoformat(),
        )
        return updated or permission

    def _revoke_folder_share(self, grant: Grant) -> None:
        drive_id, item_id = grant.target.split(":", 1)
        effect = "revoked"
        try:
            self.client.delete_permission(drive_id, item_id, grant.external_id)
        except NotFound:
            effect = "gone"  # expired or removed already
        self._revoked(grant, self._end_reason(), effect)

    # -- Outlook -----------------------------------------------------------------------------

    def _ensure_welcome_mail(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        request = self.engagement.request
        body = (
            f'Hello,\n\nwelcome to "{request.title}" ({self.engagement.reference}). You now '
            "have access to the project's Team, its tasks and its folder until your contract "
            f"ends on {self.engagement.contract_end}.\n\n{request.requester.get_full_name()}"
        )
        self._send_once(want, grant, f"Welcome to {request.title}", body)

    def _ensure_manager_note(self, want: Want, grant: Grant | None, guest_id: str) -> None:
        """Tell the hiring manager the freelancer has access: a notice ``access_given``,
        routed by their preferences (Outlook, Teams or both). Queued in the outbox in the same
        transaction that records the note as sent, under one key per engagement, so a crash
        anywhere sends it once: before the commit nothing is queued and the next pass tries
        again; after it the grant is recorded and the outbox delivers the notice."""
        if grant is not None and grant.state == Grant.State.SENDING:
            # Left by a pass from before notices went through the outbox, which died while
            # mailing through Graph: it may have gone out, so it is not sent again.
            self._granted(
                want, "unconfirmed", grant, changed=False, note="an earlier pass died while sending"
            )
            return
        manager = self.engagement.request.requester
        with transaction.atomic():
            notices.mail(
                manager,
                ACCESS_GIVEN,
                self._notice_context(
                    places=_places(self.engagement.grants.filter(state=Grant.State.APPLIED)),
                    until=_iso(access_ends(self.engagement, self.policy)),
                ),
                key=f"engagement:{self.engagement.pk}",
            )
            self._granted(want, "queued", grant, notice=ACCESS_GIVEN)

    def _notify_removed(self, grant: Grant, effect: str, reason: str) -> bool:
        """Once the last grant is gone after the end and the grace days: tell the hiring
        manager (``access_removed``), in the transaction recording that last removal (one key
        per engagement: exactly once, however passes crash and repeat)."""
        if window_open(self.engagement, self.policy, clock.today()):
            return False
        held = self.engagement.grants.exclude(kind__in=list(ONE_SHOT))
        account_kept = ""
        if grant.kind == Grant.Kind.GUEST and effect == "kept":
            account_kept = (
                "another engagement of theirs still uses it"
                if "another engagement" in reason
                else "the program's policy keeps guest accounts"
            )
        if held.filter(state=Grant.State.APPLIED).exists():
            return False
        notices.mail(
            self.engagement.request.requester,
            ACCESS_REMOVED,
            self._notice_context(
                places=_places(held.filter(state=Grant.State.REMOVED), removed=True),
                removed_on=clock.today().isoformat(),
                account_kept=account_kept,
            ),
            key=f"engagement:{self.engagement.pk}",
        )
        log.info("access removed notice queued for %s", self.engagement.reference)
        return True

    def _notice_context(self, **facts) -> dict:
        engagement = self.engagement
        freelancer = engagement.freelancer
        return {
            "engagement_id": engagement.pk,
            "reference": engagement.reference,
            "title": engagement.request.title,
            "freelancer": freelancer.display_name or freelancer.email,
            "freelancer_email": freelancer.email,
            "contract_end": _iso(engagement.contract_end),
            "grace_days": self.policy.access.grace_days,
            **facts,
        }

    def _send_once(self, want: Want, grant: Grant | None, subject: str, body: str) -> None:
        """Send a one-shot mail at most once, across crashes.

        Unlike every other grant, a sent mail cannot be checked in the tenant (reading Sent
        Items would need Mail.Read on every mailbox). So the intent is committed before the
        call. A pass that finds an intent left by a pass that died mid-call does not send again:
        it records the mail as sent, unconfirmed, in the audit trail. When Graph answered with
        an error, nothing was sent, and the intent is dropped so a later pass tries again.
        """
        if grant is not None and grant.state == Grant.State.SENDING:
            self._granted(
                want,
                "unconfirmed",
                grant,
                changed=False,
                note="an earlier pass died while sending",
            )
            return
        Grant.objects.update_or_create(
            engagement=self.engagement,
            kind=want.kind,
            target=want.target,
            defaults={
                "state": Grant.State.SENDING,
                "reason": want.reason,
                "applied_at": clock.now(),
            },
        )
        try:
            self.client.send_mail(self.settings.mail_sender, want.target, subject, body)
        except GraphError as error:
            if error.status is not None:  # Graph answered: the mail did not go out
                Grant.objects.filter(
                    engagement=self.engagement, kind=want.kind, target=want.target
                ).delete()
            raise
        self._granted(want, "sent", grant)

    # -- end of the grace period -------------------------------------------------------------

    def _finish_offboarding(self, policy) -> None:
        engagement = self.engagement
        if engagement.state != Engagement.State.OFFBOARDING or window_open(
            engagement, policy, clock.today()
        ):
            return
        if (
            engagement.grants.filter(state=Grant.State.APPLIED)
            .exclude(kind__in=list(ONE_SHOT))
            .exists()
        ):
            return
        transition_engagement(
            None, engagement, Engagement.State.CLOSED, "every grant removed after the grace period"
        )


def _parse_expiry(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _places(grants, removed: bool = False) -> list[str]:
    """What the freelancer holds (or held), in words: "Team membership: Team "Spring"", the
    folder share with its expiry. The guest account and the one-shot mails are not listed."""
    names = Names()
    lines = []
    for grant in grants.select_related("engagement__request__workspace").order_by("pk"):
        if grant.kind == Grant.Kind.GUEST or grant.kind in ONE_SHOT:
            continue
        line = f"{grant.get_kind_display()}: "
        line += names.of(grant.kind, grant.target, grant.engagement, grant.external_id)
        if grant.kind == Grant.Kind.FOLDER_SHARE and grant.expires_at and not removed:
            line += f", until {timezone.localtime(grant.expires_at).date().isoformat()}"
        lines.append(line)
    return lines


def _rule(kind: str) -> str:
    return {
        Grant.Kind.FOLDER_SHARE: "access.file_share_role",
        Grant.Kind.PRIVATE_CHANNEL: "access.private_channel",
        Grant.Kind.CHANNEL_MEMBER: "access.private_channel",
        Grant.Kind.GUEST: "access.remove_guest_on_end",
    }.get(kind, "access")
