"""Who is who: Entra object ids and mail addresses through Graph, cached in ``TeamsMember``.

Teams names a person by Entra object id (``from.aadObjectId``); Gigbridge by mail address.
Graph ``GET /users/{id-or-upn}`` links the two; the answer is kept for ``FRESH_FOR`` (a mailbox
can be renamed or reassigned, and decisions are authorised by address)."""

from __future__ import annotations

import datetime as dt

from gigbridge import clock
from gigbridge.integrations.msgraph import connection as graph
from gigbridge.integrations.msgraph.errors import NotFound as GraphNotFound

from .models import TeamsMember

FRESH_FOR = dt.timedelta(hours=1)
USER_FIELDS = ("id", "mail", "userPrincipalName", "displayName")


def _address(user: dict) -> str:
    mail = (user.get("mail") or "").strip().lower()
    if mail:
        return mail
    upn = (user.get("userPrincipalName") or "").strip().lower()
    return "" if "#ext#" in upn else upn  # a guest's UPN is not an address


def _fresh(member: TeamsMember | None) -> bool:
    return bool(member and member.resolved_at and clock.now() - member.resolved_at < FRESH_FOR)


def _lookup(user_id: str) -> dict | None:
    """The Graph user, None when there is none (or no tenant is connected)."""
    if not graph.configured():
        return None
    try:
        return graph.client().get_user(user_id, select=USER_FIELDS)
    except GraphNotFound:
        return None


def _remember(user: dict) -> TeamsMember:
    member, _ = TeamsMember.objects.update_or_create(
        aad_object_id=user["id"],
        defaults={
            "email": _address(user),
            "name": (user.get("displayName") or "")[:200],
            "resolved_at": clock.now(),
            "updated_at": clock.now(),
        },
    )
    return member


def by_object_id(aad_object_id: str) -> TeamsMember | None:
    """The person behind an Entra object id (Graph errors other than 404 are raised: they are
    ``RetryableError`` / ``PermanentError``)."""
    if not aad_object_id:
        return None
    member = TeamsMember.objects.filter(aad_object_id=aad_object_id).first()
    if _fresh(member):
        return member
    user = _lookup(aad_object_id)
    if user is None or not user.get("id"):
        return member  # what we knew (possibly nothing)
    return _remember(user)


def by_email(email: str) -> TeamsMember | None:
    email = email.strip().lower()
    member = TeamsMember.objects.filter(email=email).order_by("-resolved_at").first()
    if _fresh(member):
        return member
    user = _lookup(email)  # Graph takes a user principal name where an id goes
    if user is None:
        client = graph.client() if graph.configured() else None
        user = client.find_user_by_mail(email) if client else None
    if user is None or not user.get("id"):
        return member
    return _remember(user)


def email_of(aad_object_id: str | None) -> str | None:
    member = by_object_id(aad_object_id or "")
    return (member.email or None) if member else None


def remember_conversation(
    aad_object_id: str, conversation_id: str, service_url: str, name: str = ""
) -> None:
    """A person's 1:1 chat with the bot (from an activity they sent or the Connector's answer)."""
    if not aad_object_id or not conversation_id:
        return
    defaults = {
        "conversation_id": conversation_id[:400],
        "service_url": service_url[:400],
        "updated_at": clock.now(),
    }
    if name:
        defaults["name"] = name[:200]
    TeamsMember.objects.update_or_create(aad_object_id=aad_object_id, defaults=defaults)
