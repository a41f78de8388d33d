"""The analytics OData v4.0 feed: entity sets, query options, JSON rows and CSDL metadata.

Protocol only (no HTTP, no authentication: ``api.py`` does those). References are to the
OASIS OData Version 4.0 specification: Part 1 Protocol, Part 2 URL Conventions, CSDL XML
(Part 3) and the JSON Format.

Entity sets (``entity_sets``):

- one per dashboard table (``TableSet``: computed from the rollups per request, a few hundred
  rows; a synthetic key ``row_number``, the row's place in the table's own order; money tables
  get a ``currency`` property). Custom query options ``start``, ``end``, ``cost_center``,
  ``task_category`` and ``team`` filter them as on the dashboard (``queries.Filters``);
- the stored facts and rollups (``ModelSet``: one per model, its primary key as key; paged by
  key, ``$filter`` becomes SQL). Rollups are served at their full key only (grain 0): their
  coarser grains' rows would count every request twice in a client's sum.

Query options (Part 2, 5): ``$select``, ``$filter`` (``odata_filter``), ``$orderby``, ``$top``,
``$skip``, ``$count``, ``$format`` (JSON only) and ``$skiptoken`` (ours, from ``nextLink``).
Any other ``$`` option is a 400 naming it. Server-driven paging (Part 1, 11.2.5.7): at most
``MAX_PAGE_SIZE`` rows a page (fewer with ``Prefer: odata.maxpagesize``), then
``@odata.nextLink``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from django.apps import apps
from django.db import models as m

from . import export, queries
from .errors import BadFilter
from .odata_filter import FilterError, Prop, parse, to_predicate, to_q

NAMESPACE = "Gigbridge.Analytics"
CONTAINER = "Analytics"
MAX_PAGE_SIZE = 1000  # rows per page; a client may ask for fewer (Prefer: odata.maxpagesize)
MAX_NUMBER = 10**9  # the largest $top or $skip
MAX_SELECT = 200  # properties named in one $select or $orderby
MAX_OPTION_LENGTH = 4000  # characters of one query option's value
FILTER_PARAMS = ("start", "end", "cost_center", "task_category", "team")
SUPPORTED = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$format", "$skiptoken"}

# Stored entity sets: name -> model label (app_label.ModelName). Facts are per request, large.
MODEL_SETS: dict[str, str] = {
    "RequestFacts": "analytics.RequestFact",
    "MonthlyRollup": "analytics.MonthlyCube",
    "ApprovalCycleRollup": "analytics.ApprovalCycle",
    "AdoptionRollup": "analytics.Adoption",
    "RefusalRollup": "analytics.Refusal",
    "CountryRollup": "analytics.Country",
}


class ODataError(Exception):
    """An error answered as ``{"error": {"code", "message", "target"}}`` (JSON Format, 21)."""

    def __init__(
        self, status: int, message: str, target: str = "", code: str = "", retry_after: int = 0
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, for 429
        self.message = message
        self.target = target
        self.code = code or {
            400: "BadRequest",
            401: "Unauthorized",
            403: "Forbidden",
            404: "NotFound",
            405: "MethodNotAllowed",
            406: "NotAcceptable",
            429: "TooManyRequests",
        }.get(status, "Error")

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


@dataclass(frozen=True)
class Property:
    name: str
    edm: str
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    field: str = ""  # ORM field (stored sets)
    kind: str = ""  # queries.Column.kind (table sets)


# -- entity sets -----------------------------------------------------------------------------


def set_name(slug: str) -> str:
    """``time-to-engage`` -> ``TimeToEngage`` (an OData SimpleIdentifier, CSDL 17.2)."""
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", slug))
    return name if name[:1].isalpha() else f"T{name}"


EDM_OF_KIND = {"text": "Edm.String", "int": "Edm.Int64", "month": "Edm.Date"}


@dataclass
class Page:
    rows: list[dict]
    count: int | None
    next_token: str | None


@dataclass
class Query:
    select: list[str] | None = None
    filter: tuple | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    token: str | None = None
    filters: queries.Filters = field(default_factory=queries.Filters)


class EntitySet:
    name: str
    key: str
    properties: list[Property]

    @property
    def type_name(self) -> str:
        return f"{self.name}Row"

    def props(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}

    def filter_props(self) -> dict[str, Prop]:
        return {p.name: Prop(p.edm, p.field) for p in self.properties}

    def page(self, query: Query, size: int) -> Page:
        raise NotImplementedError

    def one(self, key: int, query: Query) -> dict | None:
        raise NotImplementedError


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not re.fullmatch(r"o\d{1,10}", token):
        raise ODataError(400, "$skiptoken is not one this service wrote", "$skiptoken")
    return int(token[1:])


class TableSet(EntitySet):
    """A dashboard table (``queries.Table``), filtered, sorted and paged in memory."""

    key = "row_number"

    def __init__(self, slug: str, filters: queries.Filters | None = None):
        self.slug = slug
        self.table = _table(slug, filters or queries.Filters())
        self.name = set_name(slug)
        self.properties = [Property(self.key, "Edm.Int64", nullable=False)]
        for column in self.table.columns:
            edm = EDM_OF_KIND.get(column.kind, "Edm.Decimal")
            scale = export.SCALE.get(column.kind)
            self.properties.append(
                Property(
                    column.key,
                    edm,
                    precision=export.PRECISION if scale is not None else None,
                    scale=scale,
                    kind=column.kind,
                )
            )
        if export.adds_currency(self.table):
            self.properties.append(Property(export.CURRENCY_KEY, "Edm.String", kind="text"))

    def rows(self) -> list[dict]:
        out = []
        extra = export.adds_currency(self.table)
        for number, row in enumerate(self.table.rows, start=1):
            values = {self.key: number}
            for p in self.properties[1:]:
                if extra and p.name == export.CURRENCY_KEY:
                    values[p.name] = self.table.currency
                else:
                    values[p.name] = export.normalized(row.get(p.name), p.kind)
            out.append(values)
        return out

    def _selected(self, query: Query) -> list[dict]:
        rows = self.rows()
        if query.filter is not None:
            test = to_predicate(query.filter)
            rows = [r for r in rows if test(r)]
        for name, descending in reversed(query.orderby):
            # null sorts before every value (Part 2, 5.1.1.1 and 11.2.5.2)
            rows.sort(key=lambda r, n=name: (r[n] is not None, r[n] or 0), reverse=descending)
        return rows

    def page(self, query: Query, size: int) -> Page:
        rows = self._selected(query)
        count = len(rows) if query.count else None
        rows = rows[query.skip :]
        if query.top is not None:
            rows = rows[: query.top]
        start = _offset(query.token)
        chunk = rows[start : start + size]
        more = start + size < len(rows)
        return Page(chunk, count, f"o{start + size}" if more else None)

    def one(self, key: int, query: Query) -> dict | None:
        rows = self.rows()
        return rows[key - 1] if 0 < key <= len(rows) else None


def _table(slug: str, filters: queries.Filters) -> queries.Table:
    if slug == "summary" and slug not in queries.TABLES:
        return queries.summary(filters)
    return queries.table(slug, filters)


def _model_property(f: m.Field) -> Property | None:
    nullable = bool(f.null)
    if isinstance(f, m.ForeignKey):
        return Property(f.attname, "Edm.Int64", nullable, field=f.attname)
    if isinstance(f, m.DecimalField):
        return Property(f.name, "Edm.Decimal", nullable, f.max_digits, f.decimal_places, f.name)
    if isinstance(f, m.BooleanField):
        return Property(f.name, "Edm.Boolean", nullable, field=f.name)
    if isinstance(f, m.DateTimeField):
        return Property(f.name, "Edm.DateTimeOffset", nullable, field=f.name)
    if isinstance(f, m.DateField):
        return Property(f.name, "Edm.Date", nullable, field=f.name)
    if isinstance(f, m.IntegerField | m.AutoField | m.BigAutoField):
        return Property(f.name, "Edm.Int64", nullable, field=f.name)
    if isinstance(f, m.FloatField):
        return Property(f.name, "Edm.Double", nullable, field=f.name)
    if isinstance(f, m.CharField | m.TextField):
        return Property(f.name, "Edm.String", nullable, field=f.name)
    return None  # not exposed (durations, JSON, binary)


class ModelSet(EntitySet):
    """A stored table (facts, rollups): ``$filter`` as SQL, keyset paging on the primary key."""

    def __init__(self, name: str, label: str):
        self.name = name
        self.model = apps.get_model(label)
        pk = self.model._meta.pk
        self.key = pk.attname
        # A rollup's coarser grains (its all-teams rows, …) sum its full-key rows: the feed
        # serves the full key only, so a sum in Power BI counts every request once.
        names = {f.name for f in self.model._meta.concrete_fields}
        self.base = {"grain": 0} if "grain" in names else {}
        self.properties = [
            p
            for f in self.model._meta.concrete_fields
            if f.name not in self.base and (p := _model_property(f)) is not None
        ]
        self.properties.sort(key=lambda p: p.name != self.key)  # the key first

    def _queryset(self, query: Query):
        qs = self.model.objects.filter(**self.base)
        if query.filter is not None:
            qs = qs.filter(to_q(query.filter, self.filter_props()))
        return qs

    def _fields(self) -> list[str]:
        return [p.field for p in self.properties]

    def _values(self, qs) -> list[dict]:
        names = {p.field: p.name for p in self.properties}
        return [{names[k]: v for k, v in row.items()} for row in qs.values(*self._fields())]

    def page(self, query: Query, size: int) -> Page:
        qs = self._queryset(query)
        count = qs.count() if query.count else None
        props = self.props()
        remaining_top = query.top
        if not query.orderby:
            # Keyset paging: "k<last key>.<rows delivered>" walks by key, in any table size.
            qs = qs.order_by(self.key)
            delivered = 0
            if query.token is None:
                qs = qs[query.skip :] if query.skip else qs
                base = qs
            else:
                found = re.fullmatch(r"k(-?\d{1,19})\.(\d{1,10})", query.token)
                if not found:
                    raise ODataError(400, "$skiptoken is not one this service wrote", "$skiptoken")
                delivered = int(found[2])
                base = qs.filter(**{f"{self.key}__gt": int(found[1])})
            limit = size if remaining_top is None else min(size, remaining_top - delivered)
            rows = self._values(base[: max(limit, 0) + 1]) if limit > 0 else []
            more = len(rows) > limit  # an extra row was read: there is more (within $top)
            rows = rows[:limit]
            if remaining_top is not None and delivered + len(rows) >= remaining_top:
                more = False
            token = f"k{rows[-1][self.key]}.{delivered + len(rows)}" if more and rows else None
            return Page(rows, count, token)
        order = [f"-{props[n].field}" if desc else props[n].field for n, desc in query.orderby]
        qs = qs.order_by(*order, self.key)  # the key last: a stable order between pages
        start = _offset(query.token)
        end = start + size
        if remaining_top is not None:
            end = min(end, remaining_top)
        rows = self._values(qs[query.skip + start : query.skip + end + 1]) if end > start else []
        more = len(rows) > end - start
        rows = rows[: end - start]
        if remaining_top is not None and end >= remaining_top:
            more = False
        return Page(rows, count, f"o{end}" if more else None)

    def one(self, key: int, query: Query) -> dict | None:
        rows = self._values(self.model.objects.filter(pk=key, **self.base))
        return rows[0] if rows else None


def entity_set_names() -> list[tuple[str, str]]:
    """(name, slug or model label) of every entity set, in the service document's order."""
    names = [(set_name(slug), slug) for slug in queries.TABLES]
    if "summary" not in queries.TABLES:
        names.append(("Summary", "summary"))
    names.extend(MODEL_SETS.items())
    return names


def entity_set(name: str, filters: queries.Filters | None = None) -> EntitySet:
    for set_name_, source in entity_set_names():
        if set_name_ == name:
            if name in MODEL_SETS:
                return ModelSet(name, source)
            return TableSet(source, filters)
    raise ODataError(404, f"no entity set named '{name[:100]}' in this service", name[:100])


# -- query options (Part 2, 5) ---------------------------------------------------------------


def system_options(pairs: Iterable[tuple[str, str]], allowed: set[str]) -> dict[str, str]:
    """The ``$`` options of a request, each at most once; others are refused by name."""
    options: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith("$"):
            continue
        if name not in allowed:
            what = "not supported here" if name in SUPPORTED else "not supported by this service"
            raise ODataError(400, f"the query option {name[:50]} is {what}", name[:50])
        if name in options:
            raise ODataError(400, f"the query option {name} is given more than once", name)
        if len(value) > MAX_OPTION_LENGTH:
            raise ODataError(400, f"{name} is longer than {MAX_OPTION_LENGTH} characters", name)
        options[name] = value
    return options


def _names(text: str, option: str, props: Mapping[str, Property]) -> list[str]:
    items = [part.strip() for part in text.split(",")]
    if len(items) > MAX_SELECT:
        raise ODataError(400, f"{option} names more than {MAX_SELECT} properties", option)
    if any(not item for item in items):
        raise ODataError(400, f"{option} has an empty item", option)
    return items


def _number(options: Mapping[str, str], name: str) -> int | None:
    text = options.get(name)
    if text is None:
        return None
    if not text.isdigit() or len(text) > 10 or int(text) > MAX_NUMBER:
        raise ODataError(
            400, f"{name} must be a whole number from 0 to {MAX_NUMBER}, not {text[:20]!r}", name
        )
    return int(text)


def parse_query(entity: EntitySet, options: Mapping[str, str], filters: queries.Filters) -> Query:
    props = entity.props()
    query = Query(filters=filters)
    if "$select" in options and options["$select"].strip() != "*":
        select = _names(options["$select"], "$select", props)
        unknown = [s for s in select if s not in props]
        if unknown:
            raise ODataError(
                400, f"$select: no property '{unknown[0][:100]}' in {entity.name}", "$select"
            )
        query.select = list(dict.fromkeys(select))
    if "$filter" in options:
        try:
            query.filter = parse(options["$filter"], entity.filter_props())
        except FilterError as exc:
            raise ODataError(400, str(exc), "$filter") from None
    if "$orderby" in options:
        for item in _names(options["$orderby"], "$orderby", props):
            parts = item.split()
            direction = parts[1].lower() if len(parts) == 2 else "asc"
            if len(parts) > 2 or direction not in ("asc", "desc") or parts[0] not in props:
                raise ODataError(
                    400,
                    f"$orderby: expected 'property [asc|desc]' of {entity.name}, "
                    f"not {item[:100]!r}",
                    "$orderby",
                )
            query.orderby.append((parts[0], direction == "desc"))
    query.top = _number(options, "$top")
    query.skip = _number(options, "$skip") or 0
    count = options.get("$count")
    if count is not None and count not in ("true", "false"):
        raise ODataError(400, "$count must be true or false", "$count")
    query.count = count == "true"
    query.token = options.get("$skiptoken")
    return query


# -- JSON format -----------------------------------------------------------------------------


def json_value(value, edm: str, ieee754: bool) -> str:
    """A property value in its Edm type's JSON form (JSON Format, 7.1): Int64 and Decimal as
    numbers (strings with IEEE754Compatible=true), Date as YYYY-MM-DD, DateTimeOffset with
    its offset (Z for UTC)."""
    if value is None:
        return "null"
    if edm == "Edm.Int64":
        text = str(int(value))
        return f'"{text}"' if ieee754 else text
    if edm == "Edm.Decimal":
        text = format(Decimal(value), "f")
        return f'"{text}"' if ieee754 else text
    if edm == "Edm.Double":
        return json.dumps(float(value))
    if edm == "Edm.Boolean":
        return "true" if value else "false"
    if edm == "Edm.Date":
        day = value.date() if isinstance(value, dt.datetime) else value
        return f'"{day.isoformat()}"'
    if edm == "Edm.DateTimeOffset":
        text = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return f'"{text}"'
    return json.dumps(str(value), ensure_ascii=False)


def row_json(
    row: Mapping, props: list[Property], ieee754: bool, entity_id: str | None = None
) -> str:
    parts = []
    if entity_id is not None:
        parts.append(f'"@odata.id":{json.dumps(entity_id)}')
    parts.extend(f'"{p.name}":{json_value(row.get(p.name), p.edm, ieee754)}' for p in props)
    return "{" + ",".join(parts) + "}"


# -- CSDL XML (Part 3) -----------------------------------------------------------------------


def csdl(sets: list[EntitySet]) -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
        "<edmx:DataServices>",
        f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">',
    ]
    for entity in sets:
        lines.append(f'<EntityType Name="{entity.type_name}">')
        lines.append(f'<Key><PropertyRef Name="{entity.key}"/></Key>')
        for p in entity.properties:
            facets = f' Type="{p.edm}"'
            if not p.nullable or p.name == entity.key:
                facets += ' Nullable="false"'
            if p.precision is not None:
                facets += f' Precision="{p.precision}"'
            if p.scale is not None:
                facets += f' Scale="{p.scale}"'
            lines.append(f"<Property Name={quoteattr(p.name)}{facets}/>")
        lines.append("</EntityType>")
    lines.append(f'<EntityContainer Name="{CONTAINER}">')
    for entity in sets:
        lines.append(
            f'<EntitySet Name="{entity.name}" EntityType="{NAMESPACE}.{entity.type_name}"/>'
        )
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(lines) + "\n"


def table_filters(params: Mapping[str, str]) -> queries.Filters:
    """The dashboard filters given as custom query options (``?cost_center=CC-ENG``)."""
    try:
        return queries.Filters.from_params({k: params[k] for k in FILTER_PARAMS if k in params})
    except BadFilter as exc:
        raise ODataError(400, f"{exc.field}: {exc.message}", exc.field) from None
