"""The dashboard's tables, read from the rollups only (never the source tables or the facts),
so each answers in a time that depends on months × cost centers × categories × teams.

Every KPI's definition is in docs/analytics.md and in its table's ``description``. A period is
whole months: ``start`` counts from the first day of its month, ``end`` to the last of its.
Averages are sums divided by counts at query time; an average over nothing is None (shown
as "—"), never a division by zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from gigbridge.program import actions as program
from gigbridge.program.models import CostCenter, Workspace

from .errors import BadFilter
from .models import Adoption, ApprovalCycle, Country, MonthlyCube, Refusal, collapsed

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
CODE_MAX = 32
TEAM_MAX = 2**63 - 1
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
_CODE = re.compile(r"^[\w.\- ]+$")


@dataclass(frozen=True)
class Filters:
    start: dt.date | None = None  # inclusive, first day of the period
    end: dt.date | None = None  # inclusive, last day
    cost_center: str | None = None  # program.CostCenter.code
    task_category: str | None = None
    team: int | None = None  # program.Workspace pk (the project's Team)

    def __post_init__(self):
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not (EARLIEST <= value <= LATEST):
                raise BadFilter(name, f"{value} is outside {EARLIEST} to {LATEST}")
        if self.start and self.end and self.start > self.end:
            raise BadFilter("end", f"the period ends ({self.end}) before it starts ({self.start})")
        for name in ("cost_center", "task_category"):
            value = getattr(self, name)
            if value is not None and (len(value) > CODE_MAX or not _CODE.match(value)):
                raise BadFilter(name, f"expected a code of at most {CODE_MAX} letters or digits")
        if self.team is not None and not (0 < self.team <= TEAM_MAX):
            raise BadFilter("team", "expected a team's positive number")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """From GET parameters (start, end as YYYY-MM-DD; cost_center, task_category, team);
        empty values mean no filter. Raises BadFilter naming the parameter at fault."""

        def text(name: str) -> str | None:
            value = params.get(name)
            value = value.strip() if isinstance(value, str) else None
            return value or None

        def day(name: str) -> dt.date | None:
            value = text(name)
            if value is None:
                return None
            if len(value) != 10:
                raise BadFilter(name, f"expected a date as YYYY-MM-DD, not {value[:40]!r}")
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise BadFilter(name, f"expected a date as YYYY-MM-DD, not {value!r}") from None

        team = text("team")
        if team is not None:
            if not team.isdigit() or len(team) > 19:
                raise BadFilter("team", f"expected a team's number, not {team[:40]!r}")
            team = int(team)
        return cls(
            start=day("start"),
            end=day("end"),
            cost_center=text("cost_center"),
            task_category=text("task_category"),
            team=team,
        )

    def as_params(self) -> dict[str, str]:
        params = {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "cost_center": self.cost_center,
            "task_category": self.task_category,
            "team": str(self.team) if self.team is not None else None,
        }
        return {key: value for key, value in params.items() if value}


@dataclass(frozen=True)
class Column:
    key: str  # a stable identifier (snake_case): CSV header, Parquet and OData name
    label: str  # for people
    kind: str  # "text" | "int" | "money" | "decimal" | "days" | "hours" | "percent" | "month"


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    description: str
    columns: list[Column]
    rows: list[dict]
    chart: str  # "bar" | "line" | "doughnut" | "none"
    currency: str


# --- reading the rollups -------------------------------------------------------------------


def grain_for(model, filters: Filters, needs: tuple[str, ...] = ()) -> int:
    """The smallest grain of ``model`` that keeps every dimension the filters set and the
    query groups by or counts (``needs``)."""
    wanted = set(needs)
    for name, dim in (
        ("cost_center", "cost_center_id"),
        ("task_category", "task_category"),
        ("team", "team_key"),
    ):
        if getattr(filters, name) is not None:
            wanted.add(dim)
    for grain in model.GRAINS:  # smallest first; the full key (0) keeps everything
        if not collapsed(model, grain) & wanted:
            return grain
    raise AssertionError(f"{model.__name__}.GRAINS lacks the full key 0")


def _scope(model, filters: Filters, needs: tuple[str, ...] = ()):
    """The rollup rows in the filters' months and dimensions, of the smallest grain that has
    them (see models, "grains"): every query reads one grain, so nothing counts twice."""
    qs = model.objects.filter(grain=grain_for(model, filters, needs))
    if filters.start:
        qs = qs.filter(month__gte=filters.start.replace(day=1))
    if filters.end:
        qs = qs.filter(month__lte=filters.end)
    if filters.cost_center:
        qs = qs.filter(
            cost_center_id__in=CostCenter.objects.filter(code=filters.cost_center).values("pk")
        )
    if filters.task_category:
        qs = qs.filter(task_category=filters.task_category)
    if filters.team is not None:
        qs = qs.filter(team_key=filters.team)
    return qs


def _currency() -> str:
    try:
        return program.current()[1].program.currency
    except program.NoPolicyError:
        return ""


def _money(cents) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENT, ROUND_HALF_UP)


def _ratio(total, count, scale: Decimal = Decimal(1), places: Decimal = TENTH) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total or 0) / scale / Decimal(count)).quantize(places, ROUND_HALF_UP)


def _days(seconds, count) -> Decimal | None:
    return _ratio(seconds, count, Decimal(86400))


def _hours(seconds, count) -> Decimal | None:
    return _ratio(seconds, count, Decimal(3600))


def _avg_money(cents, count) -> Decimal | None:
    return _ratio(cents, count, Decimal(100), CENT)


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def _team_names(keys) -> dict[int, str]:
    names = dict(Workspace.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
    return {key: names.get(key, f"team {key}") if key else "no team" for key in keys}


def _sums(filters: Filters, *fields: str, by: tuple[str, ...] = ()) -> list[dict]:
    qs = _scope(MonthlyCube, filters, needs=by)
    if by:
        qs = qs.values(*by).order_by(*by)
        return list(qs.annotate(**{f: Sum(f) for f in fields}))
    return [qs.aggregate(**{f: Sum(f) for f in fields})]


# --- the tables ----------------------------------------------------------------------------


def summary(filters: Filters) -> Table:
    cube = _sums(
        filters,
        "submitted",
        "engaged",
        "engage_seconds",
        "paid_cents",
        "engaged_paid_cents",
        "ended",
        "duration_days",
        "repeat_hires",
    )[0]
    # COUNT(*) of a DISTINCT subquery: PostgreSQL hashes the few thousand requesters instead
    # of sorting every (month, requester) row as COUNT(DISTINCT …) would.
    managers = (
        _scope(Adoption, filters, needs=("requester_id",))
        .filter(requests__gt=0)
        .values("requester_id")
        .distinct()
        .count()
    )
    row = {
        "requests": cube["submitted"] or 0,
        "engaged": cube["engaged"] or 0,
        "average_days_to_engage": _days(cube["engage_seconds"], cube["engaged"]),
        "total_paid": _money(cube["paid_cents"]),
        "average_spend_per_engagement": _avg_money(cube["engaged_paid_cents"], cube["engaged"]),
        "average_duration_days": _ratio(cube["duration_days"], cube["ended"]),
        "active_hiring_managers": managers or 0,
        "repeat_hire_rate": _percent(cube["repeat_hires"], cube["engaged"]),
    }
    return Table(
        slug="summary",
        title="Program at a glance",
        description=(
            "Requests submitted, engagements contracted (and the average days from submission "
            "to contract), payments made, the average paid per engagement contracted, the "
            "average length of the engagements that ended, the hiring managers who submitted "
            "a request and the share of engagements that rehired a freelancer, in the period."
        ),
        columns=[
            Column("requests", "Requests submitted", "int"),
            Column("engaged", "Engagements contracted", "int"),
            Column("average_days_to_engage", "Average days to engage", "days"),
            Column("total_paid", "Total paid", "money"),
            Column("average_spend_per_engagement", "Average spend per engagement", "money"),
            Column("average_duration_days", "Average duration (days)", "days"),
            Column("active_hiring_managers", "Active hiring managers", "int"),
            Column("repeat_hire_rate", "Repeat-hire rate", "percent"),
        ],
        rows=[row],
        chart="none",
        currency=_currency(),
    )


def time_to_engage(filters: Filters) -> Table:
    rows = [
        {
            "month": r["month"],
            "engaged": r["engaged"],
            "average_days_to_engage": _days(r["engage_seconds"], r["engaged"]),
        }
        for r in _sums(filters, "engaged", "engage_seconds", by=("month",))
        if r["engaged"]
    ]
    return Table(
        slug="time-to-engage",
        title="Time to engage",
        description=(
            "Per month of contract: engagements contracted and the average days from the "
            "request's submission to its contract."
        ),
        columns=[
            Column("month", "Month", "month"),
            Column("engaged", "Engagements", "int"),
            Column("average_days_to_engage", "Average days to engage", "days"),
        ],
        rows=rows,
        chart="line",
        currency=_currency(),
    )


def spend_by_category(filters: Filters) -> Table:
    rows = [
        {
            "task_category": r["task_category"],
            "committed": _money(r["committed_cents"]),
            "paid": _money(r["paid_cents"]),
            "engagements": r["engaged"],
            "average_spend_per_project": _avg_money(r["engaged_paid_cents"], r["engaged"]),
        }
        for r in _sums(
            filters,
            "committed_cents",
            "paid_cents",
            "engaged",
            "engaged_paid_cents",
            by=("task_category",),
        )
        if r["committed_cents"] or r["paid_cents"] or r["engaged"]
    ]
    return Table(
        slug="spend-by-category",
        title="Spend by task category",
        description=(
            "Per task category: committed (the accepted offer, or a direct hire's budget, in "
            "the month of contract), paid (payments in their month), engagements contracted, "
            "and the average paid per engagement contracted in the period."
        ),
        columns=[
            Column("task_category", "Task category", "text"),
            Column("committed", "Committed", "money"),
            Column("paid", "Paid", "money"),
            Column("engagements", "Engagements", "int"),
            Column("average_spend_per_project", "Average spend per project", "money"),
        ],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def duration(filters: Filters) -> Table:
    rows = [
        {
            "task_category": r["task_category"],
            "ended": r["ended"],
            "average_duration_days": _ratio(r["duration_days"], r["ended"]),
        }
        for r in _sums(filters, "ended", "duration_days", by=("task_category",))
        if r["ended"]
    ]
    return Table(
        slug="duration",
        title="Engagement duration",
        description=(
            "Per task category: engagements that ended in the period and their average length "
            "in days, from contract start to end, both days counted."
        ),
        columns=[
            Column("task_category", "Task category", "text"),
            Column("ended", "Engagements ended", "int"),
            Column("average_duration_days", "Average duration (days)", "days"),
        ],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def demand(filters: Filters) -> Table:
    found = [
        r for r in _sums(filters, "submitted", by=("task_category", "team_key")) if r["submitted"]
    ]
    names = _team_names({r["team_key"] for r in found})
    rows = [
        {
            "task_category": r["task_category"],
            "team": names[r["team_key"]],
            "requests": r["submitted"],
        }
        for r in found
    ]
    return Table(
        slug="demand",
        title="Demand by task type and team",
        description="Requests submitted in the period, per task category and team.",
        columns=[
            Column("task_category", "Task category", "text"),
            Column("team", "Team", "text"),
            Column("requests", "Requests", "int"),
        ],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def approval_cycle(filters: Filters) -> Table:
    found = (
        _scope(ApprovalCycle, filters)
        .values("stage", "role")
        .order_by("stage", "role")
        .annotate(decisions=Sum("decisions"), seconds=Sum("seconds"))
    )
    rows = [
        {
            "stage": r["stage"],
            "role": r["role"],
            "decisions": r["decisions"],
            "average_hours": _hours(r["seconds"], r["decisions"]),
        }
        for r in found
        if r["decisions"]
    ]
    return Table(
        slug="approval-cycle",
        title="Approval cycle",
        description=(
            "Per approval stage and approver role: decisions made in the period (approve, "
            "reject, ask for changes) and the average hours from the step's activation to it."
        ),
        columns=[
            Column("stage", "Stage", "int"),
            Column("role", "Approver role", "text"),
            Column("decisions", "Decisions", "int"),
            Column("average_hours", "Average hours", "hours"),
        ],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def access_time(filters: Filters) -> Table:
    rows = [
        {
            "month": r["month"],
            "engagements": r["access_ready"],
            "average_hours_to_access": _hours(r["access_seconds"], r["access_ready"]),
        }
        for r in _sums(filters, "access_ready", "access_seconds", by=("month",))
        if r["access_ready"]
    ]
    return Table(
        slug="access-time",
        title="Time from contract to full access",
        description=(
            "Per month the access was complete: engagements whose freelancer got every "
            "Microsoft 365 access, and the average hours from the contract to that moment."
        ),
        columns=[
            Column("month", "Month", "month"),
            Column("engagements", "Engagements", "int"),
            Column("average_hours_to_access", "Average hours to full access", "hours"),
        ],
        rows=rows,
        chart="line",
        currency=_currency(),
    )


def budget_burn(filters: Filters) -> Table:
    found = {
        r["cost_center_id"]: r
        for r in _sums(
            filters, "committed_cents", "paid_cents", "outstanding_cents", by=("cost_center_id",)
        )
    }
    centers = CostCenter.objects.order_by("code")
    if filters.cost_center:
        centers = centers.filter(code=filters.cost_center)
    rows = []
    for cc in centers:
        r = found.get(cc.pk, {})
        if not cc.active and not r:
            continue
        paid = r.get("paid_cents") or 0
        forecast = paid + (r.get("outstanding_cents") or 0)
        budget_cents = int(cc.annual_budget * 100)
        rows.append(
            {
                "cost_center": f"{cc.code} {cc.name}",
                "annual_budget": _money(budget_cents),
                "committed": _money(r.get("committed_cents")),
                "paid": _money(paid),
                "forecast": _money(forecast),
                "percent_used": _percent(paid, budget_cents),
            }
        )
    return Table(
        slug="budget-burn",
        title="Budget burn per cost center",
        description=(
            "Per cost center: its annual budget; committed in the period (by month of "
            "contract); paid in the period; forecast = paid plus what is committed and not yet "
            "paid on the engagements contracted in the period that have not ended; % used = "
            "paid as a share of the annual budget."
        ),
        columns=[
            Column("cost_center", "Cost center", "text"),
            Column("annual_budget", "Annual budget", "money"),
            Column("committed", "Committed", "money"),
            Column("paid", "Paid", "money"),
            Column("forecast", "Forecast", "money"),
            Column("percent_used", "% used", "percent"),
        ],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def _distinct(model, filters: Filters, dim: str) -> Count:
    """Distinct ``dim`` per month: in a grain that collapses every other dimension each
    (month, dim) is one row, so a plain count is exact and spares a sort per month."""
    grain = grain_for(model, filters, (dim,))
    alone = collapsed(model, grain) == set(model.DIMS) - {dim}
    return Count(dim, distinct=not alone)


def adoption(filters: Filters) -> Table:
    # Hiring managers from the (month, requester) grain, teams from the (month, team) one when
    # no other dimension is filtered; distinct counts stay exact in any grain that keeps the
    # dimension counted.
    people = {
        r["month"]: r
        for r in _scope(Adoption, filters, needs=("requester_id",))
        .filter(requests__gt=0)
        .values("month")
        .order_by("month")
        .annotate(managers=_distinct(Adoption, filters, "requester_id"), requests=Sum("requests"))
    }
    teams = {
        r["month"]: r["teams"]
        for r in _scope(Adoption, filters, needs=("team_key",))
        .filter(requests__gt=0, team_key__gt=0)
        .values("month")
        .order_by("month")
        .annotate(teams=_distinct(Adoption, filters, "team_key"))
    }
    repeats = {r["month"]: r["repeat_hires"] for r in _sums(filters, "repeat_hires", by=("month",))}
    rows = [
        {
            "month": month,
            "hiring_managers": people[month]["managers"] if month in people else 0,
            "teams": teams.get(month, 0),
            "requests": people[month]["requests"] if month in people else 0,
            "repeat_hires": repeats.get(month) or 0,
        }
        for month in sorted(set(people) | {m for m, n in repeats.items() if n})
    ]
    return Table(
        slug="adoption",
        title="Adoption",
        description=(
            "Per month: hiring managers and teams that submitted a request, the requests "
            "submitted, and the engagements contracted with a freelancer the program had "
            "engaged before (repeat hires)."
        ),
        columns=[
            Column("month", "Month", "month"),
            Column("hiring_managers", "Hiring managers", "int"),
            Column("teams", "Teams", "int"),
            Column("requests", "Requests", "int"),
            Column("repeat_hires", "Repeat hires", "int"),
        ],
        rows=rows,
        chart="line",
        currency=_currency(),
    )


def refusals(filters: Filters) -> Table:
    found = _scope(Refusal, filters).values("rule").order_by("rule").annotate(count=Sum("refusals"))
    rows = sorted(
        ({"rule": r["rule"], "refusals": r["count"]} for r in found if r["count"]),
        key=lambda r: (-r["refusals"], r["rule"]),
    )
    return Table(
        slug="refusals",
        title="Compliance refusals by rule",
        description=(
            "Submissions, offers and contract starts Gigbridge refused in the period, counted "
            "once per policy rule that refused them."
        ),
        columns=[Column("rule", "Policy rule", "text"), Column("refusals", "Refusals", "int")],
        rows=rows,
        chart="bar",
        currency=_currency(),
    )


def countries(filters: Filters) -> Table:
    import pycountry

    found = (
        _scope(Country, filters)
        .values("country")
        .order_by("country")
        .annotate(count=Sum("engagements"))
    )
    rows = []
    for r in found:
        if not r["count"]:
            continue
        code = r["country"]
        known = pycountry.countries.get(alpha_2=code) if code else None
        name = known.name if known else (code or "unknown")
        rows.append({"country": name, "country_code": code, "engagements": r["count"]})
    rows.sort(key=lambda r: (-r["engagements"], r["country"]))
    return Table(
        slug="countries",
        title="Freelancer countries",
        description="Engagements contracted in the period, per country of the freelancer.",
        columns=[
            Column("country", "Country", "text"),
            Column("country_code", "Code", "text"),
            Column("engagements", "Engagements", "int"),
        ],
        rows=rows,
        chart="doughnut",
        currency=_currency(),
    )


TABLES: dict[str, Callable[[Filters], Table]] = {
    "summary": summary,
    "time-to-engage": time_to_engage,
    "spend-by-category": spend_by_category,
    "duration": duration,
    "demand": demand,
    "approval-cycle": approval_cycle,
    "access-time": access_time,
    "budget-burn": budget_burn,
    "adoption": adoption,
    "refusals": refusals,
    "countries": countries,
}


def table(slug: str, filters: Filters) -> Table:
    return TABLES[slug](filters)  # KeyError for an unknown slug


def dashboard(filters: Filters) -> list[Table]:
    return [build(filters) for build in TABLES.values()]


def filter_choices() -> dict:
    """What the filters can be set to, from small tables: the program's cost centers and
    teams (workspaces), and the task categories of the policy in force plus those with data
    (the cube's per-category grain: a few rows a month, never the full cube)."""
    categories = set(
        MonthlyCube.objects.filter(grain=grain_for(MonthlyCube, Filters(), ("task_category",)))
        .values_list("task_category", flat=True)
        .distinct()
    )
    try:
        categories |= set(program.current()[1].task_categories)
    except program.NoPolicyError:
        pass
    return {
        "cost_centers": list(CostCenter.objects.order_by("code").values_list("code", "name")),
        "task_categories": sorted(categories),
        "teams": list(Workspace.objects.order_by("name").values_list("pk", "name")),
    }
