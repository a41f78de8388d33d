"""Program analytics: per-request facts and the rollups every dashboard query reads (see
docs/analytics.md for the design and the measurement behind it).

Rollups are kept in the same transaction as the change that moves them (``maintain``), and can
be recomputed from the source tables at any time (``rebuild``). Money is kept in integer cents of
the program currency, hours in hundredths and durations in whole seconds or days: integers add
exactly on SQLite and PostgreSQL alike, so the kept rollups and a rebuild agree to the unit.

``team_key`` is the request's workspace (the project's Team) id, 0 for none: a NULL would make
every row with no team a distinct key of a unique constraint.
"""

from django.db import models


class RequestFact(models.Model):
    """One row per work request: its dimensions, milestones and measures."""

    request_id = models.BigIntegerField(primary_key=True)
    engagement_id = models.BigIntegerField(null=True, unique=True)
    # dimensions
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField(default=0)
    requester_id = models.BigIntegerField()
    freelancer_id = models.BigIntegerField(null=True)
    freelancer_country = models.CharField(max_length=2, blank=True)
    # milestones
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(null=True, help_text="Approved or rejected")
    withdrawn_at = models.DateTimeField(null=True, help_text="Withdrawn after submission")
    contracted_at = models.DateTimeField(null=True)
    access_ready_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True, help_text="Cancelled before a contract")
    contract_start = models.DateField(null=True)
    contract_end = models.DateField(null=True)
    ended_on = models.DateField(null=True)
    request_state = models.CharField(max_length=20)
    engagement_state = models.CharField(max_length=20, blank=True)
    # measures (cents of the program currency, hundredths of hours)
    budget_cents = models.BigIntegerField(default=0)
    committed_cents = models.BigIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0)
    outstanding_cents = models.BigIntegerField(
        default=0, help_text="Committed not yet paid, while the engagement runs"
    )
    hours_centi = models.BigIntegerField(default=0)
    repeat_hire = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["freelancer_id", "contracted_at"])]

    def __str__(self) -> str:
        return f"facts of request {self.request_id}"


class MonthlyCube(models.Model):
    """Additive measures per (month, cost center, task category, team), each in the month of
    its own event (see docs/analytics.md for every definition)."""

    month = models.DateField()
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField()
    created = models.BigIntegerField(default=0)
    submitted = models.BigIntegerField(default=0)
    approved = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    withdrawn = models.BigIntegerField(default=0)
    decision_seconds = models.BigIntegerField(default=0, help_text="submitted → decided")
    engaged = models.BigIntegerField(default=0)
    engage_seconds = models.BigIntegerField(default=0, help_text="submitted → contracted")
    committed_cents = models.BigIntegerField(default=0)
    engaged_paid_cents = models.BigIntegerField(
        default=0, help_text="Everything paid to the engagements contracted this month"
    )
    outstanding_cents = models.BigIntegerField(default=0)
    repeat_hires = models.BigIntegerField(default=0)
    access_ready = models.BigIntegerField(default=0)
    access_seconds = models.BigIntegerField(default=0, help_text="contracted → full access")
    ended = models.BigIntegerField(default=0)
    duration_days = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0, help_text="Cancelled before a contract")
    paid_cents = models.BigIntegerField(default=0, help_text="Payments made this month")
    hours_centi = models.BigIntegerField(default=0, help_text="Hours worked this month")

    KEY = ("month", "cost_center_id", "task_category", "team_key")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key"],
                name="analytics_one_cube_cell",
            )
        ]

    def __str__(self) -> str:
        return f"cube {self.month} {self.cost_center_id} {self.task_category} {self.team_key}"


class ApprovalCycle(models.Model):
    """Approval steps decided, per month decided, stage and approver role."""

    month = models.DateField()
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField()
    stage = models.IntegerField()
    role = models.CharField(max_length=30)
    decisions = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0, help_text="step activated → decided")

    KEY = ("month", "cost_center_id", "task_category", "team_key", "stage", "role")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "stage", "role"],
                name="analytics_one_approval_cell",
            )
        ]

    def __str__(self) -> str:
        return f"approvals {self.month} stage {self.stage} {self.role}"


class Adoption(models.Model):
    """Requests submitted per month and requester: distinct hiring managers and teams are
    counted from these rows at query time (a distinct count is not additive)."""

    month = models.DateField()
    requester_id = models.BigIntegerField()
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField()
    requests = models.BigIntegerField(default=0)

    KEY = ("month", "requester_id", "cost_center_id", "task_category", "team_key")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "requester_id", "cost_center_id", "task_category", "team_key"],
                name="analytics_one_adoption_cell",
            )
        ]

    def __str__(self) -> str:
        return f"adoption {self.month} requester {self.requester_id}"


class Refusal(models.Model):
    """Compliance refusals (audit action ``compliance.refused``) per month and policy rule."""

    month = models.DateField()
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField()
    rule = models.CharField(max_length=100)
    refusals = models.BigIntegerField(default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key", "rule")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "rule"],
                name="analytics_one_refusal_cell",
            )
        ]

    def __str__(self) -> str:
        return f"refusals {self.month} {self.rule}"


class Country(models.Model):
    """Engagements contracted per month and freelancer country."""

    month = models.DateField()
    cost_center_id = models.BigIntegerField()
    task_category = models.CharField(max_length=50)
    team_key = models.BigIntegerField()
    country = models.CharField(max_length=2)
    engagements = models.BigIntegerField(default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key", "country")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "country"],
                name="analytics_one_country_cell",
            )
        ]

    def __str__(self) -> str:
        return f"countries {self.month} {self.country}"


# Every rollup, with its key columns and its measures (what maintain, rebuild and check share).
ROLLUPS = [MonthlyCube, ApprovalCycle, Adoption, Refusal, Country]


def measures(model) -> list[str]:
    skip = set(model.KEY) | {"id"}
    return [f.column for f in model._meta.concrete_fields if f.column not in skip]
