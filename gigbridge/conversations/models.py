"""The conversation bridge: one Teams channel thread per engagement, the Upwork rooms mirrored
into it, and the thread's replies sent back to the room.

Every crossing is a row written before the outbox job that performs it, unique on the outside
id it is about (an Upwork story id one way, a Teams activity id the other), so a retry or a
crash never doubles a message, and the bridge recognises its own messages (no loop).
"""

from django.db import models


class Thread(models.Model):
    """An engagement's thread in its workspace's channel (the Team's General channel)."""

    class State(models.TextChoices):
        QUEUED = "queued"  # the start job will start it
        STARTED = "started"
        FAILED = "failed"  # Teams refused; shown on the engagement page
        CLOSED = "closed"  # the contract ended: last line posted, rooms no longer polled

    engagement = models.OneToOneField(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="conversation"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    team_id = models.CharField(max_length=64)
    team_name = models.CharField(max_length=200, blank=True)
    channel_id = models.CharField(max_length=200, blank=True)
    channel_name = models.CharField(max_length=200, blank=True)
    conversation_id = models.CharField(max_length=300, blank=True)
    root_activity_id = models.CharField(max_length=200, blank=True, db_index=True)
    # Attempts to start it: > 0 with no root = a previous attempt may have reached Teams.
    start_attempts = models.PositiveIntegerField(default=0)
    closing = models.BooleanField(default=False, help_text="The contract ended; line queued")
    ended_on = models.DateField(null=True, blank=True)
    close_activity_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # One job sends the thread's replies at a time (order kept): a lease.
    sending_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"thread of engagement {self.engagement_id} ({self.state})"


class RoomLink(models.Model):
    """An Upwork room mirrored into a thread, with its own cursor (the newest story's creation
    time seen). A room is read one page at a time from ``watermark - overlap``."""

    class Kind(models.TextChoices):
        CONTRACT = "contract"
        OFFER = "offer"
        PROPOSAL = "proposal"

    room_id = models.CharField(max_length=64, unique=True)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="rooms")
    organization_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=500, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    closed = models.BooleanField(default=False)
    # One job drains a room at a time (order kept): a lease, not a lock held over HTTP.
    draining_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} room {self.room_id}"


class PollCursor(models.Model):
    """Per Upwork organization: ``roomList(activeSince)`` is asked from ``active_since`` minus
    an overlap; advanced to the pass's start once every room it listed is stored."""

    organization_id = models.CharField(max_length=64, unique=True)
    active_since = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.organization_id or '(default)'} since {self.active_since}"


class MirroredStory(models.Model):
    """An Upwork story on its way to (or in) the thread. Written before the job posts it."""

    class State(models.TextChoices):
        PENDING = "pending"
        POSTED = "posted"
        FAILED = "failed"  # Teams refused it for good; the room's later stories went on

    story_id = models.CharField(max_length=64, unique=True)
    room = models.ForeignKey(RoomLink, on_delete=models.CASCADE, related_name="stories")
    author = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list)
    created = models.DateTimeField(help_text="Upwork's createdDateTime")
    updated = models.CharField(max_length=40, blank=True, help_text="Upwork's updatedDateTime")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    activity_id = models.CharField(max_length=200, blank=True, db_index=True)
    edit_pending = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    stored_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "story_id"]
        indexes = [models.Index(fields=["room", "state", "created"])]

    def __str__(self) -> str:
        return f"story {self.story_id} ({self.state})"


class OutgoingMessage(models.Model):
    """A reply in the thread by an employee, on its way to (or in) the Upwork room."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # no room to send to, or Upwork refused
        DELETED = "deleted"  # deleted in Teams before it was sent: never sent

    class Kind(models.TextChoices):
        MESSAGE = "message"  # createRoomStoryV2
        EDIT = "edit"  # updateRoomStoryV2 of the story ``target_story_id``
        DELETE = "delete"  # removeRoomStory of the story ``target_story_id``

    # The Teams message id; for an edit "<id>:edit:<Teams timestamp>", a deletion "<id>:delete".
    activity_id = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MESSAGE)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="outgoing")
    author = models.CharField(max_length=200)
    text = models.TextField()  # as sent: "Ada Lovelace: ..."
    room_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    story_id = models.CharField(max_length=64, blank=True, db_index=True)
    target_story_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Failed: its author is told in the thread, once (the bot's reply, and attempts at it).
    told_activity_id = models.CharField(max_length=200, blank=True)
    told_attempts = models.PositiveIntegerField(default=0)
    written_at = models.DateTimeField(help_text="Teams' timestamp")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"reply {self.activity_id} ({self.state})"
