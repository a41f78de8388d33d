"""Conversation bridge benchmark: lag from an Upwork story to the Teams thread and from a channel
reply to the Upwork room (p50, p95), and marketplace requests per minute spent by the bridge,
with ``--rooms`` (1,000) active contract rooms at the marketplace's ``--rate`` (10) requests/s.

It starts the sandbox (its marketplace, Graph and Bot Connector over HTTPS on a free loopback
port, one fresh data folder), runs ``gigbridge init --demo`` in this process, and connects the
product to the sandbox as ``gigbridge up`` does: the marketplace (``marketplace_env``, the
product's own Upwork limiter at ``--rate``), Graph (``product_env``) and the Teams bot
(``teams_env``). A new workspace ("Bench bridge") gets its Team through the product's own
``access.workspace`` job. With the marketplace's throttle off it makes ``--rooms`` active
contracts (``bulk-contracts``: each with its room) and writes the matching engagements and their
Sourcing rows straight into the tables; every engagement's thread is then started by the
product's ``run_start_thread`` (one ``POST v3/conversations`` to the sandbox's Bot Connector
each, in the Team's General channel; timed and reported apart). ``gigbridge web`` runs on a free
port and the sandbox's Bot Connector delivers to its ``/hooks/teams`` (the messaging endpoint,
set through the sandbox tools).

Then the marketplace's throttle goes to ``--rate`` (burst ``--burst``). One warm-up pass links
every room (1,000 ``roomStories`` reads: the cost of the first pass, reported apart), and the
bench waits until the bulk-made rooms are older than the bridge's overlap (until then
``roomList`` lists them all as active). Then, as in production, a poller thread runs
``poll_organization`` every ``--poll-seconds`` (in production one outbox job per organization
and window: ``schedule_poll``) and a worker thread runs due outbox jobs every 0.2 s (the
``teams.activity`` jobs the hook stored, the drains that reply in Teams, the sends to Upwork).
Over ``--event-seconds`` (180) the simulated freelancers write ``--stories`` (60) stories
(``/upwork/_sandbox/act`` ``message``) in random rooms at random moments, and an employee (Ada,
the Team's owner) types ``--replies`` (30) replies in random threads in the sandbox's Teams view
(``POST /teams/post``: the sandbox stores the message and delivers a signed ``message``
activity to ``/hooks/teams`` -> inbox -> ``teams.activity`` job -> ``on_channel_message`` ->
send job -> ``createRoomStoryV2``). Lag: Upwork story (the act's answer) -> the Bot Connector
answered the reply carrying it (the row's ``posted_at``); channel reply (just before the view's
POST) -> ``createRoomStoryV2`` answered (the row's ``sent_at``). Afterwards every touched
thread's replies are read back through Graph: each story exactly once. Requests: every GraphQL
request of the bridge, counted at ``UpworkClient.execute``, per minute over the measured window,
against the budget (rate x 60); Bot Connector calls are counted and timed at
``BotConnector.call``.

``--teams fake`` is the first version's mode (Teams transport not merged then): a recording fake
``teams.client.reply`` and the ``on_channel_message`` handlers called in-process; no web server.

    .venv/bin/python bench/bridge/run.py                 # about 9 minutes
    .venv/bin/python bench/bridge/run.py --db postgres   # needs PostgreSQL on 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchutil import (  # noqa: E402
    free_port,
    machine,
    percentile,
    recreate_postgres,
    start_sandbox,
    stop,
)

RESULTS = ROOT / "bench" / "results"


class Tools:
    def __init__(self, info: dict):
        import httpx

        from gigbridge.sandbox.client import ssl_context_from

        self.up = info["upwork"]
        self.http = httpx.Client(
            verify=ssl_context_from(info["ca_cert"]), timeout=120,
            auth=(info["client_id"], info["client_secret"]),
        )  # fmt: skip

    def post(self, path: str, body: dict) -> dict:
        answer = self.http.post(f"{self.up['tools_url']}/{path}", json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()


class FakeTeams:
    """The Teams client's calls, recorded with the moment each reply arrived."""

    def __init__(self):
        from gigbridge.conversations import actions
        from gigbridge.integrations.teams import client

        self.lock = threading.Lock()
        self.replies: dict[str, list[dict]] = collections.defaultdict(list)
        self.arrived: dict[str, float] = {}  # story marker -> when
        self.count = 0
        client.reply = self.reply
        client.update = lambda *a, **k: None
        actions.thread_replies = lambda thread: [
            {"id": r["id"], "body": {"content": r["text"]}}
            for r in self.replies[thread.root_activity_id]
        ]

    def reply(self, conversation_id: str, activity: dict):
        from gigbridge.integrations.teams.client import Sent

        root = conversation_id.rsplit("=", 1)[1]
        with self.lock:
            self.count += 1
            reply_id = f"r{self.count}"
            text = activity.get("text", "")
            self.replies[root].append({"id": reply_id, "text": text})
            marker = text.rsplit("Upwork story ", 1)[-1].split("<", 1)[0]
            self.arrived[marker] = time.time()
        return Sent(conversation_id, reply_id)


def seed(org: str, contract_ids: list[str], workspace, channel: tuple[str, str] | None) -> None:
    """Engagements, Sourcing rows and threads; with ``channel`` (real Teams) the threads are
    pending, to be started through the Bot Connector, else started on a fake root."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from gigbridge import clock
    from gigbridge.conversations.models import Thread
    from gigbridge.engagements.models import Engagement, WorkRequest
    from gigbridge.program.models import CostCenter, PolicyVersion, Workspace
    from gigbridge.sourcing.models import Sourcing

    rita = get_user_model().objects.get(username="rita")
    version = PolicyVersion.objects.order_by("-number").first()
    cost_center = CostCenter.objects.order_by("code").first()
    now, today = clock.now(), clock.today()
    with transaction.atomic():
        if workspace is None:
            workspace = Workspace.objects.create(name="Bench bridge", team_id="team-bench",
                                                 team_name="Bench", ready=True)  # fmt: skip
        requests = WorkRequest.objects.bulk_create(
            WorkRequest(
                requester=rita, title=f"Bench bridge {i:04d}", description="bench/bridge",
                deliverables=["x"], skills=["python"], task_category="development",
                worker_category="freelancer", cost_center=cost_center, pricing="hourly",
                budget=50000, currency="USD", start_date=today, end_date=today,
                data_classification="internal", sourcing="marketplace",
                state=WorkRequest.State.APPROVED, policy_version=version, workspace=workspace,
                created_at=now, updated_at=now,
            )
            for i in range(len(contract_ids))
        )  # fmt: skip
        engagements = Engagement.objects.bulk_create(
            Engagement(request=r, state=Engagement.State.ACTIVE, created_at=now, updated_at=now)
            for r in requests
        )
        Sourcing.objects.bulk_create(
            Sourcing(engagement=e, organization_id=org, posting_state="closed", contract_id=c,
                     contract_status="ACTIVE", updated_at=now)
            for e, c in zip(engagements, contract_ids, strict=True)
        )  # fmt: skip
        if channel is None:
            Thread.objects.bulk_create(
                Thread(engagement=e, state=Thread.State.STARTED, team_id=workspace.team_id,
                       team_name="Bench", channel_id="19:bench@thread.tacv2",
                       channel_name="General",
                       conversation_id=f"19:bench@thread.tacv2;messageid=root{e.pk}",
                       root_activity_id=f"root{e.pk}", created_at=now, started_at=now)
                for e in engagements
            )  # fmt: skip
        else:
            # As queue_thread writes them; the General channel is looked up once here (the
            # start job looks it up through Graph per thread when it is not set).
            Thread.objects.bulk_create(
                Thread(engagement=e, team_id=workspace.team_id, team_name=workspace.team_name,
                       channel_id=channel[0], channel_name="General", created_at=now)
                for e in engagements
            )  # fmt: skip


def work_jobs() -> int:
    from gigbridge import clock
    from gigbridge.jobs.actions import run
    from gigbridge.jobs.models import OutboxJob

    due = list(
        OutboxJob.objects.filter(state=OutboxJob.State.PENDING, next_attempt_at__lte=clock.now())
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    for pk in due:
        run(pk)
    return len(due)


class ConnectorCalls:
    """Every Bot Connector call of the product: when, which, how long."""

    def __init__(self):
        from gigbridge.integrations.teams.client import BotConnector

        self.lock = threading.Lock()
        self.calls: list[tuple[float, str, float, str]] = []  # start, kind, seconds, outcome
        call = BotConnector.call

        def timed(connector, service_url, method, path, operation, *a, **k):
            # POST v3/conversations (a thread), POST v3/conversations/{id}/activities/{id}
            # (a reply), PUT ... (an edit): ids left out
            parts = path.split("/")
            kind = (
                method
                + " "
                + "/".join(p if i in (0, 1, 3) else "{id}" for i, p in enumerate(parts))
            )
            started = time.time()
            outcome = "ok"
            try:
                return call(connector, service_url, method, path, operation, *a, **k)
            except Exception as exc:
                outcome = type(exc).__name__
                raise
            finally:
                with self.lock:
                    self.calls.append((started, kind, time.time() - started, outcome))

        BotConnector.call = timed

    def summary(self, since: float = 0.0, until: float = float("inf")) -> dict:
        by_kind: dict[str, list[float]] = collections.defaultdict(list)
        failed = collections.Counter()
        for started, kind, seconds, outcome in self.calls:
            if since <= started <= until:
                by_kind[kind].append(seconds * 1000)
                if outcome != "ok":
                    failed[f"{kind} {outcome}"] += 1
        return {
            kind: {
                "count": len(ms),
                "p50_ms": round(percentile(sorted(ms), 50), 1),
                "p95_ms": round(percentile(sorted(ms), 95), 1),
            }
            for kind, ms in by_kind.items()
        } | ({"failed": dict(failed)} if failed else {})


def connect_teams(info: dict, web_url: str):
    """The workspace's Team made by the product's own job, the bot's endpoint set, Ada (the
    Team's owner) signed in to the sandbox's Teams view; -> (workspace, channel, view)."""
    sys.path.insert(0, str(ROOT))
    from django.contrib.auth import get_user_model

    from gigbridge.access.workspaces import create_workspace
    from gigbridge.conversations import actions
    from gigbridge.integrations.msgraph import connection as graph
    from gigbridge.program.models import Workspace
    from tests.scenarios.teams_world import TeamsView, set_endpoint, tools_client

    ada = get_user_model().objects.get(username="ada")
    workspace = create_workspace(ada, "Bench bridge")
    for _ in range(10):
        work_jobs()
        workspace = Workspace.objects.get(pk=workspace.pk)
        if workspace.ready and workspace.team_id:
            break
        time.sleep(1)
    assert workspace.ready and workspace.team_id, "the workspace's Team was not made"
    channel = actions.general_channel(workspace.team_id)
    http = tools_client(info)
    set_endpoint(http, info, web_url)
    TeamsView.sign_in(http, info)
    person = graph.client().find_user_by_mail("ada@contoso.example")["id"]
    view = TeamsView(http, info, person)
    view.open()  # a page for the form's CSRF token (reused for every reply)
    return workspace, channel, view


def start_threads(concurrency: int) -> dict:
    """Every queued thread started by the product's start job code (one POST v3/conversations
    each through the sandbox's Bot Connector), ``concurrency`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import close_old_connections

    from gigbridge.conversations import actions
    from gigbridge.conversations.models import Thread

    pending = list(
        Thread.objects.filter(state=Thread.State.QUEUED).values_list("engagement_id", flat=True)
    )
    failures: list[str] = []

    def start(engagement_id: int) -> None:
        try:
            actions.run_start_thread(engagement_id)
        except Exception as exc:  # noqa: BLE001 (reported)
            failures.append(f"{engagement_id}: {exc!r}"[:300])
        finally:
            close_old_connections()

    t0 = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(start, pending))
    seconds = time.time() - t0
    started = Thread.objects.filter(state=Thread.State.STARTED).count()
    return {
        "threads": len(pending),
        "started": started,
        "seconds": round(seconds, 1),
        "per_second": round(len(pending) / seconds, 1) if seconds else None,
        "concurrency": concurrency,
        "failures": failures[:5],
    }


def web_server(env: dict, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    """``gigbridge web`` (gunicorn) on ``port``, answering /healthz."""
    import httpx

    log = log_path.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gigbridge.cli", "web", "--port", str(port),
         "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code in (200, 503):
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gigbridge web did not answer within 60 s (see {log_path})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    parser.add_argument("--event-seconds", type=float, default=180.0)
    parser.add_argument("--stories", type=int, default=60)
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--teams",
        choices=["real", "fake"],
        default="real",
        help="the sandbox's Bot Connector (default) or the recording fake",
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--postgres-db",
        default="gigbridge_bench_bridge",
        help="dropped and recreated, then dropped",
    )
    parser.add_argument("--sandbox-workers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--start-concurrency", type=int, default=4, help="threads started at once (setup)"
    )
    parser.add_argument("--output", default=None, help="default bench/results/bridge[-DB].json")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)  # fmt: skip
    if args.db == "postgres":
        from urllib.parse import urlsplit

        if urlsplit(args.postgres_url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error("--postgres-url must point at a loopback address")
    real = args.teams == "real"
    random.seed(args.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="gb-bench-bridge-"))
    port = free_port()
    sandbox, info = start_sandbox(data_dir, port, args.sandbox_workers)
    web = None
    database_url = None
    try:
        from gigbridge.sandbox.connect import marketplace_env, product_env, teams_env

        if args.db == "postgres":
            recreate_postgres(args.postgres_url, args.postgres_db)
            database_url = f"{args.postgres_url}/{args.postgres_db}"
        for key in [k for k in os.environ if k.startswith("GIGBRIDGE_")]:
            del os.environ[key]
        os.environ.update(marketplace_env(info))
        if real:
            os.environ.update(product_env(info))
            os.environ.update(teams_env(info))
        os.environ.update(
            GIGBRIDGE_DATA_DIR=str(data_dir),
            GIGBRIDGE_UPWORK_RATE=str(args.rate),
            GIGBRIDGE_UPWORK_BURST=str(args.burst),
            DJANGO_SETTINGS_MODULE="gigbridge.settings",
        )
        os.environ.pop("DATABASE_URL", None)
        if database_url:
            os.environ["DATABASE_URL"] = database_url
        import django

        django.setup()
        import logging

        logging.getLogger("gigbridge").setLevel(logging.WARNING)
        from django.core.management import call_command
        from django.db import connection as db

        call_command("init", demo=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
        if db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute("SHOW server_version")
                db_version = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        else:
            import sqlite3

            db_version = f"SQLite {sqlite3.sqlite_version}"

        from gigbridge.conversations import actions
        from gigbridge.conversations.models import MirroredStory, OutgoingMessage, RoomLink, Thread
        from gigbridge.integrations.teams.inbound import ChannelMessage, Sender, message_handlers
        from gigbridge.integrations.upwork.client import UpworkClient

        counted: list[tuple[float, str]] = []
        execute = UpworkClient.execute

        def counting(self, query, variables=None, operation=None, *a, **k):
            counted.append((time.time(), operation or "?"))
            return execute(self, query, variables, operation, *a, **k)

        UpworkClient.execute = counting
        tools = Tools(info)
        org = info["upwork"]["default_tenant_id"]
        connector = fake = view = None
        workspace = channel = None
        setup: dict = {}
        if real:
            connector = ConnectorCalls()
            web_port = free_port()
            web = web_server(
                {**os.environ, "PYTHONUNBUFFERED": "1"}, web_port, args.web_workers,
                data_dir / "web.log",
            )  # fmt: skip
            t0 = time.time()
            workspace, channel, view = connect_teams(
                info, f"http://127.0.0.1:{web_port}/hooks/teams"
            )
            setup["team_seconds"] = round(time.time() - t0, 1)
        else:
            fake = FakeTeams()

        tools.post("control", {"throttle": None})
        contract_ids = tools.post("bulk-contracts", {"count": args.rooms})["contractIds"]
        t_bulk = time.time()
        seed(org, contract_ids, workspace, channel)
        if real:
            setup["thread_start"] = start_threads(args.start_concurrency)
            setup["thread_start_calls"] = connector.summary()
            print(f"threads: {setup['thread_start']}", flush=True)
            assert setup["thread_start"]["started"] == args.rooms, setup
        tools.post("control", {"throttle": {"rate": args.rate, "burst": args.burst}})

        t0 = time.time()
        first = actions.poll_organization(org)
        warmup = {"seconds": round(time.time() - t0, 1), "requests": len(counted), **first}
        print(f"warm-up pass: {warmup}", flush=True)
        assert RoomLink.objects.count() == args.rooms, RoomLink.objects.count()
        counted.clear()

        stop_event = threading.Event()
        errors: list[str] = []
        passes: list[tuple[float, float, dict]] = []  # start, end, what it did

        def poller():
            from django.db import close_old_connections

            while not stop_event.is_set():
                started = time.time()
                try:
                    result = actions.poll_organization(org)
                    passes.append((started, time.time(), result))
                except Exception as exc:  # noqa: BLE001 (reported)
                    errors.append(f"poll: {exc!r}")
                close_old_connections()
                stop_event.wait(max(0.0, args.poll_seconds - (time.time() - started)))

        def worker():
            from django.db import close_old_connections

            while not stop_event.is_set():
                try:
                    if not work_jobs():
                        stop_event.wait(0.2)
                except Exception as exc:  # noqa: BLE001 (reported)
                    errors.append(f"worker: {exc!r}")
                    stop_event.wait(0.5)
                close_old_connections()

        threads = [threading.Thread(target=poller), threading.Thread(target=worker)]
        for thread in threads:
            thread.start()
        # The bulk-made rooms count as active (roomList) until they are older than the overlap:
        # let that pass before measuring (its cost is the warm-up's, reported apart).
        # Settled once a whole pass began after the bulk-made rooms left roomList's window.
        quiet_from = t_bulk + actions.OVERLAP.total_seconds() + 1
        while not any(start >= quiet_from for start, _, _ in passes):
            time.sleep(1)
        print(f"settled after {time.time() - t0:.0f} s: {passes[-1][2]}", flush=True)
        settled = len(counted)
        t_start = time.time()

        plan = [("story", random.uniform(0, args.event_seconds)) for _ in range(args.stories)]
        plan += [("reply", random.uniform(0, args.event_seconds)) for _ in range(args.replies)]
        plan.sort(key=lambda item: item[1])
        rooms = list(RoomLink.objects.values_list("room_id", flat=True))
        threads_by_pk = list(Thread.objects.values_list("pk", flat=True))
        stories: dict[str, float] = {}
        story_rooms: dict[str, str] = {}
        replies: dict[str, float] = {}  # reply text -> typed
        view_posts: list[float] = []  # seconds the view's POST took (includes the delivery)
        for n, (kind, offset) in enumerate(plan):
            delay = t_start + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            if kind == "story":
                # The bench's own tool call is not the bridge's: it goes around the counter.
                room = random.choice(rooms)
                answer = tools.post(
                    "act", {"action": "message", "roomId": room, "message": f"Bench story {n}"}
                )
                stories[answer["storyId"]] = time.time()
                story_rooms[answer["storyId"]] = room
                continue
            thread = Thread.objects.get(pk=random.choice(threads_by_pk))
            text = f"Bench reply {n}"
            replies[text] = time.time()
            if real:
                view.reply(thread.conversation_id, text)
                view_posts.append(time.time() - replies[text])
                continue
            message = ChannelMessage(
                kind="created", activity_id=f"bench-reply-{n}",
                conversation_id=thread.conversation_id,
                root_activity_id=thread.root_activity_id, team_id=thread.team_id,
                channel_id=thread.channel_id,
                sender=Sender(aad_object_id="aad-rita", name="Rita Requester",
                              email="rita@example.com"),
                text=text, timestamp=dt.datetime.now(dt.UTC),
            )  # fmt: skip
            for handler in message_handlers():
                handler(message)

        def arrived() -> dict[str, float]:
            if fake is not None:
                return {s: fake.arrived[s] for s in stories if s in fake.arrived}
            return {
                story_id: posted.timestamp()
                for story_id, posted in MirroredStory.objects.filter(
                    story_id__in=list(stories), state=MirroredStory.State.POSTED
                ).values_list("story_id", "posted_at")
            }

        def sent_replies() -> dict[str, float]:
            found = {}
            for text, sent_at in OutgoingMessage.objects.filter(state="sent").values_list(
                "text", "sent_at"
            ):
                key = text.split(": ", 1)[-1]
                if key in replies:
                    found[key] = sent_at.timestamp()
            return found

        t_events = time.time()
        deadline = t_events + 3 * args.poll_seconds + 60
        while time.time() < deadline:
            if len(arrived()) >= len(stories) and len(sent_replies()) >= len(replies):
                break
            time.sleep(0.5)
        t_end = time.time()
        stop_event.set()
        for thread in threads:
            thread.join()

        got = arrived()
        story_lags = sorted(got[s] - t for s, t in stories.items() if s in got)
        sent = sent_replies()
        reply_lags = sorted(sent[r] - t for r, t in replies.items() if r in sent)
        window = [c for c in counted if t_start <= c[0] <= t_end]
        minutes = (t_end - t_start) / 60
        by_op = collections.Counter(op for _, op in window)
        per_minute = len(window) / minutes if minutes else 0

        # Read back what Teams holds: each story's reply exactly once in its thread.
        if real:
            touched = set(
                RoomLink.objects.filter(room_id__in=set(story_rooms.values())).values_list(
                    "thread_id", flat=True
                )
            )
            in_teams = collections.Counter()
            for thread in Thread.objects.filter(pk__in=touched):
                for reply in actions.thread_replies(thread):
                    content = (reply.get("body") or {}).get("content") or ""
                    for story_id in stories:
                        if actions.story_marker(story_id) in content:
                            in_teams[story_id] += 1
            stories_in_teams = sum(1 for s in stories if in_teams[s] >= 1)
            duplicates = sum(max(0, c - 1) for c in in_teams.values())
        else:
            stories_in_teams = len(got)
            duplicates = sum(len(v) for v in fake.replies.values()) - len(fake.arrived)
        upwork_texts = collections.Counter(
            OutgoingMessage.objects.filter(state="sent").values_list("story_id", flat=True)
        )
        result = {
            "rooms": args.rooms,
            "rate": args.rate,
            "poll_seconds": args.poll_seconds,
            "database": db_version,
            "teams": "sandbox Bot Connector" if real else "recording fake",
            "setup": setup,
            "warmup": warmup,
            "settle_requests": settled,
            "passes_measured": [
                p[2] | {"seconds": round(p[1] - p[0], 1)} for p in passes if p[0] >= t_start
            ],
            "stories": len(stories),
            "stories_arrived": len(story_lags),
            "stories_in_teams_read_back": stories_in_teams,
            "story_to_teams_p50": round(percentile(story_lags, 50) or 0, 2),
            "story_to_teams_p95": round(percentile(story_lags, 95) or 0, 2),
            "story_to_teams_max": round(story_lags[-1], 2) if story_lags else None,
            "replies": len(replies),
            "replies_sent": len(reply_lags),
            "reply_to_upwork_p50": round(percentile(reply_lags, 50) or 0, 2),
            "reply_to_upwork_p95": round(percentile(reply_lags, 95) or 0, 2),
            "reply_to_upwork_max": round(reply_lags[-1], 2) if reply_lags else None,
            "view_post_p50": round(percentile(sorted(view_posts), 50) or 0, 3)
            if view_posts
            else None,
            "measured_minutes": round(minutes, 2),
            "requests": len(window),
            "requests_per_minute": round(per_minute, 1),
            "budget_share": round(per_minute / (args.rate * 60), 3),
            "requests_by_operation": dict(by_op),
            "bot_connector_calls": connector.summary(t_start, t_end) if connector else None,
            "duplicates_in_teams": duplicates,
            "duplicates_in_upwork": sum(c - 1 for s, c in upwork_texts.items() if s and c > 1),
            "errors": errors[:10],
            "machine": machine(),
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = args.output or ("bridge.json" if args.db == "sqlite" else f"bridge-{args.db}.json")
        if not real and not args.output:
            name = name.replace(".json", "-fake.json")
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if web is not None:
            stop(web)
        sandbox.terminate()
        try:
            sandbox.wait(timeout=15)
        except subprocess.TimeoutExpired:
            sandbox.kill()
        if args.db == "postgres" and not args.keep:
            try:
                from django.db import connections

                connections.close_all()
                recreate_postgres(args.postgres_url, args.postgres_db, drop_only=True)
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {args.postgres_db}: {exc!r}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
