"""Upwork sync benchmark: lag from a marketplace event to its effect in Gigbridge, and GraphQL
requests spent per synced contract, for 1,000 active contracts at 10 requests/second.

For each database it makes a fresh data folder (and, for PostgreSQL, a fresh database), runs
``gigbridge init --demo``, starts the sandbox (Microsoft 365 tenant and Upwork marketplace) on a
free loopback port and connects the product to the marketplace only (``marketplace_env``), with
the product's own Upwork limiter (``GIGBRIDGE_UPWORK_RATE``/``_BURST``) at ``--rate``. With the
marketplace's throttle off it makes ``--contracts`` (1,000) active contracts in the sandbox
(``/upwork/_sandbox/bulk-contracts``: hourly ones, plus ``--fixed`` fixed-price ones that get one
funded milestone each through the product's connector), and a Django child process writes the
matching engagements straight into the tables (active, with their Upwork organization and
contract ids, one freelancer each, a cost center and a budget). Then the marketplace's throttle
goes to ``--rate`` (10) requests a second, burst ``--burst`` (10), per client, and
``--workers`` (2) ``gigbridge worker`` processes and the ``gigbridge scheduler`` start: the
product polls exactly as in production (``schedule_sync``: one pass per organization and
5-minute window, run by a worker as an outbox job). Microsoft 365 stays unconnected on purpose:
with it, the access reconciler would grant (then re-check every 15 minutes) Microsoft 365 access
for all 1,000 active engagements on the same workers, which is ``onboarding.py``'s subject and
would starve the sync job here; without it, ``reconcile`` answers "no tenant connected".

Once the first full pass is in (every engagement's contract status read, every milestone
stored), ``--events`` (50) marketplace events are made through ``/upwork/_sandbox/act`` at
random moments spread over ``--event-seconds`` (300, one poll window), each on its own
contract, their real times recorded: hours logged, milestones submitted, contracts ended and
room messages. The child polls the database every ``--poll`` (0.5) seconds for each event's
effect: a ``TimeEntry`` row and a ``Payment`` row (hours), the milestone ``SUBMITTED`` with
``submitted_at`` (milestone), the engagement in ``offboarding`` (contract ended); a message has
no effect to look for (the poller reads no rooms of contracts). Lag = first seen - the event's
answer from the sandbox; p50, p95, max per effect.

GraphQL requests are counted from the workers' log (one ``upwork <Operation> <status> ...`` line
per attempt), split into passes (a pass ends with its one ``TransactionHistory`` call), and
cross-checked with the sandbox's access log (``POST /upwork/graphql``). Afterwards the workers
stop, the throttle goes off, and the marketplace is read back in full: time entries, payments,
every contract's status and milestones must equal Gigbridge's rows, nothing lost or doubled.

    .venv/bin/python bench/sync.py --db sqlite        # about 20 minutes
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import (  # noqa: E402  (this folder: the benchmarks' shared helpers)
    ROOT,
    access_log_statuses,
    child_env,
    code_fingerprint,
    django_setup,
    emit,
    free_port,
    last_json,
    machine,
    percentile,
    process,
    recreate_postgres,
    run,
    stop,
    tail,
    wait_for,
)

RESULTS = ROOT / "bench" / "results"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TITLE = "Bench sync"
MANAGER = "rita"
FREELANCER_DOMAIN = "freelancers.example"
KINDS = ("hours", "milestone", "end", "message")


# --- inside Django (child processes running this file) --------------------------------------


def setup(plan: dict) -> dict:
    """Engagements for the sandbox's contracts, written directly (no audit events, no jobs);
    one funded milestone on each fixed-price contract, made through the product's connector."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from gigbridge import clock
    from gigbridge.engagements.models import Engagement, WorkRequest
    from gigbridge.integrations.upwork import connection as upwork
    from gigbridge.integrations.upwork import operations as ops
    from gigbridge.people.models import Agreement, Person
    from gigbridge.program.models import CostCenter, PolicyVersion
    from gigbridge.sourcing.models import Sourcing

    org = plan["organization_id"]
    client = upwork.client(org)
    client.limiter = None  # the sandbox's throttle is off while seeding
    milestones = {}
    for contract_id in plan["fixed"]:
        made = ops.create_milestone(
            client, contract_id, description="Bench deliverable", amount=ops.money("500", "USD")
        )
        ops.activate_milestone(client, made.id, message="Funded by bench/sync.py")
        milestones[contract_id] = made.id

    users = {u.username: u for u in get_user_model().objects.all()}
    version = PolicyVersion.objects.order_by("-number").first()
    cost_center = CostCenter.objects.get(code=plan["cost_center"])
    now, today = clock.now(), clock.today()
    start = today - dt.timedelta(days=14)
    contracts = [(c, "hourly") for c in plan["hourly"]] + [(c, "fixed") for c in plan["fixed"]]
    with transaction.atomic():
        people = Person.objects.bulk_create(
            Person(
                kind=Person.Kind.FREELANCER,
                email=f"bench-sync-{i:04d}@{FREELANCER_DOMAIN}",
                display_name=f"Bench Freelancer {i:04d}",
                country="PT",
            )
            for i in range(len(contracts))
        )
        Agreement.objects.bulk_create(
            Agreement(person=p, name=n, signed_on=today - dt.timedelta(days=30))
            for p in people
            for n in ("NDA", "MSA")
        )
        requests = WorkRequest.objects.bulk_create(
            WorkRequest(
                requester=users[MANAGER],
                title=f"{TITLE} {i:04d}",
                description="Seeded by bench/sync.py.",
                deliverables=["Deliverable 1"],
                skills=["python"],
                task_category="development",
                worker_category="freelancer",
                cost_center=cost_center,
                pricing=pricing,
                budget=plan["budget"],
                currency="USD",
                start_date=start,
                end_date=start + dt.timedelta(days=120),
                data_classification="internal",
                sourcing="marketplace",
                freelancer_email=p.email,
                freelancer_country=p.country,
                state=WorkRequest.State.APPROVED,
                policy_version=version,
                submitted_at=now - dt.timedelta(days=20),
                decided_at=now - dt.timedelta(days=18),
                created_at=now - dt.timedelta(days=21),
                updated_at=now - dt.timedelta(days=18),
            )
            for i, ((_, pricing), p) in enumerate(zip(contracts, people, strict=True))
        )
        engagements = Engagement.objects.bulk_create(
            Engagement(
                request=r,
                freelancer=p,
                state=Engagement.State.ACTIVE,
                contract_start=start,
                contract_end=r.end_date,
                created_at=now,
                updated_at=now,
            )
            for r, p in zip(requests, people, strict=True)
        )
        Sourcing.objects.bulk_create(
            Sourcing(
                engagement=e,
                organization_id=org,
                posting_state=Sourcing.Posting.POSTED,
                contract_id=c,
                contract_status="",  # the first pass sets it: that is how we see it finish
                updated_at=now,
            )
            for e, (c, _) in zip(engagements, contracts, strict=True)
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        db_version = "SQLite " + connection.Database.sqlite_version
    return {"db_version": db_version, "engagements": len(engagements), "milestones": milestones}


def drive(spec: dict) -> dict:
    """Wait for the first full pass, make the events at their moments, watch for effects."""
    django_setup()
    import httpx

    from gigbridge.engagements.models import Engagement
    from gigbridge.jobs.models import WorkerHeartbeat
    from gigbridge.sourcing.models import Milestone, Payment, Sourcing, TimeEntry

    contracts = spec["contracts"]
    milestone_ids = list(spec["milestones"].values())
    if not wait_for(lambda: WorkerHeartbeat.objects.count() >= spec["workers"], 120):
        raise RuntimeError("the workers did not report a heartbeat within 120 s")

    def first_pass_done() -> bool:
        return Sourcing.objects.filter(
            contract_status="ACTIVE"
        ).count() >= contracts and Milestone.objects.filter(
            upwork_id__in=milestone_ids
        ).count() >= len(milestone_ids)

    t_wait = time.time()
    if not wait_for(first_pass_done, spec["first_pass_seconds"], step=1):
        seen = Sourcing.objects.filter(contract_status="ACTIVE").count()
        raise RuntimeError(
            f"the first full pass did not finish within {spec['first_pass_seconds']} s "
            f"({seen} of {contracts} contracts read)"
        )
    t_synced = time.time()
    emit("synced", t=t_synced, waited=t_synced - t_wait)

    context = ssl.create_default_context(cafile=spec["ca_cert"])
    http = httpx.Client(verify=context, timeout=30, auth=tuple(spec["tools_auth"]))
    events = [dict(e) for e in spec["events"]]
    for event in events:
        event["due"] = t_synced + event["offset"]
        event["effects"] = {}

    def effects_of(event: dict) -> dict[str, bool]:
        kind, target = event["kind"], event["target"]
        if kind == "hours":
            return {
                "time_entry": TimeEntry.objects.filter(
                    contract_id=target, date=event["answer"]["date"]
                ).exists(),
                "payment": Payment.objects.filter(contract_id=target).exists(),
            }
        if kind == "milestone":
            return {
                "milestone_submitted": Milestone.objects.filter(
                    upwork_id=target, state="SUBMITTED", submitted_at__isnull=False
                ).exists()
            }
        if kind == "end":
            return {
                "offboarding": Engagement.objects.filter(
                    sourcing__contract_id=target, state=Engagement.State.OFFBOARDING
                ).exists()
            }
        return {}  # a message: the poller reads no contract rooms

    wanted = {"hours": 2, "milestone": 1, "end": 1, "message": 0}
    deadline = time.monotonic() + spec["event_seconds"] + spec["max_lag_seconds"]
    pending = sorted(events, key=lambda e: e["due"])
    issued: list[dict] = []
    while time.monotonic() < deadline:
        now = time.time()
        while pending and pending[0]["due"] <= now:
            event = pending.pop(0)
            body = {"action": event["action"], **event["body"]}
            event["t_sent"] = time.time()
            answer = http.post(spec["act_url"], json=body)
            event["t_event"] = time.time()
            if answer.status_code != 200:
                raise RuntimeError(f"act {body}: HTTP {answer.status_code} {answer.text[:300]}")
            event["answer"] = answer.json()
            issued.append(event)
        seen_at = time.time()
        for event in issued:
            if len(event["effects"]) >= wanted[event["kind"]]:
                continue
            for name, present in effects_of(event).items():
                if present and name not in event["effects"]:
                    event["effects"][name] = seen_at
        if not pending and all(len(e["effects"]) >= wanted[e["kind"]] for e in issued):
            break
        time.sleep(spec["poll"])
    http.close()
    t_done = time.time()
    emit("effects", t=t_done)
    return {"t_synced": t_synced, "t_done": t_done, "events": issued + pending}


def check(spec: dict) -> dict:
    """Read the marketplace back (throttle off, no limiter) and compare with Gigbridge's rows."""
    django_setup()
    from django.db.models import Count

    from gigbridge.audit.actions import verify
    from gigbridge.engagements.models import Engagement
    from gigbridge.integrations.upwork import connection as upwork
    from gigbridge.integrations.upwork import operations as ops
    from gigbridge.jobs.models import OutboxJob
    from gigbridge.sourcing.models import Milestone, Payment, Sourcing, TimeEntry

    client = upwork.client(spec["organization_id"])
    client.limiter = None
    today = dt.date.today()
    start = today - dt.timedelta(days=60)
    # Hours: every entry of the organization, page by page.
    upwork_hours, after = {}, None
    organization_id = ops.acting_organization_id(client, spec["organization_id"])
    while True:
        variables = {
            "filter": {
                "organizationId_eq": organization_id,
                "timeReportDate_bt": {
                    "rangeStart": start.isoformat(),
                    "rangeEnd": (today + dt.timedelta(days=1)).isoformat(),
                },
            },
            "pagination": {"first": 100, **({"after": after} if after else {})},
        }
        data = client.execute(ops.CONTRACT_TIME_REPORT, variables, "ContractTimeReport")
        page = ops._page(ops.TimeReportEntry, data.get("contractTimeReport"), "ContractTimeReport")
        for item in page.items:
            key = (item.contract.id, (item.date_worked_on or "")[:10])
            upwork_hours[key] = f"{float(item.total_hours_worked or 0):.2f}"
        if not page.has_next_page or not page.items:
            break
        after = page.end_cursor
    ours_hours = {
        (c, d.isoformat()): f"{h:.2f}"
        for c, d, h in TimeEntry.objects.values_list("contract_id", "date", "hours")
    }
    # Payments: the organization's transactions on the bench's contracts.
    ours_contracts = set(Sourcing.objects.values_list("contract_id", flat=True))
    rows = ops.transaction_history(client, today - dt.timedelta(days=366), today)
    upwork_payments = {
        r.record_id for r in rows if r.related_assignment in ours_contracts and r.record_id
    }
    payment_rows = list(Payment.objects.values_list("transaction_id", flat=True))
    # Every contract: its status and its milestones.
    upwork_status, upwork_milestones = {}, {}
    for contract_id in sorted(ours_contracts):
        found = ops.contract_details(client, contract_id)
        upwork_status[contract_id] = (found.status or "").upper() if found else "MISSING"
        for m in found.milestones if found else []:
            upwork_milestones[m.id] = (m.state or "").upper()
    ours_state = dict(Sourcing.objects.values_list("contract_id", "engagement__state"))
    ours_milestones = dict(Milestone.objects.values_list("upwork_id", "state"))

    problems = []

    def diff(name: str, theirs, ours) -> dict:
        lost = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        changed = sorted(k for k in set(theirs) & set(ours) if theirs[k] != ours[k])
        if lost or extra or changed:
            problems.append(
                f"{name}: {len(lost)} lost {lost[:3]}, {len(extra)} extra {extra[:3]}, "
                f"{len(changed)} differ {changed[:3]}"
            )
        return {"upwork": len(theirs), "gigbridge": len(ours), "lost": len(lost),
                "extra": len(extra), "differ": len(changed)}  # fmt: skip

    ended = {c for c, s in upwork_status.items() if s == "ENDED"}
    offboarding = {c for c, s in ours_state.items() if s == Engagement.State.OFFBOARDING}
    duplicates = len(payment_rows) - len(set(payment_rows))
    if duplicates:
        problems.append(f"{duplicates} duplicated payments")
    if ended != offboarding:
        problems.append(
            f"ended on Upwork {len(ended)}, offboarding in Gigbridge {len(offboarding)}: "
            f"{sorted(ended ^ offboarding)[:5]}"
        )
    jobs = list(OutboxJob.objects.values("kind", "state", "attempts", "last_error"))
    dead = [j for j in jobs if j["state"] == OutboxJob.State.DEAD]
    problems += [f"dead outbox job {j['kind']}: {j['last_error'][:200]}" for j in dead]
    audit = verify()
    if not audit.ok:
        problems.append(f"audit chain broken: {audit}")
    return {
        "time_entries": diff("time entries", upwork_hours, ours_hours),
        "payments": diff("payments", {p: 1 for p in upwork_payments}, {p: 1 for p in payment_rows}),
        "milestones": diff("milestones", upwork_milestones, ours_milestones),
        "contracts_ended": {"upwork": len(ended), "gigbridge_offboarding": len(offboarding)},
        "engagement_states": dict(
            Engagement.objects.values_list("state").annotate(n=Count("id")).order_by()
        ),
        "sync_jobs": dict(
            collections.Counter(j["state"] for j in jobs if j["kind"] == "engagements.upwork_sync")
        ),
        "sync_job_attempts_max": max(
            (j["attempts"] for j in jobs if j["kind"] == "engagements.upwork_sync"), default=0
        ),
        "outbox_dead": len(dead),
        "audit_chain_ok": audit.ok,
        "problems": problems[:20],
        "problem_count": len(problems),
    }


# --- outside Django: processes, logs, report --------------------------------------------------

UPWORK_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO gigbridge\.integrations\.upwork "
    r"upwork (\w+) (\S+) (\d+)ms .* attempt=(\d+)"
)
SANDBOX_LINE = re.compile(r'^sandbox \S+ "POST /upwork/graphql" (\d{3}) ')


def upwork_lines(logs: list[Path]) -> list[tuple[float, str, str, int]]:
    """(epoch, operation, status, worker) of every Upwork attempt the workers logged."""
    lines = []
    for n, log in enumerate(logs):
        for line in log.read_text(errors="replace").splitlines():
            found = UPWORK_LINE.match(line)
            if found:
                when = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                lines.append((when, found[2], found[3], n))
    lines.sort()
    return lines


def passes(lines: list[tuple[float, str, str, int]], engagements: int) -> list[dict]:
    """Split the attempts into sync passes: each worker's pass ends with a TransactionHistory
    call answered 200 (the last call of ``sync_organization``). An unfinished tail is dropped.
    A pass covers every contract when it read them in batches (``ContractList``), else as many
    as it read one by one (``ContractDetails``, the poller before batching)."""
    out = []
    for worker in sorted({w for *_, w in lines}):
        current: list = []
        for when, op, status, w in lines:
            if w != worker:
                continue
            current.append((when, op, status))
            if op == "TransactionHistory" and status == "200":
                ops = collections.Counter(o for _, o, _ in current)
                statuses = collections.Counter(s for *_, s in current)
                listed = any(o == "ContractList" and s == "200" for _, o, s in current)
                one_by_one = sum(1 for _, o, s in current if o == "ContractDetails" and s == "200")
                contracts = engagements if listed else one_by_one
                out.append(
                    {
                        "worker": worker,
                        "start": current[0][0],
                        "end": when,
                        "seconds": round(when - current[0][0], 1),
                        "requests": len(current),
                        "contracts": contracts,
                        "per_contract": round(len(current) / max(1, contracts), 3),
                        "throttled_429": statuses.get("429", 0),
                        "by_operation": dict(ops),
                        "rps": round(len(current) / max(0.001, when - current[0][0]), 2),
                    }
                )
                current = []
    return sorted(out, key=lambda p: p["start"])


def _r(value, digits: int = 1):
    return None if value is None else round(value, digits)


def stats(values: list[float]) -> dict:
    values = sorted(values)
    return {
        "n": len(values),
        "p50": _r(percentile(values, 50)),
        "p95": _r(percentile(values, 95)),
        "max": _r(values[-1] if values else None),
        "min": _r(values[0] if values else None),
    }


class Run:
    """One database: its own data folder, database, sandbox, workers and scheduler."""

    def __init__(self, db: str, args) -> None:
        self.db, self.args = db, args
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"gigbridge-sync-{db}-"))
        self.logs = self.data_dir / "logs"
        self.logs.mkdir()
        self.port = free_port()
        database = f"{args.postgres_url}/{args.postgres_db}" if db == "postgres" else None
        self.env = child_env(self.data_dir, database, "http://127.0.0.1:8000")

    def say(self, text: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        print(f"[{stamp} {self.db}] {text}", flush=True)

    def cleanup(self) -> None:
        if self.db == "postgres" and not self.args.keep:
            try:
                recreate_postgres(self.args.postgres_url, self.args.postgres_db, drop_only=True)
            except Exception as exc:
                print(f"could not drop the database: {exc}", file=sys.stderr)
        if self.args.keep:
            self.say(f"kept the data folder {self.data_dir}")
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def child(self, *options: str, timeout: float) -> dict:
        return last_json(run([sys.executable, __file__, *options], self.env, timeout=timeout))

    def tools(self, path: str, body: dict) -> dict:
        import httpx

        context = ssl.create_default_context(cafile=self.info["ca_cert"])
        auth = (self.info["client_id"], self.info["client_secret"])
        with httpx.Client(verify=context, timeout=120) as http:
            answer = http.post(self.info["upwork"]["tools_url"] + path, json=body, auth=auth)
        if answer.status_code != 200:
            raise RuntimeError(f"POST {path}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def start_sandbox(self, stack: ExitStack) -> None:
        self.sandbox_log = self.logs / "sandbox.log"
        cmd = [sys.executable, "-m", "gigbridge.sandbox", "run", "--port", str(self.port)]
        cmd += ["--workers", str(self.args.sandbox_workers)]
        proc = stack.enter_context(process(cmd, self.env, self.sandbox_log))
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the sandbox exited {proc.returncode}:\n{tail(self.sandbox_log)}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the sandbox did not listen:\n{tail(self.sandbox_log)}"
                    ) from None
                time.sleep(0.2)
        info = [sys.executable, "-m", "gigbridge.sandbox", "info", "--json", "--port"]
        self.info = json.loads(run([*info, str(self.port)], self.env, 120))

    def plan_events(self, hourly: list[str], milestones: dict) -> list[dict]:
        args = self.args
        draw = random.Random(args.seed)
        counts = {"milestone": min(args.events * 2 // 10, len(milestones))}
        counts["end"] = args.events // 5
        counts["message"] = args.events // 10
        counts["hours"] = args.events - sum(counts.values())
        targets = draw.sample(hourly, counts["hours"] + counts["end"] + counts["message"])
        events = []
        for _ in range(counts["hours"]):
            hours = draw.choice(["2.50", "4.00", "6.50", "8.00"])
            body = {"contractId": targets.pop(), "hours": hours, "memo": "bench/sync.py"}
            events.append({"kind": "hours", "action": "log_hours", "body": body})
        for contract_id in draw.sample(sorted(milestones), counts["milestone"]):
            body = {"milestoneId": milestones[contract_id], "message": "Done (bench/sync.py)"}
            events.append({"kind": "milestone", "action": "submit_milestone", "body": body})
        for _ in range(counts["end"]):
            body = {"contractId": targets.pop(), "reason": "Job completed successfully"}
            events.append({"kind": "end", "action": "end_contract", "body": body})
        for _ in range(counts["message"]):
            body = {"contractId": targets.pop(), "message": "A note from bench/sync.py"}
            events.append({"kind": "message", "action": "message", "body": body})
        for event in events:
            event["target"] = event["body"].get("contractId") or event["body"].get("milestoneId")
            event["offset"] = round(draw.uniform(0, args.event_seconds), 3)
        return events

    def measure(self) -> dict:
        args = self.args
        from gigbridge.sandbox.connect import marketplace_env

        code = code_fingerprint()
        with ExitStack() as stack:
            stack.callback(self.cleanup)
            started = time.time()
            if self.db == "postgres":
                recreate_postgres(args.postgres_url, args.postgres_db)
            run([sys.executable, "-m", "gigbridge.cli", "init", "--demo"], self.env, timeout=300)
            self.start_sandbox(stack)
            info = self.info
            self.env.update(marketplace_env(info))
            self.env.update(
                GIGBRIDGE_UPWORK_RATE=str(args.rate), GIGBRIDGE_UPWORK_BURST=str(args.burst)
            )
            org = info["upwork"]["default_tenant_id"]
            self.tools("/control", {"throttle": None})
            fixed_count = min(args.fixed, args.contracts)
            hourly = self.tools(
                "/bulk-contracts",
                {"count": args.contracts - fixed_count, "organizationId": org, "kind": "HOURLY"},
            )["contractIds"]
            fixed = (
                self.tools(
                    "/bulk-contracts",
                    {"count": fixed_count, "organizationId": org, "kind": "FIXED"},
                )["contractIds"]
                if fixed_count
                else []
            )
            plan = {"organization_id": org, "hourly": hourly, "fixed": fixed,
                    "cost_center": args.cost_center, "budget": str(args.budget)}  # fmt: skip
            plan_path = self.data_dir / "plan.json"
            plan_path.write_text(json.dumps(plan))
            facts = self.child("--internal-setup", str(plan_path), timeout=900)
            dials = self.tools("/control", {"throttle": {"rate": args.rate, "burst": args.burst}})
            self.say(
                f"{facts['db_version']}: {facts['engagements']} engagements on "
                f"{len(hourly)} hourly + {len(fixed)} fixed-price contracts, "
                f"{len(facts['milestones'])} milestones, ready in {time.time() - started:.0f} s; "
                f"sandbox dials {json.dumps(dials)}"
            )
            events = self.plan_events(hourly, facts["milestones"])
            spec = {
                "contracts": facts["engagements"],
                "milestones": facts["milestones"],
                "workers": args.workers,
                "first_pass_seconds": args.first_pass_seconds,
                "event_seconds": args.event_seconds,
                "max_lag_seconds": args.max_lag_seconds,
                "poll": args.poll,
                "events": events,
                "act_url": info["upwork"]["tools_url"] + "/act",
                "tools_auth": [info["client_id"], info["client_secret"]],
                "ca_cert": info["ca_cert"],
            }
            spec_path = self.data_dir / "drive.json"
            spec_path.write_text(json.dumps(spec))
            gigbridge = [sys.executable, "-m", "gigbridge.cli"]
            procs, worker_logs = [], []
            for n in range(args.workers):
                worker_logs.append(self.logs / f"worker-{n}.log")
                cmd = [*gigbridge, "worker", "--interval", str(args.worker_interval)]
                procs.append(stack.enter_context(process(cmd, self.env, worker_logs[-1])))
            cmd = [*gigbridge, "scheduler", "--interval", str(args.scheduler_interval)]
            procs.append(stack.enter_context(process(cmd, self.env, self.logs / "scheduler.log")))
            t_workers = time.time()
            self.say(f"{args.workers} workers and the scheduler started; waiting for a full pass")
            timings, offsets = self.drive(spec_path)
            for proc in procs:  # a quiet product for the read-back
                stop(proc)
            self.tools("/control", {"throttle": None})
            checks = self.child(
                "--internal-check", json.dumps({"organization_id": org}), timeout=900
            )
            for path in worker_logs:
                text = path.read_text(errors="replace")
                if "Traceback" in text:
                    self.say(f"traceback in {path.name}:\n{text[text.index('Traceback') :][:3000]}")
            lines = upwork_lines(worker_logs)
            measured = [x for x in lines if x[0] <= timings["t_done"] + 0.001]
            served = access_log_statuses(
                self.sandbox_log, SANDBOX_LINE, 1, offsets["start"], offsets["effects"]
            )
        return self.summarise(
            facts, timings, lines, measured, served, checks, code, dials, t_workers
        )

    def drive(self, spec_path: Path) -> tuple[dict, dict]:
        args = self.args
        cmd = [sys.executable, __file__, "--internal-drive", str(spec_path)]
        offsets = {"start": self.sandbox_log.stat().st_size}
        err_path = self.logs / "drive.err"
        limit = args.first_pass_seconds + args.event_seconds + args.max_lag_seconds + 300
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                cmd, env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True,
                start_new_session=True,
            )  # fmt: skip
            try:
                result = None
                for line in proc.stdout:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if message.get("event") == "synced":
                        offsets["synced"] = self.sandbox_log.stat().st_size
                        self.say(
                            f"first full pass in after {message['waited']:.0f} s; making "
                            f"{len(json.loads(spec_path.read_text())['events'])} events over "
                            f"{args.event_seconds:g} s"
                        )
                    elif message.get("event") == "effects":
                        offsets["effects"] = self.sandbox_log.stat().st_size
                        self.say("effects watched; reading the marketplace back")
                    elif "events" in message:
                        result = message
                proc.wait(timeout=limit)
            finally:
                stop(proc)
        if proc.returncode != 0 or result is None:
            raise RuntimeError(f"the drive step failed ({proc.returncode}):\n{tail(err_path)}")
        return result, offsets

    def summarise(self, facts, timings, lines, measured, served, checks, code, dials, t_workers):
        args = self.args
        events = timings["events"]
        lags: dict[str, list[float]] = collections.defaultdict(list)
        missing: dict[str, int] = collections.Counter()
        wanted = {"hours": ["time_entry", "payment"], "milestone": ["milestone_submitted"],
                  "end": ["offboarding"], "message": []}  # fmt: skip
        for event in events:
            for name in wanted[event["kind"]]:
                seen = event.get("effects", {}).get(name)
                if seen is None or "t_event" not in event:
                    missing[name] += 1
                else:
                    lags[name].append(seen - event["t_event"])
        every = [v for values in lags.values() for v in values]
        # The first effect of each event (hours: the time entry; payments lag behind it).
        first = [
            min(e["effects"].values()) - e["t_event"]
            for e in events
            if e.get("effects") and "t_event" in e
        ]
        all_passes = passes(lines, facts["engagements"])
        full = [p for p in all_passes if p["contracts"] >= facts["engagements"] * 0.9]
        statuses = collections.Counter(s for _, _, s, _ in measured)
        ops = collections.Counter(o for _, o, _, _ in measured)
        per_contract = [p["per_contract"] for p in full]
        return {
            "db": self.db,
            "db_version": facts["db_version"],
            "code_sha256": code,
            "contracts": facts["engagements"],
            "fixed_price_with_milestone": len(facts["milestones"]),
            "events": collections.Counter(e["kind"] for e in events),
            "events_made": sum(1 for e in events if "t_event" in e),
            "lag_s": {name: stats(values) for name, values in sorted(lags.items())},
            "lag_s_first_effect": stats(first),
            "lag_s_all_effects": stats(every),
            "effects_not_seen": dict(missing),
            "first_pass_wait_s": _r(timings["t_synced"] - t_workers),
            "measured_s": _r(timings["t_done"] - t_workers),
            "passes": all_passes,
            "full_passes": len(full),
            "requests_per_contract_per_pass": {
                "min": min(per_contract, default=None),
                "max": max(per_contract, default=None),
            },
            "pass_seconds": stats([p["seconds"] for p in full]),
            "pass_rps": stats([p["rps"] for p in full]),
            "graphql": {
                "requests": len(measured),
                "by_status": dict(statuses),
                "throttled_429": statuses.get("429", 0),
                "by_operation": dict(ops),
            },
            "sandbox_served": served,
            "checks": checks,
            "ok": not missing and checks["problem_count"] == 0,
            "sandbox_dials": dials,
            "params": {
                "rate": args.rate,
                "burst": args.burst,
                "events": args.events,
                "event_seconds": args.event_seconds,
                "poll": args.poll,
                "workers": args.workers,
                "worker_interval": args.worker_interval,
                "scheduler_interval": args.scheduler_interval,
                "sandbox_workers": args.sandbox_workers,
                "seed": args.seed,
            },
            "event_log": [
                {
                    "kind": e["kind"],
                    "target": e["target"],
                    "offset": e["offset"],
                    "t_event": e.get("t_event"),
                    "lag": {k: round(v - e["t_event"], 2) for k, v in e.get("effects", {}).items()}
                    if "t_event" in e
                    else {},
                }
                for e in events
            ],  # fmt: skip
            "machine": machine(),
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def table(results: list[dict]) -> str:
    rows = [
        "| database | contracts | events | effect | n | p50 s | p95 s | max s |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for name, s in [
            *r["lag_s"].items(),
            ("any (first effect of each)", r["lag_s_first_effect"]),
        ]:
            rows.append(
                f"| {r['db_version']} | {r['contracts']} | {r['events_made']} | {name} | "
                f"{s['n']} | {s['p50']} | {s['p95']} | {s['max']} |"
            )
    rows += [
        "",
        "| database | full passes | requests per contract per pass | pass s (p50) | req/s in pass "
        "| GraphQL requests | 429s | sandbox saw | checks |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        per = r["requests_per_contract_per_pass"]
        checks = "ok" if r["ok"] else f"{r['checks']['problem_count']} problems"
        rows.append(
            f"| {r['db_version']} | {r['full_passes']} | {per['min']}-{per['max']} | "
            f"{r['pass_seconds']['p50']} | {r['pass_rps']['p50']} | {r['graphql']['requests']} | "
            f"{r['graphql']['throttled_429']} | {r['sandbox_served']['requests']} "
            f"({r['sandbox_served']['throttled_429']} x 429) | {checks} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--contracts", type=int, default=1000, help="active contracts synced")
    parser.add_argument(
        "--fixed", type=int, default=20, help="of them fixed-price, one funded milestone each"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=50,
        help="marketplace events: 20%% milestones submitted (at most --fixed), 20%% contracts "
        "ended, 10%% room messages, the rest hours logged",
    )
    parser.add_argument(
        "--event-seconds", type=float, default=300, help="events spread over this many seconds"
    )
    parser.add_argument("--rate", type=float, default=10, help="requests a second, both sides")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gigbridge worker processes")
    parser.add_argument("--worker-interval", type=float, default=0.5, help="idle poll (s)")
    parser.add_argument(
        "--scheduler-interval", type=float, default=30, help="scheduler tick (s), the default"
    )
    parser.add_argument("--sandbox-workers", type=int, default=4, help="sandbox gunicorn workers")
    parser.add_argument("--poll", type=float, default=0.5, help="effect polling (s)")
    parser.add_argument(
        "--first-pass-seconds", type=float, default=900, help="wait at most this long for it"
    )
    parser.add_argument(
        "--max-lag-seconds",
        type=float,
        default=900,
        help="after the last event, wait at most this long for the effects",
    )
    parser.add_argument("--cost-center", default="CC-ENG")
    parser.add_argument("--budget", type=int, default=50000, help="each engagement's, USD")
    parser.add_argument("--seed", type=int, default=4, help="random seed of the event plan")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--postgres-db", default="gigbridge_bench_sync")
    parser.add_argument("--keep", action="store_true", help="keep data folders and database")
    parser.add_argument("--internal-setup", help=argparse.SUPPRESS)
    parser.add_argument("--internal-drive", help=argparse.SUPPRESS)
    parser.add_argument("--internal-check", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.internal_setup:
        print(json.dumps(setup(json.loads(Path(args.internal_setup).read_text()))))
        return 0
    if args.internal_drive:
        print(json.dumps(drive(json.loads(Path(args.internal_drive).read_text()))), flush=True)
        return 0
    if args.internal_check:
        print(json.dumps(check(json.loads(args.internal_check))))
        return 0

    if args.contracts < 10 or args.contracts > 5000 or args.events < 5:
        parser.error("--contracts must be 10 to 5000 and --events at least 5")
    if args.events * 9 // 10 > args.contracts - args.fixed:
        parser.error("too many events for the hourly contracts")
    if args.db != "sqlite":
        if urlsplit(args.postgres_url).hostname not in LOOPBACK:
            parser.error("--postgres-url must point at a loopback address")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.postgres_db):
            parser.error("--postgres-db must be a plain lower-case identifier")
    now = dt.datetime.now(dt.UTC)
    if now.weekday() < 5 and 17 <= now.hour < 18:
        print(
            "note: the sandbox's freelancers log a day's hours at 18:00 UTC on weekdays; a run "
            "across it adds about one time entry per hourly contract (the checks still hold)",
            file=sys.stderr,
        )

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.path.insert(0, str(ROOT))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for db in dbs:
        result = Run(db, args).measure()
        results.append(result)
        (RESULTS / f"sync-{db}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(table([result]), flush=True)
    print()
    print(
        f"marketplace throttle {args.rate:g}/s burst {args.burst}, product paced the same; "
        f"{args.workers} workers, {os.cpu_count()} CPUs"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
