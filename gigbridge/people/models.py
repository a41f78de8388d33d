"""People the program knows (employees, freelancers, vendors, contingent staff) and their roles."""

import hashlib

from django.conf import settings
from django.db import models


class Person(models.Model):
    class Kind(models.TextChoices):
        EMPLOYEE = "employee"
        VENDOR = "vendor"
        CONTINGENT = "contingent"
        FREELANCER = "freelancer"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"


class Agreement(models.Model):
    """An agreement (NDA, MSA, ...) a worker has signed; the policy names which are required.

    Rows are never deleted: a revoked or replaced agreement keeps its row (``revoked_at``), so
    the history of who recorded and revoked what stays readable. At most one row per person and
    name is in force (not revoked) at a time."""

    class Source(models.TextChoices):
        RECORDED = "recorded", "recorded by hand"
        IMPORTED = "imported", "imported from CSV"
        CLICK_THROUGH = "click_through", "signed through a mailed link"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="agreements")
    name = models.CharField(max_length=50)
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.RECORDED)
    evidence_url = models.URLField(max_length=500, blank=True)
    # An uploaded copy, kept in the data folder (mode 0600) and served only to those who may
    # see agreements: its path relative to the data folder, the name it was uploaded with.
    evidence_file = models.CharField(max_length=200, blank=True)
    evidence_file_name = models.CharField(max_length=200, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agreements_recorded",
    )
    recorded_by_label = models.CharField(max_length=200, blank=True)  # "hank", "csv import", ...
    recorded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=200, blank=True)
    revoke_reason = models.CharField(max_length=2000, blank=True)
    # Click-through signatures (source CLICK_THROUGH): what the signer typed and accepted.
    signer_name = models.CharField(max_length=200, blank=True)
    signer_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    document = models.CharField(max_length=500, blank=True)  # the policy's document reference
    document_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["person__display_name", "name", "-signed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_agreement_in_force_per_name",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} signed by {self.person.email} on {self.signed_on}"

    def in_force_on(self, day) -> bool:
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= day)


class SigningLink(models.Model):
    """A mailed, single-use, expiring link to sign agreements without an account.

    The mail carries a signed token of ``nonce`` (made at send time, never stored in the
    outbox); the link is used up when the signature is posted, not when the page is opened."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="signing_links")
    names = models.JSONField()  # the agreements to sign, e.g. ["NDA", "MSA"]
    nonce = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"signing link for {self.person.email} ({', '.join(self.names)})"


class Role(models.TextChoices):
    REQUESTER = "requester"
    PROCUREMENT = "procurement"
    LEGAL = "legal"
    HR = "hr"
    FINANCE = "finance"
    PROGRAM_ADMIN = "program_admin"
    AUDITOR = "auditor"
    # Opens the quarantine folder and reviews quarantined files (the security team).
    SECURITY_REVIEWER = "security_reviewer"


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_role_per_user")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role}"


class Delegation(models.Model):
    """While ``delegator`` is away, ``delegate`` may decide their approvals (both are audited)."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="delegation_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.starts_on}..{self.ends_on})"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    PREFIX = "gbt_"
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class AgreementExpiryAlert(models.Model):
    """That legal and the hiring manager were told ``agreement`` expires during ``engagement``.

    One row per pair, ever: the unique constraint keeps the alert once even if two schedulers
    race or one restarts."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="expiry_alerts")
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="agreement_expiry_alerts"
    )
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "engagement"], name="one_expiry_alert_per_agreement_engagement"
            )
        ]

    def __str__(self) -> str:
        return f"expiry alert for {self.agreement_id} on engagement {self.engagement_id}"


class NoticePreference(models.Model):
    """Where one person's notices of one kind go: Outlook, Teams or both. No row: the policy's
    ``notifications.default_channel``. Kinds: ``gigbridge.notifications.kinds``."""

    class Channel(models.TextChoices):
        OUTLOOK = "outlook", "Outlook"
        TEAMS = "teams", "Teams"
        BOTH = "both", "Teams and Outlook"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_notice_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.channel}"
