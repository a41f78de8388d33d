"""What Teams sends the bot: activities POSTed to its messaging endpoint with a signed JWT.

Messages (``message``, ``messageUpdate``, ``messageDelete`` in a channel thread) are recorded
first, then delivered; the outcome is kept on the activity (``delivered`` or ``failed`` with the
reason) and the view offers a retry. Card clicks are ``invoke`` ``adaptiveCard/action``,
synchronous: the bot's answer is the clicker's refreshed card or an error.

The endpoint: https anywhere, http only on loopback (a local Gigbridge). TLS is verified with
the system's trust store plus the sandbox's CA.
"""

from __future__ import annotations

import datetime as dt
import secrets
import ssl
from urllib.parse import urlsplit

import httpx

from ..paths import sandbox_dir
from . import ids, keys
from .defaults import BOT_NAME, CHANNEL_ID
from .models import Activity, BotSettings, CardView, Conversation

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MESSAGE_TIMEOUT = 15.0  # seconds; the bot answers at once (it queues the work)
INVOKE_TIMEOUT = 15.0  # Teams gives an invoke about 15 s
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


class DeliveryError(Exception):
    pass


def check_endpoint(url: str) -> str:
    """The endpoint as given, or ValueError saying why it cannot be one."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("the messaging endpoint must be an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ValueError("http is allowed on loopback only (127.0.0.1, localhost, ::1)")
    if len(url) > 2000:
        raise ValueError("the messaging endpoint is too long")
    return url


def messaging_endpoint() -> str:
    return BotSettings.current().messaging_endpoint


def set_messaging_endpoint(url: str) -> str:
    row = BotSettings.current()
    row.messaging_endpoint = check_endpoint(url)
    row.save()
    return row.messaging_endpoint


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _base(conversation: Conversation, user, activity_id: str, moment: dt.datetime) -> dict:
    tenant_id = str(conversation.tenant_id)
    body = {
        "id": activity_id,
        "timestamp": iso(moment),
        "localTimestamp": iso(moment),
        "channelId": CHANNEL_ID,
        "serviceUrl": keys.service_url(),
        "from": {
            "id": ids.user_mri(user.id),
            "name": user.display_name,
            "aadObjectId": str(user.id),
        },
        "recipient": {"id": ids.bot_mri(conversation.bot_app_id), "name": BOT_NAME},
        "locale": "en-US",
        "entities": [],
    }
    if conversation.kind == Conversation.Kind.CHANNEL:
        team = conversation.team
        body["conversation"] = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": tenant_id,
            "id": conversation.id,
        }
        body["channelData"] = {
            "tenant": {"id": tenant_id},
            "team": {
                "id": team.internal_id,
                "name": team.group.display_name,
                "aadGroupId": str(team.group_id),
            },
            "channel": {
                "id": conversation.channel.graph_id,
                "name": conversation.channel.display_name,
            },
            "teamsTeamId": team.internal_id,
            "teamsChannelId": conversation.channel.graph_id,
        }
    else:
        body["conversation"] = {
            "isGroup": False,
            "conversationType": "personal",
            "tenantId": tenant_id,
            "id": conversation.id,
        }
        body["channelData"] = {"tenant": {"id": tenant_id}}
    return body


def message_activity(activity: Activity, kind: str) -> dict:
    """The activity for a person's message: ``message``, ``messageUpdate`` or ``messageDelete``."""
    conversation = activity.conversation
    moment = activity.timestamp
    if kind == "messageUpdate" and activity.edited:
        moment = activity.edited
    if kind == "messageDelete" and activity.deleted:
        moment = activity.deleted
    body = _base(conversation, activity.from_user, activity.activity_id, moment)
    body["type"] = kind
    if kind != "messageDelete":
        body.update(text=activity.text, textFormat="plain", attachments=[])
    if activity.reply_to_id:
        body["replyToId"] = activity.reply_to_id
    if kind == "messageUpdate":
        body["channelData"]["eventType"] = "editMessage"
    elif kind == "messageDelete":
        body["channelData"]["eventType"] = "softDeleteMessage"
    return body


def invoke_activity(card: Activity, user, action: dict, data: dict, moment) -> dict:
    body = _base(card.conversation, user, f"f:{secrets.token_hex(12)}", moment)
    body.update(
        type="invoke",
        name="adaptiveCard/action",
        replyToId=card.activity_id,
        value={
            "action": {
                "type": "Action.Execute",
                "id": action.get("id") or None,
                "title": action.get("title") or None,
                "verb": action.get("verb") or "",
                "data": data,
            },
            "trigger": "manual",
        },
    )
    if body["value"]["action"]["id"] is None:
        del body["value"]["action"]["id"]
    if body["value"]["action"]["title"] is None:
        del body["value"]["action"]["title"]
    return body


def _ssl() -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca = sandbox_dir() / "ca.pem"
    if ca.exists():
        context.load_verify_locations(cafile=str(ca))
    return context


def post(body: dict, bot_app_id: str, timeout: float) -> httpx.Response:
    """POST ``body`` to the messaging endpoint; DeliveryError if it cannot be reached."""
    url = messaging_endpoint()
    try:
        check_endpoint(url)
    except ValueError as exc:
        raise DeliveryError(f"messaging endpoint {url!r}: {exc}") from None
    headers = {"Authorization": f"Bearer {keys.delivery_token(bot_app_id)}"}
    try:
        with httpx.Client(verify=_ssl(), timeout=timeout, trust_env=False) as http:
            return http.post(url, json=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError(f"the bot did not answer within {timeout:.0f} s ({url})") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"the bot is unreachable at {url}: {type(exc).__name__}") from None


def deliver(activity: Activity, kind: str) -> Activity:
    """Deliver a person's message event; the outcome is saved on the activity."""
    activity.delivery_kind = kind
    try:
        answer = post(
            message_activity(activity, kind), activity.conversation.bot_app_id, MESSAGE_TIMEOUT
        )
        if 200 <= answer.status_code < 300:
            activity.delivery, activity.delivery_error = Activity.Delivery.DELIVERED, ""
        else:
            detail = answer.text.strip().replace("\n", " ")[:200]
            activity.delivery = Activity.Delivery.FAILED
            activity.delivery_error = f"the bot answered HTTP {answer.status_code} {detail}".strip()
    except DeliveryError as exc:
        activity.delivery, activity.delivery_error = Activity.Delivery.FAILED, str(exc)[:500]
    activity.save(update_fields=["delivery", "delivery_error", "delivery_kind"])
    return activity


def invoke(card: Activity, user, action: dict, data: dict, moment) -> CardView:
    """Send a card click; the clicker's view of the card becomes what the bot answered."""
    view, _ = CardView.objects.get_or_create(activity=card, user=user)
    view.error = view.notice = ""
    try:
        answer = post(
            invoke_activity(card, user, action, data, moment),
            card.conversation.bot_app_id,
            INVOKE_TIMEOUT,
        )
        _apply(view, answer)
    except DeliveryError as exc:
        view.error = f"Could not reach the bot: {exc}"[:1000]
    view.updated = moment
    view.save()
    return view


def _apply(view: CardView, answer: httpx.Response) -> None:
    if answer.status_code != 200:
        view.error = f"The bot answered HTTP {answer.status_code}."
        return
    try:
        body = answer.json()
    except ValueError:
        view.error = "The bot's answer is not JSON."
        return
    if not isinstance(body, dict):
        view.error = "The bot's answer is not an invoke response."
        return
    status = body.get("statusCode", 200)
    kind = body.get("type")
    value = body.get("value")
    if kind == CARD_TYPE and status == 200 and isinstance(value, dict):
        view.card = value
    elif kind == "application/vnd.microsoft.error" or (isinstance(status, int) and status >= 400):
        detail = value if isinstance(value, dict) else {}
        message = detail.get("message") or "no message"
        view.error = f"The bot refused: {detail.get('code') or status}: {message}"[:1000]
    elif kind == "application/vnd.microsoft.activity.message":
        view.notice = str(value)[:1000]
    else:
        view.error = f"The bot's answer has an unexpected type {kind!r}."
