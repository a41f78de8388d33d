"""What access each engagement holds in the tenant, and the reconciler's per-engagement state.

A Grant row is Gigbridge's record of one piece of access (a guest account, a Team membership, a
folder share, ...). The tenant is the truth: the reconciler reads it, compares with what the
engagement should have, and applies the difference; the rows say why each grant exists and when
it was given and taken away.
"""

from django.db import models


class Grant(models.Model):
    class Kind(models.TextChoices):
        GUEST = "guest", "guest account"
        TEAM_MEMBER = "team_member", "Team membership"
        PRIVATE_CHANNEL = "private_channel", "private channel"
        CHANNEL_MEMBER = "channel_member", "private channel membership"
        PLANNER_TASK = "planner_task", "Planner task"
        FOLDER_SHARE = "folder_share", "folder share"
        WELCOME_MAIL = "welcome_mail", "welcome mail"
        MANAGER_NOTE = "manager_note", "note to the hiring manager"

    class State(models.TextChoices):
        APPLIED = "applied"
        REMOVED = "removed"
        # A one-shot mail whose sending began; still here at the next pass = the outcome of that
        # pass is unknown (it crashed mid-call), and the mail is not sent again.
        SENDING = "sending"

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.PROTECT, related_name="grants"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    target = models.CharField(max_length=300, help_text="What the grant is on (team id, ...)")
    state = models.CharField(max_length=10, choices=State.choices, default=State.APPLIED)
    external_id = models.CharField(
        max_length=300, blank=True, help_text="The tenant's id (membership, permission, task)"
    )
    principal = models.CharField(max_length=300, blank=True, help_text="The guest's email")
    reason = models.CharField(max_length=300)
    expires_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "kind", "target"], name="one_grant_per_engagement_kind_target"
            ),
        ]
        indexes = [models.Index(fields=["kind", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.target} for {self.engagement_id} ({self.state})"


class ReconcileState(models.Model):
    """One row per engagement: a lease so two workers never reconcile it at once."""

    engagement = models.OneToOneField(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="reconcile_state",
    )
    generation = models.PositiveIntegerField(default=0, help_text="Bumped by every trigger")
    running_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"reconcile state of engagement {self.engagement_id}"


class Drift(models.Model):
    """Access found in the tenant that no engagement explains (e.g. a guest added by hand).

    Open while neither removed nor resolved; the access review lists the open ones."""

    key = models.CharField(max_length=400, unique=True, help_text="kind:target:principal")
    kind = models.CharField(max_length=20)
    target = models.CharField(max_length=300)
    principal = models.CharField(max_length=300)
    external_id = models.CharField(max_length=300, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    # Set when a full scan of its place no longer finds it (removed by hand, or now explained
    # by a grant); cleared, with reopened_at, when a later scan finds it again.
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"drift {self.key}"


class GraphSubscription(models.Model):
    """A change-notification subscription Gigbridge holds in the tenant (see ``watch``)."""

    resource = models.CharField(max_length=300, unique=True)
    subscription_id = models.CharField(max_length=100, unique=True)
    # The secret Graph sends back with every notification: how a forged one is told apart.
    client_state = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    renewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"subscription on {self.resource}"
