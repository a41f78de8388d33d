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

# --- grains --------------------------------------------------------------------------------
# Keyed by every dimension, the rollups are almost as large as the facts at enterprise size
# (300 teams × 10 years: 929,219 cube rows for 1,250,000 requests), so an unfiltered query would
# scan them all. Each rollup therefore also keeps coarser *grains* in the same table: rows where
# some dimensions are collapsed into the sentinel ALL ("every one"). ``grain`` is the bit mask
# of the collapsed dimensions (bit i = ``DIMS[i]``; 0 = the full key), ``GRAINS`` the grains a
# table keeps, smallest first: a query reads the first one that has every dimension it filters
# or groups by (``queries._scope``). Every change is applied to each grain in the same
# transaction (``maintain.apply``); ``rebuild`` sums the full-key rows into the others;
# ``check`` compares every grain. See docs/analytics.md, "Grains".
ALL = -1  # an id dimension (cost center, team, requester) collapsed: every one
ALL_TEXT = "*"  # the task category collapsed (a filter can never be "*": see queries.Filters)


def sentinel(dim: str):
    return ALL_TEXT if dim == "task_category" else ALL


def collapsed(model, grain: int) -> set[str]:
    """The dimensions a grain of ``model`` collapses into ALL."""
    return {dim for i, dim in enumerate(model.DIMS) if grain & (1 << i)}


def grain_key(model, key: tuple, grain: int) -> tuple:
    """A full key (``model.KEY`` order) of the grain's row that sums it."""
    gone = collapsed(model, grain)
    return tuple(sentinel(n) if n in gone else v for n, v in zip(model.KEY, key, strict=True))


def _grain_indexes(prefix: str) -> list:
    """Every query reads one grain: the grain leads, then the filtered dimension, then the
    month (a period is a month range)."""
    return [
        models.Index(fields=["grain", "month"], name=f"{prefix}_grain_month"),
        models.Index(fields=["grain", "cost_center_id", "month"], name=f"{prefix}_grain_cc"),
        models.Index(fields=["grain", "task_category", "month"], name=f"{prefix}_grain_cat"),
        models.Index(fields=["grain", "team_key", "month"], name=f"{prefix}_grain_team"),
    ]


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

    grain = models.SmallIntegerField(default=0, db_default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key")
    DIMS = ("cost_center_id", "task_category", "team_key")
    GRAINS = (7, 5, 6, 4, 1, 0)  # month; +category; +cost center; no team; no cost center; full

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key"],
                name="analytics_one_cube_cell",
            )
        ]
        indexes = _grain_indexes("an_cube")

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

    grain = models.SmallIntegerField(default=0, db_default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key", "stage", "role")
    DIMS = ("cost_center_id", "task_category", "team_key")
    GRAINS = (7, 4, 0)  # month × stage × role; no team; full

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "stage", "role"],
                name="analytics_one_approval_cell",
            )
        ]
        indexes = _grain_indexes("an_appr")

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

    grain = models.SmallIntegerField(default=0, db_default=0)

    KEY = ("month", "requester_id", "cost_center_id", "task_category", "team_key")
    DIMS = ("requester_id", "cost_center_id", "task_category", "team_key")
    GRAINS = (7, 14, 0)  # month × team; month × requester; full

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "requester_id", "cost_center_id", "task_category", "team_key"],
                name="analytics_one_adoption_cell",
            )
        ]
        indexes = _grain_indexes("an_adop") + [
            # managers of the all-teams grain without reading the table
            models.Index(
                fields=["grain", "month", "requester_id", "requests"], name="an_adop_grain_req"
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

    grain = models.SmallIntegerField(default=0, db_default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key", "rule")
    DIMS = ("cost_center_id", "task_category", "team_key")
    GRAINS = (7, 0)  # month × rule; full

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "rule"],
                name="analytics_one_refusal_cell",
            )
        ]
        indexes = _grain_indexes("an_refu")

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

    grain = models.SmallIntegerField(default=0, db_default=0)

    KEY = ("month", "cost_center_id", "task_category", "team_key", "country")
    DIMS = ("cost_center_id", "task_category", "team_key")
    GRAINS = (7, 4, 0)  # month × country; no team; full

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "cost_center_id", "task_category", "team_key", "country"],
                name="analytics_one_country_cell",
            )
        ]
        indexes = _grain_indexes("an_ctry")

    def __str__(self) -> str:
        return f"countries {self.month} {self.country}"


# Every rollup, with its key columns and its measures (what maintain, rebuild and check share).
ROLLUPS = [MonthlyCube, ApprovalCycle, Adoption, Refusal, Country]


def measures(model) -> list[str]:
    skip = set(model.KEY) | {"id", "grain"}
    return [f.column for f in model._meta.concrete_fields if f.column not in skip]
