"""The ids Teams gives: users ``29:…``, the bot ``28:<app id>``, messages (epoch milliseconds)."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid

from django.db import IntegrityError, transaction

from ..m365files import clock


def user_mri(user_id) -> str:
    """A person's Teams id for bots: opaque, stable, ``29:1…`` (here it encodes the object id)."""
    raw = base64.urlsafe_b64encode(uuid.UUID(str(user_id)).bytes).rstrip(b"=").decode()
    return f"29:1{raw}"


def user_from_member_id(value: str) -> uuid.UUID | None:
    """The Entra object id a member id names: a ``29:`` id we issued, or the object id itself."""
    value = (value or "").strip()
    if value.startswith("29:1"):
        raw = value[4:]
        try:
            return uuid.UUID(bytes=base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (ValueError, binascii.Error):
            return None
    if value.startswith("8:orgid:"):
        value = value[len("8:orgid:") :]
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def bot_mri(app_id: str) -> str:
    return f"28:{app_id}"


def personal_conversation_id() -> str:
    return f"a:1{secrets.token_urlsafe(36)}"


def new_message(create):
    """Call ``create(message_id)`` with a fresh message id (sandbox-clock milliseconds, unique);
    retried with the next id if another worker took it."""
    from .models import Activity

    candidate = int(clock.now().timestamp() * 1000)
    last = Activity.objects.filter(activity_id__regex=r"^[0-9]+$").order_by("-pk").first()
    if last is not None:
        candidate = max(candidate, int(last.activity_id) + 1)
    for _ in range(50):
        if not Activity.objects.filter(activity_id=str(candidate)).exists():
            try:
                with transaction.atomic():
                    return create(str(candidate))
            except IntegrityError:
                pass
        candidate += 1
    raise RuntimeError("no free message id")
