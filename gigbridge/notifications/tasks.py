"""Outbox handlers: render and send a mail; send a Teams card (falling back to the mail once
when Teams cannot reach the person); update a sent card in place."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from gigbridge import clock
from gigbridge.jobs.errors import PermanentError, RetryableError
from gigbridge.jobs.registry import handler

from . import cards
from .actions import MAIL_JOB, TEAMS_JOB, TEAMS_REFRESH_JOB, mail_only
from .models import TeamsCard
from .render import computed, extra_context

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


@handler(TEAMS_JOB)
def send_teams_job(payload: dict) -> None:
    """One card in the person's chat with the bot, recorded so that it can be updated later.
    Teams cannot reach them (PermanentError): the mail goes instead, once (its key is the
    mail's own, so a person who chose both gets one mail).

    At most one card: the Bot Connector takes no idempotency key and a personal chat's
    messages cannot be listed, so a card sent by an attempt that died before recording its id
    can never be found again. The intent (a ``sending`` row) is committed before Teams is
    called; a retry that finds it does not send a second card: the row becomes ``unknown``
    and the mail goes instead (once), so the person is told at least once and sees at most
    one card (docs/notifications.md)."""
    from gigbridge.integrations.teams import client

    from . import approvals

    template, context = payload["template"], payload["context"]
    notice_key = f"teams:{template}:{payload['user_id']}:{payload['key']}"
    earlier = TeamsCard.objects.filter(notice_key=notice_key).first()
    if earlier is not None and earlier.state != TeamsCard.State.SENDING:
        return  # sent (or settled as unknown) before: check-then-act
    user = get_user_model().objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None or not user.email:
        raise PermanentError(f"user {payload['user_id']} has no active account with an email")
    subject = payload.get("subject") or ""
    if subject and not approvals.subject_open(subject):
        log.info("teams %s to user %s not sent: %s is settled", template, user.pk, subject)
        if earlier is not None:
            TeamsCard.objects.filter(pk=earlier.pk).update(state=TeamsCard.State.UNKNOWN)
        return
    if earlier is not None:  # an attempt died between Teams and our record: it may have sent
        TeamsCard.objects.filter(pk=earlier.pk).update(state=TeamsCard.State.UNKNOWN)
        log.warning(
            "teams %s to user %s: an earlier attempt may have sent the card; no second card, "
            "mailing instead",
            template,
            user.pk,
        )
        if not payload.get("mail_too"):
            mail_only(user, template, context, payload["key"])
        return
    if subject:
        card = approvals.subject_card(subject, template)
    else:
        card = cards.notice_card(
            template, {"base_url": settings.BASE_URL, **context, **computed(template, context)}
        )
    activity = client.card_activity(card, cards.summary(template, context))
    intent, _ = TeamsCard.objects.get_or_create(  # committed before Teams is called
        notice_key=notice_key,
        defaults={
            "state": TeamsCard.State.SENDING,
            "subject": subject,
            "template": template,
            "user": user,
            "sent_at": clock.now(),
        },
    )
    try:
        sent = client.send_to_person(user.email, activity)
    except PermanentError as exc:
        if getattr(exc, "code", "") == "malformedAnswer":  # a 2xx we could not read: sent
            TeamsCard.objects.filter(pk=intent.pk).update(state=TeamsCard.State.UNKNOWN)
            log.warning("teams %s to user %s: sent, but its id is unknown (%s)", template,
                        user.pk, exc)  # fmt: skip
            return
        TeamsCard.objects.filter(pk=intent.pk).delete()  # Teams answered: nothing was sent
        log.warning(
            "teams %s to user %s not possible (%s): mailing instead", template, user.pk, exc
        )
        if not payload.get("mail_too"):
            mail_only(user, template, context, payload["key"])
        return
    except RetryableError as exc:
        # Throttled or a server fault (Teams answered): nothing was sent, try again as new.
        # No answer at all (a timeout, a lost connection): it may have been sent, keep the
        # intent, so the retry treats it like a crash.
        if getattr(exc, "status", None) is not None:
            TeamsCard.objects.filter(pk=intent.pk).delete()
        raise
    TeamsCard.objects.filter(pk=intent.pk).update(
        state=TeamsCard.State.SENT,
        conversation_id=sent.conversation_id,
        activity_id=sent.activity_id,
        sent_at=clock.now(),
    )
    log.info("teams %s sent to user %s", template, user.pk)
    if subject and not approvals.subject_open(subject):
        # Settled while the card was on its way (no copy was recorded to refresh): show it.
        _update(intent.pk, client, sent.conversation_id, sent.activity_id, subject)


def _update(card_id: int, client, conversation_id: str, activity_id: str, subject: str) -> None:
    """Update one copy in place; a copy Teams no longer has (404: deleted) is marked gone."""
    from gigbridge.integrations.teams.errors import NotFound

    from . import approvals

    card = approvals.subject_card(subject)
    if card is None:
        return
    try:
        client.update(conversation_id, activity_id, client.card_activity(card))
    except NotFound as exc:
        TeamsCard.objects.filter(pk=card_id).update(state=TeamsCard.State.GONE)
        log.info("teams card %s is gone (%s): not updated", card_id, exc)
        return
    log.info("teams card %s updated (%s)", card_id, subject)


@handler(TEAMS_REFRESH_JOB)
def refresh_teams_card_job(payload: dict) -> None:
    """Update one sent card in place with what its subject shows now (decided, cancelled).
    Only a copy Teams confirmed (``sent``): a ``sending`` one is checked by its send job, an
    ``unknown`` one has no id, a ``gone`` one was deleted in Teams."""
    from gigbridge.integrations.teams import client

    copy = TeamsCard.objects.filter(pk=payload["card_id"], state=TeamsCard.State.SENT).first()
    if copy is None:
        return
    _update(copy.pk, client, copy.conversation_id, copy.activity_id, copy.subject)
