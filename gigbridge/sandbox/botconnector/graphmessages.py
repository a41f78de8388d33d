"""Graph's view of the channel threads the Bot Connector keeps: ``chatMessage`` (v1.0 CSDL).

- ``GET /v1.0/teams/{team}/channels/{channel}/messages/{message}``: the root of a thread.
- ``GET .../messages/{message}/replies`` (paged) and ``.../replies/{reply}``.

App-only (or delegated) with ``ChannelMessage.Read.All``, ``ChannelMessage.Read.Group`` (the
resource-specific consent of the Teams app package, granted here to the bot's app: a Graph token
with the bot's app id and password) or, as Graph keeps for backward compatibility,
``Group.Read(Write).All`` (the outside-tools app has it). Deleted messages keep their id with an
empty body and ``deletedDateTime``.
"""

from __future__ import annotations

import json

from django.conf import settings

from ..graph.dispatch import GraphRequest, GraphResponse, iso, ok, route
from ..graph.errors import teams_not_found
from ..graph.paging import context, paginate
from ..graph.teams import find_channel, find_team
from ..models import AppRegistration
from .defaults import BOT_NAME
from .models import Activity, Conversation

READ_MESSAGES = (
    "ChannelMessage.Read.All", "ChannelMessage.Read.Group", "ChannelMessage.ReadWrite.All",
    "Group.Read.All", "Group.ReadWrite.All",
)  # fmt: skip


def _from(activity: Activity, tenant_id) -> dict:
    if activity.by_bot:
        app_id = activity.from_id.removeprefix("28:")
        app = AppRegistration.objects.filter(client_id=app_id).first()
        return {
            "application": {
                "@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                "id": app_id,
                "displayName": app.display_name if app else BOT_NAME,
                "applicationIdentityType": "bot",
            },
            "device": None,
            "user": None,
        }
    return {
        "application": None,
        "device": None,
        "user": {
            "@odata.type": "#microsoft.graph.teamworkUserIdentity",
            "id": str(activity.from_user_id),
            "displayName": activity.from_name,
            "userIdentityType": "aadUser",
            "tenantId": str(tenant_id),
        },
    }


def message_json(activity: Activity) -> dict:
    conversation = activity.conversation
    attachments = []
    body_html = ""
    for index, attachment in enumerate(activity.attachments or []):
        attachment_id = str(attachment.get("id") or f"{activity.activity_id}-{index}")
        content = attachment.get("content")
        attachments.append(
            {
                "id": attachment_id,
                "contentType": attachment.get("contentType"),
                "contentUrl": attachment.get("contentUrl"),
                "content": json.dumps(content) if content is not None else None,
                "name": attachment.get("name"),
                "thumbnailUrl": attachment.get("thumbnailUrl"),
                "teamsAppId": None,
            }
        )
        body_html += f'<attachment id="{attachment_id}"></attachment>'
    deleted = activity.deleted is not None
    content_type = "html" if activity.text_format in {"xml", "html"} or attachments else "text"
    text = activity.text if content_type == "text" else activity.text + body_html
    modified = activity.deleted or activity.edited or activity.timestamp
    team = conversation.team
    return {
        "id": activity.activity_id,
        "replyToId": activity.reply_to_id or None,
        "etag": str(int(modified.timestamp() * 1000)),
        "messageType": "message",
        "createdDateTime": iso(activity.timestamp),
        "lastModifiedDateTime": iso(modified),
        "lastEditedDateTime": iso(activity.edited),
        "deletedDateTime": iso(activity.deleted),
        "subject": None,
        "summary": activity.summary or None,
        "chatId": None,
        "importance": "normal",
        "locale": "en-us",
        "webUrl": f"{settings.SANDBOX_URL}/teams/?thread={conversation.root_id}",
        "channelIdentity": {
            "teamId": str(team.group_id),
            "channelId": conversation.channel.graph_id,
        },
        "policyViolation": None,
        "eventDetail": None,
        "from": _from(activity, conversation.tenant_id),
        "body": {"contentType": content_type, "content": "" if deleted else text},
        "attachments": [] if deleted else attachments,
        "mentions": [],
        "reactions": [],
        "messageHistory": [],
    }


def _thread(request: GraphRequest, key: str, channel: str, message: str) -> Conversation:
    team = find_team(request, key)
    found_channel = find_channel(team, channel)
    conversation = (
        Conversation.objects.select_related("team__group", "channel")
        .filter(channel=found_channel, root_id=message, kind=Conversation.Kind.CHANNEL)
        .first()
    )
    if conversation is None:
        raise teams_not_found(f"Message {message}")
    return conversation


def _base(conversation: Conversation, message: str) -> str:
    return (
        f"teams('{conversation.team.group_id}')/channels('{conversation.channel.graph_id}')"
        f"/messages('{message}')"
    )


@route("GET", "/teams/{key}/channels/{channel}/messages/{message}", permissions=READ_MESSAGES)
def get_message(request: GraphRequest, key: str, channel: str, message: str) -> GraphResponse:
    conversation = _thread(request, key, channel, message)
    root = conversation.activities.select_related("conversation").get(activity_id=message)
    body = {"@odata.context": context(request, f"{_base(conversation, message)}/$entity")}
    return ok({**body, **message_json(root)})


@route(
    "GET", "/teams/{key}/channels/{channel}/messages/{message}/replies", permissions=READ_MESSAGES
)
def list_replies(request: GraphRequest, key: str, channel: str, message: str) -> GraphResponse:
    conversation = _thread(request, key, channel, message)
    replies = conversation.activities.exclude(activity_id=message).select_related(
        "conversation__team", "conversation__channel"
    )
    body = paginate(
        request,
        replies,
        message_json,
        context(request, f"{_base(conversation, message)}/replies"),
    )
    return ok(body)


@route(
    "GET",
    "/teams/{key}/channels/{channel}/messages/{message}/replies/{reply}",
    permissions=READ_MESSAGES,
)
def get_reply(request: GraphRequest, key: str, channel: str, message: str, reply: str):
    conversation = _thread(request, key, channel, message)
    found = conversation.activities.exclude(activity_id=message).filter(activity_id=reply).first()
    if found is None:
        raise teams_not_found(f"Message {reply}")
    body = {"@odata.context": context(request, f"{_base(conversation, message)}/replies/$entity")}
    return ok({**body, **message_json(found)})
