"""Each person's choice, per kind of notice, of where it reaches them: Outlook, Teams or both.
A kind with no choice follows the policy's ``notifications.default_channel``."""

from __future__ import annotations

from django.db import transaction

from gigbridge import clock
from gigbridge.domainerrors import Problem, RuleViolation
from gigbridge.notifications.kinds import BY_KEY, CHANNELS, KINDS

from .models import NoticePreference


def default_channel() -> str:
    from gigbridge.program import actions as program

    try:
        _, policy = program.current()
    except program.NoPolicyError:
        return "outlook"
    return policy.notifications.default_channel


def channel_for(user, kind: str) -> str:
    chosen = (
        NoticePreference.objects.filter(user=user, kind=kind).values_list("channel", flat=True)
    ).first()
    return chosen or default_channel()


def preferences(user) -> list[dict]:
    """Every kind, in the order shown: its channel and whether the person chose it."""
    chosen = dict(NoticePreference.objects.filter(user=user).values_list("kind", "channel"))
    default = default_channel()
    return [
        {
            "kind": kind.key,
            "label": kind.label,
            "channel": chosen.get(kind.key, default),
            "chosen": kind.key in chosen,
        }
        for kind in KINDS
    ]


@transaction.atomic
def set_preferences(user, changes: dict[str, str | None]) -> list[dict]:
    """``{kind: channel}``; a channel of None (or "default") goes back to the policy default."""
    problems = [
        Problem(f"preferences.{kind}", "is not a kind of notice")
        for kind in changes
        if kind not in BY_KEY
    ] + [
        Problem(
            f"preferences.{kind}",
            f"must be one of {', '.join(CHANNELS)} or default (got {channel!r})",
        )
        for kind, channel in changes.items()
        if kind in BY_KEY and channel not in (*CHANNELS, None, "default")
    ]
    if problems:
        raise RuleViolation(problems)
    for kind, channel in changes.items():
        if channel in (None, "default"):
            NoticePreference.objects.filter(user=user, kind=kind).delete()
        else:
            NoticePreference.objects.update_or_create(
                user=user, kind=kind, defaults={"channel": channel, "updated_at": clock.now()}
            )
    return preferences(user)
