"""The bridge against the real sandbox marketplace (HTTPS, GraphQL validated against the
reference schema) with a recording Teams fake: the job is posted, the thread starts, an
employee's reply lands in the contract room, the simulated freelancer answers there, and the
answer (only the answer: no loop) appears in the thread. Both clocks move together."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from gigbridge import clock
from gigbridge.conversations import actions
from gigbridge.conversations.models import MirroredStory, OutgoingMessage, RoomLink, Thread
from gigbridge.integrations.teams.inbound import ChannelMessage, Sender, message_handlers
from gigbridge.program.models import Workspace
from gigbridge.sourcing import actions as marketplace
from tests.scenarios.conftest import market, run_jobs  # noqa: F401 (a fixture)
from tests.scenarios.marketplace_story import (
    HOUR,
    good_proposal,
    pass_of_sync,
    proposals_arrive,
    signed_freelancer,
    sourced_and_posted,
)

from .fakes import FakeTeams

pytestmark = [pytest.mark.django_db(transaction=True)]

STORIES = """query($filter: RoomStoryFilter) { roomStories(filter: $filter) {
  edges { node { id message user { name } } } } }"""


def room_stories(place, room_id) -> list[dict]:
    return place.graphql(STORIES, {"filter": {"roomId_eq": room_id}})["roomStories"]["edges"]


def test_a_conversation_crosses_both_ways_without_a_loop(people, market, monkeypatch):  # noqa: F811
    teams = FakeTeams(monkeypatch)
    workspace = Workspace.objects.create(
        name="Bridge", team_id="team-bridge", team_name="Design", ready=True
    )
    engagement = sourced_and_posted(people, market, workspace)
    run_jobs(actions.START_JOB)
    thread = Thread.objects.get(engagement=engagement)
    assert thread.state == "started" and len(teams.threads) == 1

    proposals_arrive(market, engagement)
    chosen = good_proposal(engagement)
    signed_freelancer(chosen)
    marketplace.pick(people["rita"], chosen, amount=Decimal("3000.00"))
    run_jobs(marketplace.OFFER_JOB)
    market.advance(7 * HOUR)  # the freelancer accepts: a contract and its room
    assert pass_of_sync(market)["contracted"] == 1
    run_jobs()

    # An employee answers in the thread: the story lands in the contract room, prefixed.
    message = ChannelMessage(
        kind="created",
        activity_id="teams-msg-1",
        conversation_id=thread.conversation_id,
        root_activity_id=thread.root_activity_id,
        team_id=thread.team_id,
        channel_id=thread.channel_id,
        sender=Sender(aad_object_id="aad-rita", name="Rita Requester", email="rita@x.example"),
        text="Welcome aboard! The brief is in the folder.",
        timestamp=clock.now(),
    )
    for handler in message_handlers():
        handler(message)
    run_jobs(actions.SEND_JOB)
    out = OutgoingMessage.objects.get()
    assert out.state == "sent" and out.story_id, out.error
    room_id = out.room_id
    assert RoomLink.objects.get(room_id=room_id).kind == "contract"
    stories = market.graphql(STORIES, {"filter": {"roomId_eq": room_id}})["roomStories"]["edges"]
    assert [e["node"]["message"] for e in stories][-1] == (
        "Rita Requester: Welcome aboard! The brief is in the folder."
    )
    before = len(stories)  # the freelancer thanked for the offer when accepting it

    # The simulated freelancer answers in the room; the poll brings only that into the thread.
    market.advance(2 * HOUR)
    result = actions.poll_organization(market.org)
    assert result["read"] == 1
    run_jobs(actions.DRAIN_JOB)
    stories = market.graphql(STORIES, {"filter": {"roomId_eq": room_id}})["roomStories"]["edges"]
    assert len(stories) == before + 1
    theirs = [e["node"] for e in stories if e["node"]["id"] != out.story_id]
    texts = teams.texts(thread.root_activity_id)
    assert len(texts) == len(theirs) == before, texts  # all of theirs, in order; not ours
    for node, text in zip(theirs, texts, strict=True):
        assert node["user"]["name"] in text and actions.story_marker(node["id"]) in text
    assert "Welcome aboard" not in " ".join(texts)
    assert set(MirroredStory.objects.values_list("story_id", flat=True)) == {
        n["id"] for n in theirs
    }

    # Edited in Teams: the story changes on Upwork (updateRoomStoryV2); deleted: it goes
    # (removeRoomStory). Neither comes back to the thread.
    market.advance(60)
    for handler in message_handlers():
        handler(replace(message, kind="edited", text="Welcome! Brief in the folder.",
                        timestamp=clock.now()))  # fmt: skip
    run_jobs(actions.SEND_JOB)
    mine = [e["node"]["message"] for e in room_stories(market, room_id)
            if e["node"]["id"] == out.story_id]  # fmt: skip
    assert mine == ["Rita Requester: Welcome! Brief in the folder."]
    actions.poll_organization(market.org)
    run_jobs()
    assert len(teams.texts(thread.root_activity_id)) == before
    for handler in message_handlers():
        handler(replace(message, kind="deleted", text="", timestamp=clock.now()))
    run_jobs(actions.SEND_JOB)
    assert out.story_id not in {e["node"]["id"] for e in room_stories(market, room_id)}

    # Polled again: nothing new, nothing doubled.
    market.advance(60)
    actions.poll_organization(market.org)
    run_jobs()
    assert len(teams.texts(thread.root_activity_id)) == before
