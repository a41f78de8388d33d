"""Conversation bridge benchmark: lag from an Upwork story to the Teams thread and from a channel
reply to the Upwork room (p50, p95), and marketplace requests per minute spent by the bridge,
with ``--rooms`` (1,000) active contract rooms at the marketplace's ``--rate`` (10) requests/s.

It starts the sandbox (its marketplace over HTTPS on a free loopback port, one fresh data
folder), runs ``gigbridge init --demo`` in this process, and connects the product to the
marketplace only (``marketplace_env``) with the product's own Upwork limiter at ``--rate``. With
the marketplace's throttle off it makes ``--rooms`` active contracts (``bulk-contracts``: each
with its room) and writes the matching engagements, their Sourcing rows and started threads
straight into the tables. **Teams is a recording fake here** (the Teams transport was not merged
when this was written): ``teams.client.reply`` records the moment a story reached "Teams", and
the Graph replies read is served from the fake. So the Teams lag below is the bridge's own (poll,
store, post job), without the Bot Connector's round trip; the main session re-runs it against
the sandbox's Teams.

Then the marketplace's throttle goes to ``--rate`` (burst ``--burst``). One warm-up pass links
every room (1,000 ``roomStories`` reads: the cost of the first pass, reported apart), and the
bench waits until the bulk-made rooms are older than the bridge's overlap (until then
``roomList`` lists them all as active). Then, as in production, a poller thread runs
``poll_organization`` every ``--poll-seconds`` (in production one outbox job per organization
and window: ``schedule_poll``) and a worker thread runs due outbox jobs
every 0.2 s. Over ``--event-seconds`` (180) the simulated freelancers write ``--stories`` (60)
stories (``/upwork/_sandbox/act`` ``message``) in random rooms at random moments, and employees
write ``--replies`` (30) channel replies (the registered ``on_channel_message`` handler, called
as the Teams transport calls it). Lag: Upwork story (the act's answer) -> the fake Teams reply
carrying its marker; channel reply -> ``createRoomStoryV2`` answered (the row's ``sent_at``).
Requests: every GraphQL request of the bridge, counted at ``UpworkClient.execute``, per minute
over the measured window, against the budget (rate x 60).

    .venv/bin/python bench/bridge/run.py          # about 6 minutes
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
from benchutil import free_port, machine, percentile  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def start_sandbox(data_dir: Path, port: int) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "GIGBRIDGE_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "gigbridge.sandbox"]
    log = (data_dir / "sandbox.log").open("ab")
    proc = subprocess.Popen(
        [*command, "run", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.terminate()
        raise RuntimeError("the sandbox did not listen within 60 s")
    out = subprocess.run(
        [*command, "info", "--json", "--port", str(port)], env=env, cwd=ROOT,
        capture_output=True, check=True,
    )  # fmt: skip
    return proc, json.loads(out.stdout)


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


def seed(org: str, contract_ids: list[str], fake_team: str) -> None:
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
        workspace = Workspace.objects.create(name="Bench bridge", team_id=fake_team,
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
        Thread.objects.bulk_create(
            Thread(engagement=e, state=Thread.State.STARTED, team_id=fake_team, team_name="Bench",
                   channel_id="19:bench@thread.tacv2", channel_name="General",
                   conversation_id=f"19:bench@thread.tacv2;messageid=root{e.pk}",
                   root_activity_id=f"root{e.pk}", created_at=now, started_at=now)
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
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    random.seed(args.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="gb-bench-bridge-"))
    port = free_port()
    sandbox, info = start_sandbox(data_dir, port)
    try:
        from gigbridge.sandbox.connect import marketplace_env

        for key in [k for k in os.environ if k.startswith("GIGBRIDGE_")]:
            del os.environ[key]
        os.environ.update(marketplace_env(info))
        os.environ.update(
            GIGBRIDGE_DATA_DIR=str(data_dir),
            GIGBRIDGE_UPWORK_RATE=str(args.rate),
            GIGBRIDGE_UPWORK_BURST=str(args.burst),
            DJANGO_SETTINGS_MODULE="gigbridge.settings",
        )
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        import logging

        logging.getLogger("gigbridge").setLevel(logging.WARNING)
        from django.core.management import call_command

        call_command("init", demo=True, stdout=open(os.devnull, "w"))  # noqa: SIM115

        from gigbridge.conversations import actions
        from gigbridge.conversations.models import OutgoingMessage, RoomLink, Thread
        from gigbridge.integrations.teams.inbound import ChannelMessage, Sender, message_handlers
        from gigbridge.integrations.upwork.client import UpworkClient

        counted: list[tuple[float, str]] = []
        execute = UpworkClient.execute

        def counting(self, query, variables=None, operation=None, *a, **k):
            counted.append((time.time(), operation or "?"))
            return execute(self, query, variables, operation, *a, **k)

        UpworkClient.execute = counting
        teams = FakeTeams()
        tools = Tools(info)
        org = info["upwork"]["default_tenant_id"]

        tools.post("control", {"throttle": None})
        contract_ids = tools.post("bulk-contracts", {"count": args.rooms})["contractIds"]
        t_bulk = time.time()
        seed(org, contract_ids, "team-bench")
        tools.post("control", {"throttle": {"rate": args.rate, "burst": args.burst}})

        t0 = time.time()
        first = actions.poll_organization(org)
        warmup = {"seconds": round(time.time() - t0, 1), "requests": len(counted), **first}
        print(f"warm-up pass: {warmup}", flush=True)
        assert RoomLink.objects.count() == args.rooms, RoomLink.objects.count()
        counted.clear()

        stop = threading.Event()
        errors: list[str] = []
        passes: list[tuple[float, float, dict]] = []  # start, end, what it did

        def poller():
            from django.db import close_old_connections

            while not stop.is_set():
                started = time.time()
                try:
                    result = actions.poll_organization(org)
                    passes.append((started, time.time(), result))
                except Exception as exc:  # noqa: BLE001 (reported)
                    errors.append(f"poll: {exc!r}")
                close_old_connections()
                stop.wait(max(0.0, args.poll_seconds - (time.time() - started)))

        def worker():
            from django.db import close_old_connections

            while not stop.is_set():
                try:
                    if not work_jobs():
                        stop.wait(0.2)
                except Exception as exc:  # noqa: BLE001 (reported)
                    errors.append(f"worker: {exc!r}")
                    stop.wait(0.5)
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
        replies: dict[str, float] = {}
        for n, (kind, offset) in enumerate(plan):
            delay = t_start + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            if kind == "story":
                # The bench's own tool call is not the bridge's: it goes around the counter.
                answer = tools.post(
                    "act",
                    {"action": "message", "roomId": random.choice(rooms),
                     "message": f"Bench story {n}"},
                )  # fmt: skip
                stories[answer["storyId"]] = time.time()
            else:
                thread = Thread.objects.get(pk=random.choice(threads_by_pk))
                activity_id = f"bench-reply-{n}"
                message = ChannelMessage(
                    kind="created", activity_id=activity_id,
                    conversation_id=thread.conversation_id,
                    root_activity_id=thread.root_activity_id, team_id=thread.team_id,
                    channel_id=thread.channel_id,
                    sender=Sender(aad_object_id="aad-rita", name="Rita Requester",
                                  email="rita@example.com"),
                    text=f"Bench reply {n}", timestamp=dt.datetime.now(dt.UTC),
                )  # fmt: skip
                replies[activity_id] = time.time()
                for handler in message_handlers():
                    handler(message)
        t_events = time.time()
        deadline = t_events + 3 * args.poll_seconds + 60
        while time.time() < deadline:
            done_stories = all(s in teams.arrived for s in stories)
            sent = OutgoingMessage.objects.filter(state="sent").count()
            if done_stories and sent >= len(replies):
                break
            time.sleep(0.5)
        t_end = time.time()
        stop.set()
        for thread in threads:
            thread.join()

        story_lags = sorted(teams.arrived[s] - t for s, t in stories.items() if s in teams.arrived)
        reply_lags = sorted(
            row.sent_at.timestamp() - replies[row.activity_id]
            for row in OutgoingMessage.objects.filter(state="sent")
        )
        window = [c for c in counted if t_start <= c[0] <= t_end]
        minutes = (t_end - t_start) / 60
        by_op = collections.Counter(op for _, op in window)
        per_minute = len(window) / minutes if minutes else 0
        result = {
            "rooms": args.rooms,
            "rate": args.rate,
            "poll_seconds": args.poll_seconds,
            "teams": "recording fake (transport not merged)",
            "warmup": warmup,
            "settle_requests": settled,
            "passes_measured": [
                p[2] | {"seconds": round(p[1] - p[0], 1)} for p in passes if p[0] >= t_start
            ],
            "stories": len(stories),
            "stories_arrived": len(story_lags),
            "story_to_teams_p50": round(percentile(story_lags, 50) or 0, 2),
            "story_to_teams_p95": round(percentile(story_lags, 95) or 0, 2),
            "story_to_teams_max": round(story_lags[-1], 2) if story_lags else None,
            "replies": len(replies),
            "replies_sent": len(reply_lags),
            "reply_to_upwork_p50": round(percentile(reply_lags, 50) or 0, 2),
            "reply_to_upwork_p95": round(percentile(reply_lags, 95) or 0, 2),
            "reply_to_upwork_max": round(reply_lags[-1], 2) if reply_lags else None,
            "measured_minutes": round(minutes, 2),
            "requests": len(window),
            "requests_per_minute": round(per_minute, 1),
            "budget_share": round(per_minute / (args.rate * 60), 3),
            "requests_by_operation": dict(by_op),
            "duplicates_in_teams": sum(len(v) for v in teams.replies.values()) - len(teams.arrived),
            "errors": errors[:10],
            "machine": machine(),
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "bridge.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return 0
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=15)
        except subprocess.TimeoutExpired:
            sandbox.kill()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
