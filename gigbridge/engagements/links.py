"""Single-use, signed, expiring decision links mailed to approvers.

The mail carries ``sign(nonce)``. Opening it (after sign-in) shows the decision form; the link is
consumed only when the decision is posted, so mail scanners that prefetch links cannot use it up.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core import signing

from gigbridge import clock

from .models import ApprovalStep, DecisionLink

SALT = "gigbridge.engagements.decision-link"


class LinkError(Exception):
    """Why a link cannot be used; the message is shown to the person who opened it."""


def create(step: ApprovalStep, user, valid_days: int) -> DecisionLink:
    return DecisionLink.objects.create(
        step=step,
        user=user,
        nonce=secrets.token_urlsafe(32),
        expires_at=clock.now() + dt.timedelta(days=valid_days),
    )


def token_for(nonce: str) -> str:
    return signing.dumps(nonce, salt=SALT, compress=False)


def resolve(token: str, user) -> DecisionLink:
    """The link behind ``token`` if ``user`` may use it now; otherwise LinkError saying why."""
    try:
        nonce = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise LinkError(
            "This link is not valid. It may have been altered or copied "
            "incompletely; open the approval from your inbox instead."
        ) from None
    link = DecisionLink.objects.select_related("step__request").filter(nonce=nonce).first()
    if link is None:
        raise LinkError("This link is not valid.")
    if link.user_id != user.pk:
        raise LinkError(
            "This link was sent to someone else. Sign in as the person it was sent "
            "to, or open your own approvals inbox."
        )
    if link.used_at is not None:
        raise LinkError(
            f"This link was already used on {link.used_at:%Y-%m-%d %H:%M} UTC. "
            "Links work once; your approvals inbox shows the current state."
        )
    if link.expires_at < clock.now():
        raise LinkError(
            f"This link expired on {link.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Open the approval from your approvals inbox instead."
        )
    return link
