"""Recompute every fact and rollup from the source tables with set-based SQL.

The same definitions as ``facts`` (which maintains them one request at a time), written as
``INSERT … SELECT … GROUP BY`` and ``UPDATE … FROM`` statements that run on SQLite (≥ 3.33)
and PostgreSQL alike. Only the few expressions that differ between the two (a month, whole
seconds since 1970, days between two dates) come from one small helper per vendor.

Runs in one transaction: readers see the old rollups until it commits. Run it while nothing
else writes (after a restore, an upgrade, or to repair); ``check`` runs it and rolls back.
"""

# ruff: noqa: S608 -- every statement is formatted only with our own table and column names and
# fixed SQL fragments; values (booleans, rates, currency codes) are parameters.
from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction

from gigbridge.access.models import Grant
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.people.models import Person
from gigbridge.program import actions as program
from gigbridge.sourcing.models import ContractEnd, MarketplaceOffer, Payment, TimeEntry

from . import facts
from .models import (
    ROLLUPS,
    Adoption,
    ApprovalCycle,
    Country,
    MonthlyCube,
    Refusal,
    RequestFact,
    collapsed,
    sentinel,
)

Progress = Callable[[str], None] | None


class SQLite:
    @staticmethod
    def month(expr: str, datetime: bool = True) -> str:
        # Datetimes are stored in UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]', dates as 'YYYY-MM-DD'.
        return f"strftime('%%Y-%%m-01', {expr})"

    @staticmethod
    def epoch(expr: str) -> str:
        return f"CAST(strftime('%%s', {expr}) AS INTEGER)"

    @staticmethod
    def days(start: str, end: str) -> str:
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


class PostgreSQL:
    @staticmethod
    def month(expr: str, datetime: bool = True) -> str:
        if datetime:
            return f"CAST(date_trunc('month', {expr} AT TIME ZONE 'UTC') AS date)"
        return f"CAST(date_trunc('month', {expr}) AS date)"

    @staticmethod
    def epoch(expr: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM date_trunc('second', {expr})) AS BIGINT)"

    @staticmethod
    def days(start: str, end: str) -> str:
        return f"({end} - {start})"


def vendor():
    return PostgreSQL if connection.vendor == "postgresql" else SQLite


def cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values) -> str:
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


def rebuild_all(progress: Progress = None) -> dict:
    """Recompute the facts and every rollup; returns the rows written per table and seconds."""
    say = progress or (lambda line: None)
    started = time.monotonic()
    counts: dict = {}
    with transaction.atomic(), connection.cursor() as cursor:

        def run(label: str, sql: str, params=()):
            began = time.monotonic()
            cursor.execute(sql, params)
            if label:
                say(f"{label}: {time.monotonic() - began:.2f} s")

        for model in [*ROLLUPS, RequestFact]:
            cursor.execute(f"DELETE FROM {_t(model)}")
        for label, sql, params in _fact_statements():
            run(label, sql, params)
        for label, sql in _rollup_statements():
            run(f"rollup {label}", sql, ())
        for label, sql, params in _grain_statements():
            run(f"rollup {label}", sql, params)
        for model in [RequestFact, *ROLLUPS]:
            # Fresh statistics: the planner picks the grain index (after a rebuild PostgreSQL
            # estimated 3,277 cube rows of a year that held 148,216).
            run(f"analyze {model._meta.model_name}", f"ANALYZE {_t(model)}")
        cursor.execute(f"SELECT COUNT(*) FROM {_t(RequestFact)}")
        counts[RequestFact._meta.model_name] = cursor.fetchone()[0]
        for model in ROLLUPS:
            # cells of the full key, and rows of the coarser grains summing them
            cursor.execute(
                f"SELECT COUNT(CASE WHEN grain = 0 THEN 1 END), "
                f"COUNT(CASE WHEN grain <> 0 THEN 1 END) FROM {_t(model)}"
            )
            full, coarser = cursor.fetchone()
            counts[model._meta.model_name] = full
            counts[f"{model._meta.model_name}_grains"] = coarser
        for name in ("events", "access", "refusals"):
            cursor.execute(f"DROP TABLE IF EXISTS analytics_tmp_{name}")
    counts["seconds"] = round(time.monotonic() - started, 2)
    say(f"rebuilt in {counts['seconds']} s: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


def _fact_statements() -> list[tuple[str, str, tuple]]:
    fact, req, eng = _t(RequestFact), _t(WorkRequest), _t(Engagement)
    person, audit = _t(Person), _t(AuditEvent)
    offer, ending, grant = _t(MarketplaceOffer), _t(ContractEnd), _t(Grant)
    pay, hours = _t(Payment), _t(TimeEntry)
    contracted = f"{fact}.contracted_at IS NOT NULL"
    conversion, rate_params = _conversion("o.amount", "o.currency")
    ended_states = _in(facts.ENDED_STATES)
    return [
        (
            "facts of requests",
            f"""INSERT INTO {fact} (request_id, engagement_id, cost_center_id, task_category,
                team_key, requester_id, freelancer_id, freelancer_country, created_at,
                submitted_at, decided_at, withdrawn_at, contract_start, contract_end,
                request_state, engagement_state, budget_cents, committed_cents, paid_cents,
                outstanding_cents, hours_centi, repeat_hire)
            SELECT r.id, e.id, r.cost_center_id, r.task_category, COALESCE(r.workspace_id, 0),
                r.requester_id, e.freelancer_id,
                COALESCE(NULLIF(p.country, ''), r.freelancer_country, ''),
                r.created_at, r.submitted_at,
                CASE WHEN r.state IN ('approved', 'rejected') THEN r.decided_at END,
                CASE WHEN r.state = 'withdrawn' AND r.submitted_at IS NOT NULL
                    THEN r.updated_at END,
                e.contract_start, e.contract_end, r.state, COALESCE(e.state, ''),
                {cents("r.budget")}, 0, 0, 0, 0, %s
            FROM {req} r
            LEFT JOIN {eng} e ON e.request_id = r.id
            LEFT JOIN {person} p ON p.id = e.freelancer_id""",
            (False,),
        ),
        (
            "contract and cancellation times (audit)",
            f"""CREATE TEMPORARY TABLE analytics_tmp_events AS
            SELECT CAST(object_id AS BIGINT) AS engagement_id,
                MIN(CASE WHEN action IN {_in(facts.CONTRACT_ACTIONS)} THEN created_at END)
                    AS contracted,
                MIN(CASE WHEN action = '{facts.CANCEL_ACTION}' THEN created_at END) AS cancelled
            FROM {audit}
            WHERE action IN {_in((*facts.CONTRACT_ACTIONS, facts.CANCEL_ACTION))}
                AND object_type = 'engagement'
            GROUP BY object_id""",
            (),
        ),
        ("", "CREATE INDEX analytics_tmp_events_e ON analytics_tmp_events (engagement_id)", ()),
        (
            "facts: contracted, cancelled",
            f"""UPDATE {fact} SET contracted_at = ev.contracted,
                cancelled_at = CASE WHEN ev.contracted IS NULL
                    AND {fact}.engagement_state = 'cancelled' THEN ev.cancelled END
            FROM analytics_tmp_events ev WHERE ev.engagement_id = {fact}.engagement_id""",
            (),
        ),
        (
            "facts: paid",
            f"""UPDATE {fact} SET paid_cents = s.total
            FROM (SELECT engagement_id, SUM({cents("amount_program")}) AS total
                  FROM {pay} GROUP BY engagement_id) s
            WHERE s.engagement_id = {fact}.engagement_id""",
            (),
        ),
        (
            "facts: hours",
            f"""UPDATE {fact} SET hours_centi = s.total
            FROM (SELECT engagement_id, SUM({cents("hours")}) AS total
                  FROM {hours} GROUP BY engagement_id) s
            WHERE s.engagement_id = {fact}.engagement_id""",
            (),
        ),
        (
            "facts: committed",
            f"""UPDATE {fact} SET committed_cents = COALESCE(
                (SELECT {conversion} FROM {offer} o WHERE o.id = (
                    SELECT MAX(o2.id) FROM {offer} o2
                    WHERE o2.engagement_id = {fact}.engagement_id AND o2.state = 'accepted')),
                budget_cents)
            WHERE {contracted}""",
            rate_params,
        ),
        (
            "facts: ended",
            f"""UPDATE {fact} SET ended_on = COALESCE(
                (SELECT c.ended_on FROM {ending} c WHERE c.engagement_id = {fact}.engagement_id),
                contract_end)
            WHERE {contracted} AND engagement_state IN {ended_states}
                AND contract_start IS NOT NULL""",
            (),
        ),
        (
            "facts: outstanding",
            f"""UPDATE {fact} SET outstanding_cents = CASE WHEN committed_cents > paid_cents
                THEN committed_cents - paid_cents ELSE 0 END
            WHERE {contracted} AND ended_on IS NULL""",
            (),
        ),
        (
            "facts: full access",
            f"""CREATE TEMPORARY TABLE analytics_tmp_access AS
            SELECT engagement_id, MAX(first_at) AS ready
            FROM (SELECT engagement_id, kind, MIN(applied_at) AS first_at FROM {grant}
                  WHERE kind IN {_in(facts.ACCESS_KINDS)} GROUP BY engagement_id, kind) g
            GROUP BY engagement_id
            HAVING SUM(CASE WHEN kind = 'guest' THEN 1 ELSE 0 END) > 0""",
            (),
        ),
        (
            "",
            f"""UPDATE {fact} SET access_ready_at = a.ready FROM analytics_tmp_access a
            WHERE a.engagement_id = {fact}.engagement_id AND {contracted}""",
            (),
        ),
        (
            "facts: repeat hires",
            f"""UPDATE {fact} SET repeat_hire = %s
            WHERE {contracted} AND freelancer_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM {fact} f2 WHERE f2.freelancer_id = {fact}.freelancer_id
                AND f2.contracted_at IS NOT NULL AND f2.request_id <> {fact}.request_id
                AND (f2.contracted_at < {fact}.contracted_at OR (
                    f2.contracted_at = {fact}.contracted_at
                    AND f2.request_id < {fact}.request_id)))""",
            (True,),
        ),
    ]


def _conversion(amount: str, currency: str) -> tuple[str, tuple]:
    """Cents of the program currency for ``amount`` in ``currency``, as
    Policy.to_program_currency computes them; NULL for a currency the policy has no rate of."""
    try:
        policy = program.current()[1]
    except program.NoPolicyError:
        return "NULL", ()
    parts, params = [f"CASE {currency} WHEN %s THEN {cents(amount)}"], [policy.program.currency]
    for code, rate in sorted(policy.program.exchange_rates.items()):
        parts.append(f"WHEN %s THEN CAST(ROUND(ROUND({amount} * %s, 2) * 100) AS BIGINT)")
        params += [code, Decimal(rate)]
    parts.append("ELSE NULL END")
    return " ".join(parts), tuple(params)


def _rollup_statements() -> list[tuple[str, str]]:
    v = vendor()
    fact = _t(RequestFact)
    key = "cost_center_id, task_category, team_key"
    fkey = "f.cost_center_id, f.task_category, f.team_key"
    names = [n for n in _measures(MonthlyCube)]

    cube_table = _t(MonthlyCube)

    def part(month: str, where: str, source: str = f"{fact} f", **values) -> tuple[str, str]:
        """One event's cells, grouped, added to the cube (a cell another event made already
        gets the sums added: each part is small, where one GROUP BY over their union was a
        large sort)."""
        cols = ", ".join(f"SUM({values[n]})" if n in values else "0" for n in names)
        sets = ", ".join(f"{n} = {cube_table}.{n} + excluded.{n}" for n in values)
        return "cube " + ", ".join(values), (
            f"INSERT INTO {cube_table} (month, {key}, {', '.join(names)}) "
            f"SELECT {month}, {fkey}, {cols} FROM {source} WHERE {where} "
            f"GROUP BY 1, 2, 3, 4 ON CONFLICT (month, {key}) DO UPDATE SET {sets}"
        )

    m = v.month
    contracted = "f.contracted_at IS NOT NULL"
    parts = [
        part(m("f.created_at"), "1 = 1", created="1"),
        part(m("f.submitted_at"), "f.submitted_at IS NOT NULL", submitted="1"),
        part(
            m("f.decided_at"),
            "f.decided_at IS NOT NULL AND f.submitted_at IS NOT NULL",
            approved="CASE WHEN f.request_state = 'approved' THEN 1 ELSE 0 END",
            rejected="CASE WHEN f.request_state = 'approved' THEN 0 ELSE 1 END",
            decision_seconds=f"{v.epoch('f.decided_at')} - {v.epoch('f.submitted_at')}",
        ),
        part(m("f.withdrawn_at"), "f.withdrawn_at IS NOT NULL", withdrawn="1"),
        part(m("f.cancelled_at"), "f.cancelled_at IS NOT NULL", cancelled="1"),
        part(
            m("f.contracted_at"),
            contracted,
            engaged="1",
            engage_seconds=(
                f"{v.epoch('f.contracted_at')} - "
                f"{v.epoch('COALESCE(f.submitted_at, f.created_at)')}"
            ),
            committed_cents="f.committed_cents",
            engaged_paid_cents="f.paid_cents",
            outstanding_cents="f.outstanding_cents",
            repeat_hires="CASE WHEN f.repeat_hire THEN 1 ELSE 0 END",
        ),
        part(
            m("f.access_ready_at"),
            f"{contracted} AND f.access_ready_at IS NOT NULL",
            access_ready="1",
            access_seconds=f"{v.epoch('f.access_ready_at')} - {v.epoch('f.contracted_at')}",
        ),
        part(
            m("f.ended_on", False),
            f"{contracted} AND f.ended_on IS NOT NULL AND f.contract_start IS NOT NULL",
            ended="1",
            duration_days=f"{v.days('f.contract_start', 'f.ended_on')} + 1",
        ),
        # Payments and hours summed per engagement and month first: ten million hour entries
        # become a few rows per engagement before they meet the facts.
        part(
            "p.month",
            "1 = 1",
            f"(SELECT engagement_id, {m('paid_at')} AS month, "
            f"SUM({cents('amount_program')}) AS total FROM {_t(Payment)} GROUP BY 1, 2) p "
            f"JOIN {fact} f ON f.engagement_id = p.engagement_id",
            paid_cents="p.total",
        ),
        part(
            "t.month",
            "1 = 1",
            f"(SELECT engagement_id, {m('date', False)} AS month, "
            f"SUM({cents('hours')}) AS total FROM {_t(TimeEntry)} GROUP BY 1, 2) t "
            f"JOIN {fact} f ON f.engagement_id = t.engagement_id",
            hours_centi="t.total",
        ),
    ]
    adoption = (
        f"INSERT INTO {_t(Adoption)} (month, requester_id, {key}, requests) "
        f"SELECT {m('f.submitted_at')}, f.requester_id, {fkey}, COUNT(*) FROM {fact} f "
        f"WHERE f.submitted_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
    )
    countries = (
        f"INSERT INTO {_t(Country)} (month, {key}, country, engagements) "
        f"SELECT {m('f.contracted_at')}, {fkey}, f.freelancer_country, COUNT(*) FROM {fact} f "
        f"WHERE {contracted} GROUP BY 1, 2, 3, 4, 5"
    )
    approvals = (
        f"INSERT INTO {_t(ApprovalCycle)} (month, {key}, stage, role, decisions, seconds) "
        f"SELECT {m('s.decided_at')}, {fkey}, s.stage, s.role, COUNT(*), "
        f"SUM({v.epoch('s.decided_at')} - {v.epoch('s.activated_at')}) "
        f"FROM {_t(ApprovalStep)} s JOIN {fact} f ON f.request_id = s.request_id "
        f"WHERE s.state IN {_in(facts.DECIDED_STEP_STATES)} AND s.decided_at IS NOT NULL "
        f"AND s.activated_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6"
    )
    refusals_source = (
        f"CREATE TEMPORARY TABLE analytics_tmp_refusals AS "
        f"SELECT CAST(object_id AS BIGINT) AS request_id, created_at, rule FROM {_t(AuditEvent)} "
        f"WHERE action = '{facts.REFUSAL_ACTION}' AND object_type = 'workrequest'"
    )
    refusals = (
        f"INSERT INTO {_t(Refusal)} (month, {key}, rule, refusals) "
        f"SELECT {m('a.created_at')}, {fkey}, a.rule, COUNT(*) FROM analytics_tmp_refusals a "
        f"JOIN {fact} f ON f.request_id = a.request_id GROUP BY 1, 2, 3, 4, 5"
    )
    return [
        *parts,
        ("adoption", adoption),
        ("countries", countries),
        ("approval cycle", approvals),
        ("refusals (audit)", refusals_source),
        ("refusals", refusals),
    ]


def _grain_statements() -> list[tuple[str, str, tuple]]:
    """Every coarser grain of each rollup summed from its full-key rows (grain 0), which the
    statements above wrote."""
    statements = []
    for model in ROLLUPS:
        names = _measures(model)
        for grain in model.GRAINS:
            if not grain:
                continue
            gone = collapsed(model, grain)
            select, params = [], []
            for column in model.KEY:
                if column in gone:
                    select.append("%s")
                    params.append(sentinel(column))
                else:
                    select.append(column)
            kept = [c for c in model.KEY if c not in gone]
            statements.append(
                (
                    f"{model._meta.model_name} grain {grain}",
                    f"INSERT INTO {_t(model)} (grain, {', '.join(model.KEY)}, {', '.join(names)}) "
                    f"SELECT %s, {', '.join(select)}, "
                    f"{', '.join(f'SUM({n})' for n in names)} FROM {_t(model)} "
                    f"WHERE grain = 0 GROUP BY {', '.join(kept)}",
                    (grain, *params),
                )
            )
    return statements


def _measures(model) -> list[str]:
    from .models import measures

    return measures(model)


# --- check ---------------------------------------------------------------------------------

FACT_SAMPLE = 20  # differing requests listed by check


class _RollBack(Exception):
    pass


def snapshot() -> dict:
    """Every rollup row that holds something, of every grain (a coarser grain's key holds
    ALL for its collapsed dimensions): {(table, key): {measure: value, "grain": grain}}."""
    from .models import measures

    rows = {}
    for model in ROLLUPS:
        names = measures(model)
        width = len(model.KEY)
        for row in model.objects.values_list(*model.KEY, *names, "grain"):
            key, values = row[:width], row[width:-1]
            if any(values):
                # The grain is compared too (the key's sentinels imply it).
                rows[(model._meta.model_name, key)] = {
                    **dict(zip(names, values, strict=True)),
                    "grain": row[-1],
                }
    return rows


def check(progress: Progress = None) -> list[str]:
    """Rebuild inside a transaction that is then rolled back, and compare with the kept facts
    and rollups: each difference as a line (none = the incremental maintenance is exact)."""
    say = progress or (lambda line: None)
    differences: list[str] = []
    fact = _t(RequestFact)
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in RequestFact._meta.concrete_fields
    )
    try:
        with transaction.atomic():
            kept = snapshot()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE analytics_tmp_kept AS SELECT {columns} FROM {fact}"
                )
            rebuild_all(progress)
            rebuilt = snapshot()
            with connection.cursor() as cursor:
                for label, first, second in (
                    ("kept but not rebuilt", "analytics_tmp_kept", fact),
                    ("rebuilt but not kept", fact, "analytics_tmp_kept"),
                ):
                    cursor.execute(
                        f"SELECT request_id FROM (SELECT {columns} FROM {first} EXCEPT "
                        f"SELECT {columns} FROM {second}) d ORDER BY request_id"
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                    if ids:
                        shown = ", ".join(map(str, ids[:FACT_SAMPLE]))
                        more = (
                            f" and {len(ids) - FACT_SAMPLE} more" if len(ids) > FACT_SAMPLE else ""
                        )
                        differences.append(f"facts {label} of requests {shown}{more}")
            for cell in sorted(set(kept) | set(rebuilt), key=str):
                old, new = kept.get(cell, {}), rebuilt.get(cell, {})
                if old != new:
                    table, key = cell
                    changed = ", ".join(
                        f"{name} kept {old.get(name, 0)}, rebuilt {new.get(name, 0)}"
                        for name in sorted(set(old) | set(new))
                        if old.get(name, 0) != new.get(name, 0)
                    )
                    differences.append(f"{table} {_key_text(key)}: {changed}")
            raise _RollBack
    except _RollBack:
        pass
    say(f"{len(differences)} difference(s)")
    return differences


def _key_text(key: tuple) -> str:
    return "(" + ", ".join(str(k) for k in key) + ")"
