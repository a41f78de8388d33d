"""Onboarding benchmark: time from contract start to every grant in place, against a slow,
throttled sandbox tenant.

For each scenario it makes a fresh data folder (and, for PostgreSQL, a fresh database), runs
``gigbridge init --demo``, starts the sandbox tenant on a free loopback port with its dials at
``--latency-ms`` (50) per Graph call and a throttle of ``--rate`` (20) requests a second, burst
``--burst`` (20), and connects the product to it (``product_env``) with the product's own shared
rate limit at the same pace. A Django child process makes one Team with a Planner plan and
bucket and a folder in the Team's drive, a ``Workspace`` row, and N freelancers (NDA and MSA
signed) with approved direct-sourcing engagements in ``sourcing``. Then ``--workers`` (4)
``gigbridge worker`` processes and one ``gigbridge scheduler`` start, and the engagements are
moved to ``contracted`` with ``transition_engagement`` (which queues the access reconciler):

    1     one engagement at a time, ``--single-repeats`` (20) times: the latency of one alone
    N     all ``N`` (200) at once: latency under load, and the Graph requests a second achieved

An engagement is done when its last grant row is applied (guest, Team member, one Planner task
per deliverable, folder share, welcome mail, note to the hiring manager); its latency is that
row's ``applied_at`` minus the moment its transition started. The Graph requests are counted
from the workers' log (one ``graph METHOD path status`` line per attempt) between the first
transition and the last grant, and cross-checked with the sandbox's access log. Afterwards the
tenant is read back (throttle off) to check that nothing was lost or done twice.

    .venv/bin/python bench/onboarding.py --db sqlite
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import json
import os
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
TITLE = "Bench onboarding"  # + a number: each engagement's request has its own title
MANAGER = "rita"  # the hiring manager (requester) of every engagement
TEAM_OWNER = "max@contoso.example"
FREELANCER_DOMAIN = "freelancers.example"
# Grants one engagement holds once onboarded, besides one Planner task per deliverable.
FIXED_KINDS = ["guest", "team_member", "folder_share", "welcome_mail", "manager_note"]


# --- inside Django (child processes running this file) --------------------------------------


def setup(count: int, deliverables: int) -> dict:
    """One Team with a plan, a bucket and a folder in the sandbox; ``count`` freelancers with
    approved direct engagements in ``sourcing`` that work in it. Rows are written directly (no
    mail jobs, no audit events): only the contracted transitions go through the actions."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from gigbridge import clock
    from gigbridge.engagements.models import Engagement, WorkRequest
    from gigbridge.integrations.msgraph import connection as graph_connection
    from gigbridge.people.models import Agreement, Person
    from gigbridge.program.models import CostCenter, PolicyVersion, Workspace

    graph = graph_connection.client()
    owner = graph.get_user(TEAM_OWNER)
    name = "Bench onboarding project"
    answer = graph.request(
        "POST",
        "/teams",
        json={
            "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
            "displayName": name,
            "description": f"{name} (bench/onboarding.py)",
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "roles": ["owner"],
                    "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{owner['id']}')",
                }
            ],
        },
    )
    team_id = answer.headers["Content-Location"].split("'")[1]
    graph.get_json(f"/teams/{team_id}")  # provisioned (provisioning_seconds is 0)
    plan = graph.post_json(
        "/planner/plans",
        {
            "container": {"url": f"https://graph.microsoft.com/v1.0/groups/{team_id}"},
            "title": "Freelance work",
        },
    )
    bucket = graph.post_json(
        "/planner/buckets", {"name": "To do", "planId": plan["id"], "orderHint": " !"}
    )
    drive_id = graph.get_json(f"/groups/{team_id}/drive")["id"]
    root_id = graph.get_json(f"/drives/{drive_id}/root")["id"]
    folder = graph.post_json(
        f"/drives/{drive_id}/items/{root_id}/children", {"name": "Deliverables", "folder": {}}
    )

    users = {u.username: u for u in get_user_model().objects.all()}
    version = PolicyVersion.objects.order_by("-number").first()
    cost_center = CostCenter.objects.get(code="CC-MKT")
    now, today = clock.now(), clock.today()
    start = today + dt.timedelta(days=14)
    with transaction.atomic():
        workspace = Workspace.objects.create(
            name=name,
            team_id=team_id,
            team_name=name,
            drive_id=drive_id,
            folder_id=folder["id"],
            folder_path="/Deliverables",
            plan_id=plan["id"],
            bucket_id=bucket["id"],
            ready=True,
        )
        people = Person.objects.bulk_create(
            Person(
                kind=Person.Kind.FREELANCER,
                email=f"bench-{i:04d}@{FREELANCER_DOMAIN}",
                display_name=f"Bench Freelancer {i:04d}",
                country="PT",
            )
            for i in range(count)
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
                description="Seeded by bench/onboarding.py.",
                deliverables=[f"Deliverable {d + 1}" for d in range(deliverables)],
                skills=["figma"],
                task_category="design",
                worker_category="freelancer",
                cost_center=cost_center,
                pricing="fixed",
                budget="1000.00",
                currency="EUR",
                start_date=start,
                end_date=start + dt.timedelta(days=60),
                data_classification="internal",
                sourcing="direct",
                freelancer_email=p.email,
                freelancer_country=p.country,
                workspace=workspace,
                state=WorkRequest.State.APPROVED,
                policy_version=version,
                submitted_at=now - dt.timedelta(days=2),
                decided_at=now - dt.timedelta(days=1),
                created_at=now - dt.timedelta(days=3),
                updated_at=now - dt.timedelta(days=1),
            )
            for i, p in enumerate(people)
        )
        Engagement.objects.bulk_create(
            Engagement(request=r, freelancer=p, created_at=now, updated_at=now)
            for r, p in zip(requests, people, strict=True)
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        db_version = "SQLite " + connection.Database.sqlite_version
    return {
        "db_version": db_version,
        "workspace": {
            "team_id": team_id,
            "plan_id": plan["id"],
            "bucket_id": bucket["id"],
            "drive_id": drive_id,
            "folder_id": folder["id"],
        },
        "engagements": count,
        "deliverables": deliverables,
    }


def contract(mode: str, workers: int, max_seconds: float, settle_seconds: float) -> dict:
    """Move the seeded engagements to ``contracted`` (all at once, or one at a time, each
    alone), wait until every grant is applied, then until the outbox is idle. -> timings."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Max

    from gigbridge.access.models import Grant
    from gigbridge.engagements.actions import transition_engagement
    from gigbridge.engagements.models import Engagement
    from gigbridge.jobs.models import OutboxJob, WorkerHeartbeat

    ada = get_user_model().objects.get(username="ada")
    engagements = list(
        Engagement.objects.filter(request__title__startswith=TITLE, state="sourcing")
        .select_related("request")
        .order_by("pk")
    )
    ids = [e.pk for e in engagements]
    expected = {e.pk: len(FIXED_KINDS) + len(e.request.deliverables) for e in engagements}

    def pending_jobs() -> int:
        return OutboxJob.objects.filter(state=OutboxJob.State.PENDING).count()

    if not wait_for(lambda: WorkerHeartbeat.objects.count() >= workers, 120):
        raise RuntimeError(f"{workers} workers did not report a heartbeat within 120 s")
    # The scheduler's first tick queues a drift scan, which reads the tenant: let it finish.
    wait_for(lambda: pending_jobs() == 0, 120)
    time.sleep(1.5)  # let the throttle buckets refill after the drift scan

    def progress(subset: list[int]) -> dict[int, tuple[int, float]]:
        rows = (
            Grant.objects.filter(engagement_id__in=subset, state=Grant.State.APPLIED)
            .values("engagement_id")
            .annotate(n=Count("id"), last=Max("applied_at"))
        )
        return {r["engagement_id"]: (r["n"], r["last"].timestamp()) for r in rows}

    def complete(subset: list[int]) -> dict[int, float]:
        return {pk: last for pk, (n, last) in progress(subset).items() if n >= expected[pk]}

    deadline = time.monotonic() + max_seconds
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    t0 = time.time()
    emit("start", t0=t0)
    if mode == "single":
        for engagement in engagements:
            started[engagement.pk] = time.time()
            transition_engagement(ada, engagement, "contracted")
            while time.monotonic() < deadline:
                done = complete([engagement.pk])
                if done:
                    finished.update(done)
                    break
                time.sleep(0.05)
            if engagement.pk not in finished:
                break
        triggered = time.time()
    else:
        for engagement in engagements:
            started[engagement.pk] = time.time()
            transition_engagement(ada, engagement, "contracted")
        triggered = time.time()
        while time.monotonic() < deadline:
            finished = complete(ids)
            if len(finished) == len(ids):
                break
            time.sleep(0.2)
    t_end = max(finished.values()) if finished else time.time()
    emit("granted", t_end=t_end, done=len(finished))
    outbox_at_end = dict(OutboxJob.objects.values_list("state").annotate(n=Count("id")).order_by())
    # Then let every queued pass run (the scheduler's periodic checks too), so the checks
    # below see the end state and the sandbox log holds every request the run caused.
    idle = wait_for(lambda: pending_jobs() == 0, settle_seconds, step=0.5)
    settled = time.time()
    emit("settled", t=settled, idle=idle)
    latencies = {pk: finished[pk] - started[pk] for pk in finished}
    return {
        "t0": t0,
        "triggered": triggered,
        "t_end": t_end,
        "settled": settled,
        "outbox_idle": idle,
        "outbox_when_granted": outbox_at_end,
        "engagements": len(ids),
        "completed": len(finished),
        "latencies": [round(latencies[pk], 4) for pk in ids if pk in latencies],
    }


def check(workspace: dict, deliverables: int, mail_url: str, mail_auth: str) -> dict:
    """Read the tenant and the database back: one guest, one membership, one share, the tasks
    and two mails per freelancer; no outbox job dead. Run with the throttle off."""
    django_setup()
    import httpx
    from django.conf import settings
    from django.db.models import Count

    from gigbridge.access.models import Grant
    from gigbridge.audit.actions import verify
    from gigbridge.engagements.models import Engagement
    from gigbridge.integrations.msgraph import connection as graph_connection
    from gigbridge.jobs.models import OutboxJob

    graph = graph_connection.client()
    graph.limiter = None  # the sandbox's throttle is off now; do not wait on the product's
    engagements = list(
        Engagement.objects.filter(request__title__startswith=TITLE)
        .select_related("freelancer", "request")
        .order_by("pk")
    )
    emails = {e.freelancer.email.lower(): e for e in engagements}
    users = [u for u in graph.iterate("/users", {"$top": "999"}) if u.get("mail")]
    by_mail = collections.defaultdict(list)
    for user in users:
        if user["mail"].lower() in emails:
            by_mail[user["mail"].lower()].append(user["id"])
    guest_ids = {mail: ids[0] for mail, ids in by_mail.items() if ids}
    members = collections.Counter(
        m.get("userId") for m in graph.list_team_members(workspace["team_id"])
    )
    permissions = graph.list_permissions(workspace["drive_id"], workspace["folder_id"])
    shares = collections.Counter()
    for permission in permissions:
        if permission.get("inheritedFrom"):
            continue
        invited = ((permission.get("invitation") or {}).get("email") or "").lower()
        granted = ((permission.get("grantedToV2") or {}).get("user") or {}).get("id")
        for mail, guest in guest_ids.items():
            if invited == mail or granted == guest:
                shares[mail] += 1
    tasks = list(graph.iterate(f"/planner/plans/{workspace['plan_id']}/tasks"))
    assigned = collections.Counter(
        user for task in tasks for user in (task.get("assignments") or {})
    )
    ca = settings.GRAPH["ca_bundle"]
    with httpx.Client(verify=ssl.create_default_context(cafile=ca), timeout=60) as http:
        sent = http.get(mail_url, headers={"authorization": f"Basic {mail_auth}"}).json()["value"]
    mails = collections.Counter()
    for item in sent:
        message = item["message"]
        for recipient in message.get("toRecipients") or []:
            mails[(recipient["emailAddress"]["address"].lower(), message["subject"])] += 1

    problems: list[str] = []
    counts = collections.Counter()
    manager = engagements[0].request.requester.email.lower() if engagements else ""
    for mail, engagement in emails.items():
        title = engagement.request.title
        guest = guest_ids.get(mail)
        checks = {
            "guest_accounts": len(by_mail.get(mail, [])),
            "team_memberships": members.get(guest, 0) if guest else 0,
            "folder_shares": shares.get(mail, 0),
            "planner_tasks": assigned.get(guest, 0) if guest else 0,
            "welcome_mails": mails.get((mail, f"Welcome to {title}"), 0),
            "manager_notes": mails.get((manager, f"{engagement.freelancer.email} is on board"), 0),
        }
        wanted = {k: 1 for k in checks} | {"planner_tasks": deliverables}
        for key, value in checks.items():
            counts[f"{key}_ok"] += value == wanted[key]
            if value != wanted[key]:
                problems.append(f"{mail}: {key} {value}, expected {wanted[key]}")
    grants = dict(
        Grant.objects.filter(engagement__in=engagements)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    jobs = list(OutboxJob.objects.values("kind", "state", "attempts", "last_error"))
    outbox = collections.Counter(f"{j['kind']}:{j['state']}" for j in jobs)
    dead = [j for j in jobs if j["state"] == OutboxJob.State.DEAD]
    problems += [f"dead outbox job {j['kind']}: {j['last_error'][:200]}" for j in dead]
    retried = [j for j in jobs if j["attempts"] > 1]
    audit = verify()
    if not audit.ok:
        problems.append(f"audit chain broken: {audit}")
    return {
        "freelancers": len(emails),
        "per_freelancer_ok": dict(counts),
        "planner_tasks_in_plan": len(tasks),
        "mails_sent": len(sent),
        "grants": grants,
        "outbox": dict(outbox),
        "outbox_dead": len(dead),
        "outbox_retried": len(retried),
        "outbox_retry_errors": sorted({j["last_error"][:160] for j in retried})[:5],
        "audit_chain_ok": audit.ok,
        "problems": problems[:20],
        "problem_count": len(problems),
    }


# --- outside Django: processes, logs, report --------------------------------------------------


GRAPH_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO gigbridge\.integrations\.msgraph "
    r"graph (\w+) (\S+) (\S+) (\d+)ms .* attempt=(\d+)"
)
SANDBOX_LINE = re.compile(r'^sandbox \S+ "(\w+) (/v1\.0/\S*)" (\d{3}) ')
ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F-]{16,}|.*@.*|[A-Za-z0-9_!-]{20,}|[A-Za-z0-9_-]*\d{6,}.*)$")


def template(path: str) -> str:
    """``/teams/4f1c.../members`` -> ``/teams/{id}/members``: one name per kind of call."""
    return "/".join("{id}" if ID_SEGMENT.match(s) else s for s in path.split("/"))


def graph_calls(logs: list[Path], since: float, until: float) -> dict:
    """The Graph attempts the workers logged in [since, until] (epoch seconds)."""
    total, statuses, endpoints, retries, latency = 0, collections.Counter(), {}, 0, []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            found = GRAPH_LINE.match(line)
            if not found:
                continue
            when = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if not since - 0.001 <= when <= until + 0.001:
                continue
            method, path, status, ms, attempt = found[2], found[3], found[4], found[5], found[6]
            total += 1
            statuses[status] += 1
            key = f"{method} {template(path)}"
            endpoints.setdefault(key, collections.Counter())[status] += 1
            retries += attempt != "1"
            latency.append(int(ms))
    latency.sort()
    return {
        "requests": total,
        "by_status": dict(statuses),
        "throttled_429": statuses.get("429", 0),
        "retried_attempts": retries,
        "by_endpoint": {k: dict(v) for k, v in sorted(endpoints.items())},
        "client_latency_ms": {
            "p50": percentile(latency, 50),
            "p95": percentile(latency, 95),
            "max": latency[-1] if latency else None,
        },
    }


class Scenario:
    """One measured run in its own data folder, database, sandbox, workers and scheduler."""

    def __init__(self, db: str, count: int, args) -> None:
        self.db, self.count, self.args = db, count, args
        self.single = count == 1
        self.engagements = args.single_repeats if self.single else count
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"gigbridge-onboarding-{db}-{count}-"))
        self.logs = self.data_dir / "logs"
        self.logs.mkdir()
        self.sandbox_port = free_port()
        database = f"{args.postgres_url}/{args.postgres_db}" if db == "postgres" else None
        self.env = child_env(self.data_dir, database, "http://127.0.0.1:8000")

    def say(self, text: str) -> None:
        print(f"[{self.db} x{self.count}] {text}", flush=True)

    def cleanup(self) -> None:
        if self.db == "postgres" and not self.args.keep:
            try:
                recreate_postgres(self.args.postgres_url, self.args.postgres_db, drop_only=True)
            except Exception as exc:  # still remove the data folder; the error is reported
                print(f"could not drop the database: {exc}", file=sys.stderr)
        if self.args.keep:
            self.say(f"kept the data folder {self.data_dir}")
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def child(self, *options: str, timeout: float, env: dict | None = None) -> dict:
        cmd = [sys.executable, __file__, *options]
        return last_json(run(cmd, env or self.env, timeout=timeout))

    def start_sandbox(self, stack: ExitStack) -> dict:
        log = self.logs / "sandbox.log"
        cmd = [sys.executable, "-m", "gigbridge.sandbox", "run", "--port", str(self.sandbox_port)]
        proc = stack.enter_context(
            process([*cmd, "--workers", str(self.args.sandbox_workers)], self.env, log)
        )
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited {proc.returncode}:\n{tail(log)}")
            try:
                socket.create_connection(("127.0.0.1", self.sandbox_port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the sandbox did not listen in 120 s:\n{tail(log)}"
                    ) from None
                time.sleep(0.2)
        info_cmd = [sys.executable, "-m", "gigbridge.sandbox", "info", "--json"]
        info = json.loads(run([*info_cmd, "--port", str(self.sandbox_port)], self.env, 120))
        self.sandbox_log, self.info = log, info
        return info

    def tools(self, method: str, path: str, body: dict | None = None) -> dict:
        import httpx

        base = self.info["graph_base_url"].removesuffix("/v1.0")
        context = ssl.create_default_context(cafile=self.info["ca_cert"])
        with httpx.Client(verify=context, timeout=30) as http:
            answer = http.request(
                method,
                base + path,
                json=body,
                auth=(self.info["client_id"], self.info["client_secret"]),
            )
        if answer.status_code != 200:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def measure(self) -> dict:
        args = self.args
        from gigbridge.sandbox.connect import product_env

        code = code_fingerprint()
        with ExitStack() as stack:
            stack.callback(self.cleanup)
            started = time.perf_counter()
            if self.db == "postgres":
                recreate_postgres(args.postgres_url, args.postgres_db)
            run([sys.executable, "-m", "gigbridge.cli", "init", "--demo"], self.env, timeout=300)
            info = self.start_sandbox(stack)
            dials = self.tools(
                "POST",
                "/_sandbox/control",
                {
                    "throttle": {"rate": args.rate, "burst": args.burst},
                    "faults": {"latency_ms": args.latency_ms, "error_rate": 0.0},
                },
            )
            self.env.update(product_env(info))
            self.env.update(
                GIGBRIDGE_GRAPH_RATE=str(args.rate),
                GIGBRIDGE_GRAPH_BURST=str(args.burst),
            )
            facts = self.child(
                "--internal-setup",
                str(self.engagements),
                "--deliverables",
                str(args.deliverables),
                timeout=600,
            )
            self.say(
                f"{facts['db_version']}: {self.engagements} engagements ready in "
                f"{time.perf_counter() - started:.0f} s; sandbox dials {json.dumps(dials)}"
            )
            worker_logs = []
            gigbridge = [sys.executable, "-m", "gigbridge.cli"]
            for n in range(args.workers):
                worker_logs.append(self.logs / f"worker-{n}.log")
                cmd = [*gigbridge, "worker", "--interval", str(args.worker_interval)]
                stack.enter_context(process(cmd, self.env, worker_logs[-1]))
            if args.scheduler_interval:
                cmd = [*gigbridge, "scheduler", "--interval", str(args.scheduler_interval)]
                stack.enter_context(process(cmd, self.env, self.logs / "scheduler.log"))
            timings, offsets = self.contract(worker_logs)
            calls = graph_calls(worker_logs, timings["t0"], timings["t_end"])
            calls_total = graph_calls(worker_logs, timings["t0"], timings["settled"])
            served = access_log_statuses(
                self.sandbox_log, SANDBOX_LINE, 3, offsets["start"], offsets["granted"]
            )
            served_total = access_log_statuses(
                self.sandbox_log, SANDBOX_LINE, 3, offsets["start"], offsets["settled"]
            )
            # Read the tenant back at full speed.
            self.tools("POST", "/_sandbox/control", {"throttle": None, "faults": {"latency_ms": 0}})
            base = info["graph_base_url"].removesuffix("/v1.0")
            auth = base64.b64encode(f"{info['client_id']}:{info['client_secret']}".encode())
            checks = self.child(
                "--internal-check",
                json.dumps(facts["workspace"]),
                "--deliverables",
                str(args.deliverables),
                "--mail-url",
                f"{base}/_sandbox/mail",
                "--mail-auth",
                auth.decode(),
                timeout=600,
            )
            scheduler_log = self.logs / "scheduler.log"
            sweeps = (
                sum(
                    int(m[1])
                    for m in re.finditer(
                        r"sweeper handed (\d+) outbox job", scheduler_log.read_text()
                    )
                )
                if scheduler_log.exists()
                else 0
            )
            for path in worker_logs:  # a traceback in a worker is worth seeing
                text = path.read_text(errors="replace")
                if "Traceback" in text:
                    self.say(f"traceback in {path.name}:\n{text[text.index('Traceback') :][:3000]}")
        return self.summarise(
            facts, timings, calls, calls_total, served, served_total, checks, sweeps, code, dials
        )

    def contract(self, worker_logs: list[Path]) -> tuple[dict, dict]:
        """Run the contract child; note the sandbox log's size at its start, when the last
        grant is in and when the outbox is idle (it reports each as a JSON line)."""
        args = self.args
        cmd = [sys.executable, __file__, "--internal-contract", "single" if self.single else "all"]
        cmd += ["--workers", str(args.workers), "--max-seconds", str(args.max_seconds)]
        cmd += ["--settle-seconds", str(args.settle_seconds)]
        offsets: dict[str, int] = {}
        err_path = self.logs / "contract.err"
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                cmd,
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
            try:
                result = None
                for line in proc.stdout:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    event = message.get("event")
                    if event in ("start", "granted", "settled"):
                        offsets[event] = self.sandbox_log.stat().st_size
                        if event == "start":
                            self.say("contracting...")
                        elif event == "granted":
                            self.say(f"{message['done']} engagements onboarded")
                    elif "latencies" in message:
                        result = message
                proc.wait(timeout=args.max_seconds + args.settle_seconds + 300)
            finally:
                stop(proc)
        if proc.returncode != 0 or result is None:
            raise RuntimeError(f"the contract step failed ({proc.returncode}):\n{tail(err_path)}")
        return result, offsets

    def summarise(
        self, facts, timings, calls, calls_total, served, served_total, checks, sweeps, code, dials
    ) -> dict:
        args = self.args
        latencies = sorted(timings["latencies"])
        wall = timings["t_end"] - timings["t0"]
        rps = calls["requests"] / wall if wall > 0 else None
        pace_bound = max(0.0, calls["requests"] - args.burst) / args.rate
        lost = timings["engagements"] - timings["completed"]
        return {
            "db": self.db,
            "db_version": facts["db_version"],
            "code_sha256": code,
            "scenario": "one at a time" if self.single else "all at once",
            "count": self.count,
            "engagements": timings["engagements"],
            "completed": timings["completed"],
            "not_completed": lost,
            "deliverables": args.deliverables,
            "latency_s": {
                "p50": _r(percentile(latencies, 50)),
                "p95": _r(percentile(latencies, 95)),
                "max": _r(latencies[-1] if latencies else None),
                "min": _r(latencies[0] if latencies else None),
            },
            "trigger_seconds": _r(timings["triggered"] - timings["t0"]),
            "wall_seconds": _r(wall),
            "graph": calls,
            "graph_requests_per_engagement": _r(calls["requests"] / max(1, timings["completed"])),
            "achieved_rps": _r(rps),
            "fraction_of_throttle": _r(rps / args.rate if rps else None),
            "pace_bound_seconds": _r(pace_bound),
            "sandbox_served": served,
            "until_outbox_idle": {
                "seconds_after_t0": _r(timings["settled"] - timings["t0"]),
                "outbox_idle": timings["outbox_idle"],
                "graph_requests": calls_total["requests"],
                "throttled_429": calls_total["throttled_429"],
                "sandbox_served": served_total,
            },
            "outbox_when_granted": timings["outbox_when_granted"],
            "sweeper_handed": sweeps,
            "checks": checks,
            "ok": lost == 0 and checks["problem_count"] == 0,
            "sandbox_dials": dials,
            "params": {
                "rate": args.rate,
                "burst": args.burst,
                "latency_ms": args.latency_ms,
                "workers": args.workers,
                "worker_interval": args.worker_interval,
                "scheduler_interval": args.scheduler_interval,
                "sandbox_workers": args.sandbox_workers,
            },
            "machine": machine(),
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def table(results: list[dict]) -> str:
    rows = [
        "| database | engagements | done | p50 s | p95 s | max s | wall s | Graph requests "
        "| per engagement | req/s | of throttle | 429s | checks |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        what = (
            f"1 at a time (x{r['engagements']})"
            if r["count"] == 1
            else f"{r['engagements']} at once"
        )
        checks = "ok" if r["ok"] else f"{r['checks']['problem_count']} problems"
        rows.append(
            f"| {r['db_version']} | {what} | {r['completed']} | {r['latency_s']['p50']} | "
            f"{r['latency_s']['p95']} | {r['latency_s']['max']} | {r['wall_seconds']} | "
            f"{r['graph']['requests']} | {r['graph_requests_per_engagement']} | "
            f"{r['achieved_rps']} | {r['fraction_of_throttle']} | "
            f"{r['graph']['throttled_429']} | {checks} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument(
        "--count",
        default="1,200",
        help="comma-separated scenarios: 1 = one engagement at a time (--single-repeats "
        "times), N > 1 = N engagements contracted at once (default 1,200)",
    )
    parser.add_argument("--single-repeats", type=int, default=20)
    parser.add_argument("--deliverables", type=int, default=2, help="Planner tasks each")
    parser.add_argument("--workers", type=int, default=4, help="gigbridge worker processes")
    parser.add_argument("--worker-interval", type=float, default=0.5, help="idle poll (s)")
    parser.add_argument(
        "--scheduler-interval",
        type=float,
        default=30,
        help="seconds between scheduler ticks (the product's default); 0: no scheduler",
    )
    parser.add_argument("--sandbox-workers", type=int, default=4, help="sandbox gunicorn workers")
    parser.add_argument("--rate", type=float, default=20, help="throttle, requests a second")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="wait at most this long for the grants"
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=120,
        help="after the grants, wait at most this long for the outbox to be idle",
    )
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--postgres-db", default="gigbridge_bench_onb")
    parser.add_argument("--keep", action="store_true", help="keep data folders and database")
    parser.add_argument("--internal-setup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--internal-contract", choices=["single", "all"], help=argparse.SUPPRESS)
    parser.add_argument("--internal-check", help=argparse.SUPPRESS)
    parser.add_argument("--mail-url", help=argparse.SUPPRESS)
    parser.add_argument("--mail-auth", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.internal_setup is not None:
        print(json.dumps(setup(args.internal_setup, args.deliverables)))
        return 0
    if args.internal_contract:
        result = contract(
            args.internal_contract, args.workers, args.max_seconds, args.settle_seconds
        )
        print(json.dumps(result), flush=True)
        return 0
    if args.internal_check:
        workspace = json.loads(args.internal_check)
        print(json.dumps(check(workspace, args.deliverables, args.mail_url, args.mail_auth)))
        return 0

    try:
        counts = [int(c) for c in args.count.split(",") if c.strip()]
    except ValueError:
        parser.error("--count takes whole numbers separated by commas")
    if not counts or min(counts) < 1 or min(args.single_repeats, args.workers) < 1:
        parser.error("--count, --single-repeats and --workers must be at least 1")
    if args.db != "sqlite":
        if urlsplit(args.postgres_url).hostname not in LOOPBACK:
            parser.error("--postgres-url must point at a loopback address")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.postgres_db):
            parser.error("--postgres-db must be a plain lower-case identifier")

    # SIGTERM unwinds like Ctrl-C: processes stopped, folders removed, database dropped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.path.insert(0, str(ROOT))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for db in dbs:
        by_count = []
        for count in counts:
            result = Scenario(db, count, args).measure()
            by_count.append(result)
            results.append(result)
            print(table([result]), flush=True)
        (RESULTS / f"onboarding-{db}.json").write_text(
            json.dumps({"db": db, "runs": by_count}, indent=2) + "\n"
        )
    print()
    print(
        f"sandbox: {args.latency_ms} ms a call, throttle {args.rate:g}/s burst {args.burst}; "
        f"product paced at the same; {args.workers} workers, {os.cpu_count()} CPUs"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
