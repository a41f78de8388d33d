"""Bot Connector REST v3 for Teams, under ``service_url`` (``/botframework/teams/``).

The bot calls with ``Authorization: Bearer <token>`` from the sandbox's Entra (client
credentials, scope ``https://api.botframework.com/.default``): signature, issuer, audience
``https://api.botframework.com``, lifetime and the caller (``appid``/``azp`` = the bot's app id)
are checked. Routes (``{id}`` is a conversation id, percent-encoded or not):

- ``POST v3/conversations``: a personal chat (one per bot and user; the member by Entra object id
  or a ``29:`` id) or a channel thread (``isGroup``, ``channelData.channel.id``, with the root
  ``activity``): ``{id, activityId}``; a thread's id is ``<channel id>;messageid=<root id>``.
- ``POST v3/conversations/{id}/activities`` (send; in a thread: a reply to its root),
  ``POST .../activities/{activityId}`` (reply), ``PUT .../activities/{activityId}`` (update the
  bot's own), ``DELETE .../activities/{activityId}``: ``{id}``.
- ``GET v3/conversations/{id}/members``, ``.../members/{memberId}``, ``.../pagedmembers``,
  ``.../activities/{activityId}/members``: ``ChannelAccount``s (a thread's are the team's).
- ``GET v3/teams/{teamId}`` (``TeamDetails``), ``GET v3/teams/{teamId}/conversations``
  (its channels), by the team's thread id (``channelData.team.id``) or group id.

Errors: ``{"error": {"code", "message"}}`` with the Connector's status codes; 429 with
``Retry-After`` while the tools' throttle dial (``/botframework/_sandbox/endpoint``) says so.
"""

from __future__ import annotations

import json
import uuid

import jwt
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import tokens
from ..m365files import clock
from ..models import AppRegistration, GraphChannel, GraphGroupMember, SandboxUser, Tenant
from . import ids
from .defaults import BOT_APP, BOT_NAME, BOTFRAMEWORK
from .models import Activity, BotSettings, Conversation

MAX_BODY = 100 * 1024  # Teams refuses messages over about 28 KB of text, 100 KB in all
ACTIVITY_TYPES = {"message", "typing", "endOfConversation", "event"}


class ConnectorError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JsonResponse:
        body = {"error": {"code": self.code, "message": self.message}}
        headers = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api.botframework.com"'
        return JsonResponse(body, status=self.status, headers=headers)


def bad(message: str) -> ConnectorError:
    return ConnectorError(400, "BadArgument", message)


def authenticate(request: HttpRequest) -> AppRegistration:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    denied = "Authorization has been denied for this request."
    if scheme.lower() != "bearer" or not token.strip():
        raise ConnectorError(401, "Unauthorized", denied)
    token = token.strip()
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        tenant = Tenant.objects.filter(id=uuid.UUID(str(unverified.get("tid")))).first()
    except (jwt.InvalidTokenError, ValueError):
        raise ConnectorError(401, "Unauthorized", denied) from None
    if tenant is None:
        raise ConnectorError(401, "Unauthorized", denied)
    try:
        claims = tokens.verify(token, tenant, BOTFRAMEWORK)
    except jwt.ExpiredSignatureError:
        raise ConnectorError(401, "Unauthorized", f"{denied} The token is expired.") from None
    except jwt.InvalidTokenError:
        raise ConnectorError(401, "Unauthorized", denied) from None
    app_id = str(claims.get("appid") or claims.get("azp") or "")
    try:
        app = AppRegistration.objects.select_related("tenant").filter(
            tenant=tenant, client_id=uuid.UUID(app_id), display_name=BOT_APP
        )
    except ValueError:
        raise ConnectorError(401, "Unauthorized", denied) from None
    found = app.first()
    if found is None:
        raise ConnectorError(401, "Unauthorized", f"{denied} The caller is not a bot here.")
    return found


def api(view):
    """A Connector route: authenticated bot, JSON in and out, errors in the Connector's shape."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            app = authenticate(request)
            throttled = _throttled()
            if throttled is not None:
                return throttled
            if len(request.body) > MAX_BODY:
                raise ConnectorError(413, "MessageSizeTooBig", "Message size too big.")
            with transaction.atomic():
                return view(request, app, *args, **kwargs)
        except ConnectorError as exc:
            return exc.response()

    return wrapped


def _throttled() -> JsonResponse | None:
    """429 while the tools' throttle dial has calls left (each call takes one)."""
    row = BotSettings.current()
    if row.throttle_next <= 0:
        return None
    taken = BotSettings.objects.filter(pk=row.pk, throttle_next__gt=0).update(
        throttle_next=F("throttle_next") - 1
    )
    if not taken:
        return None
    body = {"error": {"code": "Throttled", "message": "Too many requests."}}
    return JsonResponse(body, status=429, headers={"Retry-After": str(row.retry_after)})


def body_of(request: HttpRequest) -> dict:
    try:
        parsed = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise bad("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise bad("The request body must be a JSON object.")
    return parsed


def find_conversation(app: AppRegistration, conversation_id: str) -> Conversation:
    found = (
        Conversation.objects.select_related("user", "team__group", "channel", "tenant")
        .filter(id=conversation_id)
        .first()
    )
    if found is None:
        raise ConnectorError(404, "ConversationNotFound", "Conversation not found.")
    if found.bot_app_id != str(app.client_id) or found.tenant_id != app.tenant_id:
        raise ConnectorError(
            403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
        )
    return found


def find_activity(conversation: Conversation, activity_id: str) -> Activity:
    found = conversation.activities.filter(activity_id=activity_id).first()
    if found is None:
        raise ConnectorError(404, "ActivityNotFoundInConversation", "Activity not found.")
    return found


# -- activities ---------------------------------------------------------------------------------


def _text(body: dict, key: str, limit: int) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise bad(f"{key} must be a string.")
    return value[:limit]


def _content(body: dict) -> dict:
    kind = body.get("type") or "message"
    if kind not in ACTIVITY_TYPES:
        raise bad(f"Unsupported activity type '{kind}'.")
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise bad("attachments must be a list of objects.")
    text = _text(body, "text", 28 * 1024)
    if kind == "message" and not text and not attachments:
        raise bad("The activity has neither text nor attachments.")
    return {
        "type": kind,
        "text": text,
        "text_format": _text(body, "textFormat", 20) or "plain",
        "summary": _text(body, "summary", 1000),
        "attachments": attachments,
    }


def post_bot_activity(
    conversation: Conversation, app: AppRegistration, body: dict, reply_to: str = ""
) -> Activity:
    content = _content(body)

    def create(message_id: str) -> Activity:
        return Activity.objects.create(
            activity_id=message_id,
            conversation=conversation,
            from_id=ids.bot_mri(app.client_id),
            from_name=BOT_NAME,
            reply_to_id=reply_to,
            timestamp=clock.now(),
            **content,
        )

    return ids.new_message(create)


def _posted(activity: Activity | None) -> JsonResponse:
    # A typing indicator is not stored and has no id.
    return JsonResponse({"id": activity.activity_id} if activity else {}, status=201)


@api
def send(request: HttpRequest, app: AppRegistration, conversation: str) -> HttpResponse:
    if request.method != "POST":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    found = find_conversation(app, conversation)
    body = body_of(request)
    if (body.get("type") or "message") != "message":
        return _posted(None)
    # In a channel thread, whatever is sent to the thread is a reply to its root.
    reply_to = found.root_id if found.kind == Conversation.Kind.CHANNEL else ""
    reply_to = reply_to or _text(body, "replyToId", 40)
    return _posted(post_bot_activity(found, app, body, reply_to))


@api
def activity(request: HttpRequest, app: AppRegistration, conversation: str, activity_id: str):
    found = find_conversation(app, conversation)
    target = find_activity(found, activity_id)
    if request.method == "POST":  # reply
        body = body_of(request)
        if (body.get("type") or "message") != "message":
            return _posted(None)
        reply_to = found.root_id if found.kind == Conversation.Kind.CHANNEL else target.activity_id
        return _posted(post_bot_activity(found, app, body, reply_to))
    if not target.by_bot:
        raise ConnectorError(403, "Forbidden", "The bot can only change its own messages.")
    if target.deleted is not None:
        raise ConnectorError(404, "ActivityNotFoundInConversation", "Activity was deleted.")
    if request.method == "PUT":
        content = _content(body_of(request))
        if content["type"] != "message":
            raise bad("Only message activities can be updated.")
        for key, value in content.items():
            setattr(target, key, value)
        target.edited = clock.now()
        target.save()
        target.views.update(card=None, error="", notice="")  # everyone sees the new card
        return JsonResponse({"id": target.activity_id})
    if request.method == "DELETE":
        target.deleted = clock.now()
        target.save(update_fields=["deleted"])
        return HttpResponse(status=200)
    raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")


# -- conversations ------------------------------------------------------------------------------


def _tenant_matches(app: AppRegistration, body: dict) -> None:
    data = body.get("channelData") or {}
    named = {body.get("tenantId"), ((data.get("tenant") or {}).get("id"))} - {None, ""}
    if any(str(t).lower() != str(app.tenant_id) for t in named):
        raise ConnectorError(403, "Forbidden", "The tenant does not match the bot's tenant.")


def find_user(app: AppRegistration, member_id: str) -> SandboxUser:
    user_id = ids.user_from_member_id(member_id)
    user = (
        SandboxUser.objects.filter(tenant=app.tenant, id=user_id, account_enabled=True).first()
        if user_id
        else None
    )
    if user is None:
        raise ConnectorError(404, "MemberNotFound", f"Member '{member_id}' was not found.")
    return user


@api
def conversations(request: HttpRequest, app: AppRegistration) -> HttpResponse:
    if request.method != "POST":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    body = body_of(request)
    _tenant_matches(app, body)
    data = body.get("channelData") or {}
    channel_key = (data.get("channel") or {}).get("id")
    if body.get("isGroup") or channel_key:
        return _create_thread(app, body, data, channel_key)
    members = body.get("members") or []
    if len(members) != 1 or not isinstance(members[0], dict):
        raise bad("A personal conversation has exactly one member.")
    user = find_user(app, str(members[0].get("id") or members[0].get("aadObjectId") or ""))
    found = Conversation.objects.filter(
        kind=Conversation.Kind.PERSONAL, bot_app_id=str(app.client_id), user=user
    ).first()
    if found is None:
        found = Conversation.objects.create(
            id=ids.personal_conversation_id(),
            kind=Conversation.Kind.PERSONAL,
            tenant=app.tenant,
            bot_app_id=str(app.client_id),
            user=user,
            created=clock.now(),
        )
    answer = {"id": found.id}
    if isinstance(body.get("activity"), dict):
        answer["activityId"] = post_bot_activity(found, app, body["activity"]).activity_id
    return JsonResponse(answer, status=201)


def _create_thread(app, body: dict, data: dict, channel_key) -> JsonResponse:
    if not channel_key:
        raise bad("channelData.channel.id is required for a conversation in a channel.")
    channel = (
        GraphChannel.objects.select_related("team__group")
        .filter(graph_id=channel_key, team__group__tenant=app.tenant)
        .first()
    )
    if channel is None or channel.team.ready_at > clock.now():
        raise ConnectorError(404, "ConversationNotFound", f"Channel '{channel_key}' not found.")
    team_key = str((data.get("team") or {}).get("id") or "")
    if team_key and team_key not in {channel.team.internal_id, str(channel.team.group_id)}:
        raise bad("The channel is not in that team.")
    root = body.get("activity")
    if not isinstance(root, dict):
        raise bad("An activity is required to create a conversation in a channel.")
    content = _content(root)

    def create(message_id: str) -> Activity:
        conversation = Conversation.objects.create(
            id=f"{channel.graph_id};messageid={message_id}",
            kind=Conversation.Kind.CHANNEL,
            tenant=app.tenant,
            bot_app_id=str(app.client_id),
            team=channel.team,
            channel=channel,
            root_id=message_id,
            created=clock.now(),
        )
        return Activity.objects.create(
            activity_id=message_id,
            conversation=conversation,
            from_id=ids.bot_mri(app.client_id),
            from_name=BOT_NAME,
            timestamp=clock.now(),
            **content,
        )

    made = ids.new_message(create)
    return JsonResponse({"id": made.conversation_id, "activityId": made.activity_id}, status=201)


# -- members ------------------------------------------------------------------------------------


def member_users(conversation: Conversation) -> list[SandboxUser]:
    if conversation.kind == Conversation.Kind.PERSONAL:
        return [conversation.user]
    channel = conversation.channel
    if channel.membership_type == "standard":
        rows = GraphGroupMember.objects.filter(group=conversation.team.group, member=True)
    else:
        rows = channel.members.all()
    return [row.user for row in rows.select_related("user").order_by("created", "pk")]


def channel_account(user: SandboxUser, tenant_id) -> dict:
    return {
        "id": ids.user_mri(user.id),
        "name": user.display_name,
        "aadObjectId": str(user.id),
        "givenName": user.given_name or None,
        "surname": user.surname or None,
        "email": user.mail or None,
        "userPrincipalName": user.user_principal_name,
        "tenantId": str(tenant_id),
        "userRole": "guest" if user.user_type == SandboxUser.UserType.GUEST else "user",
    }


@api
def members(request: HttpRequest, app: AppRegistration, conversation: str, activity_id=None):
    if request.method != "GET":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    found = find_conversation(app, conversation)
    if activity_id is not None:
        find_activity(found, activity_id)
    users = member_users(found)
    return JsonResponse([channel_account(u, found.tenant_id) for u in users], safe=False)


@api
def member(request: HttpRequest, app: AppRegistration, conversation: str, member_id: str):
    if request.method != "GET":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    found = find_conversation(app, conversation)
    wanted = ids.user_from_member_id(member_id)
    for user in member_users(found):
        if user.id == wanted:
            return JsonResponse(channel_account(user, found.tenant_id))
    raise ConnectorError(
        404, "MemberNotFoundInConversation", "The member was not found in the conversation."
    )


@api
def paged_members(request: HttpRequest, app: AppRegistration, conversation: str):
    """``GET .../pagedmembers``: one page holds them all here (teams are small)."""
    if request.method != "GET":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    found = find_conversation(app, conversation)
    accounts = [channel_account(u, found.tenant_id) for u in member_users(found)]
    return JsonResponse({"members": accounts})


# -- teams (TeamsInfo) --------------------------------------------------------------------------


def _find_team(app: AppRegistration, team_id: str):
    from ..models import GraphTeam

    teams = GraphTeam.objects.select_related("group").filter(group__tenant=app.tenant)
    found = teams.filter(internal_id=team_id).first()
    if found is None:
        try:
            found = teams.filter(group_id=uuid.UUID(team_id)).first()
        except ValueError:
            found = None
    if found is None or found.ready_at > clock.now():
        raise ConnectorError(404, "TeamNotFound", "Team not found.")
    return found


@api
def team_details(request: HttpRequest, app: AppRegistration, team_id: str):
    """``GET v3/teams/{teamId}``: ``TeamDetails`` (by the team's thread id or group id)."""
    if request.method != "GET":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    team = _find_team(app, team_id)
    return JsonResponse(
        {
            "id": team.internal_id,
            "name": team.group.display_name,
            "aadGroupId": str(team.group_id),
            "channelCount": team.channels.count(),
            "memberCount": team.group.memberships.filter(member=True).count(),
            "type": "standard",
        }
    )


@api
def team_channels(request: HttpRequest, app: AppRegistration, team_id: str):
    """``GET v3/teams/{teamId}/conversations``: the channels (General has no name, as in Teams)."""
    if request.method != "GET":
        raise ConnectorError(405, "MethodNotAllowed", "Method not allowed.")
    team = _find_team(app, team_id)
    channels = [
        {"id": c.graph_id, "name": None if c.is_general else c.display_name}
        for c in team.channels.order_by("-is_general", "pk")
    ]
    return JsonResponse({"conversations": channels})
