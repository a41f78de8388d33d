"""Checks of a work request against the program policy. Pure reads: no writes, no audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from gigbridge import clock
from gigbridge.domainerrors import Problem
from gigbridge.program.models import CostCenter
from gigbridge.program.policy import Policy
from gigbridge.program.workspace_rules import workspace_problems

from .models import Engagement, WorkRequest

COMMITTING_STATES = [
    WorkRequest.State.SUBMITTED,
    WorkRequest.State.IN_APPROVAL,
    WorkRequest.State.APPROVED,
]


def fiscal_year_bounds(policy: Policy, day: dt.date) -> tuple[dt.date, dt.date]:
    month = policy.program.fiscal_year_start_month
    start_year = day.year if day.month >= month else day.year - 1
    start = dt.date(start_year, month, 1)
    end = dt.date(start_year + 1, month, 1) - dt.timedelta(days=1)
    return start, end


def committed(
    cost_center: CostCenter, policy: Policy, day: dt.date, exclude_request_id: int | None = None
) -> Decimal:
    """Budget committed in the fiscal year containing ``day``: requests submitted or approved whose
    engagement has not been cancelled."""
    start, end = fiscal_year_bounds(policy, day)
    qs = WorkRequest.objects.filter(
        cost_center=cost_center,
        state__in=COMMITTING_STATES,
        start_date__gte=start,
        start_date__lte=end,
    ).exclude(engagement__state=Engagement.State.CANCELLED)
    if exclude_request_id:
        qs = qs.exclude(pk=exclude_request_id)
    return qs.aggregate(total=Sum("budget"))["total"] or Decimal("0")


def check_request(
    data: dict, policy: Policy, *, request_id: int | None = None, today: dt.date | None = None
) -> list[Problem]:
    """Every way ``data`` (the request's fields) breaks the policy. Empty when it complies."""
    today = today or clock.today()
    problems: list[Problem] = []
    add = problems.append

    cost_center = data.get("cost_center")
    if (
        cost_center is None
        or not cost_center.active
        or policy.cost_center(cost_center.code) is None
    ):
        add(
            Problem(
                "cost_center",
                "unknown or inactive cost center; choose one of "
                + ", ".join(cc.code for cc in policy.cost_centers),
                "cost_centers",
            )
        )
        cost_center = None
    if data["task_category"] not in policy.task_categories:
        add(
            Problem(
                "task_category",
                f"'{data['task_category']}' is not a task category of the "
                f"program ({', '.join(policy.task_categories)})",
                "task_categories",
            )
        )
    allowed_workers = [c for c in policy.worker_categories if c != "employee"]
    if data["worker_category"] not in allowed_workers:
        add(
            Problem(
                "worker_category",
                f"'{data['worker_category']}' cannot be requested; the "
                f"program allows {', '.join(allowed_workers)}",
                "worker_categories",
            )
        )
    if data["currency"] != policy.program.currency:
        add(
            Problem(
                "currency",
                f"the program budgets in {policy.program.currency}, not {data['currency']}",
                "program.currency",
            )
        )
    if data["budget"] <= 0:
        add(Problem("budget", "must be more than zero"))

    start, end = data["start_date"], data["end_date"]
    if end < start:
        add(Problem("end_date", f"ends ({end}) before it starts ({start})"))
    else:
        days = (end - start).days + 1
        limit = policy.compliance.max_engagement_days
        if days > limit:
            add(
                Problem(
                    "end_date",
                    f"the engagement would last {days} days; the program allows at most {limit}",
                    "compliance.max_engagement_days",
                )
            )
    if start < today:
        add(Problem("start_date", f"starts in the past ({start}; today is {today})"))

    if data["sourcing"] == WorkRequest.Sourcing.DIRECT:
        problems += _check_direct(data, policy)

    if cost_center is not None and data["budget"] > 0:
        annual = cost_center.annual_budget
        left = annual - committed(cost_center, policy, start, exclude_request_id=request_id)
        if data["budget"] > left:
            add(
                Problem(
                    "budget",
                    f"{data['budget']} {data['currency']} is more than the "
                    f"{left} {policy.program.currency} left this fiscal year in cost center "
                    f"{cost_center.code} (annual budget {annual})",
                    f"cost_centers.{cost_center.code}.annual_budget",
                )
            )
    problems += workspace_problems(data.get("workspace"), data["data_classification"], policy)
    return problems


def _check_direct(data: dict, policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    email, country = data.get("freelancer_email", ""), data.get("freelancer_country", "")
    if not email:
        problems.append(Problem("freelancer_email", "direct sourcing needs the freelancer's email"))
    if not country:
        problems.append(
            Problem("freelancer_country", "direct sourcing needs the freelancer's country")
        )
    elif country in policy.compliance.blocked_countries:
        problems.append(
            Problem(
                "freelancer_country",
                f"the program cannot engage workers in {country}",
                "compliance.blocked_countries",
            )
        )
    if email:
        problems += check_cooling_off(email, data["start_date"], policy)
    return problems


def check_cooling_off(email: str, start: dt.date, policy: Policy) -> list[Problem]:
    """A freelancer whose last engagement ended within the cooling-off period cannot start."""
    days = policy.compliance.rehire_cooling_off_days
    if days == 0:
        return []
    last = (
        Engagement.objects.filter(freelancer__email__iexact=email)
        .exclude(state=Engagement.State.CANCELLED)
        .order_by("-request__end_date")
        .select_related("request")
        .first()
    )
    if last is None:
        return []
    ended = last.contract_end or last.request.end_date
    # Compared as a difference: ended + days overflows for an end date near the year 9999.
    if (start - ended).days <= days:
        earliest = _days_after(ended, days + 1)
        return [
            Problem(
                "freelancer_email",
                f"{email} was engaged until {ended} ({last.reference}); "
                f"the program requires {days} days before a rehire, so the earliest start "
                f"is {earliest}",
                "compliance.rehire_cooling_off_days",
            )
        ]
    return []


def _days_after(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max
