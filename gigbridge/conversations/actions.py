"""The conversation bridge: an engagement's Upwork rooms <-> one thread in its Team's channel.

Each crossing is recorded before the outbox job that performs it, keyed by the outside id it is
about, and every job is check-then-act:

- **Thread.** ``queue_thread`` (when the job is posted, or when a direct hire's contract starts)
  writes the Thread row and the start job. Bot Connector offers no idempotency key for creating a
  conversation, and Graph's ``GET .../channels/{id}/messages`` (listing a whole channel) is not a
  read we can afford or rely on, so a root that Teams created just before a crash cannot be found
  again. The job counts its attempts before calling Teams: a retry after an attempt whose outcome
  is unknown starts the thread again and logs it. The cost is at most one extra, empty root per
  crash in that window (the replies only ever go under the recorded root, so nothing else is
  doubled); it is visible (same title, no replies) and logged with the engagement.
- **Upwork -> Teams.** ``poll_organization`` asks ``roomList(activeSince)`` from a per-organization
  cursor minus ``OVERLAP`` (a story committed late by Upwork is still seen), maps each room to its
  engagement, and reads the room's new stories (``roomStories(storyCreatedDateTime_bt)``) from the
  room's own cursor minus ``OVERLAP``. Each story is a MirroredStory row (unique story id) before
  the drain job posts it; one drain job at a time per room (a lease) posts the room's pending
  stories in created order. A retry whose previous attempt may have posted reads the thread's
  replies through Graph and looks for the story's marker before posting again. A story Teams
  refuses for good (``PermanentError``) is marked failed and the drain goes on with the next
  one, in order: one bad story never holds the room's later ones.
- **Teams -> Upwork.** ``on_channel_message`` stores a reply by an employee as an
  OutgoingMessage (unique Teams activity id) before the send job posts ``"Name: text"`` with
  ``createRoomStoryV2``. The returned story id is recorded; the poll never mirrors a story the
  bridge sent (by id, or, before the id is recorded, by its exact text among the thread's
  pending replies). A retry after a crash looks for the exact text in the room's recent stories
  before sending again. An edit in Teams becomes ``updateRoomStoryV2`` of that story, a
  deletion ``removeRoomStory`` (both idempotent in effect); before it was sent, the pending
  row's text changes or it is not sent at all. A reply that cannot reach Upwork (no room yet,
  or Upwork refused it for good) is marked failed and its author is told in the thread, once
  (``TELL_JOB``: attempts counted first, a retry looks for the line in the replies first).
- **End.** When the engagement leaves ``active`` the thread gets one last line and its rooms are
  no longer polled.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from gigbridge import clock
from gigbridge.audit.actions import record
from gigbridge.engagements.models import Engagement
from gigbridge.integrations.teams import client as teams
from gigbridge.integrations.teams.inbound import ChannelMessage
from gigbridge.integrations.upwork import operations as ops
from gigbridge.integrations.upwork.errors import PermanentUpworkError
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing.models import MarketplaceOffer, Sourcing

from .models import MirroredStory, OutgoingMessage, PollCursor, RoomLink, Thread

log = logging.getLogger(__name__)

START_JOB = "conversations.start_thread"
POLL_JOB = "conversations.poll"
DRAIN_JOB = "conversations.post_room"
SEND_JOB = "conversations.send"
CLOSE_JOB = "conversations.close"
TELL_JOB = "conversations.tell_failed"
NO_ROOM = "no Upwork room for this engagement yet"

# Re-read this much before each cursor: Upwork's clock and commit order are not ours.
OVERLAP = dt.timedelta(minutes=2)
POLL_EVERY_SECONDS = 30  # one scheduler tick (GIGBRIDGE_SCHEDULER_INTERVAL); bench/bridge
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"  # the one date format in the thread
ROOM_KIND_ORDER = [RoomLink.Kind.CONTRACT, RoomLink.Kind.OFFER, RoomLink.Kind.PROPOSAL]


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.GIGBRIDGE_JOB_LEASE_SECONDS)


def _upwork(organization_id: str):
    from gigbridge.integrations.upwork import connection

    return connection.client(organization_id or None)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def shown_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT)


def story_marker(story_id: str) -> str:
    """Written under every mirrored story; found again in the thread's replies after a crash."""
    return f"Upwork story {story_id}"


# --- the thread -----------------------------------------------------------------------------


def thread_title(engagement: Engagement) -> str:
    workspace = engagement.request.workspace
    team = (workspace.team_name or workspace.name) if workspace else ""
    title = f"{engagement.reference} {engagement.request.title}"
    return f"{title} ({team})" if team else title


def queue_thread(engagement: Engagement) -> Thread | None:
    """In the caller's transaction: the engagement's thread will be started (once). None when
    no Teams bot is configured or its workspace has no Team."""
    existing = Thread.objects.filter(engagement=engagement).first()
    if existing is not None:
        return existing
    if not teams.configured():
        return None
    workspace = engagement.request.workspace
    if workspace is None or not workspace.team_id:
        return None
    thread = Thread.objects.create(
        engagement=engagement,
        team_id=workspace.team_id,
        team_name=workspace.team_name or workspace.name,
        created_at=clock.now(),
    )
    jobs.enqueue(START_JOB, {"engagement_id": engagement.pk}, key=f"{START_JOB}:{engagement.pk}")
    return thread


def general_channel(team_id: str) -> tuple[str, str]:
    """The Team's General channel: its id is the team's ``internalId`` (Graph ``team``)."""
    from gigbridge.integrations.msgraph import connection as graph

    team = graph.client().get_team(team_id)
    if not team.get("internalId"):
        raise PermanentError(f"team {team_id} has no internalId (General channel)")
    return team["internalId"], team.get("displayName") or ""


def thread_replies(thread: Thread) -> list[dict]:
    """Graph chatMessage replies of the thread (only read to check after a crash)."""
    from gigbridge.integrations.msgraph import connection as graph

    return graph.client().list_message_replies(
        thread.team_id, thread.channel_id, thread.root_activity_id
    )


def _root_activity(thread: Thread) -> dict:
    engagement = thread.engagement
    lines = [
        f"<p><b>{html.escape(thread_title(engagement))}</b></p>",
        "<p>The Upwork conversation of this engagement, mirrored here by Gigbridge. "
        "Reply in this thread to answer on Upwork (your name is shown there).</p>",
    ]
    return {"type": "message", "textFormat": "xml", "text": "".join(lines)}


def run_start_thread(engagement_id: int) -> str:
    thread = Thread.objects.select_related("engagement__request__workspace").get(
        engagement_id=engagement_id
    )
    if thread.root_activity_id:
        return "already started"
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(start_attempts=thread.start_attempts + 1)
    if thread.start_attempts:
        log.warning(
            "starting the thread of %s again: attempt %d may have reached Teams (an empty "
            "duplicate root is possible, see conversations.actions)",
            thread.engagement.reference,
            thread.start_attempts,
        )
    if not thread.channel_id:
        channel_id, team_name = general_channel(thread.team_id)
        thread.channel_id, thread.channel_name = channel_id, "General"
        thread.team_name = thread.team_name or team_name
        Thread.objects.filter(pk=thread.pk).update(
            channel_id=channel_id, channel_name="General", team_name=thread.team_name
        )
    try:
        sent = teams.start_thread(thread.team_id, thread.channel_id, _root_activity(thread))
    except PermanentError as error:
        Thread.objects.filter(pk=thread.pk).update(
            state=Thread.State.FAILED, last_error=str(error)[:500]
        )
        raise
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(
            conversation_id=sent.conversation_id,
            root_activity_id=sent.activity_id,
            state=Thread.State.STARTED,
            last_error="",
            started_at=clock.now(),
        )
        record(
            user=None,
            actor="teams",
            action="conversation.thread_started",
            obj=thread.engagement,
            after={"team": thread.team_name, "channel": thread.channel_name},
        )
    return sent.activity_id


# --- Upwork -> Teams ------------------------------------------------------------------------


def schedule_poll() -> int:
    """Scheduled: one poll per organization with an open thread and time window, none while
    the organization's previous poll is still pending."""
    from gigbridge.integrations.upwork import connection

    if not connection.configured():
        return 0
    every = max(1, int(settings.UPWORK.get("bridge_poll_seconds") or POLL_EVERY_SECONDS))
    window = int(clock.now().timestamp()) // every
    orgs = set(
        Sourcing.objects.filter(engagement__conversation__state=Thread.State.STARTED).values_list(
            "organization_id", flat=True
        )
    )
    running = set(
        OutboxJob.objects.filter(kind=POLL_JOB, state=OutboxJob.State.PENDING).values_list(
            "payload__organization_id", flat=True
        )
    )
    queued = 0
    with transaction.atomic():
        for org in sorted(orgs - running):
            jobs.enqueue(POLL_JOB, {"organization_id": org}, key=f"{POLL_JOB}:{org}:{window}")
            queued += 1
    return queued


def _engagement_of_room(room: ops.Room) -> tuple[Engagement | None, str]:
    if room.contract_id:
        sourcing = Sourcing.objects.filter(contract_id=room.contract_id).first()
        if sourcing is not None:
            return sourcing.engagement, RoomLink.Kind.CONTRACT
    offer_ids = [i for i in room.offer_ids or [] if i]
    if offer_ids:
        offer = MarketplaceOffer.objects.filter(upwork_id__in=offer_ids).first()
        if offer is not None:
            return offer.engagement, RoomLink.Kind.OFFER
    return None, ""


def link_room(room: ops.Room, organization_id: str) -> RoomLink | None:
    """The room's link to a started thread (made on first sight), or None (not ours)."""
    link = RoomLink.objects.filter(room_id=room.id).first()
    if link is not None:
        if room.contract_id and link.kind != RoomLink.Kind.CONTRACT:
            RoomLink.objects.filter(pk=link.pk).update(kind=RoomLink.Kind.CONTRACT)
            link.kind = RoomLink.Kind.CONTRACT
        return link
    engagement, kind = _engagement_of_room(room)
    if engagement is None:
        return None
    thread = Thread.objects.filter(engagement=engagement, state=Thread.State.STARTED).first()
    if thread is None or thread.closing:
        return None
    link, _ = RoomLink.objects.get_or_create(
        room_id=room.id,
        defaults={
            "thread": thread,
            "organization_id": organization_id,
            "kind": kind,
            "name": room.room_name or "",
            "created_at": clock.now(),
        },
    )
    return link


def _own_story(link: RoomLink, story: ops.RoomStory) -> bool:
    """A story the bridge sent: by its recorded id, or (crash before the id was stored) by
    its exact text among the thread's unsent replies, which it then adopts."""
    if OutgoingMessage.objects.filter(story_id=story.id).exists():
        return True
    pending = (
        OutgoingMessage.objects.filter(
            thread_id=link.thread_id,
            kind=OutgoingMessage.Kind.MESSAGE,
            state=OutgoingMessage.State.PENDING,
            text=story.message or "",
        )
        .filter(Q(room_id=link.room_id) | Q(room_id=""))
        .order_by("written_at", "pk")
        .first()
    )
    if pending is None:
        return False
    OutgoingMessage.objects.filter(pk=pending.pk).update(
        story_id=story.id, room_id=link.room_id, state=OutgoingMessage.State.SENT,
        sent_at=clock.now(),
    )  # fmt: skip
    return True


def _attachments(story: ops.RoomStory) -> list[dict]:
    return [
        {"objectType": a.object_type or "", "objectReferenceId": a.object_reference_id or ""}
        for a in story.attachments or []
    ]


def store_stories(link: RoomLink, stories: list[ops.RoomStory]) -> list[str]:
    """Record what the room shows (one transaction) and queue its drain; returns new ids."""
    new: list[str] = []
    edited: list[str] = []
    with transaction.atomic():
        link = RoomLink.objects.select_for_update().get(pk=link.pk)
        watermark = link.watermark
        for story in stories:
            created = _parse_time(story.created_date_time)
            if not story.id or created is None:
                continue
            watermark = max(watermark or created, created)
            known = MirroredStory.objects.filter(story_id=story.id).first()
            if known is not None:
                if (story.updated_date_time or "") != known.updated and (
                    story.message or ""
                ) != known.text:
                    MirroredStory.objects.filter(pk=known.pk).update(
                        text=story.message or "",
                        updated=story.updated_date_time or "",
                        edit_pending=known.state == MirroredStory.State.POSTED,
                    )
                    edited.append(story.id)
                continue
            if _own_story(link, story):
                continue
            user = story.user
            author = (user.name if user else "") or " ".join(
                p for p in ((user.first_name, user.last_name) if user else ()) if p
            )
            MirroredStory.objects.create(
                story_id=story.id,
                room=link,
                author=author or "Upwork user",
                text=story.message or "",
                attachments=_attachments(story),
                created=created,
                updated=story.updated_date_time or "",
                stored_at=clock.now(),
            )
            new.append(story.id)
        RoomLink.objects.filter(pk=link.pk).update(watermark=watermark)
        first = (new or edited)[:1]
        if first:
            key = f"{DRAIN_JOB}:{first[0]}" if new else f"{DRAIN_JOB}:{first[0]}:edit"
            if not new:
                key += ":" + (
                    MirroredStory.objects.get(story_id=first[0]).updated or clock.now().isoformat()
                )
            jobs.enqueue(DRAIN_JOB, {"room_link_id": link.pk}, key=key)
    return new


def read_room(client, link: RoomLink) -> list[str]:
    since = link.watermark - OVERLAP if link.watermark else None
    stories = list(
        ops.items(lambda after: ops.room_stories(client, link.room_id, since, after=after))
    )
    return store_stories(link, stories)


def _seen_latest(link: RoomLink, room: ops.Room) -> bool:
    """The room's latest story (roomList gives it) is one we hold, unchanged: nothing newer to
    read. So a room listed again only because of the overlap costs no request."""
    latest = room.latest_story
    if link.watermark is None or latest is None or not latest.id:
        return False
    mirrored = MirroredStory.objects.filter(story_id=latest.id).values_list("text", flat=True)
    for text in mirrored:
        return text == (latest.message or "")
    return OutgoingMessage.objects.filter(story_id=latest.id, text=latest.message or "").exists()


def poll_organization(organization_id: str) -> dict:
    """One pass: the active rooms, each one's new stories, then the cursor."""
    started = clock.now()
    cursor = PollCursor.objects.filter(organization_id=organization_id).first()
    if cursor is not None:
        since = cursor.active_since - OVERLAP
    else:
        oldest = (
            Thread.objects.filter(engagement__sourcing__organization_id=organization_id)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        since = (oldest or started) - OVERLAP
    client = _upwork(organization_id)
    rooms = list(ops.items(lambda after: ops.room_list(client, since, after=after)))
    read = new = 0
    for room in rooms:
        if not room.id:
            continue
        link = link_room(room, organization_id)
        if link is None or link.closed or _seen_latest(link, room):
            continue
        read += 1
        new += len(read_room(client, link))
    PollCursor.objects.update_or_create(
        organization_id=organization_id,
        defaults={"active_since": started, "updated_at": clock.now()},
    )
    return {"rooms": len(rooms), "read": read, "new": new}


def story_activity(story: MirroredStory) -> dict:
    lines = [
        f"<p><b>{html.escape(story.author)}</b> on Upwork, {shown_time(story.created)}</p>",
        "<p>" + html.escape(story.text).replace("\n", "<br>") + "</p>" if story.text else "",
    ]
    for item in story.attachments:
        lines.append(
            f"<p>Attachment: {html.escape(item.get('objectType') or 'file')} "
            f"{html.escape(item.get('objectReferenceId') or '')} (on Upwork)</p>"
        )
    lines.append(f"<p><small>{story_marker(story.story_id)}</small></p>")
    return {"type": "message", "textFormat": "xml", "text": "".join(lines)}


def _find_reply(thread: Thread, marker: str) -> str | None:
    for reply in thread_replies(thread):
        body = (reply.get("body") or {}).get("content") or ""
        if marker in body:
            return reply.get("id")
    return None


def _post_story(thread: Thread, story: MirroredStory) -> None:
    """Post one story (check-then-act); a PermanentError marks it failed (and is re-raised)."""
    try:
        _post_story_once(thread, story)
    except PermanentError as error:
        log.warning("story %s not posted in Teams: %s", story.story_id, error)
        MirroredStory.objects.filter(pk=story.pk).update(
            state=MirroredStory.State.FAILED, error=str(error)[:500]
        )
        raise


def _post_story_once(thread: Thread, story: MirroredStory) -> None:
    with transaction.atomic():  # the intent, committed before Teams is called
        MirroredStory.objects.filter(pk=story.pk).update(attempts=story.attempts + 1)
    activity_id = None
    if story.attempts:  # a previous attempt may have posted it: look before posting again
        activity_id = _find_reply(thread, story_marker(story.story_id))
    if activity_id is None:
        activity_id = teams.reply(thread.conversation_id, story_activity(story)).activity_id
    MirroredStory.objects.filter(pk=story.pk).update(
        state=MirroredStory.State.POSTED, activity_id=activity_id, posted_at=clock.now()
    )


def _take(model, pk: int, field: str) -> bool:
    now = clock.now()
    return bool(
        model.objects.filter(pk=pk)
        .filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now}))
        .update(**{field: now + _lease()})
    )


def run_drain(room_link_id: int) -> int:
    """Post the room's pending stories in created order, then follow its edits."""
    link = RoomLink.objects.select_related("thread").get(pk=room_link_id)
    thread = link.thread
    if not thread.root_activity_id:
        raise RetryableError("the thread is not started yet", retry_after=30)
    if not _take(RoomLink, link.pk, "draining_until"):
        raise RetryableError("another job is posting this room", retry_after=5)
    posted = 0
    try:
        while True:
            story = (
                MirroredStory.objects.filter(room=link, state=MirroredStory.State.PENDING)
                .order_by("created", "story_id")
                .first()
            )
            if story is None:
                break
            try:
                _post_story(thread, story)
            except PermanentError:  # this story only (marked failed): the next ones still go
                continue
            posted += 1
        for story in MirroredStory.objects.filter(room=link, edit_pending=True):
            try:
                teams.update(thread.conversation_id, story.activity_id, story_activity(story))
            except PermanentError as error:  # e.g. the reply was deleted in Teams (404)
                log.warning("edit of story %s not shown in Teams: %s", story.story_id, error)
                MirroredStory.objects.filter(pk=story.pk).update(
                    edit_pending=False, error=str(error)[:500]
                )
                continue
            MirroredStory.objects.filter(pk=story.pk).update(edit_pending=False)
    finally:
        RoomLink.objects.filter(pk=link.pk).update(draining_until=None)
    return posted


# --- Teams -> Upwork ------------------------------------------------------------------------


def _bridge_activity(thread: Thread, activity_id: str) -> bool:
    return (
        activity_id in (thread.root_activity_id, thread.close_activity_id)
        or MirroredStory.objects.filter(activity_id=activity_id).exists()
        or OutgoingMessage.objects.filter(told_activity_id=activity_id).exists()
    )


def _queue_send(row: OutgoingMessage) -> None:
    jobs.enqueue(SEND_JOB, {"thread_id": row.thread_id}, key=f"{SEND_JOB}:{row.activity_id}")


def _follow_once(
    original: OutgoingMessage, key: str, kind: str, author: str, text: str, message: ChannelMessage
) -> None:
    """Record (once per ``key``) and queue an edit or deletion of a reply already on Upwork."""
    row, created = OutgoingMessage.objects.get_or_create(
        activity_id=key,
        defaults={
            "kind": kind,
            "thread": original.thread,
            "author": author,
            "text": text,
            "room_id": original.room_id,
            "target_story_id": original.story_id,
            "written_at": message.timestamp,
            "created_at": clock.now(),
        },
    )
    if created:
        _queue_send(row)


def receive_channel_message(message: ChannelMessage) -> str:
    """A message, edit or deletion in a channel thread: what the bridge does with it."""
    thread = (
        Thread.objects.select_related("engagement__freelancer")
        .filter(root_activity_id=message.root_activity_id, channel_id=message.channel_id)
        .first()
    )
    if thread is None:
        return "not a thread of an engagement"
    if _bridge_activity(thread, message.activity_id):
        return "the bridge's own message"
    sender = message.sender
    if not sender.aad_object_id:
        return "not a person (a bot)"
    freelancer = thread.engagement.freelancer
    if freelancer is not None and sender.email and sender.email.lower() == freelancer.email.lower():
        return "the freelancer (a guest), not an employee"
    if thread.closing or thread.state == Thread.State.CLOSED:
        return "the contract ended: the room is closed"
    name = sender.name or sender.email or "A colleague"
    now = clock.now()
    with transaction.atomic():
        original = (
            OutgoingMessage.objects.select_for_update()
            .filter(activity_id=message.activity_id)
            .first()
        )
        if message.kind == "deleted":
            if original is None:
                return "deletion of a message never sent"
            if original.state == OutgoingMessage.State.PENDING:
                OutgoingMessage.objects.filter(pk=original.pk).update(
                    state=OutgoingMessage.State.DELETED
                )
                return "deleted before it was sent"
            if original.state != OutgoingMessage.State.SENT:
                return "nothing to follow"
            _follow_once(
                original,
                f"{message.activity_id}:delete",
                OutgoingMessage.Kind.DELETE,
                name,
                "",
                message,
            )
            return "deletion queued"
        text = (message.text or "").strip()
        if not text:
            return "empty"
        if message.kind == "edited" and original is not None:
            if original.state == OutgoingMessage.State.PENDING:
                OutgoingMessage.objects.filter(pk=original.pk).update(text=f"{name}: {text}")
                return "edited before it was sent"
            if original.state != OutgoingMessage.State.SENT:
                return "nothing to follow"
            _follow_once(
                original,
                f"{message.activity_id}:edit:{message.timestamp.isoformat()}",
                OutgoingMessage.Kind.EDIT,
                name,
                f"{name}: {text}",
                message,
            )
            return "edit queued"
        if original is not None:
            return "seen before"
        row = OutgoingMessage.objects.create(
            activity_id=message.activity_id,
            thread=thread,
            author=name,
            text=f"{name}: {text}",
            written_at=message.timestamp,
            created_at=now,
        )
        _queue_send(row)
    return "queued"


def current_room(thread: Thread) -> RoomLink | None:
    """Where a reply goes: the contract room once there is one, else the offer's, else the
    proposal's. Asks Upwork (contractRoom / offerRoom) when the poll has not linked one yet."""
    links = {link.kind: link for link in thread.rooms.filter(closed=False)}
    for kind in ROOM_KIND_ORDER:
        if kind in links:
            return links[kind]
    sourcing = Sourcing.objects.filter(engagement_id=thread.engagement_id).first()
    if sourcing is None:
        return None
    client = _upwork(sourcing.organization_id)
    room = None
    if sourcing.contract_id:
        room = ops.contract_room(client, sourcing.contract_id)
    if room is None:
        offer = (
            MarketplaceOffer.objects.filter(engagement_id=thread.engagement_id)
            .exclude(upwork_id=None)
            .order_by("-created_at")
            .first()
        )
        if offer is not None:
            room = ops.offer_room(client, offer.upwork_id)
    if room is None or not room.id:
        return None
    return link_room(room, sourcing.organization_id)


def _already_sent(client, row: OutgoingMessage) -> str | None:
    since = row.created_at - OVERLAP
    stories = ops.items(lambda after: ops.room_stories(client, row.room_id, since, after=after))
    for story in stories:
        if (
            story.message == row.text
            and not OutgoingMessage.objects.filter(story_id=story.id).exists()
        ):
            return story.id
    return None


def _send_one(row: OutgoingMessage) -> None:
    thread = row.thread
    if not row.room_id:
        link = current_room(thread)
        if link is None:
            _failed(row, NO_ROOM)
            return
        row.room_id = link.room_id
        OutgoingMessage.objects.filter(pk=row.pk).update(room_id=link.room_id)
    link = RoomLink.objects.get(room_id=row.room_id)
    with transaction.atomic():  # the intent, committed before Upwork is called
        OutgoingMessage.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
    client = _upwork(link.organization_id)
    if row.kind != OutgoingMessage.Kind.MESSAGE:
        _follow(client, row)
        return
    story_id = _already_sent(client, row) if row.attempts else None
    if story_id is None:
        # The poll may have adopted it meanwhile (it saw the story and matched the text).
        if OutgoingMessage.objects.filter(pk=row.pk, state=OutgoingMessage.State.SENT).exists():
            return
        story = ops.send_room_message(client, row.room_id, row.text)
        story_id = story.id if story else ""
    OutgoingMessage.objects.filter(pk=row.pk).update(
        state=OutgoingMessage.State.SENT, story_id=story_id or "", sent_at=clock.now()
    )


def _follow(client, row: OutgoingMessage) -> None:
    """An edit or a deletion in Teams, made on the story the bridge sent. Setting the same text
    twice is harmless; a story already removed (a retry after a crash) is done."""
    if row.kind == OutgoingMessage.Kind.EDIT:
        ops.update_room_story(client, row.room_id, row.target_story_id, row.text)
    else:
        try:
            ops.remove_room_story(client, row.room_id, row.target_story_id)
        except PermanentUpworkError:
            if not row.attempts:
                raise
            log.info("story %s was removed already", row.target_story_id)
    OutgoingMessage.objects.filter(pk=row.pk).update(
        state=OutgoingMessage.State.SENT, sent_at=clock.now()
    )


def _failed(row: OutgoingMessage, error: str) -> None:
    """The row will not reach Upwork: marked failed, and its author will be told (once)."""
    with transaction.atomic():
        OutgoingMessage.objects.filter(pk=row.pk).update(
            state=OutgoingMessage.State.FAILED, error=error[:500]
        )
        jobs.enqueue(TELL_JOB, {"message_id": row.pk}, key=f"{TELL_JOB}:{row.pk}")


FAILED_WHAT = {
    OutgoingMessage.Kind.MESSAGE: "reply",
    OutgoingMessage.Kind.EDIT: "edit",
    OutgoingMessage.Kind.DELETE: "deletion",
}


def failure_line(row: OutgoingMessage) -> str:
    """What the bot replies to tell the author (plain text: it is also the crash marker)."""
    what = FAILED_WHAT.get(row.kind, "reply")
    text = " ".join(row.text.removeprefix(f"{row.author}: ").split())
    if len(text) > 60:
        text = text[:59].rstrip() + "…"
    quoted = f" “{text}”" if text else ""
    if row.error == NO_ROOM:
        why = "there is no Upwork room for this engagement yet"
    else:
        # Upwork's own words, without the operation, status and request id around them.
        said = re.sub(r"^Upwork \S+ -> [^:]+(: |$)", "", row.error)
        said = re.sub(r" \(request id [^)]*\)$", "", said).strip().rstrip(".")[:200]
        why = f"Upwork refused it ({said})" if said else "Upwork refused it"
    return f"{row.author}: your {what}{quoted} did not reach Upwork: {why}."


def run_tell_failed(message_id: int) -> str:
    """Tell the author of a failed reply, in the thread, once (check-then-act like the rest)."""
    row = OutgoingMessage.objects.select_related("thread").filter(pk=message_id).first()
    if row is None or row.state != OutgoingMessage.State.FAILED:
        return "nothing to tell"
    if row.told_activity_id:
        return "told already"
    thread = row.thread
    if not thread.root_activity_id:
        return "no thread"
    with transaction.atomic():  # the intent, committed before Teams is called
        OutgoingMessage.objects.filter(pk=row.pk).update(told_attempts=row.told_attempts + 1)
    line = html.escape(failure_line(row), quote=False)
    activity_id = _find_reply(thread, line) if row.told_attempts else None
    if activity_id is None:
        activity = {"type": "message", "textFormat": "xml", "text": f"<p>{line}</p>"}
        activity_id = teams.reply(thread.conversation_id, activity).activity_id
    OutgoingMessage.objects.filter(pk=row.pk).update(told_activity_id=activity_id)
    return activity_id


def run_send(thread_id: int) -> int:
    """Send the thread's pending replies to Upwork, in the order they were written."""
    if not _take(Thread, thread_id, "sending_until"):
        raise RetryableError("another job is sending this thread's replies", retry_after=5)
    sent = 0
    try:
        while True:
            row = (
                OutgoingMessage.objects.select_related("thread")
                .filter(thread_id=thread_id, state=OutgoingMessage.State.PENDING)
                .order_by("written_at", "pk")
                .first()
            )
            if row is None:
                break
            try:
                _send_one(row)
            except PermanentError as error:  # this reply only: the next ones still go
                log.warning("reply %s not sent to Upwork: %s", row.activity_id, error)
                _failed(row, str(error))
                continue
            sent += 1
    finally:
        Thread.objects.filter(pk=thread_id).update(sending_until=None)
    return sent


# --- the end ----------------------------------------------------------------------------------


def queue_close(engagement: Engagement) -> bool:
    """In the transition's transaction: the thread gets its last line once."""
    updated = Thread.objects.filter(engagement=engagement, closing=False).update(
        closing=True, ended_on=engagement.contract_end or clock.today()
    )
    if updated:
        jobs.enqueue(
            CLOSE_JOB, {"engagement_id": engagement.pk}, key=f"{CLOSE_JOB}:{engagement.pk}"
        )
    return bool(updated)


def closing_line(thread: Thread) -> str:
    day = thread.ended_on.isoformat()
    if thread.engagement.contract_start is None:  # cancelled before any contract
        return f"The engagement was cancelled on {day}; this conversation is closed."
    return f"The contract ended on {day}; the Upwork room is closed."


def run_close(engagement_id: int) -> str:
    thread = Thread.objects.select_related("engagement").get(engagement_id=engagement_id)
    if thread.state == Thread.State.CLOSED:
        return "closed already"
    if not thread.root_activity_id:
        if thread.state == Thread.State.FAILED:
            Thread.objects.filter(pk=thread.pk).update(state=Thread.State.CLOSED)
            return "no thread"
        raise RetryableError("the thread is not started yet", retry_after=30)
    RoomLink.objects.filter(thread=thread).update(closed=True)  # no more polling
    if MirroredStory.objects.filter(
        room__thread=thread, state=MirroredStory.State.PENDING
    ).exists():
        raise RetryableError("stories are still being posted", retry_after=5)
    line = closing_line(thread)
    # The job's own attempt count (claimed before this runs) says whether an earlier attempt
    # may have posted the line: then look for it in the thread's replies first.
    first_try = not OutboxJob.objects.filter(
        idempotency_key=f"{CLOSE_JOB}:{engagement_id}", attempts__gt=1
    ).exists()
    activity_id = None if first_try else _find_reply(thread, line)
    if activity_id is None:
        activity_id = teams.reply(
            thread.conversation_id, {"type": "message", "textFormat": "xml", "text": line}
        ).activity_id
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(
            state=Thread.State.CLOSED, close_activity_id=activity_id, closed_at=clock.now()
        )
        record(
            user=None,
            actor="teams",
            action="conversation.closed",
            obj=thread.engagement,
            after={"ended_on": thread.ended_on.isoformat()},
        )
    return activity_id
