"""The ``teams.activity`` job: a stored channel activity handed to the message handlers.

The view stored the activity in the inbox (deduplicated); this job builds an
``inbound.ChannelMessage`` (who wrote it, resolved to a mail address through Graph; the text as
plain text; the thread it belongs to) and calls every ``inbound.message_handlers()``. Handlers
are at-least-once (a job retried after a crash runs them again): idempotent on
``message.activity_id`` and ``kind``.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from gigbridge import clock
from gigbridge.jobs.models import InboxEvent
from gigbridge.jobs.registry import handler

from . import directory, inbound
from .views import ACTIVITY_JOB

KINDS = {"message": "created", "messageUpdate": "edited", "messageDelete": "deleted"}
_BREAKS = re.compile(r"<\s*(br\s*/?|/p|/div|/li)\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")


def plain_text(text: str | None, text_format: str | None = None, drop: tuple[str, ...] = ()) -> str:
    """Teams' HTML (``textFormat`` xml/html, or markup in plain text) as plain text; ``<at>``
    mentions of the bot (names in ``drop``) are left out."""
    text = text or ""
    if "<" not in text and "&" not in text:
        return text.strip()
    for name in drop:
        text = re.sub(rf"<at[^>]*>\s*{re.escape(name)}\s*</at>", "", text, flags=re.IGNORECASE)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").splitlines()]
    return "\n".join(lines).strip()


def _timestamp(value, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return fallback


def channel_message(raw: dict, received_at: dt.datetime) -> inbound.ChannelMessage | None:
    """The ``ChannelMessage`` for a stored activity; None for one that is not a channel message."""
    kind = KINDS.get(raw.get("type") or "")
    conversation = raw.get("conversation") or {}
    if kind is None or conversation.get("conversationType") != "channel":
        return None
    channel_data = raw.get("channelData") or {}
    sender = raw.get("from") or {}
    recipient = raw.get("recipient") or {}
    conversation_id = str(conversation.get("id") or "")
    thread, _, root = conversation_id.partition(";messageid=")
    root = root or raw.get("replyToId") or raw.get("id") or ""
    team = channel_data.get("team") or {}
    channel = channel_data.get("channel") or {}
    aad = sender.get("aadObjectId") or ""
    attachments = [
        a
        for a in raw.get("attachments") or []
        if isinstance(a, dict) and a.get("contentType") != "text/html"
    ]
    drop = tuple(n for n in (recipient.get("name"),) if n)
    return inbound.ChannelMessage(
        kind=kind,
        activity_id=str(raw.get("id") or ""),
        conversation_id=conversation_id,
        root_activity_id=str(root),
        team_id=str(team.get("aadGroupId") or team.get("id") or ""),
        channel_id=str(channel.get("id") or thread),
        sender=inbound.Sender(
            aad_object_id=aad, name=sender.get("name") or "", email=directory.email_of(aad)
        ),
        text="" if kind == "deleted" else plain_text(raw.get("text"), raw.get("textFormat"), drop),
        timestamp=_timestamp(raw.get("timestamp"), received_at),
        attachments=attachments if kind != "deleted" else [],
    )


@handler(ACTIVITY_JOB)
def activity_job(payload: dict) -> None:
    event = InboxEvent.objects.get(pk=payload["inbox_id"])
    if event.handled_at is not None:
        return
    message = channel_message(event.payload, event.received_at)
    if message is not None:
        for handle in inbound.message_handlers():
            handle(message)
    InboxEvent.objects.filter(pk=event.pk).update(handled_at=clock.now())
