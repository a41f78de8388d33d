"""The conversation bridge with a recording Teams fake and an in-memory Upwork (fakes.py):
the thread, the mapping of rooms, cursors with their overlap, order, dedupe, loop prevention,
crashes between an outside call and its record, edits and deletions, the closing line."""

import datetime as dt
import logging

import pytest

from gigbridge import clock
from gigbridge.conversations import actions
from gigbridge.conversations.models import (
    MirroredStory,
    OutgoingMessage,
    PollCursor,
    RoomLink,
    Thread,
)
from gigbridge.conversations.queries import summary
from gigbridge.engagements import actions as engagements
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import approved_engagement
from gigbridge.integrations.teams import client as teams_client
from gigbridge.integrations.teams.inbound import ChannelMessage, Sender, message_handlers
from gigbridge.jobs.actions import run
from gigbridge.jobs.errors import PermanentError
from gigbridge.jobs.models import OutboxJob
from gigbridge.program.models import Workspace
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing import sync
from gigbridge.sourcing.models import MarketplaceOffer, Sourcing
from gigbridge.sourcing.tests.test_marketplace import proposal, signed

from .fakes import FakeTeams, FakeUpwork

pytestmark = pytest.mark.django_db

ADA = Sender(aad_object_id="aad-ada", name="Ada Lovelace", email="ada@example.com")


@pytest.fixture(autouse=True)
def one_to_one(people):
    from conftest import EXAMPLE_POLICY
    from gigbridge.program.actions import activate_policy

    activate_policy(
        EXAMPLE_POLICY.read_text().replace("USD: 0.92", "USD: 1"), "program.yaml", actor="tests"
    )


@pytest.fixture
def teams(monkeypatch):
    return FakeTeams(monkeypatch)


@pytest.fixture
def upwork(monkeypatch):
    return FakeUpwork(monkeypatch)


def work(limit: int = 50) -> None:
    """Run every pending outbox job (retries at once) until none is left."""
    for _ in range(limit):
        pending = list(OutboxJob.objects.filter(state=OutboxJob.State.PENDING).order_by("pk"))
        if not pending:
            return
        OutboxJob.objects.filter(pk__in=[j.pk for j in pending]).update(
            next_attempt_at=clock.now(), claimed_until=None
        )
        for job in pending:
            run(job.pk)
    raise AssertionError("jobs still pending")


def engagement_in_workspace(people) -> Engagement:
    engagement = approved_engagement(people)
    workspace = Workspace.objects.create(name="Spring", team_id="team-1", team_name="Marketing")
    engagement.request.workspace = workspace
    engagement.request.save()
    Sourcing.objects.get_or_create(
        engagement=engagement, defaults={"organization_id": "org1", "updated_at": clock.now()}
    )
    return Engagement.objects.get(pk=engagement.pk)


def posted(people, teams) -> Engagement:
    engagement = engagement_in_workspace(people)
    marketplace.job_posted.send(Sourcing, engagement=engagement, job_posting_id="j1")
    work()
    return engagement


def offered(engagement, people) -> MarketplaceOffer:
    p = proposal(engagement)
    signed(p.freelancer_email)
    offer = marketplace.pick(people["rita"], p)
    MarketplaceOffer.objects.filter(pk=offer.pk).update(
        state="open", upwork_id="o1", sent_at=clock.now()
    )
    OutboxJob.objects.filter(kind=marketplace.OFFER_JOB).delete()  # sent, as far as we care
    offer.refresh_from_db()
    return offer


def contracted(people, teams, upwork) -> Engagement:
    engagement = posted(people, teams)
    offer = offered(engagement, people)
    sync._contracted(offer, "k1")
    OutboxJob.objects.exclude(kind__startswith="conversations.").delete()
    upwork.room("r1", contract="k1", offers=["o1"])
    return Engagement.objects.get(pk=engagement.pk)


def thread_of(engagement) -> Thread:
    return Thread.objects.get(engagement=engagement)


def channel_message(thread, activity_id, text, *, kind="created", sender=ADA, root=None):
    return ChannelMessage(
        kind=kind,
        activity_id=activity_id,
        conversation_id=thread.conversation_id,
        root_activity_id=root or thread.root_activity_id,
        team_id=thread.team_id,
        channel_id=thread.channel_id,
        sender=sender,
        text=text,
        timestamp=clock.now(),
    )


def say(message: ChannelMessage) -> None:
    for handler in message_handlers():  # as the Teams transport calls them
        handler(message)


def poll(upwork) -> dict:
    result = actions.poll_organization("org1")
    work()
    return result


# --- the thread -------------------------------------------------------------------------------


def test_the_job_posting_starts_one_thread_titled_with_the_engagement(people, teams, monkeypatch):
    from gigbridge.integrations.upwork import connection
    from gigbridge.integrations.upwork import operations as ops

    engagement = engagement_in_workspace(people)
    monkeypatch.setattr(connection, "client", lambda org=None: None)
    monkeypatch.setattr(ops, "create_job_posting", lambda *a, **k: ops.JobPostingResult(id="job-1"))
    marketplace.run_post_job(engagement.pk)  # the posting job sends sourcing.job_posted
    work()
    assert len(teams.threads) == 1
    root = next(iter(teams.threads.values()))
    assert root["team"] == "team-1" and root["channel"] == "19:team-1@thread"
    assert engagement.reference in root["root"]["text"]
    assert "Brand refresh" in root["root"]["text"] and "Marketing" in root["root"]["text"]
    thread = thread_of(engagement)
    assert thread.state == "started" and thread.root_activity_id in teams.threads
    # Posted again (a retried signal, a second run): still one thread.
    marketplace.job_posted.send(Sourcing, engagement=engagement, job_posting_id="job-1")
    actions.run_start_thread(engagement.pk)
    work()
    assert len(teams.threads) == 1
    assert summary(engagement)["team"] == "Marketing"


def test_no_workspace_no_thread(people, teams):
    engagement = approved_engagement(people)
    marketplace.job_posted.send(Sourcing, engagement=engagement, job_posting_id="j1")
    assert not Thread.objects.exists() and summary(engagement) is None


def test_no_teams_bot_no_thread(people, teams, monkeypatch):
    from gigbridge.integrations.teams import client

    monkeypatch.setattr(client, "configured", lambda: False)
    engagement = engagement_in_workspace(people)
    marketplace.job_posted.send(Sourcing, engagement=engagement, job_posting_id="j1")
    assert not Thread.objects.exists()


def test_a_direct_hire_gets_its_thread_when_the_contract_starts(people, teams):
    engagement = approved_engagement(
        people, sourcing="direct", freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )  # fmt: skip
    engagement.request.workspace = Workspace.objects.create(name="W", team_id="team-2")
    engagement.request.save()
    engagement = engagements.transition_engagement(people["ada"], engagement, "contracted")
    work()
    assert thread_of(engagement).state == "started" and len(teams.threads) == 1


def test_a_crash_after_teams_started_the_thread_is_retried_and_logged(people, teams, caplog):
    """The accepted limit (see actions): the retry cannot find the first root, so it starts
    again and says so; replies only ever go under the recorded root."""
    teams.crash_after.add("start")
    engagement = engagement_in_workspace(people)
    with caplog.at_level(logging.WARNING):
        marketplace.job_posted.send(Sourcing, engagement=engagement, job_posting_id="j1")
        work()
    thread = thread_of(engagement)
    assert thread.start_attempts == 2 and thread.state == "started"
    assert "may have reached Teams" in caplog.text
    assert len(teams.threads) == 2  # one empty duplicate root at most per crash


# --- Upwork -> Teams ------------------------------------------------------------------------


def test_stories_are_mirrored_in_order_with_author_time_and_attachments(people, teams, upwork):
    engagement = contracted(people, teams, upwork)
    t0 = clock.now()
    upwork.story("r1", "Hello team", at=t0)
    upwork.story(
        "r1", "Here is the draft", at=t0 + dt.timedelta(seconds=5),
        attachments=[{"objectReferenceId": "att-9", "objectType": "FILE"}],
    )  # fmt: skip
    upwork.story("r1", "And <b>one</b> more", at=t0 + dt.timedelta(seconds=9), by="Ana F")
    poll(upwork)
    texts = teams.texts(thread_of(engagement).root_activity_id)
    assert len(texts) == 3
    assert "<b>Ana Freelancer</b> on Upwork, " + t0.strftime("%Y-%m-%d %H:%M UTC") in texts[0]
    assert "Hello team" in texts[0] and "Here is the draft" in texts[1]
    assert "Attachment: FILE att-9 (on Upwork)" in texts[1]
    assert "&lt;b&gt;one&lt;/b&gt;" in texts[2] and "<b>Ana F</b>" in texts[2]
    link = RoomLink.objects.get()
    assert link.kind == "contract" and link.thread.engagement_id == engagement.pk
    assert summary(engagement)["mirrored"] == 3


def test_rooms_map_by_contract_then_offer_and_strangers_are_ignored(people, teams, upwork):
    engagement = posted(people, teams)
    offered(engagement, people)
    upwork.room("r-offer", offers=["o1"])
    upwork.room("r-other", contract="k-unknown")
    upwork.story("r-offer", "Any questions about the offer?")
    upwork.story("r-other", "Not ours")
    poll(upwork)
    assert list(RoomLink.objects.values_list("room_id", "kind")) == [("r-offer", "offer")]
    assert len(teams.texts()) == 1


def test_cursors_overlap_and_nothing_is_posted_twice(people, teams, upwork, frozen_now):
    engagement = contracted(people, teams, upwork)
    upwork.story("r1", "first")
    poll(upwork)
    cursor = PollCursor.objects.get(organization_id="org1").active_since
    frozen_now(minutes=1)
    # A story Upwork committed late: created before the last pass began, within the overlap.
    upwork.story("r1", "late", at=cursor - dt.timedelta(seconds=30))
    upwork.story("r1", "second")
    upwork.calls.clear()
    poll(upwork)
    assert upwork.calls[0] == ("roomList", cursor - actions.OVERLAP)
    assert upwork.calls[1][0] == "roomStories" and upwork.calls[1][2] < cursor
    texts = [t.split("</p>")[1] for t in teams.texts(thread_of(engagement).root_activity_id)]
    assert texts == ["<p>first", "<p>late", "<p>second"]
    poll(upwork)  # the same stories again: no new reply
    assert len(teams.texts()) == 3
    assert MirroredStory.objects.count() == 3


def test_a_quiet_organization_costs_one_request(people, teams, upwork):
    contracted(people, teams, upwork)
    upwork.story("r1", "hello", at=clock.now() - dt.timedelta(days=1))
    poll(upwork)
    upwork.calls.clear()
    poll(upwork)
    assert [c[0] for c in upwork.calls] == ["roomList"]


def test_a_room_listed_again_within_the_overlap_is_not_read_again(people, teams, upwork):
    contracted(people, teams, upwork)
    upwork.story("r1", "hello")
    poll(upwork)
    upwork.calls.clear()
    poll(upwork)  # roomList still shows it (activity within the overlap): its latest is known
    assert [c[0] for c in upwork.calls] == ["roomList"]
    upwork.story("r1", "more", at=clock.now() + dt.timedelta(seconds=1))
    poll(upwork)
    assert [c[0] for c in upwork.calls] == ["roomList", "roomList", "roomStories"]
    assert len(teams.texts()) == 2


def test_a_crash_after_teams_took_the_reply_does_not_post_it_twice(people, teams, upwork):
    engagement = contracted(people, teams, upwork)
    upwork.story("r1", "one")
    upwork.story("r1", "two", at=clock.now() + dt.timedelta(seconds=1))
    teams.crash_after.add("reply")  # Teams has "one"; we die before recording it
    poll(upwork)
    texts = teams.texts(thread_of(engagement).root_activity_id)
    assert len(texts) == 2 and "one" in texts[0] and "two" in texts[1]
    first = MirroredStory.objects.order_by("created").first()
    assert (
        first.attempts == 2
        and first.activity_id
        == teams.threads[thread_of(engagement).root_activity_id]["replies"][0]["id"]
    )


def test_an_edit_on_upwork_updates_the_reply(people, teams, upwork, frozen_now):
    contracted(people, teams, upwork)
    story = upwork.story("r1", "typo hre")
    poll(upwork)
    frozen_now(seconds=30)
    story["message"], story["updatedDateTime"] = "typo here", "2099-01-01T00:00:00.000Z"
    poll(upwork)
    assert len(teams.texts()) == 1 and "typo here" in teams.texts()[0]
    assert len(teams.updates) == 1


# --- Teams -> Upwork ------------------------------------------------------------------------


def test_a_reply_by_an_employee_goes_to_the_room_prefixed_and_never_comes_back(
    people, teams, upwork
):
    engagement = contracted(people, teams, upwork)
    thread = thread_of(engagement)
    say(channel_message(thread, "m1", "Looks good, thanks!"))
    say(channel_message(thread, "m1", "Looks good, thanks!"))  # delivered twice
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: Looks good, thanks!"]
    out = OutgoingMessage.objects.get()
    assert out.state == "sent" and out.story_id == upwork.rooms["r1"]["stories"][0]["id"]
    poll(upwork)
    assert teams.texts(thread.root_activity_id) == []  # no loop
    assert summary(engagement)["sent"] == 1


def test_replies_keep_their_order(people, teams, upwork, frozen_now):
    thread = thread_of(contracted(people, teams, upwork))
    for n in range(3):
        say(channel_message(thread, f"m{n}", f"part {n}"))
        frozen_now(seconds=1)
    work()
    assert upwork.messages("r1") == [f"Ada Lovelace: part {n}" for n in range(3)]


def test_before_the_contract_a_reply_goes_to_the_offer_room(people, teams, upwork):
    engagement = posted(people, teams)
    offered(engagement, people)
    upwork.room("r-offer", offers=["o1"])
    say(channel_message(thread_of(engagement), "m1", "When can you start?"))
    work()
    assert upwork.messages("r-offer") == ["Ada Lovelace: When can you start?"]
    assert ("offerRoom", "o1") in upwork.calls


def test_no_room_yet_fails_visibly(people, teams, upwork):
    engagement = posted(people, teams)
    thread = thread_of(engagement)
    say(channel_message(thread, "m1", "Anyone?"))
    work()
    row = OutgoingMessage.objects.get()
    assert row.state == "failed"
    # The author is told in the thread, once, and the bridge does not read its own line back.
    assert teams.texts(thread.root_activity_id) == [
        "<p>Ada Lovelace: your reply “Anyone?” did not reach Upwork: there is no Upwork room "
        "for this engagement yet.</p>"
    ]
    assert row.told_activity_id == teams.threads[thread.root_activity_id]["replies"][0]["id"]
    say(channel_message(thread, row.told_activity_id, "Ada Lovelace: your reply ..."))
    actions.run_tell_failed(row.pk)
    work()
    assert len(teams.texts(thread.root_activity_id)) == 1
    assert OutgoingMessage.objects.count() == 1
    assert summary(engagement)["not_sent"] == 1


def test_the_author_is_told_once_even_after_a_crash(people, teams, upwork):
    thread = thread_of(contracted(people, teams, upwork))
    say(channel_message(thread, "m1", "first"))
    work()
    upwork.rooms["r1"]["stories"].clear()  # the story went away on Upwork: its edit fails
    teams.crash_after.add("reply")  # Teams shows the line; we die before recording it
    say(channel_message(thread, "m1", "first, <edited> & longer " + "x" * 80, kind="edited"))
    work()
    (line,) = teams.texts(thread.root_activity_id)
    assert line.startswith("<p>Ada Lovelace: your edit “first, &lt;edited&gt; &amp; longer x")
    assert line.endswith(
        "…” did not reach Upwork: Upwork refused it "
        "(Story '5000' not found in this organization).</p>"
    )
    row = OutgoingMessage.objects.get(kind="edit")
    assert row.state == "failed" and row.told_attempts == 2 and row.told_activity_id


def test_a_crash_after_upwork_took_the_story_does_not_send_it_twice(people, teams, upwork):
    thread = thread_of(contracted(people, teams, upwork))
    upwork.crash_after_send = True
    say(channel_message(thread, "m1", "Once only"))
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: Once only"]
    assert OutgoingMessage.objects.get().story_id == upwork.rooms["r1"]["stories"][0]["id"]


def test_the_poll_recognises_a_sent_story_whose_id_was_never_recorded(people, teams, upwork):
    thread = thread_of(contracted(people, teams, upwork))
    upwork.crash_after_send = True
    say(channel_message(thread, "m1", "Hello from Teams"))
    job = OutboxJob.objects.get(kind=actions.SEND_JOB)
    run(job.pk)  # crashes after Upwork stored it; the retry is not due yet
    actions.poll_organization("org1")  # sees the story before the retry: adopts it
    assert teams.texts(thread.root_activity_id) == []
    assert OutgoingMessage.objects.get().state == "sent"
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: Hello from Teams"]


def test_messages_the_bridge_ignores(people, teams, upwork):
    engagement = contracted(people, teams, upwork)
    thread = thread_of(engagement)
    upwork.story("r1", "from Upwork")
    poll(upwork)
    mirrored = MirroredStory.objects.get().activity_id
    bot = Sender(aad_object_id="", name="Gigbridge", email=None)
    guest = Sender(aad_object_id="aad-g", name="Ana", email=engagement.freelancer.email)
    for message in [
        channel_message(thread, "x1", "elsewhere", root="999999"),  # a thread of no engagement
        channel_message(thread, mirrored, "from Upwork"),  # the bridge's own reply
        channel_message(thread, "x2", "bot says", sender=bot),
        channel_message(thread, "x3", "guest says", sender=guest),
        channel_message(thread, "x4", "   "),
    ]:
        say(message)
    work()
    assert not OutgoingMessage.objects.exists()
    assert upwork.messages("r1") == ["from Upwork"]


def test_edits_and_deletions_are_followed(people, teams, upwork, frozen_now):
    thread = thread_of(contracted(people, teams, upwork))
    # Edited and deleted before the job ran: the latest text is sent / nothing is sent.
    say(channel_message(thread, "m1", "draft"))
    say(channel_message(thread, "m1", "final", kind="edited"))
    say(channel_message(thread, "m2", "oops"))
    say(channel_message(thread, "m2", "", kind="deleted"))
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: final"]
    story_id = upwork.rooms["r1"]["stories"][0]["id"]
    # Edited after it was sent: the story itself changes (delivered twice: once).
    frozen_now(minutes=1)
    say(channel_message(thread, "m1", "final!", kind="edited"))
    say(channel_message(thread, "m1", "final!", kind="edited"))
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: final!"]
    assert [c[0] for c in upwork.calls].count("updateRoomStoryV2") == 1
    poll(upwork)
    assert teams.texts(thread.root_activity_id) == []  # the edited story is still ours
    # Deleted after it was sent, with a crash after Upwork removed it: removed once, done.
    upwork.crash_after_send = True
    say(channel_message(thread, "m1", "", kind="deleted"))
    say(channel_message(thread, "m1", "", kind="deleted"))
    work()
    assert upwork.messages("r1") == []
    assert ("removeRoomStory", "r1", story_id) in upwork.calls
    assert set(OutgoingMessage.objects.values_list("state", flat=True)) == {"sent", "deleted"}


def test_a_story_teams_refuses_is_failed_and_the_next_ones_go_on_in_order(
    people, teams, upwork, client
):
    engagement = contracted(people, teams, upwork)
    thread = thread_of(engagement)
    upwork.story("r1", "one")
    upwork.story("r1", "refused by Teams", at=clock.now() + dt.timedelta(seconds=1))
    upwork.story("r1", "three", at=clock.now() + dt.timedelta(seconds=2))
    teams.refuse.add("refused by Teams")
    poll(upwork)
    texts = teams.texts(thread.root_activity_id)
    assert len(texts) == 2 and "one" in texts[0] and "three" in texts[1]
    states = list(MirroredStory.objects.order_by("created").values_list("state", flat=True))
    assert states == ["posted", "failed", "posted"]
    assert "400" in MirroredStory.objects.get(state="failed").error
    assert not OutboxJob.objects.filter(state=OutboxJob.State.PENDING).exists()
    # Later stories are not held either.
    upwork.story("r1", "four", at=clock.now() + dt.timedelta(seconds=3))
    poll(upwork)
    assert "four" in teams.texts(thread.root_activity_id)[-1]
    assert summary(engagement)["not_mirrored"] == 1
    client.force_login(people["rita"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "3 messages mirrored from Upwork, 0 sent to Upwork, 1 refused by Teams." in page


def test_an_edit_teams_refuses_is_dropped_not_retried_forever(
    people, teams, upwork, frozen_now, monkeypatch
):
    contracted(people, teams, upwork)
    story = upwork.story("r1", "typo hre")
    poll(upwork)

    def gone(conversation_id, activity_id, activity):
        raise PermanentError("Teams PUT ... -> 404 NotFound")

    monkeypatch.setattr(teams_client, "update", gone)
    frozen_now(seconds=30)
    story["message"], story["updatedDateTime"] = "typo here", "2099-01-01T00:00:00.000Z"
    poll(upwork)
    mirrored = MirroredStory.objects.get()
    assert not mirrored.edit_pending and "404" in mirrored.error
    assert not OutboxJob.objects.filter(state=OutboxJob.State.PENDING).exists()


def test_a_reply_upwork_refuses_does_not_block_the_next(people, teams, upwork):
    thread = thread_of(contracted(people, teams, upwork))
    say(channel_message(thread, "m1", "first"))
    work()
    upwork.rooms["r1"]["stories"].clear()  # the story went away on Upwork
    say(channel_message(thread, "m1", "first, edited", kind="edited"))
    say(channel_message(thread, "m2", "second"))
    work()
    assert upwork.messages("r1") == ["Ada Lovelace: second"]
    assert OutgoingMessage.objects.get(kind="edit").state == "failed"


# --- the end ----------------------------------------------------------------------------------


def test_the_end_of_the_contract_closes_the_thread_once(people, teams, upwork):
    engagement = contracted(people, teams, upwork)
    engagement = engagements.transition_engagement(people["ada"], engagement, "active")
    upwork.story("r1", "last words")
    poll(upwork)
    Sourcing.objects.filter(engagement=engagement).update(contract_status="ENDED")
    engagement = engagements.transition_engagement(people["ada"], engagement, "offboarding")
    work()
    thread = thread_of(engagement)
    texts = teams.texts(thread.root_activity_id)
    ended = engagement.contract_end.isoformat()  # the day offboarding began
    assert texts[-1] == f"The contract ended on {ended}; the Upwork room is closed."
    assert len(texts) == 2 and thread.state == "closed"
    engagements.transition_engagement(people["ada"], engagement, "closed")
    work()
    assert len(teams.texts(thread.root_activity_id)) == 2
    # The room is no longer read, and replies no longer cross.
    upwork.story("r1", "after the end")
    upwork.calls.clear()
    poll(upwork)
    assert [c[0] for c in upwork.calls] == ["roomList"]
    say(channel_message(thread, "m9", "bye"))
    assert not OutgoingMessage.objects.exists()


def test_a_cancelled_search_closes_its_thread_with_its_own_line(people, teams):
    engagement = posted(people, teams)
    engagements.transition_engagement(people["ada"], engagement, "cancelled")
    work()
    (text,) = teams.texts(thread_of(engagement).root_activity_id)
    assert text.startswith("The engagement was cancelled on ")


def test_the_engagement_page_shows_the_conversation(people, teams, upwork, client):
    engagement = contracted(people, teams, upwork)
    upwork.story("r1", "hello")
    poll(upwork)
    client.force_login(people["rita"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert (
        "Conversation: thread in Marketing › General, 1 message mirrored from Upwork, "
        "0 sent to Upwork." in page
    )


def test_the_scheduler_queues_one_poll_per_organization_and_window(
    people, teams, upwork, settings, frozen_now
):
    contracted(people, teams, upwork)
    settings.UPWORK = {**settings.UPWORK, "client_id": "id", "client_secret": "secret"}
    assert actions.schedule_poll() == 1
    assert actions.schedule_poll() == 0  # the organization's poll is still pending
    work()
    frozen_now(seconds=actions.POLL_EVERY_SECONDS)
    assert actions.schedule_poll() == 1
    job = OutboxJob.objects.filter(kind=actions.POLL_JOB).last()
    assert job.payload == {"organization_id": "org1"}
