"""Work requests, their approval steps, decision links and engagements."""

from django.conf import settings
from django.db import models


class WorkRequest(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft"
        SUBMITTED = "submitted"
        IN_APPROVAL = "in_approval"
        APPROVED = "approved"
        REJECTED = "rejected"
        WITHDRAWN = "withdrawn"

    class Pricing(models.TextChoices):
        FIXED = "fixed"
        HOURLY = "hourly"

    class Classification(models.TextChoices):
        PUBLIC = "public"
        INTERNAL = "internal"
        CONFIDENTIAL = "confidential"

    class Sourcing(models.TextChoices):
        MARKETPLACE = "marketplace"
        DIRECT = "direct"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="work_requests"
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    deliverables = models.JSONField(default=list, help_text="One entry per deliverable")
    skills = models.JSONField(default=list)
    task_category = models.CharField(max_length=50)
    worker_category = models.CharField(max_length=20, default="freelancer")
    cost_center = models.ForeignKey(
        "program.CostCenter", on_delete=models.PROTECT, related_name="work_requests"
    )
    pricing = models.CharField(max_length=10, choices=Pricing.choices)
    budget = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField()
    data_classification = models.CharField(max_length=20, choices=Classification.choices)
    sourcing = models.CharField(max_length=20, choices=Sourcing.choices)
    freelancer_email = models.EmailField(blank=True)
    freelancer_country = models.CharField(max_length=2, blank=True)
    workspace = models.ForeignKey(
        "program.Workspace",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_requests",
        help_text="Where the freelancer works in Microsoft 365",
    )
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    policy_version = models.ForeignKey(
        "program.PolicyVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The policy that computed the approval chain",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "state"]),
            models.Index(fields=["cost_center", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"WR-{self.pk:06d}" if self.pk else "WR-new"


class ApprovalStep(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "waiting for an earlier stage"
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CHANGES_REQUESTED = "changes_requested", "changes requested"
        CANCELLED = "cancelled"

    request = models.ForeignKey(WorkRequest, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveIntegerField(default=1, help_text="Each (re)submission is a new round")
    stage = models.PositiveIntegerField()
    role = models.CharField(max_length=30)
    rule_id = models.CharField(max_length=100)
    policy_version = models.ForeignKey(
        "program.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )
    # A named approver (the requester's manager, the cost center owner); empty = anyone in role.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.WAITING, db_index=True
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["request_id", "round", "stage", "id"]

    def __str__(self) -> str:
        return f"{self.request.reference} stage {self.stage}: {self.role} ({self.state})"


class DecisionLink(models.Model):
    """A single-use, expiring link mailed to one approver for one step (the token is signed)."""

    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=43, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link for step {self.step_id} to {self.user_id}"


class Engagement(models.Model):
    class State(models.TextChoices):
        SOURCING = "sourcing"
        OFFERED = "offered"
        CONTRACTED = "contracted"
        ACTIVE = "active"
        OFFBOARDING = "offboarding"
        CLOSED = "closed"
        CANCELLED = "cancelled"

    request = models.OneToOneField(WorkRequest, on_delete=models.PROTECT, related_name="engagement")
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.SOURCING, db_index=True
    )
    freelancer = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="engagements"
    )
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.state})"

    @property
    def reference(self) -> str:
        return f"EN-{self.pk:06d}" if self.pk else "EN-new"
