"""The sandbox directory: one tenant's Entra ID objects and what the emulator has issued.

Secrets and one-time credentials are stored as SHA-256 hashes only. They are long random
values, so a fast hash is enough (nothing to brute-force) and lookups can go by the hash.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models
from django.utils import timezone


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.domain


class AppRegistration(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="apps")
    client_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # The app's service principal in the tenant: the ``oid`` of its app-only tokens.
    service_principal_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64)
    # Microsoft Graph application permissions granted with admin consent (``roles``).
    application_permissions = models.JSONField(default=list)
    # Delegated permissions consented for every user (``scp`` when asking for ``.default``).
    delegated_permissions = models.JSONField(default=list)
    redirect_uris = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "display_name"], name="sandbox_app_name")
        ]

    def __str__(self) -> str:
        return self.display_name


class SandboxUser(models.Model):
    class UserType(models.TextChoices):
        MEMBER = "Member"
        GUEST = "Guest"

    id = models.UUIDField("object id", primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="users")
    display_name = models.CharField(max_length=256)
    given_name = models.CharField(max_length=64, blank=True)
    surname = models.CharField(max_length=64, blank=True)
    job_title = models.CharField(max_length=128, blank=True)
    mail = models.CharField(max_length=256, blank=True)
    user_principal_name = models.CharField(max_length=256, unique=True)
    user_type = models.CharField(max_length=6, choices=UserType.choices, default=UserType.MEMBER)
    account_enabled = models.BooleanField(default=True)
    created_date_time = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.user_principal_name


class SigningKey(models.Model):
    """An RSA key that signs tokens; all are published in the JWKS, the newest signs."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.kid


class Grant(models.Model):
    """Common part of the one-time credentials: hashed, expiring, redeemed at most once."""

    token_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} for {self.user_id}"


class AuthorizationCode(Grant):
    redirect_uri = models.CharField(max_length=2000)
    nonce = models.CharField(max_length=512, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=5, blank=True)


class RefreshToken(Grant):
    pass


# -- Microsoft Graph emulator (gigbridge.sandbox.graph) -------------------------------------------
#
# The directory objects Graph serves beyond Entra's users: guest state, invitations, unified
# groups and their teams, channels, sent mail, a change log for delta queries, and the dials
# (throttling, faults) the control endpoint sets. Named Graph* so later slices can add theirs.


class GraphSettings(models.Model):
    """The one row of dials for the Graph emulator (``/_sandbox/control``); survives restarts."""

    throttle_rate = models.FloatField(null=True, blank=True)  # tokens a second; null: no limit
    throttle_burst = models.PositiveIntegerField(null=True, blank=True)
    error_rate = models.FloatField(default=0.0)  # share of requests answered 503
    latency_ms = models.PositiveIntegerField(default=0)
    fault_seed = models.BigIntegerField(null=True, blank=True)  # null: not reproducible
    fault_retry_after = models.PositiveIntegerField(default=1)  # seconds, sent with a 503
    fault_counter = models.BigIntegerField(default=0)  # requests drawn since the dials changed
    team_provisioning_seconds = models.FloatField(default=0.0)
    # How fast the files host serves a downloadUrl (bytes a second); null: as fast as it can.
    download_bytes_per_second = models.PositiveBigIntegerField(null=True, blank=True)
    # Graph does not promise every change notification arrives: the next n are lost on purpose
    # (kept in the deliveries as failed, never sent), so a receiver's catch-up can be shown.
    lose_notifications = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "graph settings"

    def __str__(self) -> str:
        return "Graph emulator settings"


class TokenBucket(models.Model):
    """A token bucket per calling app (its client id), shared by all sandbox workers; what
    ``graph.throttle.take`` fills and takes from."""

    client_id = models.CharField(max_length=64, unique=True)
    tokens = models.FloatField()
    updated_at = models.FloatField()  # sandbox-clock seconds

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.client_id


class GraphThrottleBucket(TokenBucket):
    """The Graph emulator's buckets."""


class GraphBlockedDomain(models.Model):
    """Domains the tenant's B2B collaboration policy refuses to invite from."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="sandbox_graph_blocked")
        ]

    def __str__(self) -> str:
        return self.domain


class GraphGuest(models.Model):
    """What makes a SandboxUser a B2B guest: its redemption state."""

    class State(models.TextChoices):
        PENDING = "PendingAcceptance"
        ACCEPTED = "Accepted"

    user = models.OneToOneField(
        SandboxUser, on_delete=models.CASCADE, primary_key=True, related_name="graph_guest"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    state_changed = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} ({self.state})"


class GraphInvitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=256)
    display_name = models.CharField(max_length=256, blank=True)
    redirect_url = models.CharField(max_length=2000)
    send_message = models.BooleanField(default=False)
    redeem_token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.email


class GraphDirectoryChange(models.Model):
    """Append-only log of user changes; ``/users/delta`` tokens are positions in it."""

    seq = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField()  # no FK: rows outlive what they describe
    object_id = models.UUIDField()
    removed = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.seq}: {self.object_id}{' removed' if self.removed else ''}"


class GraphGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="graph_groups")
    display_name = models.CharField(max_length=256)
    description = models.TextField(blank=True)
    mail_nickname = models.CharField(max_length=64)
    mail_enabled = models.BooleanField(default=True)
    security_enabled = models.BooleanField(default=False)
    group_types = models.JSONField(default=list)
    visibility = models.CharField(max_length=20, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.display_name


class GraphGroupMember(models.Model):
    """A member (or owner, or both) of a group; a team's members are its group's members."""

    group = models.ForeignKey(GraphGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    member = models.BooleanField(default=True)
    owner = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="sandbox_graph_group_member")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class GraphTeam(models.Model):
    """A team on a unified group (same id); usable once ``ready_at`` has passed."""

    group = models.OneToOneField(
        GraphGroup, on_delete=models.CASCADE, primary_key=True, related_name="team"
    )
    internal_id = models.CharField(max_length=100, unique=True)
    settings = models.JSONField(default=dict)  # memberSettings, guestSettings, ... as sent
    created = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.group)


class GraphTeamOperation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(GraphTeam, on_delete=models.CASCADE, related_name="operations")
    operation_type = models.CharField(max_length=40, default="createTeam")
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_action = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.operation_type} {self.id}"


class GraphChannel(models.Model):
    team = models.ForeignKey(GraphTeam, on_delete=models.CASCADE, related_name="channels")
    graph_id = models.CharField(max_length=100, unique=True)  # 19:…@thread.tacv2
    display_name = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    membership_type = models.CharField(max_length=20, default="standard")
    is_general = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name


class GraphChannelMember(models.Model):
    """A member of a private (or shared) channel; standard channels have the team's members."""

    channel = models.ForeignKey(GraphChannel, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    owner = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="sandbox_graph_channel_member")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"


class GraphSentMail(models.Model):
    """Mail the tenant sent (``sendMail``, invitation messages); nothing leaves the sandbox."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    sender = models.ForeignKey(
        SandboxUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_address = models.CharField(max_length=256)
    subject = models.CharField(max_length=1000, blank=True)
    to = models.JSONField(default=list)  # addresses, for filtering and the viewer
    message = models.JSONField(default=dict)  # the message as sent, in Graph's shape
    save_to_sent_items = models.BooleanField(default=True)
    source = models.CharField(max_length=20, default="sendMail")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.subject


def _user_saved(sender, instance: SandboxUser, **kwargs) -> None:
    GraphDirectoryChange.objects.create(tenant_id=instance.tenant_id, object_id=instance.id)


def _user_deleted(sender, instance: SandboxUser, **kwargs) -> None:
    GraphDirectoryChange.objects.create(
        tenant_id=instance.tenant_id, object_id=instance.id, removed=True
    )


# Every change to a user, whoever makes it (seed, Entra, Graph), is visible to /users/delta.
models.signals.post_save.connect(_user_saved, sender=SandboxUser, dispatch_uid="graph_user_saved")
models.signals.post_delete.connect(
    _user_deleted, sender=SandboxUser, dispatch_uid="graph_user_deleted"
)
