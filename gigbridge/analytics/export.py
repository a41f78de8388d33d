"""A dashboard table as a file: CSV for spreadsheets, Parquet for data tools.

CSV (decided for Excel, documented in docs/analytics-dashboard.md):

- UTF-8 with a byte order mark: without it Excel reads the file as the machine's ANSI code
  page and "Zürich" comes out as "ZÃ¼rich"; other tools skip the mark.
- The header row holds the column *keys* (``avg_days_to_engage``), the same names as in Parquet
  and the OData feed, so a script or a Power Query step survives a relabelling; the labels
  people read are on the dashboard and in the Parquet field metadata.
- Amounts are plain decimals with a point (``1234.50``), never formatted; a table with money
  columns gets a last column ``currency`` naming the currency they are in.
- Dates (and months, as their first day) are ``YYYY-MM-DD``; an empty value is an empty cell.
- Formula injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading ``'`` so a spreadsheet shows it as text instead of running
  it (OWASP's advice). Numbers are written by us and are never prefixed.

Parquet: one typed column per table column (text: string, int: int64, money: decimal128(38, 2),
decimal/days/hours/percent: decimal128(38, 4), month: date32), the same ``currency`` column, and
file metadata ``gigbridge.table``, ``gigbridge.filters`` and ``gigbridge.generated_at`` (JSON
and ISO 8601), field metadata ``label`` and ``kind``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import ROUND_HALF_EVEN, Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from .queries import Filters, Table

BOM = "\ufeff"
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Decimal places per kind: money in cents, measured quantities to a ten-thousandth.
SCALE = {"money": 2, "decimal": 4, "days": 4, "hours": 4, "percent": 4}
PRECISION = 38
CURRENCY_KEY = "currency"


def has_money(table: Table) -> bool:
    return any(c.kind == "money" for c in table.columns)


def adds_currency(table: Table) -> bool:
    """Tables with money get a ``currency`` column, unless they already have one."""
    return has_money(table) and all(c.key != CURRENCY_KEY for c in table.columns)


def normalized(value, kind: str):
    """The value as every export writes it: decimals at their kind's scale, months as dates."""
    if value is None or value == "":
        return None
    if kind in SCALE:
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-SCALE[kind]), ROUND_HALF_EVEN)
    if kind == "int":
        return int(value)
    if kind == "month":
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.replace(day=1) if isinstance(value, dt.date) else value
    return value


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return safe_cell(value)
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    extra = adds_currency(table)
    writer.writerow([c.key for c in table.columns] + ([CURRENCY_KEY] if extra else []))
    for row in table.rows:
        cells = [_csv_cell(normalized(row.get(c.key), c.kind)) for c in table.columns]
        writer.writerow(cells + ([safe_cell(table.currency)] if extra else []))
    return (BOM + out.getvalue()).encode("utf-8")


ARROW_TYPES = {
    "text": pa.string(),
    "int": pa.int64(),
    "month": pa.date32(),
}


def arrow_type(kind: str) -> pa.DataType:
    if kind in SCALE:
        return pa.decimal128(PRECISION, SCALE[kind])
    return ARROW_TYPES.get(kind, pa.string())


def to_parquet(table: Table, filters: Filters, generated_at: dt.datetime) -> bytes:
    fields, arrays = [], []
    for column in table.columns:
        kind_type = arrow_type(column.kind)
        values = [normalized(row.get(column.key), column.kind) for row in table.rows]
        if kind_type == pa.string():
            values = [None if v is None else str(v) for v in values]
        fields.append(
            pa.field(
                column.key,
                kind_type,
                nullable=True,
                metadata={"label": column.label, "kind": column.kind},
            )
        )
        arrays.append(pa.array(values, type=kind_type))
    if adds_currency(table):
        fields.append(pa.field(CURRENCY_KEY, pa.string(), metadata={"label": "Currency"}))
        arrays.append(pa.array([table.currency] * len(table.rows), type=pa.string()))
    metadata = {
        "gigbridge.table": json.dumps(
            {
                "slug": table.slug,
                "title": table.title,
                "description": table.description,
                "currency": table.currency,
            }
        ),
        "gigbridge.filters": json.dumps(filters.as_params(), sort_keys=True),
        "gigbridge.generated_at": generated_at.isoformat(),
    }
    schema = pa.schema(fields, metadata=metadata)
    out = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), out)
    return out.getvalue()


def file_name(table: Table, filters: Filters, extension: str) -> str:
    """``gigbridge-spend-by-category-2026-01-01-to-2026-03-31.csv``: the table and its period."""
    if filters.start and filters.end:
        period = f"{filters.start.isoformat()}-to-{filters.end.isoformat()}"
    elif filters.start:
        period = f"from-{filters.start.isoformat()}"
    elif filters.end:
        period = f"until-{filters.end.isoformat()}"
    else:
        period = "all-time"
    return f"gigbridge-{table.slug}-{period}.{extension}"
