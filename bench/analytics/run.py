"""Analytics at enterprise size: does every dashboard query answer in under 1 s?

One database per process:

    .venv/bin/python -m bench.analytics.run --db sqlite               # scale 1.0: 1 M engagements
    .venv/bin/python -m bench.analytics.run --db postgres             # 10 M hour entries
    .venv/bin/python -m bench.analytics.run --db sqlite --scale 0.01  # a quick look

It makes a data folder under /tmp (and, for PostgreSQL, drops and recreates the database
``--postgres-db``, default ``gb_bench``), migrates, activates the bench policy (the example policy
with 40 cost centers and 10 task categories), pins the clock at 2026-01-01, writes the data set of
``bench/analytics/generate.py`` into the source tables (time per table), runs
``gigbridge.analytics.rebuild.rebuild_all()`` (timed) and measures the database's size. Then, under
four filter sets (all time; 2025; 2025 + one cost center; 2025 + one team + one task category),
every table of ``queries.TABLES``, ``filter_choices()`` and ``dashboard()`` as a whole: one untimed
warm-up call, then ``--runs`` (20) timed calls each; p50, p95 (nearest rank) and max in ms.

Output: a markdown table on stdout, and the whole result as JSON (``--out``; by default
``bench/results/analytics-<db>.json`` at scale 1.0, else ``results.json`` in the data folder).
``--keep`` keeps the data folder and database (``--reuse DIR`` then measures them again without
generating); otherwise both are removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchutil import code_fingerprint, machine, percentile, recreate_postgres  # noqa: E402

from bench.analytics import generate as gen  # noqa: E402

PINNED_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
YEAR = 2025
FILTER_SETS = ["all time", f"{YEAR}", f"{YEAR} + cost center", f"{YEAR} + team + category"]


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def filter_sets():
    """The four filter sets: the cost center is the first team's home, the team is the first
    team, the category its favourite (generate.py's shape), so each narrows to real data."""
    from gigbridge.analytics.queries import Filters
    from gigbridge.program.models import Workspace

    year = {"start": dt.date(YEAR, 1, 1), "end": dt.date(YEAR, 12, 31)}
    team = Workspace.objects.filter(name="Team 001").values_list("pk", flat=True).first()
    return {
        FILTER_SETS[0]: Filters(),
        FILTER_SETS[1]: Filters(**year),
        FILTER_SETS[2]: Filters(**year, cost_center=gen.cost_center_codes()[0][0]),
        FILTER_SETS[3]: Filters(**year, team=team, task_category=gen.TASK_CATEGORIES[0]),
    }


def measure(runs: int, progress=say) -> dict:
    """{filter set: {query: {p50_ms, p95_ms, max_ms, first_ms, rows}}} for every query."""
    from gigbridge.analytics import queries

    results: dict[str, dict] = {}
    for name, filters in filter_sets().items():
        calls = {
            slug: (lambda build=build, f=filters: build(f))
            for slug, build in queries.TABLES.items()
        }
        calls["filter_choices()"] = queries.filter_choices
        calls["dashboard()"] = lambda f=filters: queries.dashboard(f)
        results[name] = {"filters": filters.as_params(), "queries": {}}
        for slug, call in calls.items():
            started = time.perf_counter()
            answer = call()
            first = (time.perf_counter() - started) * 1000
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                call()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            results[name]["queries"][slug] = {
                "p50_ms": round(percentile(times, 50), 2),
                "p95_ms": round(percentile(times, 95), 2),
                "max_ms": round(times[-1], 2),
                "first_ms": round(first, 2),
                "runs": runs,
                "rows": _rows(answer),
            }
        slowest = max(results[name]["queries"].items(), key=lambda kv: kv[1]["p95_ms"])
        progress(f"measured '{name}': slowest p95 {slowest[1]['p95_ms']} ms ({slowest[0]})")
    return results


def _rows(answer) -> int:
    if isinstance(answer, list):
        return sum(len(t.rows) for t in answer)
    if isinstance(answer, dict):
        return sum(len(v) for v in answer.values())
    return len(answer.rows)


def markdown(label: str, results: dict) -> str:
    head = "| database | query | " + " | ".join(f"{n} p50 / p95 / max" for n in results) + " |"
    lines = [head, "| --- | --- |" + " ---: |" * len(results)]
    names = list(next(iter(results.values()))["queries"])
    for query in names:
        cells = []
        for fs in results.values():
            q = fs["queries"][query]
            over = " **over 1 s**" if q["p95_ms"] > 1000 else ""
            cells.append(f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f} / {q['max_ms']:.1f}{over}")
        lines.append(f"| {label} | {query} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def database_size() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_database_size(current_database())")
            total = cur.fetchone()[0]
            cur.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 12"
            )
            tables = dict(cur.fetchall())
            cur.execute("SELECT version()")
            version = cur.fetchone()[0].split(" on ")[0]
        else:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            name = connection.settings_dict["NAME"]
            total = sum(os.path.getsize(p) for p in (name, f"{name}-wal") if os.path.exists(p))
            tables = {}
            try:
                cur.execute(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 12"
                )
                tables = dict(cur.fetchall())
            except Exception as exc:  # dbstat is a compile-time option of SQLite
                tables = {"(per-table sizes unavailable)": str(exc)[:100]}
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
    return {"bytes": total, "gib": round(total / 2**30, 2), "largest": tables, "version": version}


def counts() -> dict:
    from django.db import connection

    tables = ["engagements_workrequest", "engagements_approvalstep", "engagements_engagement",
              "engagements_payment", "engagements_timeentry", "access_grant",
              "analytics_requestfact", "analytics_monthlycube", "analytics_approvalcycle",
              "analytics_adoption", "analytics_country"]  # fmt: skip
    out = {}
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (the list above)
            out[table] = cur.fetchone()[0]
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1 M engagements")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--postgres-db", default="gb_bench")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and database")
    parser.add_argument(
        "--reuse", type=Path, help="a kept data folder (and database) to go on with"
    )
    parser.add_argument(
        "--phases", default="generate,rebuild,measure",
        help="which of generate, rebuild, measure to run (comma-separated; default all)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 2 or not 1 <= args.runs <= 1000:
        parser.error("--scale must be in (0, 2] and --runs in 1..1000")
    phases = set(args.phases.split(","))
    # "audit" alone adds the audit events to a database generated before generate() wrote them
    if not phases or phases - {"generate", "audit", "rebuild", "measure"}:
        parser.error("--phases takes generate, rebuild and measure")
    if "generate" not in phases and not args.reuse:
        parser.error("without the generate phase, --reuse must name a kept data folder")

    if args.reuse:
        args.reuse.mkdir(parents=True, exist_ok=True)
    data_dir = args.reuse or Path(tempfile.mkdtemp(prefix=f"gb-bench-analytics-{args.db}-"))
    for key in [k for k in os.environ if k.startswith("GIGBRIDGE_")]:
        del os.environ[key]
    os.environ.update(
        GIGBRIDGE_DATA_DIR=str(data_dir),
        GIGBRIDGE_POLICY_FILE=str(data_dir / "program.yaml"),
        DJANGO_SETTINGS_MODULE="gigbridge.settings",
    )
    os.environ.pop("DATABASE_URL", None)
    if args.db == "postgres":
        if "generate" in phases:
            recreate_postgres(args.postgres_url, args.postgres_db)
        os.environ["DATABASE_URL"] = f"{args.postgres_url}/{args.postgres_db}"
    out = args.out or (
        ROOT / "bench" / "results" / f"analytics-{args.db}.json"
        if args.scale == 1.0
        else data_dir / "results.json"
    )
    earlier = json.loads(out.read_text()) if args.reuse and out.exists() else {}
    result = {
        **earlier, "database": args.db, "scale": args.scale, "seed": args.seed,
        "runs": args.runs, "machine": machine(), "code": code_fingerprint(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from gigbridge import clock
        from gigbridge.program.actions import activate_policy_file

        clock.set_now(PINNED_NOW)
        if "rebuild" in phases and "generate" not in phases:
            # A kept database: the analytics schema may have changed since it was made (while
            # the app was young its first migration did). Its tables hold only what rebuild
            # recomputes from the source tables, so they are made again from scratch.
            call_command("migrate", "analytics", "zero", interactive=False, verbosity=0)
            call_command("migrate", interactive=False, verbosity=0)
        if "generate" in phases:
            started = time.monotonic()
            call_command("migrate", interactive=False, verbosity=0)
            (data_dir / "program.yaml").write_text(gen.bench_policy_text())
            activate_policy_file(data_dir / "program.yaml", actor="bench")
            took = time.monotonic() - started
            say(f"migrated, bench policy active ({took:.1f} s); data in {data_dir}")
            started = time.monotonic()
            report = gen.generate(gen.Shape(scale=args.scale, seed=args.seed), progress=say)
            result["generation"] = {"seconds": round(time.monotonic() - started, 1),
                                    "tables": report.tables}  # fmt: skip
            say(f"generated in {result['generation']['seconds']} s")
        if "audit" in phases and "generate" not in phases:
            started = time.monotonic()
            report = gen.Report()
            writer = gen.Writer(say)
            gen.audit_events(writer, gen.make_put(writer, report, say))
            writer.finish()
            generation = result.setdefault("generation", {"seconds": 0, "tables": {}})
            generation["tables"].update(report.tables)
            generation["seconds"] = round(generation["seconds"] + time.monotonic() - started, 1)
        if "rebuild" in phases:
            from gigbridge.analytics.rebuild import rebuild_all

            started = time.monotonic()
            steps = rebuild_all(progress=say)
            result["rebuild"] = {"seconds": round(time.monotonic() - started, 1),
                                 "steps": _jsonable(steps)}  # fmt: skip
            say(f"rebuild_all: {result['rebuild']['seconds']} s")
        result["counts"] = counts()
        result["size"] = database_size()
        size = result["size"]
        say(f"database: {size['gib']} GiB ({size['version']}); {result['counts']}")
        if "measure" in phases:
            result["measured"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            result["load_average_at_measure"] = list(os.getloadavg())
            result["queries"] = measure(args.runs)
            table = markdown(result["size"]["version"], result["queries"])
            print(table)
            result["markdown"] = table
    finally:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        say(f"results in {out}")
        if not args.keep and not args.reuse:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(data_dir, ignore_errors=True)
            if args.db == "postgres":
                recreate_postgres(args.postgres_url, args.postgres_db, drop_only=True)
    return result


def _jsonable(value):
    try:
        json.dumps(value, default=str)
        return value
    except (TypeError, ValueError):
        return repr(value)


if __name__ == "__main__":
    main()
