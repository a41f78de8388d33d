"""Sending to Teams through the Bot Connector (interface; implemented in issue 10's transport).

Every call goes to the Bot Connector's service URL with the bot's token; failures raise the
outbox's ``RetryableError`` / ``PermanentError`` so a job retries or gives up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    activity_id: str


def configured() -> bool:
    """A bot is configured (app id and credentials): Teams notices can be sent."""
    raise NotImplementedError


def send_to_person(email: str, activity: dict) -> Sent:
    """Send ``activity`` in the person's 1:1 chat with the bot (created on first use)."""
    raise NotImplementedError


def start_thread(team_id: str, channel_id: str, activity: dict) -> Sent:
    """Start a thread in a channel; ``conversation_id`` is the thread's
    (``19:...;messageid=<root>``) and ``activity_id`` its root message."""
    raise NotImplementedError


def reply(conversation_id: str, activity: dict) -> Sent:
    """Reply in a thread (or send in a personal chat)."""
    raise NotImplementedError


def update(conversation_id: str, activity_id: str, activity: dict) -> None:
    raise NotImplementedError


def delete(conversation_id: str, activity_id: str) -> None:
    raise NotImplementedError


def card_activity(card: dict, text: str = "") -> dict:
    """A message activity carrying one Adaptive Card (``text`` is the notification preview)."""
    activity: dict = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    if text:
        activity["summary"] = text
    return activity
