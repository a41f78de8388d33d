"""What Teams sends the bot, routed to the handlers domain apps register.

Domain apps register at import time (in their ``reactions`` or ``tasks`` module)::

    @inbound.on_card_action("approval.")          # verbs starting with "approval."
    def decide_from_card(action: CardAction) -> dict:   # the card the clicker sees now
        ...

    @inbound.on_channel_message
    def mirror_reply(message: ChannelMessage) -> None:
        ...

Card actions (``adaptiveCard/action`` invokes) are answered synchronously with the returned card;
channel messages are stored in the inbox first and handled by a job (at-least-once: handlers
must be idempotent on ``message.activity_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sender:
    """Who acted in Teams: their Entra object id and display name as Teams gives them, and the
    mail address Gigbridge resolved from Graph (``None`` when the tenant has no such user)."""

    aad_object_id: str
    name: str
    email: str | None


@dataclass(frozen=True)
class CardAction:
    """An ``Action.Execute`` on a card the bot sent: ``verb`` and ``data`` are the card's own,
    ``inputs`` what the person typed (Input.* values by id)."""

    verb: str
    data: dict
    inputs: dict
    sender: Sender
    conversation_id: str
    activity_id: str  # the card's message (replyToId)


@dataclass(frozen=True)
class ChannelMessage:
    """A message in a channel thread, its edit or its deletion (``kind``)."""

    kind: str  # "created" | "edited" | "deleted"
    activity_id: str  # the message's own id
    conversation_id: str  # the thread: "19:...@thread.tacv2;messageid=<root id>"
    root_activity_id: str  # the thread's first message
    team_id: str  # the team's group id (aadGroupId), as Graph names the team
    channel_id: str
    sender: Sender
    text: str  # plain text (Teams' HTML reduced to text); "" for a deletion
    timestamp: dt.datetime
    attachments: list[dict] = field(default_factory=list)


CardHandler = Callable[[CardAction], dict]
MessageHandler = Callable[[ChannelMessage], None]

_card_handlers: dict[str, CardHandler] = {}
_message_handlers: list[MessageHandler] = []


def on_card_action(verb_prefix: str) -> Callable[[CardHandler], CardHandler]:
    def register(func: CardHandler) -> CardHandler:
        if _card_handlers.get(verb_prefix, func) is not func:
            raise RuntimeError(f"two card handlers for verbs {verb_prefix!r}")
        _card_handlers[verb_prefix] = func
        return func

    return register


def on_channel_message(func: MessageHandler) -> MessageHandler:
    if func not in _message_handlers:
        _message_handlers.append(func)
    return func


def card_handler(verb: str) -> CardHandler | None:
    """The handler of the longest registered prefix of ``verb``."""
    matches = [prefix for prefix in _card_handlers if verb.startswith(prefix)]
    return _card_handlers[max(matches, key=len)] if matches else None


def message_handlers() -> list[MessageHandler]:
    return list(_message_handlers)
