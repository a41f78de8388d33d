"""The program dashboard (``/analytics/``) and its exports (``/analytics/<slug>.csv|.parquet``).

Filters travel as GET parameters (``period``, ``start``, ``end``, ``cost_center``,
``task_category``, ``team``), so a filtered view is a link to share. A preset ``period``
(``this-month``, ``last-3-months``, ``fiscal-year``, ``last-12-months``, ``all-time``) is
computed from the injected clock each time the link is opened; ``custom`` (or no ``period``)
uses ``start`` and ``end`` as given. Export links carry the resolved dates, so a file names
the period it holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from gigbridge import clock
from gigbridge.engagements.compliance import fiscal_year_bounds
from gigbridge.people.capabilities import Capability, require
from gigbridge.program import actions as program

from . import export, queries
from .errors import BadFilter

PRESETS = {
    "this-month": "This month",
    "last-3-months": "Last 3 months",
    "fiscal-year": "This fiscal year",
    "last-12-months": "Last 12 months",
    "all-time": "All time",
    "custom": "Custom dates",
}
FILTER_FIELDS = ("start", "end", "cost_center", "task_category", "team")
MAX_PARAM = 100  # characters of a filter value echoed back in the form


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _month_start(day, -1) - dt.timedelta(days=1)


def preset_dates(name: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Whole months ending with the current one (the rollups count by month)."""
    if name == "this-month":
        return _month_start(today), _month_end(today)
    if name == "last-3-months":
        return _month_start(today, 2), _month_end(today)
    if name == "last-12-months":
        return _month_start(today, 11), _month_end(today)
    if name == "fiscal-year":
        try:
            policy = program.current()[1]
        except program.NoPolicyError:
            return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
        return fiscal_year_bounds(policy, today)
    return None, None  # all time


def resolve(params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The preset chosen and the filter parameters it stands for (dates as YYYY-MM-DD)."""
    period = params.get("period") or ""
    values = {name: (params.get(name) or "")[:MAX_PARAM] for name in FILTER_FIELDS}
    if period not in PRESETS:
        period = "custom" if values["start"] or values["end"] else "all-time"
    if period != "custom":
        start, end = preset_dates(period, clock.today())
        values["start"] = start.isoformat() if start else ""
        values["end"] = end.isoformat() if end else ""
    return period, values


def _table(slug: str, filters: queries.Filters) -> queries.Table:
    if slug == "summary" and slug not in queries.TABLES:
        return queries.summary(filters)
    try:
        return queries.table(slug, filters)
    except KeyError:
        raise Http404(f"no analytics table {slug!r}") from None


def _exports(slug: str, filters: queries.Filters) -> dict[str, str]:
    query = urlencode(filters.as_params())
    suffix = f"?{query}" if query else ""
    return {
        kind: reverse(f"analytics:export-{kind}", kwargs={"slug": slug}) + suffix
        for kind in ("csv", "parquet")
    }


def _chart_data(table: queries.Table) -> dict:
    """What analytics.js draws: labels from the first column, one series per number column."""
    columns = table.columns
    first = columns[0] if columns else None
    series = [c for c in columns[1:] if c.kind not in ("text", "month")]
    labels = []
    for row in table.rows:
        value = export.normalized(row.get(first.key), first.kind) if first else None
        if value is None:
            labels.append("—")
        elif first.kind == "month":
            labels.append(value.strftime("%Y-%m"))  # as in the table beside the chart
        else:
            labels.append(str(value)[:40])
    return {
        "type": table.chart,
        "labels": labels,
        "datasets": [
            {
                "label": f"{c.label} ({table.currency})" if c.kind == "money" else c.label,
                "data": [
                    None if (v := export.normalized(row.get(c.key), c.kind)) is None else float(v)
                    for row in table.rows
                ],
            }
            for c in series[:4]  # more series than this is unreadable in one chart
        ],
    }


def _cells(table: queries.Table) -> list[list[dict]]:
    """Each row's cells as the data table shows them (see templates/analytics/_table.html)."""
    return [
        [
            {"value": export.normalized(row.get(c.key), c.kind), "kind": c.kind}
            for c in table.columns
        ]
        for row in table.rows
    ]


@login_required
def dashboard(request):
    require(request.user, Capability.VIEW_ANALYTICS, f"{request.method} {request.path}")
    period, values = resolve(request.GET)
    errors: dict[str, str] = {}
    try:
        filters = queries.Filters.from_params(values)
    except BadFilter as exc:
        errors[exc.field] = exc.message
        filters = None
    context = {
        "presets": PRESETS,
        "period": period,
        "values": values,
        "errors": errors,
        "choices": queries.filter_choices(),
        "team_value": values["team"],
    }
    if filters is not None:
        # The summary is one of the dashboard's tables: its cards, not a chart.
        tables = queries.dashboard(filters)
        summary = next((t for t in tables if t.slug == "summary"), None)
        summary = summary or queries.summary(filters)
        tables = [t for t in tables if t.slug != "summary"]
        context.update(
            {
                "summary": summary,
                "summary_cards": list(
                    zip(summary.columns, (_cells(summary) or [[]])[0], strict=False)
                ),
                "summary_exports": _exports("summary", filters),
                "tables": [
                    {
                        "table": t,
                        "cells": _cells(t),
                        "chart": _chart_data(t),
                        "chart_id": f"chart-data-{t.slug}",
                        "exports": _exports(t.slug, filters),
                    }
                    for t in tables
                ],
                "filters": filters,
            }
        )
    return render(request, "analytics/dashboard.html", context, status=400 if errors else 200)


@login_required
def export_table(request, slug: str, extension: str):
    require(request.user, Capability.VIEW_ANALYTICS, f"{request.method} {request.path}")
    if extension not in ("csv", "parquet"):
        raise Http404("exports are .csv or .parquet")
    try:
        filters = queries.Filters.from_params(request.GET)
    except BadFilter as exc:
        return HttpResponse(
            f"{exc.field}: {exc.message}\n", status=400, content_type="text/plain; charset=utf-8"
        )
    table = _table(slug, filters)
    if extension == "csv":
        body, content_type = export.to_csv(table), "text/csv; charset=utf-8"
    else:
        body = export.to_parquet(table, filters, clock.now())
        content_type = "application/vnd.apache.parquet"
    response = HttpResponse(body, content_type=content_type)
    name = export.file_name(table, filters, extension)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
