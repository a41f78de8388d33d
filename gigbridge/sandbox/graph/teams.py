"""``/teams``: teams on unified groups, their async creation, members and channels.

Creation (``POST /teams``) answers 202 with no body, ``Location:
/teams('{id}')/operations('{opId}')`` and ``Content-Location: /teams('{id}')`` (both relative to
the service root, as Graph sends them). Until the dials' ``teams.provisioning_seconds`` have
passed on the sandbox clock (default 0: ready by the next request; a test advances
``/_sandbox/clock`` instead of waiting) the operation is ``inProgress`` and the team
answers 404, as a team still being provisioned does; then ``succeeded``. With an app-only token
``members`` must name an owner; the template is required (``template@odata.bind``); a team can
also be made from an existing unified group (``group@odata.bind``).

Members are the group's members (``aadUserConversationMember``); ``roles`` is ``["owner"]``,
``["guest"]`` for guests, or ``[]``. Adding someone who already is a member answers 201 with the
membership again (with the roles asked for): idempotent, so a reconciler can repeat itself.
Guests cannot be owners (400). Removing a member also removes them from the team's private
channels; the last owner cannot be removed (400).

Channels: ``standard`` (members are the team's; adding members to them is 400 "Operation not
supported for this Channel") and ``private`` (own members, each of whom must be a member of the
team: 400 "User is not found in the team." otherwise; created with an owner in ``members`` when
app-only). Channel names are unique per team, case-insensitively; General always exists.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..m365files import clock
from ..models import (
    GraphChannel,
    GraphChannelMember,
    GraphGroup,
    GraphGroupMember,
    GraphTeam,
    GraphTeamOperation,
    SandboxUser,
)
from .dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from .errors import GraphError, bad_request, teams_not_found, unsupported_query
from .groups import find_group, unique_nickname
from .paging import context, filter_q, paginate
from .throttle import settings_row
from .users import bound_user
from .validation import check, check_action

CREATE = ("Team.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
READ = (
    "Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All",
    "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
)  # fmt: skip
READ_MEMBERS = (
    "TeamMember.Read.All", "TeamMember.ReadWrite.All", "TeamMember.ReadWriteNonOwnerRole.All",
    "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
)  # fmt: skip
WRITE_MEMBERS = ("TeamMember.ReadWrite.All", "TeamMember.ReadWriteNonOwnerRole.All")
READ_CHANNELS = (
    "Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All",
    "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
)  # fmt: skip
CREATE_CHANNEL = (
    "Channel.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All", "Directory.ReadWrite.All",
)  # fmt: skip
DELETE_CHANNEL = ("Channel.Delete.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
READ_CHANNEL_MEMBERS = ("ChannelMember.Read.All", "ChannelMember.ReadWrite.All")
WRITE_CHANNEL_MEMBERS = ("ChannelMember.ReadWrite.All",)

MEMBER_TYPE = "#microsoft.graph.aadUserConversationMember"
SETTINGS_DEFAULTS = {
    "memberSettings": {
        "allowCreateUpdateChannels": True,
        "allowDeleteChannels": True,
        "allowAddRemoveApps": True,
        "allowCreateUpdateRemoveTabs": True,
        "allowCreateUpdateRemoveConnectors": True,
        "allowCreatePrivateChannels": True,
    },
    "guestSettings": {"allowCreateUpdateChannels": False, "allowDeleteChannels": False},
    "messagingSettings": {
        "allowUserEditMessages": True,
        "allowUserDeleteMessages": True,
        "allowOwnerDeleteMessages": True,
        "allowTeamMentions": True,
        "allowChannelMentions": True,
    },
    "funSettings": {
        "allowGiphy": True,
        "giphyContentRating": "moderate",
        "allowStickersAndMemes": True,
        "allowCustomMemes": True,
    },
}
# What Teams refuses in channel names.
_BAD_CHANNEL_NAME = re.compile(r"[~#%&*{}+/\\:<>?|'\"]|^\.|\.\.")


def thread_id() -> str:
    return f"19:{uuid.uuid4().hex}@thread.tacv2"


def membership_id(thread: str, user_id) -> str:
    raw = f"0#{thread}#{user_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def membership_user(thread: str, value: str) -> uuid.UUID | None:
    """The user a membership id of ``thread`` stands for (None if it is not one)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        zero, found_thread, user = raw.split("#")
        if zero != "0" or found_thread != thread:
            return None
        return uuid.UUID(user)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def is_guest(user: SandboxUser) -> bool:
    return user.user_type == SandboxUser.UserType.GUEST


def roles_of(user: SandboxUser, owner: bool) -> list[str]:
    if owner:
        return ["owner"]
    return ["guest"] if is_guest(user) else []


def member_json(request: GraphRequest, thread: str, user: SandboxUser, owner: bool) -> dict:
    return {
        "@odata.type": MEMBER_TYPE,
        "id": membership_id(thread, user.id),
        "roles": roles_of(user, owner),
        "displayName": user.display_name,
        "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
        "userId": str(user.id),
        "email": user.mail or None,
        "tenantId": str(request.tenant.id),
    }


def web_url(anchor: str) -> str:
    """Where the sandbox shows the object: its viewer (a real tenant links to Teams)."""
    return f"{settings.SANDBOX_URL}/#{anchor}"


def ready(team: GraphTeam) -> bool:
    return team.ready_at <= clock.now()


def find_team(request: GraphRequest, key: str, *, provisioned: bool = True) -> GraphTeam:
    try:
        team = (
            GraphTeam.objects.select_related("group__tenant")
            .filter(group__tenant=request.tenant, group_id=uuid.UUID(key))
            .first()
        )
    except ValueError:
        team = None
    if team is None or (provisioned and not ready(team)):
        raise teams_not_found(f"No team found with Group Id {key}")
    return team


def team_json(request: GraphRequest, team: GraphTeam) -> dict:
    group = team.group
    body = {
        "id": str(group.id),
        "createdDateTime": iso(team.created),
        "displayName": group.display_name,
        "description": group.description or None,
        "internalId": team.internal_id,
        "classification": None,
        "specialization": "none",
        "visibility": (group.visibility or "private").lower(),
        "webUrl": web_url(f"team-{group.id}"),
        "isArchived": False,
        "tenantId": str(request.tenant.id),
    }
    for name, defaults in SETTINGS_DEFAULTS.items():
        body[name] = {**defaults, **(team.settings.get(name) or {})}
    return body


def operation_json(request: GraphRequest, operation: GraphTeamOperation) -> dict:
    team = operation.team
    done = ready(team)
    return {
        "@odata.context": (f"{request.base}/$metadata#teams('{team.group_id}')/operations/$entity"),
        "id": str(operation.id),
        "operationType": operation.operation_type,
        "createdDateTime": iso(operation.created),
        "status": "succeeded" if done else "inProgress",
        "lastActionDateTime": iso(team.ready_at if done else operation.created),
        "attemptsCount": 1,
        "targetResourceId": str(team.group_id),
        "targetResourceLocation": f"/teams('{team.group_id}')",
        "error": None,
    }


# -- members, shared by teams and private channels --------------------------------------------


def _member_request(request: GraphRequest, body: dict) -> tuple[SandboxUser, bool]:
    """The user and owner flag a conversationMember body asks for (400/404 otherwise)."""
    if "@odata.type" not in body:
        raise bad_request("'odata.type' must be specified in the request body for each member.")
    check("conversationMember", body)
    if "user@odata.bind" not in body:
        raise bad_request("The 'user@odata.bind' property is required for each member.")
    user = bound_user(request, body["user@odata.bind"])
    roles = [str(r).lower() for r in body.get("roles") or []]
    owner = "owner" in roles
    if owner and is_guest(user):
        raise bad_request("Guest users cannot be added as owners.")
    return user, owner


def _add_team_member(team: GraphTeam, user: SandboxUser, owner: bool) -> GraphGroupMember:
    membership, made = GraphGroupMember.objects.get_or_create(
        group=team.group, user=user, defaults={"owner": owner}
    )
    if not made and (not membership.member or membership.owner != owner):
        membership.member, membership.owner = True, owner
        membership.save()  # only real changes: change notifications follow saves
    return membership


# -- teams -------------------------------------------------------------------------------------


@route("POST", "/teams", permissions=CREATE)
def create_team(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("team", body)
    if not body.get("template@odata.bind"):
        raise bad_request("The 'template@odata.bind' property is required to create a team.")
    members = [_member_request(request, m) for m in body.get("members") or []]
    tenant = request.tenant
    if body.get("group@odata.bind"):
        found = re.search(r"groups(?:\('([^']+)'\)|/([^/?#]+))/?$", body["group@odata.bind"])
        if not found:
            raise bad_request("Invalid value for 'group@odata.bind'.")
        group = find_group(request, found.group(1) or found.group(2))
        if "Unified" not in group.group_types:
            raise bad_request("A team can only be created from a Microsoft 365 (unified) group.")
        if GraphTeam.objects.filter(group=group).exists():
            raise GraphError(409, "Conflict", "A team already exists for this group.")
        has_owner = group.memberships.filter(owner=True).exists()
    else:
        name = str(body.get("displayName") or "").strip()
        if not name:
            raise bad_request("The 'displayName' property is required to create a team.")
        visibility = str(body.get("visibility") or "private").capitalize()
        group = GraphGroup.objects.create(
            tenant=tenant,
            display_name=name,
            description=body.get("description") or "",
            mail_nickname=unique_nickname(tenant, name),
            mail_enabled=True,
            security_enabled=False,
            group_types=["Unified"],
            visibility=visibility,
        )
        has_owner = False
    caller = request.principal.user
    if caller is not None:
        members.append((caller, True))  # a delegated caller owns the team
    if request.principal.app_only and not (has_owner or any(owner for _, owner in members)):
        raise bad_request(
            "An owner must be provided in 'members' when a team is created with application "
            "permissions."
        )
    now = timezone.now()
    delay = dt.timedelta(seconds=settings_row().team_provisioning_seconds)
    team = GraphTeam.objects.create(
        group=group,
        internal_id=thread_id(),
        settings={k: body[k] for k in SETTINGS_DEFAULTS if isinstance(body.get(k), dict)},
        created=now,
        ready_at=clock.now() + delay,
    )
    GraphChannel.objects.create(
        team=team,
        graph_id=team.internal_id,  # the General channel's id is the team's internalId
        display_name=body.get("firstChannelName") or "General",
        is_general=True,
        created=now,
    )
    for channel in body.get("channels") or []:
        _create_channel(request, team, channel, allow_private=False)
    for user, owner in members:
        _add_team_member(team, user, owner)
    operation = GraphTeamOperation.objects.create(team=team, created=now, last_action=now)
    return GraphResponse(
        202,
        None,
        {
            # Graph labels the empty 202 as JSON too.
            "Content-Type": "application/json",
            "Location": f"/teams('{group.id}')/operations('{operation.id}')",
            "Content-Location": f"/teams('{group.id}')",
        },
    )


@route("GET", "/teams", permissions=READ)
def list_teams(request: GraphRequest) -> GraphResponse:
    teams = GraphTeam.objects.select_related("group__tenant").filter(
        group__tenant=request.tenant, ready_at__lte=clock.now()
    )
    body = paginate(
        request, teams, lambda t: team_json(request, t), context(request, "teams"), key="pk"
    )
    return ok(body)


@route("GET", "/users/{user}/joinedTeams", permissions=READ)
def joined_teams(request: GraphRequest, user: str) -> GraphResponse:
    from .users import find_user

    found = find_user(request, user)
    teams = GraphTeam.objects.select_related("group__tenant").filter(
        group__tenant=request.tenant,
        ready_at__lte=clock.now(),
        group__memberships__user=found,
        group__memberships__member=True,
    )
    body = paginate(
        request, teams, lambda t: team_json(request, t), context(request, "teams"), key="pk"
    )
    return ok(body)


@route("GET", "/teams/{key}", permissions=READ)
def get_team(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)
    return ok({"@odata.context": context(request, "teams/$entity"), **team_json(request, team)})


@route("GET", "/teams/{key}/operations/{operation}", permissions=READ)
def get_operation(request: GraphRequest, key: str, operation: str) -> GraphResponse:
    team = find_team(request, key, provisioned=False)
    try:
        found = team.operations.filter(id=uuid.UUID(operation)).first()
    except ValueError:
        found = None
    if found is None:
        raise teams_not_found(f"Operation {operation}")
    return ok(operation_json(request, found))


# -- team members ------------------------------------------------------------------------------


def _member_user(kind: str, value) -> Q:
    if kind != "eq":
        raise unsupported_query()
    try:
        return Q(user_id=uuid.UUID(str(value)))
    except ValueError:
        return Q(pk__in=[])


# ``$filter=(microsoft.graph.aadUserConversationMember/userId eq '{id}')``, as Graph's docs
# write it (the cast is part of the property path).
MEMBER_FILTERABLE = {
    "microsoft.graph.aadUserConversationMember/userId": _member_user,
}


def _team_members(request: GraphRequest, team: GraphTeam):
    memberships = team.group.memberships.filter(member=True).select_related("user")
    return memberships.filter(filter_q(request, MEMBER_FILTERABLE))


@route("GET", "/teams/{key}/members", permissions=READ_MEMBERS)
def list_team_members(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)

    def one(membership):
        return member_json(request, team.internal_id, membership.user, membership.owner)

    body = paginate(
        request,
        _team_members(request, team),
        one,
        context(request, f"teams('{team.group_id}')/members"),
    )
    return ok(body)


def _team_membership(team: GraphTeam, value: str) -> GraphGroupMember:
    user_id = membership_user(team.internal_id, value)
    found = (
        team.group.memberships.filter(member=True, user_id=user_id).select_related("user").first()
        if user_id
        else None
    )
    if found is None:
        raise teams_not_found(f"Member {value}")
    return found


@route("GET", "/teams/{key}/members/{membership}", permissions=READ_MEMBERS)
def get_team_member(request: GraphRequest, key: str, membership: str) -> GraphResponse:
    team = find_team(request, key)
    found = _team_membership(team, membership)
    body = {
        "@odata.context": context(request, f"teams('{team.group_id}')/members/$entity"),
        **member_json(request, team.internal_id, found.user, found.owner),
    }
    return ok(body)


@route("POST", "/teams/{key}/members", permissions=WRITE_MEMBERS)
def add_team_member(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)
    user, owner = _member_request(request, request.json())
    _add_team_member(team, user, owner)
    body = {
        "@odata.context": context(request, f"teams('{team.group_id}')/members/$entity"),
        **member_json(request, team.internal_id, user, owner),
    }
    return created(body)


@route("PATCH", "/teams/{key}/members/{membership}", permissions=WRITE_MEMBERS)
def update_team_member(request: GraphRequest, key: str, membership: str) -> GraphResponse:
    team = find_team(request, key)
    found = _team_membership(team, membership)
    body = request.json()
    check("conversationMember", body)
    owner = "owner" in [str(r).lower() for r in body.get("roles") or []]
    if owner and is_guest(found.user):
        raise bad_request("Guest users cannot be added as owners.")
    if found.owner and not owner:
        _keep_an_owner(team, found)
    found.owner = owner
    found.save()
    reply = {
        "@odata.context": context(request, f"teams('{team.group_id}')/members/$entity"),
        **member_json(request, team.internal_id, found.user, found.owner),
    }
    return ok(reply)


def _keep_an_owner(team: GraphTeam, leaving: GraphGroupMember) -> None:
    if not team.group.memberships.filter(owner=True).exclude(pk=leaving.pk).exists():
        raise bad_request(
            "The group must have at least one owner, hence this owner cannot be removed."
        )


@route("DELETE", "/teams/{key}/members/{membership}", permissions=WRITE_MEMBERS)
def remove_team_member(request: GraphRequest, key: str, membership: str) -> GraphResponse:
    team = find_team(request, key)
    found = _team_membership(team, membership)
    if found.owner:
        _keep_an_owner(team, found)
    GraphChannelMember.objects.filter(channel__team=team, user=found.user).delete()
    found.delete()
    return no_content()


@route("POST", "/teams/{key}/members/add", permissions=WRITE_MEMBERS)
def add_team_members(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)
    body = request.json()
    check_action("Collection(conversationMember)", "add", body)
    results = []
    for value in body.get("values") or []:
        result: dict = {"@odata.type": "#microsoft.graph.aadUserConversationMemberResult"}
        try:
            user, owner = _member_request(request, value)
            _add_team_member(team, user, owner)
            result.update(userId=str(user.id), error=None)
        except GraphError as exc:
            bind = value.get("user@odata.bind") if isinstance(value, dict) else None
            key_found = re.search(r"users(?:\('([^']+)'\)|/([^/?#]+))", str(bind or ""))
            user_id = (key_found.group(1) or key_found.group(2)) if key_found else None
            result.update(userId=user_id, error={"code": exc.code, "message": exc.message})
        results.append(result)
    return ok(
        {
            "@odata.context": (
                f"{request.base}/$metadata#Collection(microsoft.graph.actionResultPart)"
            ),
            "value": results,
        }
    )


# -- channels ----------------------------------------------------------------------------------


def channel_json(request: GraphRequest, channel: GraphChannel) -> dict:
    return {
        "id": channel.graph_id,
        "createdDateTime": iso(channel.created),
        "displayName": channel.display_name,
        "description": channel.description or None,
        "isFavoriteByDefault": None,
        "email": "",
        "webUrl": web_url(f"channel-{channel.pk}"),
        "membershipType": channel.membership_type,
        "tenantId": str(request.tenant.id),
        "isArchived": False,
    }


def _create_channel(request, team: GraphTeam, body: dict, *, allow_private=True) -> GraphChannel:
    name = str(body.get("displayName") or "").strip()
    if not name:
        raise bad_request("The 'displayName' property is required to create a channel.")
    if len(name) > 50 or _BAD_CHANNEL_NAME.search(name):
        raise bad_request("Channel name contains invalid characters or is too long.")
    kind = body.get("membershipType") or "standard"
    if kind not in {"standard", "private"} or (kind == "private" and not allow_private):
        raise bad_request(f"Channels with membershipType '{kind}' are not supported here.")
    if team.channels.filter(display_name__iexact=name).exists():
        raise bad_request("Channel name already existed, please use other name.")
    members = [_member_request(request, m) for m in body.get("members") or []]
    if kind == "standard" and members:
        raise bad_request("Members can only be given when creating a private channel.")
    if kind == "private":
        caller = request.principal.user
        if caller is not None:
            members.append((caller, True))
        if not any(owner for _, owner in members):
            raise bad_request(
                "A private channel created with application permissions needs an owner in "
                "'members'."
            )
        _only_team_members(team, [user for user, _ in members])
    channel = GraphChannel.objects.create(
        team=team,
        graph_id=thread_id(),
        display_name=name,
        description=body.get("description") or "",
        membership_type=kind,
    )
    for user, owner in members:
        _add_channel_member(channel, user, owner)
    return channel


def _add_channel_member(channel: GraphChannel, user: SandboxUser, owner: bool) -> None:
    membership, made = GraphChannelMember.objects.get_or_create(
        channel=channel, user=user, defaults={"owner": owner}
    )
    if not made and membership.owner != owner:
        membership.owner = owner
        membership.save()


def _only_team_members(team: GraphTeam, users: list[SandboxUser]) -> None:
    ids = set(team.group.memberships.filter(member=True).values_list("user_id", flat=True))
    if any(user.id not in ids for user in users):
        raise bad_request("User is not found in the team.")


def find_channel(team: GraphTeam, key: str) -> GraphChannel:
    found = team.channels.filter(graph_id=key).first()
    if found is None:
        raise teams_not_found(f"Channel {key}")
    return found


@route("GET", "/teams/{key}/channels", permissions=READ_CHANNELS)
def list_channels(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)
    channels = team.channels.filter(
        filter_q(request, {"membershipType": "membership_type", "displayName": "display_name"})
    )
    body = paginate(
        request,
        channels,
        lambda c: channel_json(request, c),
        context(request, f"teams('{team.group_id}')/channels"),
    )
    return ok(body)


@route("POST", "/teams/{key}/channels", permissions=CREATE_CHANNEL)
def create_channel(request: GraphRequest, key: str) -> GraphResponse:
    team = find_team(request, key)
    body = request.json()
    check("channel", body)
    channel = _create_channel(request, team, body)
    reply = {
        "@odata.context": context(request, f"teams('{team.group_id}')/channels/$entity"),
        **channel_json(request, channel),
    }
    return created(reply)


@route("GET", "/teams/{key}/channels/{channel}", permissions=READ_CHANNELS)
def get_channel(request: GraphRequest, key: str, channel: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)
    reply = {
        "@odata.context": context(request, f"teams('{team.group_id}')/channels/$entity"),
        **channel_json(request, found),
    }
    return ok(reply)


@route("DELETE", "/teams/{key}/channels/{channel}", permissions=DELETE_CHANNEL)
def delete_channel(request: GraphRequest, key: str, channel: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)
    if found.is_general:
        raise bad_request("The General channel cannot be deleted.")
    found.delete()
    return no_content()


# -- channel members ---------------------------------------------------------------------------


def _channel_members(team: GraphTeam, channel: GraphChannel):
    """(user, owner) of a channel: a standard channel's are the team's."""
    if channel.membership_type == "standard":
        return team.group.memberships.filter(member=True).select_related("user")
    return channel.members.select_related("user")


@route("GET", "/teams/{key}/channels/{channel}/members", permissions=READ_CHANNEL_MEMBERS)
def list_channel_members(request: GraphRequest, key: str, channel: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)

    def one(membership):
        return member_json(request, found.graph_id, membership.user, membership.owner)

    body = paginate(
        request,
        _channel_members(team, found),
        one,
        context(request, f"teams('{team.group_id}')/channels('{found.graph_id}')/members"),
    )
    return ok(body)


def _channel_membership(team: GraphTeam, channel: GraphChannel, value: str):
    user_id = membership_user(channel.graph_id, value)
    found = _channel_members(team, channel).filter(user_id=user_id).first() if user_id else None
    if found is None:
        raise teams_not_found(f"Member {value}")
    return found


@route(
    "GET", "/teams/{key}/channels/{channel}/members/{membership}",
    permissions=READ_CHANNEL_MEMBERS,
)  # fmt: skip
def get_channel_member(request, key: str, channel: str, membership: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)
    one = _channel_membership(team, found, membership)
    reply = {
        "@odata.context": context(
            request, f"teams('{team.group_id}')/channels('{found.graph_id}')/members/$entity"
        ),
        **member_json(request, found.graph_id, one.user, one.owner),
    }
    return ok(reply)


def _private_only(channel: GraphChannel) -> None:
    if channel.membership_type == "standard":
        raise bad_request("Operation not supported for this Channel")


@route("POST", "/teams/{key}/channels/{channel}/members", permissions=WRITE_CHANNEL_MEMBERS)
def add_channel_member(request: GraphRequest, key: str, channel: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)
    _private_only(found)
    user, owner = _member_request(request, request.json())
    _only_team_members(team, [user])
    _add_channel_member(found, user, owner)
    reply = {
        "@odata.context": context(
            request, f"teams('{team.group_id}')/channels('{found.graph_id}')/members/$entity"
        ),
        **member_json(request, found.graph_id, user, owner),
    }
    return created(reply)


@route(
    "DELETE", "/teams/{key}/channels/{channel}/members/{membership}",
    permissions=WRITE_CHANNEL_MEMBERS,
)  # fmt: skip
def remove_channel_member(request, key: str, channel: str, membership: str) -> GraphResponse:
    team = find_team(request, key)
    found = find_channel(team, channel)
    _private_only(found)
    _channel_membership(team, found, membership).delete()
    return no_content()
