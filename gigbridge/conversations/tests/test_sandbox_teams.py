"""The bridge's Teams side against the sandbox's Bot Connector and Graph: the thread starts in
the Team's General channel, a story is posted as a reply, and a retry after a crash between
Teams' answer and our record finds the reply through Graph's replies read instead of posting
it twice; so is the line telling an author their reply did not reach Upwork."""

from __future__ import annotations

import pytest

from gigbridge import clock
from gigbridge.access.workspaces import create_workspace
from gigbridge.conversations import actions
from gigbridge.conversations.models import MirroredStory, OutgoingMessage, RoomLink, Thread
from gigbridge.engagements.tests.test_approvals import approved_engagement
from tests.scenarios.conftest import graph, run_jobs  # noqa: F401 (a fixture)
from tests.scenarios.teams_world import connect_bot, tools_client

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_reply_is_found_again_after_a_crash_not_posted_twice(
    people,
    tenant_info,
    settings,
    graph,  # noqa: F811 (the scenario fixture)
):
    http = tools_client(tenant_info)
    connect_bot(settings, tenant_info, "http://127.0.0.1:9/hooks/teams", http)
    workspace = create_workspace(people["ada"], "Bridge Teams")
    run_jobs("access.workspace")
    workspace.refresh_from_db()
    assert workspace.ready and workspace.team_id
    team = {"id": workspace.team_id}
    engagement = approved_engagement(people)
    engagement.request.workspace = workspace
    engagement.request.save()
    assert actions.queue_thread(engagement) is not None
    run_jobs(actions.START_JOB)
    thread = Thread.objects.get(engagement=engagement)
    assert thread.state == "started", thread.last_error
    assert thread.channel_id == graph.get_team(team["id"])["internalId"]

    link = RoomLink.objects.create(
        room_id="room-x", thread=thread, kind="contract", created_at=clock.now()
    )
    story = MirroredStory.objects.create(
        story_id="1660000000000000999", room=link, author="Ana Silva", text="Draft is up",
        attachments=[{"objectType": "FILE", "objectReferenceId": "42"}],
        created=clock.now(), stored_at=clock.now(),
    )  # fmt: skip
    assert actions.run_drain(link.pk) == 1
    replies = actions.thread_replies(thread)
    assert len(replies) == 1
    assert actions.story_marker(story.story_id) in replies[0]["body"]["content"]
    posted = MirroredStory.objects.get(pk=story.pk).activity_id
    assert posted == replies[0]["id"]

    # The crash: Teams took it, we never recorded it (one attempt counted).
    MirroredStory.objects.filter(pk=story.pk).update(state="pending", activity_id="", attempts=1)
    assert actions.run_drain(link.pk) == 1
    assert len(actions.thread_replies(thread)) == 1
    assert MirroredStory.objects.get(pk=story.pk).activity_id == posted

    # A reply that could not reach Upwork: its author is told once, even across a crash.
    failed = OutgoingMessage.objects.create(
        activity_id="1700000000777", thread=thread, author="Ada Lovelace",
        text="Ada Lovelace: Budget & \"scope\" <ok>?", state="failed", error=actions.NO_ROOM,
        written_at=clock.now(), created_at=clock.now(),
    )  # fmt: skip
    told = actions.run_tell_failed(failed.pk)
    replies = actions.thread_replies(thread)
    assert len(replies) == 2 and replies[-1]["id"] == told
    assert "did not reach Upwork" in replies[-1]["body"]["content"]
    OutgoingMessage.objects.filter(pk=failed.pk).update(told_activity_id="", told_attempts=1)
    assert actions.run_tell_failed(failed.pk) == told
    assert len(actions.thread_replies(thread)) == 2
