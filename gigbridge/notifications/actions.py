"""Telling people things where they already are: Outlook mail, a Teams message from the
Gigbridge bot, or both, as each person chose per kind of notice (default: the policy's
``notifications.default_channel``). Callers only say who, which template and which facts;
rendering happens at send time.

``mail(user, ...)`` is the one entry point for a notice to someone with an account (its name
predates Teams): it routes. ``mail_address`` mails someone without an account (a freelancer).
"""

from __future__ import annotations

from collections.abc import Callable

from gigbridge.jobs import actions as jobs

from . import kinds

MAIL_JOB = "mail.send"
TEAMS_JOB = "notifications.teams"
TEAMS_REFRESH_JOB = "notifications.teams_refresh"


def teams_configured() -> bool:
    from gigbridge.integrations.teams import client

    return client.configured()


# Who says where a person's notices go: people registers its preferences at start
# (PeopleConfig.ready), so that this module, imported by every layer, imports none of them.
_channel_source: Callable[[object, str], str] | None = None


def set_channel_source(source: Callable[[object, str], str]) -> None:
    """``source(user, kind) -> "outlook" | "teams" | "both"``."""
    global _channel_source
    _channel_source = source


def channels_for(user, template: str) -> set[str]:
    """{"outlook"}, {"teams"} or both, for this person and this notice, as they will be sent."""
    kind = kinds.kind_of(template)
    if kind is None:
        return {"outlook"}
    chosen = _channel_source(user, kind) if _channel_source else "outlook"
    wanted = {"outlook", "teams"} if chosen == "both" else {chosen}
    if "teams" in wanted and not teams_configured():
        return {"outlook"}
    return wanted


def mail_key(user_id: int, template: str, key: str) -> str:
    return f"mail:{template}:{user_id}:{key}"


def mail(user, template: str, context: dict, key: str, subject: str = "") -> None:
    """Queue one notice to ``user`` (after commit) on their channels. ``key`` makes the same
    notice idempotent; ``subject`` (``"step:<id>"``) names what a Teams card is about, so that
    every copy is updated when it is settled (``refresh_cards``)."""
    if not user.email:
        return
    channels = channels_for(user, template)
    if "teams" in channels:
        jobs.enqueue(
            TEAMS_JOB,
            {
                "user_id": user.pk,
                "template": template,
                "context": context,
                "key": key,
                "subject": subject,
                "mail_too": "outlook" in channels,
            },
            key=f"teams:{template}:{user.pk}:{key}",
        )
    if "outlook" in channels:
        mail_only(user, template, context, key)



def mail_only(user, template: str, context: dict, key: str) -> None:
    """The Outlook path: one mail, whatever the person chose (also Teams' fallback)."""
    if not user.email:
        return
    jobs.enqueue(
        MAIL_JOB,
        {"user_id": user.pk, "template": template, "context": context},
        key=mail_key(user.pk, template, key),
    )


def mail_address(email: str, template: str, context: dict, key: str) -> None:
    """Queue one mail to someone without an account (a freelancer), by address."""
    if not email:
        return
    jobs.enqueue(
        MAIL_JOB,
        {"to": email, "template": template, "context": context},
        key=f"mail:{template}:{key}",
    )


def refresh_cards(subject: str, version: str) -> int:
    """What ``subject`` (``"step:<id>"``) asks is settled: every Teams copy sent about it is
    updated in place (one job per copy, after commit; the job builds the card from the state
    then). ``version`` names the state, so the same state is sent to a copy once."""
    from .models import TeamsCard

    count = 0
    for card_id in TeamsCard.objects.filter(subject=subject).values_list("pk", flat=True):
        jobs.enqueue(
            TEAMS_REFRESH_JOB, {"card_id": card_id}, key=f"teams_refresh:{card_id}:{version}"
        )
        count += 1
    return count
