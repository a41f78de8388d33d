"""Outbox handler that renders and sends a mail."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.jobs.registry import handler

from .actions import MAIL_JOB
from .render import extra_context

log = logging.getLogger(__name__)


@handler(MAIL_JOB)
def send_mail_job(payload: dict) -> None:
    if payload.get("to"):  # someone without an account (a freelancer)
        context = {"user": None, "base_url": settings.BASE_URL, **payload["context"]}
        context.update(extra_context(payload["template"], payload["context"], None))
        text = render_to_string(f"notifications/{payload['template']}.txt", context).strip()
        subject, _, body = text.partition("\n")
        _send(payload["to"], subject.strip(), body.strip() + "\n")
        log.info("mail %s sent to an address", payload["template"])
        return
    user = get_user_model().objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None or not user.email:
        raise PermanentError(f"user {payload['user_id']} has no active account with an email")
    context = {"user": user, "base_url": settings.BASE_URL, **payload["context"]}
    context.update(extra_context(payload["template"], payload["context"], user))
    text = render_to_string(f"notifications/{payload['template']}.txt", context).strip()
    subject, _, body = text.partition("\n")
    _send(user.email, subject.strip(), body.strip() + "\n")
    # Log who and what kind, never the body (it carries a personal decision link).
    log.info("mail %s sent to user %s", payload["template"], user.pk)


def _send(to: str, subject: str, body: str) -> None:
    """Outlook through Graph once a tenant is connected; the configured mail backend before."""
    from gigbridge.integrations.msgraph import connection

    if connection.configured() and settings.GRAPH["mail_sender"]:
        # Typed Graph errors are the outbox's retryable/permanent errors already.
        connection.client().send_mail(settings.GRAPH["mail_sender"], to, subject, body)
        return
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    try:
        message.send()
    except OSError as exc:  # SMTP down, refused, timed out: the server may come back
        raise RetryableError(f"mail server: {exc}") from exc
