"""API benchmark: create a work request, list the approvals inbox, with N requests seeded.

For each database (SQLite, PostgreSQL or both) it makes a fresh data folder and database, runs
``gigbridge init --demo``, seeds ``--seed`` work requests straight into the tables (``--inbox`` of
them waiting for max's approval) and starts ``gigbridge web`` (gunicorn) on a free loopback port.
Then it times, with ``--concurrency`` client threads:

    create   POST /api/v1/requests                 as rita (a draft in CC-ENG)
    list     GET  /api/v1/approvals?limit=50       as max (his inbox of pending steps)

The databases are measured in interleaved rounds, so background load on the machine hits them
alike and their ratio means something. It prints a markdown table and writes
``bench/results/<db>.json``. See bench/README.md.

    .venv/bin/python bench/api_bench.py --db both
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import (  # noqa: E402  (this folder: the benchmarks' shared helpers)
    ROOT,
    child_env,
    code_fingerprint,
    free_port,
    machine,
    percentile,
    recreate_postgres,
    run,
    tail,
)

RESULTS = ROOT / "bench" / "results"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# The seeded requests: ``--inbox`` of them wait for max (a pending manager step each: his inbox);
# the rest are spread over the other states by these shares. Decided and withdrawn ones start in
# an earlier fiscal year; open ones start soon with small budgets, so the budget they commit stays
# far below every cost center's annual budget and the benchmark's creates pass the budget check.
REST_MIX = {"approved": 0.60, "rejected": 0.10, "withdrawn": 0.05, "draft": 0.25}
OPEN_BUDGET = "50.00"
REQUESTERS = ["rita", "carol", "dan"]  # requesters whose manager is max
COST_CENTERS = ["CC-MKT", "CC-ENG", "CC-DATA", "CC-LOC", "CC-OPS"]


# --- seeding (runs in a child process with Django set up) -----------------------------------


def seed(total: int, inbox: int, rng_seed: int) -> dict:
    """Bulk-insert ``total`` work requests (and their steps and engagements); make API tokens;
    count the SQL queries one call of each benchmarked endpoint makes. Returns facts as a dict."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gigbridge import clock
    from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
    from gigbridge.people.actions import create_api_token
    from gigbridge.program.models import CostCenter, PolicyVersion

    rng = random.Random(rng_seed)
    users = {u.username: u for u in get_user_model().objects.all()}
    cost_centers = {cc.code: cc for cc in CostCenter.objects.all()}
    version = PolicyVersion.objects.order_by("-number").first()
    now, today = clock.now(), clock.today()
    max_, paula = users["max"], users["paula"]

    states = ["in_approval"] * inbox
    for state, share in REST_MIX.items():
        states += [state] * round((total - inbox) * share)
    states = (states + ["draft"] * total)[:total]
    rng.shuffle(states)

    requests = []
    for i, state in enumerate(states):
        is_open = state in ("draft", "in_approval")
        if is_open:
            start = today + dt.timedelta(days=rng.randint(14, 60))
            budget = OPEN_BUDGET
            created = now - dt.timedelta(hours=rng.randint(1, 24 * 20))
        else:  # an earlier fiscal year: commits nothing this year
            start = today - dt.timedelta(days=rng.randint(400, 760))
            budget = f"{rng.randint(10, 400) * 100}.00"
            created = dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC) - dt.timedelta(
                days=rng.randint(10, 30)
            )
        submitted = None if state == "draft" else created + dt.timedelta(hours=1)
        decided = created + dt.timedelta(days=2) if state in ("approved", "rejected") else None
        requests.append(
            WorkRequest(
                requester=users[REQUESTERS[i % len(REQUESTERS)]],
                title=f"Seeded request {i}: {rng.choice(['logo', 'API client', 'report'])}",
                description="Seeded by bench/api_bench.py. " * 4,
                deliverables=["First deliverable", "Second deliverable"],
                skills=["python", "figma"],
                task_category=rng.choice(["design", "software-development", "content"]),
                worker_category="freelancer",
                cost_center=cost_centers[COST_CENTERS[i % len(COST_CENTERS)]],
                pricing="fixed",
                budget=budget,
                currency="EUR",
                start_date=start,
                end_date=start + dt.timedelta(days=rng.randint(10, 90)),
                data_classification="internal",
                sourcing="marketplace",
                state=state,
                policy_version=None if state == "draft" else version,
                submitted_at=submitted,
                decided_at=decided,
                created_at=created,
                updated_at=decided or submitted or created,
            )
        )

    with transaction.atomic():
        requests = WorkRequest.objects.bulk_create(requests, batch_size=500)
        steps, engagements = [], []
        for req in requests:
            if req.state == "draft":
                continue
            step = ApprovalStep(
                request=req,
                round=1,
                stage=1,
                role="manager",
                rule_id="manager",
                policy_version=version,
                assignee=max_,
                activated_at=req.submitted_at,
            )
            if req.state == "in_approval":
                step.state = ApprovalStep.State.PENDING
            elif req.state == "withdrawn":
                step.state = ApprovalStep.State.CANCELLED
            else:
                step.state = req.state  # approved | rejected
                step.decided_by, step.decided_at = max_, req.decided_at
                step.comment = "" if req.state == "approved" else "Not this quarter."
            steps.append(step)
            if req.state == "approved":
                if float(req.budget) >= 5000:
                    steps.append(
                        ApprovalStep(
                            request=req,
                            round=1,
                            stage=1,
                            role="procurement",
                            rule_id="procurement-over-5k",
                            policy_version=version,
                            state=ApprovalStep.State.APPROVED,
                            activated_at=req.submitted_at,
                            decided_by=paula,
                            decided_at=req.decided_at,
                        )
                    )
                engagements.append(
                    Engagement(
                        request=req,
                        state=Engagement.State.CLOSED,
                        contract_start=req.start_date,
                        contract_end=req.end_date,
                        created_at=req.decided_at,
                        updated_at=req.decided_at,
                    )
                )
        ApprovalStep.objects.bulk_create(steps, batch_size=500)
        Engagement.objects.bulk_create(engagements, batch_size=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    tokens = {name: create_api_token(users[name], "bench")[1] for name in ("rita", "max")}
    queries = {}
    rita = Client(headers={"authorization": f"Bearer {tokens['rita']}"})
    max_client = Client(headers={"authorization": f"Bearer {tokens['max']}"})
    with CaptureQueriesContext(connection) as ctx:
        response = rita.post("/api/v1/requests", create_body(0), content_type="application/json")
    assert response.status_code == 201, response.content[:500]
    queries["create"] = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        response = max_client.get("/api/v1/approvals?limit=50")
    assert response.status_code == 200, response.content[:500]
    queries["list"] = len(ctx.captured_queries)
    inbox = response.json()["count"]

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        db_version = "SQLite " + connection.Database.sqlite_version
    return {
        "tokens": tokens,
        "db_version": db_version,
        "seeded": {
            "work_requests": WorkRequest.objects.count(),
            "approval_steps": ApprovalStep.objects.count(),
            "engagements": Engagement.objects.count(),
            "by_state": {s: states.count(s) for s in ["in_approval", *REST_MIX]},
            "max_inbox": inbox,
        },
        "sql_queries_per_call": queries,
    }


def create_body(i: int) -> dict:
    """A valid draft (the API's field names), like ``request_payload()`` in conftest.py."""
    start = dt.date.today() + dt.timedelta(days=14)
    return {
        "title": f"Benchmark request {i}",
        "description": "A service client for the billing API.",
        "deliverables": ["Client library", "Docs"],
        "skills": ["python", "httpx"],
        "task_category": "software-development",
        "worker_category": "freelancer",
        "cost_center": "CC-ENG",
        "pricing": "fixed",
        "budget": "1000.00",
        "currency": "EUR",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=60)).isoformat(),
        "data_classification": "internal",
        "sourcing": "marketplace",
    }


# --- one database: prepare, serve, measure ---------------------------------------------------


@contextmanager
def server(env: dict, port: int, workers: int, log_path: Path):
    """``gigbridge web`` in its own process group; stopped on the way out, whatever happens."""
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gigbridge.cli", "web", "--port", str(port)]
        + ["--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def wait_until_answering(base: str, proc: subprocess.Popen, log_path: Path, limit=90.0) -> None:
    """Any HTTP answer from /healthz will do (503 is expected: no worker runs)."""
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gigbridge web exited {proc.returncode}:\n{tail(log_path)}")
        try:
            httpx.get(f"{base}/healthz", timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.25)
    raise RuntimeError(f"gigbridge web did not answer within {limit:.0f} s:\n{tail(log_path)}")


class Sample:
    """The timed calls of one scenario on one database, gathered over several rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.wall = 0.0
        self.requested = 0

    def summary(self) -> dict:
        ms = sorted(v * 1000 for v in self.latencies)
        return {
            "requested": self.requested,
            "count": len(ms),
            "errors": len(self.errors),
            "first_errors": sorted(set(self.errors))[:5],
            "stopped_by_time_limit": len(ms) < self.requested,
            "wall_seconds": round(self.wall, 3),
            "rps": round(len(ms) / self.wall, 2) if self.wall else None,
            **{f"p{p}_ms": round(percentile(ms, p), 1) if ms else None for p in (50, 95, 99)},
            "max_ms": round(ms[-1], 1) if ms else None,
        }


def measure(call, indexes: range, concurrency: int, budget: float, sample: Sample) -> None:
    """Run ``call(i)`` for each index on ``concurrency`` threads, adding to ``sample``. ``call``
    raises or returns False for a wrong answer. Calls not started within ``budget`` s are
    skipped (so a pathologically slow endpoint cannot stretch the run without bound)."""
    lock = threading.Lock()
    deadline = time.monotonic() + budget

    def timed(i: int) -> None:
        if time.monotonic() > deadline:
            return
        started = time.perf_counter()
        try:
            ok, detail = call(i), ""
        except Exception as exc:  # a failed call is a data point, not the end of the run
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        with lock:
            sample.latencies.append(elapsed)
            if not ok:
                sample.errors.append(detail or "unexpected answer")

    started = time.perf_counter()
    pool = ThreadPoolExecutor(concurrency)
    try:
        list(pool.map(timed, indexes))
    finally:  # on Ctrl-C, drop the queued calls and wait only for those in flight
        pool.shutdown(wait=True, cancel_futures=True)
    sample.wall += time.perf_counter() - started
    sample.requested += len(indexes)


class Target:
    """One database under test: its data folder and database, seeded data, server and clients."""

    def __init__(self, db: str, args) -> None:
        self.db, self.args = db, args
        self.code = code_fingerprint()  # before the server starts: the code it loads
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"gigbridge-bench-{db}-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data_dir / "web.log"
        self.proc: subprocess.Popen | None = None
        self.facts: dict = {}
        self.local = threading.local()
        database = f"{args.postgres_url}/{args.postgres_db}" if db == "postgres" else None
        self.env = child_env(self.data_dir, database, self.base)

    def prepare(self) -> None:
        """Fresh database, ``gigbridge init --demo``, the seed, API tokens."""
        started = time.perf_counter()
        if self.db == "postgres":
            recreate_postgres(self.args.postgres_url, self.args.postgres_db)
        run([sys.executable, "-m", "gigbridge.cli", "init", "--demo"], self.env, timeout=300)
        seed_cmd = [sys.executable, __file__, "--internal-seed", str(self.args.seed)]
        out = run([*seed_cmd, "--inbox", str(self.args.inbox)], self.env, timeout=900)
        self.facts = json.loads(out.strip().splitlines()[-1])
        self.facts["prepare_seconds"] = round(time.perf_counter() - started, 1)
        print(
            f"[{self.db}] {self.facts['db_version']}: seeded "
            f"{self.facts['seeded']['work_requests']} requests (max's inbox "
            f"{self.facts['seeded']['max_inbox']}) in {self.facts['prepare_seconds']} s; "
            f"SQL queries per call {self.facts['sql_queries_per_call']}",
            flush=True,
        )

    @contextmanager
    def serving(self):
        with server(self.env, self.port, self.args.workers, self.log_path) as proc:
            self.proc = proc
            wait_until_answering(self.base, proc, self.log_path)
            yield self

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"[{self.db}] gigbridge web died:\n{tail(self.log_path)}")

    def client(self, user: str):
        import httpx

        clients = self.local.__dict__.setdefault("clients", {})
        if user not in clients:
            clients[user] = httpx.Client(
                base_url=self.base,
                timeout=self.args.timeout,
                headers={"authorization": f"Bearer {self.facts['tokens'][user]}"},
            )
        return clients[user]

    def call(self, scenario: str, i: int) -> bool:
        if scenario == "create":
            response = self.client("rita").post("/api/v1/requests", json=create_body(i))
            expected = 201
        else:
            response = self.client("max").get("/api/v1/approvals", params={"limit": 50})
            expected = 200
        if response.status_code != expected:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        if scenario == "list":
            return len(response.json()["items"]) == min(50, self.facts["seeded"]["max_inbox"])
        return True

    def cleanup(self) -> None:
        if self.db == "postgres" and not self.args.keep:
            try:
                recreate_postgres(self.args.postgres_url, self.args.postgres_db, drop_only=True)
            except Exception as exc:  # still remove the data folder; the error is reported
                print(f"[{self.db}] could not drop the database: {exc}", file=sys.stderr)
        if self.args.keep:
            print(f"[{self.db}] kept the data folder {self.data_dir}")
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)


SCENARIOS = ["create", "list"]


def bench(dbs: list[str], args) -> list[dict]:
    """Prepare every database, serve them all, then time the scenarios in interleaved rounds
    (round by round, database by database) so background load hits every database alike."""
    targets = [Target(db, args) for db in dbs]
    samples = {(t.db, s): Sample() for t in targets for s in SCENARIOS}
    with ExitStack() as stack:
        for target in targets:
            stack.callback(target.cleanup)
        for target in targets:
            target.prepare()
        for target in targets:
            stack.enter_context(target.serving())
        for target in targets:  # warm-up: connections, worker start-up, caches; not counted
            for scenario in SCENARIOS:
                measure(
                    partial(target.call, scenario),
                    range(-args.warmup, 0),
                    args.concurrency,
                    args.max_seconds,
                    Sample(),
                )
        rounds = max(1, min(args.rounds, args.requests))
        bounds = [args.requests * r // rounds for r in range(rounds + 1)]
        for r in range(rounds):
            order = targets if r % 2 == 0 else targets[::-1]
            for scenario in SCENARIOS:
                for target in order:
                    sample = samples[(target.db, scenario)]
                    measure(
                        partial(target.call, scenario),
                        range(bounds[r], bounds[r + 1]),
                        args.concurrency,
                        max(0.0, args.max_seconds - sample.wall),
                        sample,
                    )
                    target.check_alive()
            print(f"round {r + 1}/{rounds} done", flush=True)
    results = []
    for target in targets:
        facts = {k: v for k, v in target.facts.items() if k != "tokens"}
        results.append(
            {
                "db": target.db,
                "code_sha256": target.code,
                **facts,
                "machine": machine(),
                "params": {
                    "seed": args.seed,
                    "inbox": args.inbox,
                    "requests": args.requests,
                    "rounds": rounds,
                    "concurrency": args.concurrency,
                    "workers": args.workers,
                    "warmup": args.warmup,
                    "interleaved_with": [t.db for t in targets if t is not target],
                },
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "scenarios": {s: samples[(target.db, s)].summary() for s in SCENARIOS},
            }
        )
    return results


# --- report ----------------------------------------------------------------------------------

LABELS = {
    "create": "create request (POST /api/v1/requests)",
    "list": "list approvals (GET /api/v1/approvals?limit=50)",
}


def ratios(base: dict, other: dict) -> dict:
    """``other`` / ``base`` for throughput and p95, per scenario."""
    out = {}
    for name in SCENARIOS:
        a, b = base["scenarios"][name], other["scenarios"][name]
        out[name] = {
            key: round(b[key] / a[key], 3) if a[key] and b[key] else None
            for key in ("rps", "p95_ms")
        }
    return out


def table(results: list[dict]) -> str:
    rows = [
        "| database | scenario | count | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for name, s in result["scenarios"].items():
            count = f"{s['count']}" + (" (time limit)" if s["stopped_by_time_limit"] else "")
            rows.append(
                f"| {result['db_version']} | {LABELS[name]} | {count} | {s['errors']} | "
                f"{s['rps']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} |"
            )
    by_db = {r["db"]: r for r in results}
    if {"sqlite", "postgres"} <= by_db.keys():
        rows.append("")
        rows.append("PostgreSQL / SQLite, measured interleaved in the same run:")
        for name, ratio in ratios(by_db["sqlite"], by_db["postgres"]).items():
            rows.append(f"- {name}: req/s x{ratio['rps']:.2f}, p95 x{ratio['p95_ms']:.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=10_000, help="work requests to seed")
    parser.add_argument(
        "--inbox", type=int, default=500, help="seeded requests pending with max (his inbox)"
    )
    parser.add_argument("--requests", type=int, default=500, help="timed calls per scenario")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleave the databases in this many rounds"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per scenario")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=300,
        help="time budget per scenario and database (calls not started by then are skipped)",
    )
    parser.add_argument("--timeout", type=float, default=60, help="per-call HTTP timeout (s)")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--postgres-db", default="gigbridge_bench")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and database")
    parser.add_argument("--internal-seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.internal_seed is not None:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(seed(args.internal_seed, args.inbox, rng_seed=1)))
        return 0
    pg = urlsplit(args.postgres_url)
    if args.db != "sqlite":
        if pg.hostname not in LOOPBACK:
            parser.error("--postgres-url must point at a loopback address")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.postgres_db):
            parser.error("--postgres-db must be a plain lower-case identifier")
    if min(args.seed, args.requests, args.concurrency, args.workers) < 1:
        parser.error("--seed, --requests, --concurrency and --workers must be at least 1")
    if not 0 <= args.inbox <= args.seed:
        parser.error("--inbox must be between 0 and --seed")

    # SIGTERM unwinds like Ctrl-C, so the servers are stopped and the databases dropped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = bench(dbs, args)
    by_db = {r["db"]: r for r in results}
    if {"sqlite", "postgres"} <= by_db.keys():
        by_db["postgres"]["ratio_to_sqlite"] = ratios(by_db["sqlite"], by_db["postgres"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    for result in results:
        (RESULTS / f"{result['db']}.json").write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(
        f"{args.seed} requests seeded ({args.inbox} in max's inbox), {args.requests} calls per "
        f"scenario, {args.concurrency} client threads, {args.workers} gunicorn workers, "
        f"{os.cpu_count()} CPUs"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
