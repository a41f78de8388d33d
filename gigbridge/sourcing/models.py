"""The marketplace side of engagements (Upwork): job postings, proposals, offers, contracts,
milestones and the decisions on them, hours, payments, spend alerts, the sync's cursors and
the end of a contract decided in Gigbridge.

These models were engagements' until sourcing became its own app; each keeps its table
(``db_table``), so moving them changed no row (migrations sourcing 0001 and engagements 0007).
"""

from django.conf import settings
from django.db import models


class Sourcing(models.Model):
    """An engagement's marketplace side: its job posting, chosen offer and contract on Upwork."""

    class Posting(models.TextChoices):
        NONE = "none"
        QUEUED = "queued"
        POSTED = "posted"
        FAILED = "failed"
        CLOSED = "closed"  # a freelancer was hired: the other proposals declined, posting closed

    engagement = models.OneToOneField(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="sourcing"
    )
    organization_id = models.CharField(max_length=64, blank=True, help_text="Upwork organization")
    job_posting_id = models.CharField(max_length=64, blank=True, db_index=True)
    posting_state = models.CharField(max_length=10, choices=Posting.choices, default=Posting.NONE)
    contract_id = models.CharField(max_length=64, blank=True, db_index=True)
    contract_status = models.CharField(max_length=20, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_sourcing"

    def __str__(self) -> str:
        return f"sourcing of engagement {self.engagement_id}"


class ContractEnd(models.Model):
    """The contract ended from Gigbridge: who ended it, why, and whether Upwork has been told."""

    class Marketplace(models.TextChoices):
        NONE = "none", "no marketplace contract"  # a direct hire
        QUEUED = "queued", "telling Upwork"
        ENDED = "ended", "ended on Upwork"
        FAILED = "failed", "Upwork refused"

    engagement = models.OneToOneField(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="ending"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=30, help_text="A code of sourcing.ending.REASONS")
    feedback = models.TextField(blank=True, help_text="For the freelancer")
    ended_on = models.DateField()
    ended_at = models.DateTimeField()
    marketplace_state = models.CharField(
        max_length=10, choices=Marketplace.choices, default=Marketplace.NONE
    )
    marketplace_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "engagements_contractend"

    def __str__(self) -> str:
        return f"end of engagement {self.engagement_id} ({self.reason})"


class Proposal(models.Model):
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="proposals"
    )
    upwork_id = models.CharField(max_length=64, unique=True)
    freelancer_upwork_id = models.CharField(max_length=64, blank=True)
    freelancer_name = models.CharField(max_length=200, blank=True)
    freelancer_email = models.EmailField(blank=True)
    profile_key = models.CharField(max_length=100, blank=True)
    profile_url = models.URLField(max_length=300, blank=True)
    country = models.CharField(max_length=2, blank=True)
    rate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    cover_letter = models.TextField(blank=True)
    state = models.CharField(max_length=20, blank=True, help_text="Upwork's status")
    shortlisted = models.BooleanField(default=False)
    picked = models.BooleanField(default=False)
    received_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_proposal"
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"proposal {self.upwork_id} by {self.freelancer_name}"


class MarketplaceOffer(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"  # decided in Gigbridge, the outbox job sends it
        OPEN = "open"  # sent; waiting for the freelancer
        ACCEPTED = "accepted"
        DECLINED = "declined"
        WITHDRAWN = "withdrawn"
        FAILED = "failed"

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="offers"
    )
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    upwork_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    contract_type = models.CharField(max_length=12)  # HOURLY | FIXED_PRICE
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Most it can cost")
    currency = models.CharField(max_length=3)
    terms = models.JSONField(default=dict)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "engagements_marketplaceoffer"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"offer {self.upwork_id or self.pk} ({self.state})"


class Milestone(models.Model):
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="milestones"
    )
    upwork_id = models.CharField(max_length=64, unique=True)
    sequence = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=20)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "engagements_milestone"
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return f"milestone {self.upwork_id} ({self.state})"


class TimeEntry(models.Model):
    """Hours on one contract on one day, as Upwork's time report has them (it may revise them)."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="time_entries"
    )
    contract_id = models.CharField(max_length=64)
    date = models.DateField()
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    memo = models.CharField(max_length=500, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_timeentry"
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract_id", "date"], name="one_time_entry_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.hours} h on {self.date} ({self.contract_id})"


class Payment(models.Model):
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="payments"
    )
    transaction_id = models.CharField(max_length=64, unique=True)
    contract_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    # What it counts against budgets: in the program's currency at the policy's rate when it
    # was synced (a later rate change does not rewrite past spend).
    amount_program = models.DecimalField(max_digits=14, decimal_places=2)
    paid_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_payment"
        ordering = ["paid_at", "id"]

    def __str__(self) -> str:
        return f"payment {self.transaction_id}: {self.amount} {self.currency}"


class SyncCursor(models.Model):
    """Where the poller of one Upwork organization got to, per stream (a cursor or a
    watermark). Advanced only after what it covers is stored."""

    organization_id = models.CharField(max_length=64)
    stream = models.CharField(max_length=120)
    value = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_synccursor"
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "stream"], name="one_sync_cursor")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id or '(default)'} {self.stream} = {self.value}"


class SpendAlert(models.Model):
    """An alert sent once: ``scope`` engagement:<id> or cost_center:<code>:<fiscal year>."""

    scope = models.CharField(max_length=100)
    threshold = models.PositiveIntegerField()  # percent of the budget
    spent = models.DecimalField(max_digits=14, decimal_places=2)
    budget = models.DecimalField(max_digits=14, decimal_places=2)
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_spendalert"
        constraints = [
            models.UniqueConstraint(fields=["scope", "threshold"], name="one_spend_alert")
        ]

    def __str__(self) -> str:
        return f"{self.scope} at {self.threshold}%"


class MilestoneDecision(models.Model):
    """What the hiring manager decided about a milestone in Gigbridge, and how telling the
    marketplace went: queued (decided, the outbox job will tell Upwork), sent (Upwork has it;
    the next sync shows the milestone's new state and payment), failed (Upwork refused; the
    reason is shown and the decision can be made again)."""

    class Kind(models.TextChoices):
        APPROVE = "approve"
        CHANGES = "changes", "ask for changes"
        ACTIVATE = "activate"

    class State(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed"

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Approved to pay"
    )
    currency = models.CharField(max_length=3, blank=True)
    comment = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "engagements_milestonedecision"
        ordering = ["created_at", "id"]
        constraints = [
            # A milestone is paid once and funded once: a second approval (a double click, two
            # tabs) is refused by the database too, unless the first one failed.
            models.UniqueConstraint(
                fields=["milestone", "kind"],
                condition=models.Q(kind__in=["approve", "activate"]) & ~models.Q(state="failed"),
                name="one_live_payment_or_funding_a_milestone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} milestone {self.milestone_id} ({self.state})"


class HoursApproval(models.Model):
    """The program's own approval of a week of hours on an hourly contract. Upwork documents no
    way to approve a timesheet: hours are approved there automatically after its review
    window, and disputes are made there. This records that the hiring manager checked them."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="hours_approvals"
    )
    week_start = models.DateField(help_text="The week's Monday")
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    comment = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()

    class Meta:
        db_table = "engagements_hoursapproval"
        ordering = ["week_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "week_start"], name="one_hours_approval_a_week"
            )
        ]

    def __str__(self) -> str:
        return f"hours of {self.engagement_id} in the week of {self.week_start}"
