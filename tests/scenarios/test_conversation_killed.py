"""A conversation across Upwork and Teams while the bridge is killed at random points.

The freelancer writes in the contract's Upwork room (the sandbox's simulated freelancer, who also
answers on their own); the workspace's owner answers in the engagement's thread in the project's
channel, through the sandbox's Teams view (delivered to the product's ``/hooks/teams`` as Teams
would). Real worker processes run the bridge against the sandbox over HTTPS with latency dialled
in, and are killed with SIGKILL at random (replayable) moments, in the middle of a poll, a post
to Teams or a send to Upwork. After each kill the leases run out (moved into the past, not waited
for) and the sweeper hands the work to the next worker. However the kills fall, both sides end
complete and in order: every freelancer story in the thread once, every reply in the room once,
nothing mirrored back.
"""

from __future__ import annotations

import datetime as dt
import html
import random
import signal
import time
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.access.workspaces import create_workspace
from gigbridge.conversations import actions
from gigbridge.conversations.models import OutgoingMessage, RoomLink, Thread
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.models import OutboxJob, WorkerHeartbeat
from gigbridge.jobs.tests.test_workers import start_worker, wait_until, worker_env
from gigbridge.sandbox.connect import marketplace_env, product_env, teams_env
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing.models import Sourcing

from .conftest import run_jobs
from .marketplace_story import (
    HOUR,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)
from .teams_world import TeamsView, connect_bot, set_endpoint, tools_client

pytestmark = [pytest.mark.django_db(transaction=True)]

SEED = 20261203  # kill points are random but replayable
FREELANCER_SAYS = [
    "Hi all, first sketches are in the folder.",
    "Question: is the blue from the old logo fixed?",
    "Second round uploaded, with the darker blue.",
    "Anything else before I finish the brand guide?",
]
ADA_SAYS = [
    "Thanks, the team is looking at them.",
    "The blue can change; keep it accessible.",
    "Looks good. Please add a dark-mode variant.",
]
STORIES = """query($filter: RoomStoryFilter) { roomStories(filter: $filter) {
  edges { node { id message createdDateTime user { name } } } } }"""


def hand_over_after_a_kill() -> None:
    """What time does after a worker dies: its leases run out, the sweeper hands its jobs on."""
    long_ago = clock.now() - dt.timedelta(days=1)
    Thread.objects.update(sending_until=None)
    RoomLink.objects.update(draining_until=None)
    OutboxJob.objects.filter(state=OutboxJob.State.PENDING).update(
        claimed_until=long_ago, enqueued_at=long_ago
    )
    jobs.sweep()


def in_hand(kind: str = "conversations.") -> bool:
    """A bridge job (of ``kind``) is in a worker's hands now."""
    return OutboxJob.objects.filter(
        kind__startswith=kind,
        state=OutboxJob.State.PENDING,
        claimed_until__isnull=False,
    ).exists()


def contracted_with_a_thread(people, market, graph):
    """A posted job in a real workspace (its Team made in the tenant), its thread started, the
    freelancer's offer accepted: a contract and its room."""
    workspace = create_workspace(people["ada"], "Bridge under fire")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    assert workspace.ready and workspace.team_id
    engagement = sourced_and_posted(people, market, workspace)
    run_jobs(actions.START_JOB)
    thread = Thread.objects.get(engagement=engagement)
    assert thread.state == Thread.State.STARTED, thread.last_error
    proposals_arrive(market, engagement)
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)
    marketplace.pick(people["rita"], chosen, amount=Decimal("3000.00"))
    run_jobs(marketplace.OFFER_JOB)
    market.advance(7 * HOUR)  # the freelancer accepts: a contract and its room
    assert pass_of_sync(market)["contracted"] == 1
    run_jobs()
    contract_id = Sourcing.objects.get(engagement=engagement).contract_id
    assert contract_id
    return workspace, thread, contract_id


def room_stories(market, contract_id: str) -> list[dict]:
    room = market.graphql(
        "query($id: String!) { contractRoom(contractId: $id) { id } }", {"id": contract_id}
    )["contractRoom"]["id"]
    edges = market.graphql(STORIES, {"filter": {"roomId_eq": room}})["roomStories"]["edges"]
    return [edge["node"] for edge in edges]


def test_a_conversation_survives_the_bridge_killed_at_random_points(
    people, market, graph, tenant_info, settings, live_server, subprocess_env
):
    http = tools_client(tenant_info)
    connect_bot(settings, tenant_info, f"{live_server.url}/hooks/teams", http)
    TeamsView.sign_in(http, tenant_info)
    workspace, thread, contract_id = contracted_with_a_thread(people, market, graph)
    ada = TeamsView(http, tenant_info, graph.find_user_by_mail("ada@contoso.example")["id"])
    ada.open_channel(workspace.team_name)
    assert actions.thread_title(thread.engagement) in html.unescape(ada.page)

    market.control(faults={"latency_ms": 150})  # every marketplace call takes a while
    rng = random.Random(SEED)
    steps = [("freelancer", text) for text in FREELANCER_SAYS] + [("ada", t) for t in ADA_SAYS]
    steps.sort(key=lambda _: rng.random())
    # Ada's replies keep their order among themselves, the freelancer's theirs.
    said = {"freelancer": iter(FREELANCER_SAYS), "ada": iter(ADA_SAYS)}
    steps = [(who, next(said[who])) for who, _ in steps]
    mid_job = 0  # kills that found a bridge job in a worker's hands
    try:
        for number, (who, text) in enumerate(steps):
            env = {
                **worker_env(subprocess_env, 0),
                **product_env(tenant_info),
                **marketplace_env(tenant_info),
                **teams_env(tenant_info),
                clock.OFFSET_VARIABLE: str(clock.offset_seconds()),
            }
            worker = start_worker(env, "--worker-id", f"bridge-{number}")
            wait_until(
                lambda n=number: WorkerHeartbeat.objects.filter(worker_id=f"bridge-{n}").exists(),
                what="the worker to start",
            )
            if who == "freelancer":
                market.tool(
                    "act", {"action": "message", "contractId": contract_id, "message": text}
                )
            else:
                ada.open_channel(workspace.team_name)
                ada.reply(thread.conversation_id, text)
            actions.schedule_poll()
            # Kill in the middle of the work this step makes: reading the room, posting its
            # stories to Teams, or sending the reply to Upwork.
            target = rng.choice([actions.POLL_JOB, actions.DRAIN_JOB])
            if who == "ada":
                target = actions.SEND_JOB
            wait_until(lambda k=target: in_hand(k), timeout=30, what=f"a worker to take {target}")
            time.sleep(rng.uniform(0.0, 0.4))  # where the kill lands, not what the test waits for
            mid_job += in_hand()
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            hand_over_after_a_kill()
            market.advance(60)  # the next poll window
    finally:
        market.control(faults={"latency_ms": 0})

    # The bridge comes back: polls and jobs run until nothing is left.
    for _ in range(6):
        hand_over_after_a_kill()
        actions.schedule_poll()
        run_jobs(rounds=10)
        market.advance(60)
    wait_until(
        lambda: (
            not OutboxJob.objects.filter(
                state=OutboxJob.State.PENDING, kind__startswith="conversations."
            ).exists()
        ),
        what="the bridge's jobs to finish",
    )

    assert mid_job >= 1, "no kill landed in the middle of the bridge's work"
    stories = room_stories(market, contract_id)
    ours = [s["message"] for s in stories if s["message"].startswith("Ada Admin: ")]
    assert ours == [f"Ada Admin: {text}" for text in ADA_SAYS], ours  # each once, in order
    theirs = [s for s in stories if not s["message"].startswith("Ada Admin: ")]
    assert {s["message"] for s in theirs} >= set(FREELANCER_SAYS)
    assert OutgoingMessage.objects.filter(state="sent").count() == len(ADA_SAYS)

    replies = actions.thread_replies(thread)
    mirrored = [
        story["id"]
        for reply in replies
        for story in theirs + [s for s in stories if s not in theirs]
        if actions.story_marker(story["id"]) in reply["body"]["content"]
    ]
    assert mirrored == [s["id"] for s in theirs], "each freelancer story once, in order, no loop"
    typed = [r for r in replies if any(text in r["body"]["content"] for text in ADA_SAYS)]
    assert len(typed) == len(ADA_SAYS)  # Ada's own replies, never mirrored back a second time
    set_endpoint(http, tenant_info, tenant_info["teams"]["messaging_endpoint"])
    http.close()
