"""``POST /hooks/teams``: the Bot Connector's activities for the Gigbridge bot.

Verify, then store or answer. Anyone can post here, so the body is bounded (checked on the
declared length before it is read, and on the real one), the Connector's JWT is checked
(``validation``: issuer, audience = the bot's app id, signature against the configured keys,
five minutes' skew, ``serviceUrl`` claim = the activity's) before anything in the body is acted
on or echoed, and a refused post is logged as exactly one bounded security-log line (why, size
and the sender's address; never the body, a token or an id from it). Answers:

- ``invoke`` ``adaptiveCard/action``: the registered card handler (``inbound.card_handler``)
  runs now and its card is the answer (``{"statusCode": 200, "type":
  "application/vnd.microsoft.card.adaptive", "value": card}``); no handler, a malformed action
  or a failing handler answer ``application/vnd.microsoft.error`` (HTTP 200 either way, as the
  Bot Framework wraps invoke responses; never a 500). A delivery of the same invoke again gets
  the stored answer: the handler runs once per activity id.
- ``message`` / ``messageUpdate`` / ``messageDelete`` in a channel: stored in the inbox
  (``jobs.receive``, deduplicated on the activity id and kind) for the ``teams.activity`` job,
  answered 200 at once.
- anything else (personal chat messages, conversation and installation updates): 200, ignored
  (a personal activity still teaches us the person's chat with the bot: ``directory``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from gigbridge import clock, securitylog
from gigbridge.api.problems import problem
from gigbridge.jobs import actions as jobs
from gigbridge.jobs.errors import PermanentError, RetryableError

from . import client, directory, inbound, validation
from .models import TeamsInvoke

log = logging.getLogger("gigbridge.integrations.teams")

SOURCE = "teams"
ACTIVITY_JOB = "teams.activity"
MAX_BODY = 256 * 1024  # an activity with a card is a few KB; Teams caps messages near 100 KB
MAX_ERRORS_SHOWN = 20
CHANNEL_KINDS = ("message", "messageUpdate", "messageDelete")
CARD_ACTION = "adaptiveCard/action"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ERROR_TYPE = "application/vnd.microsoft.error"
INVOKE_LEASE = dt.timedelta(seconds=60)  # an unanswered claim older than this is taken over


def _refused(request: HttpRequest, reason: str, response: HttpResponse) -> HttpResponse:
    return securitylog.refused_post(request, "/hooks/teams", "teams activity", reason, response)


@csrf_exempt  # authenticated by the Bot Connector's JWT, not a session
@require_POST
def teams_hook(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    if not client.configured():
        return _refused(
            request, "no bot configured", problem(404, "No Teams bot", "no Teams bot configured")
        )
    if securitylog.content_length(request) > MAX_BODY or len(request.body) > MAX_BODY:
        return _refused(
            request,
            "body too large",
            problem(413, "Activity too large", f"at most {MAX_BODY} bytes"),
        )
    try:
        raw = json.loads(request.body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raw = None
    channel = raw.get("channelId") if isinstance(raw, dict) else None
    try:
        identity = validation.validate(
            request.headers.get("Authorization"),
            app_id=settings.TEAMS["app_id"],
            keys=validation.key_set(),
            channel_id=channel if isinstance(channel, str) else None,
        )
    except validation.Refused as refusal:
        title = "Unauthorized" if refusal.status == 401 else "Forbidden"
        response = problem(refusal.status, title, "not a valid Bot Connector token")
        if refusal.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="gigbridge"'
        return _refused(request, refusal.reason, response)
    except validation.KeysUnavailable as exc:
        response = problem(503, "Signing keys unavailable", "try again later")
        response["Retry-After"] = "30"
        return _refused(request, f"signing keys unavailable: {exc}", response)
    activity, errors = _parse(raw)
    if activity is None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return _refused(
            request,
            f"not an activity ({len(errors)} errors)",
            problem(400, "Not a Bot Framework activity", detail, errors),
        )
    try:
        validation.check_service_url(identity, activity.service_url)
    except validation.Refused as refusal:
        return _refused(
            request,
            refusal.reason,
            problem(403, "Forbidden", "serviceUrl does not match the token"),
        )
    _learn_personal_chat(activity)
    if activity.type == "invoke":
        if activity.name != CARD_ACTION:
            return HttpResponse(status=200)
        return JsonResponse(_card_action(activity))
    conversation = activity.conversation
    if activity.type in CHANNEL_KINDS and conversation.conversation_type == "channel":
        jobs.receive(SOURCE, _external_id(activity, raw), raw, ACTIVITY_JOB)
    return HttpResponse(status=200)


def _parse(raw):
    """The SDK's ``Activity`` for the body and the fields Gigbridge needs, or (None, errors)."""
    from microsoft_agents.activity import Activity

    if not isinstance(raw, dict):
        return None, [{"field": "(body)", "message": "not a JSON object"}]
    try:
        activity = Activity.model_validate(raw)
    except ValidationError as exc:
        return None, [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors(include_input=False)[:MAX_ERRORS_SHOWN]
        ]
    missing = [
        name
        for name, value in (
            ("id", activity.id),
            ("serviceUrl", activity.service_url),
            ("conversation.id", activity.conversation and activity.conversation.id),
            ("from.id", activity.from_property and activity.from_property.id),
        )
        if not value
    ]
    if missing:
        return None, [{"field": name, "message": "Field required"} for name in missing]
    # The bot serves Teams only; and a signing key endorsed for some channels proves nothing
    # for an activity that names none (the token check compares the two when it is named).
    if activity.channel_id != "msteams":
        return None, [{"field": "channelId", "message": "must be msteams (a Teams activity)"}]
    return activity, []


def _external_id(activity, raw: dict) -> str:
    """The inbox key: activity id and kind; an edit also by what it says (the same message can
    be edited twice, and each edit must be seen; a redelivered edit is identical)."""
    key = f"{activity.id}:{activity.type}"
    if activity.type == "messageUpdate":
        digest = hashlib.sha256(
            json.dumps(
                [raw.get("text"), raw.get("timestamp"), raw.get("attachments")], sort_keys=True
            ).encode()
        ).hexdigest()[:16]
        key += f":{digest}"
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _learn_personal_chat(activity) -> None:
    sender = activity.from_property
    conversation = activity.conversation
    if conversation.conversation_type == "personal" and sender and sender.aad_object_id:
        directory.remember_conversation(
            sender.aad_object_id, conversation.id, activity.service_url, sender.name or ""
        )


def _error(status: int, code: str, message: str) -> dict:
    return {"statusCode": status, "type": ERROR_TYPE, "value": {"code": code, "message": message}}


def _card_action(activity) -> dict:
    """The invoke response for an ``Action.Execute``: once per activity id."""
    key = (
        activity.id if len(activity.id) <= 200 else hashlib.sha256(activity.id.encode()).hexdigest()
    )
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action") if isinstance(value.get("action"), dict) else {}
    verb = action.get("verb")
    if action.get("type") != "Action.Execute" or not isinstance(verb, str) or not verb:
        return _error(400, "BadRequest", "not an Action.Execute with a verb")
    now = clock.now()
    try:
        with transaction.atomic():
            claim, created = TeamsInvoke.objects.select_for_update().get_or_create(
                activity_id=key, defaults={"verb": verb[:200], "created_at": now}
            )
            if not created:
                if claim.response is not None:
                    return claim.response  # the same answer again: decided once
                if now - claim.created_at < INVOKE_LEASE:
                    return _error(409, "InProgress", "this action is being handled")
                claim.created_at = now  # its first handler died: take over
                claim.save(update_fields=["created_at"])
    except IntegrityError:  # a concurrent delivery claimed it first
        return _error(409, "InProgress", "this action is being handled")
    response, keep = _run_card_handler(activity, verb, action)
    if keep:
        TeamsInvoke.objects.filter(pk=claim.pk).update(response=response, answered_at=clock.now())
    else:
        TeamsInvoke.objects.filter(pk=claim.pk).delete()  # a retry may succeed
    return response


def _run_card_handler(activity, verb: str, action: dict) -> tuple[dict, bool]:
    """(invoke response, whether it is final)."""
    handler = inbound.card_handler(verb)
    if handler is None:
        return _error(400, "NotSupported", f"no handler for the verb {verb[:100]!r}"), True
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    sender = activity.from_property
    try:
        email = directory.email_of(sender.aad_object_id)
    except (RetryableError, PermanentError) as exc:
        log.warning("teams card action %s: who clicked is unknown now: %s", verb[:100], exc)
        return _error(503, "ServiceUnavailable", "try again in a moment"), False
    except Exception:  # a bug or an untyped failure: still an invoke answer, never a 500
        log.exception("teams card action %s: looking up who clicked failed", verb[:100])
        return _error(503, "ServiceUnavailable", "try again in a moment"), False
    card_action = inbound.CardAction(
        verb=verb,
        # Teams merges the card's data and the person's inputs into one object: both views
        # are that object (handlers read their fields by name).
        data=dict(data),
        inputs=dict(data),
        sender=inbound.Sender(
            aad_object_id=sender.aad_object_id or "", name=sender.name or "", email=email
        ),
        conversation_id=activity.conversation.id,
        activity_id=activity.reply_to_id or "",
    )
    try:
        card = handler(card_action)
    except Exception:
        log.exception("teams card handler for %s failed", verb[:100])
        return _error(500, "HandlerError", "the action could not be completed"), False
    if not isinstance(card, dict):
        log.error("teams card handler for %s returned no card", verb[:100])
        return _error(500, "HandlerError", "the action could not be completed"), False
    return {"statusCode": 200, "type": CARD_TYPE, "value": card}, True
