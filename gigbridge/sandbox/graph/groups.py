"""``/groups``: the Microsoft 365 (unified) groups that back teams; just enough of them.

``POST /groups`` needs ``displayName``, ``mailEnabled``, ``mailNickname`` and
``securityEnabled`` (as in Graph) and takes ``owners@odata.bind`` / ``members@odata.bind``.
A ``mailNickname`` already used in the tenant is refused with 400, as Exchange refuses the
proxy address. ``GET /groups`` filters on ``displayName``, ``mailNickname``, ``mail``,
``groupTypes/any(c:c eq 'Unified')`` and ``resourceProvisioningOptions/any(x:x eq 'Team')``.
"""

from __future__ import annotations

import re
import uuid

from django.db.models import Q

from ..models import GraphGroup, GraphGroupMember, GraphTeam
from .dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from .errors import bad_request, resource_not_found, unsupported_query
from .paging import context, filter_q, paginate, project, select
from .users import bound_user
from .users import render as render_user
from .validation import check

READ = (
    "GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All",
    "Directory.ReadWrite.All",
)  # fmt: skip
CREATE = ("Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All")


def _any_type(kind: str, value) -> Q:
    if kind != "any":
        raise unsupported_query()
    return Q(group_types__icontains=f'"{value}"')


def _any_provisioning(kind: str, value) -> Q:
    if kind != "any" or str(value).lower() != "team":
        raise unsupported_query()
    return Q(team__isnull=False)


FILTERABLE = {
    "id": "id",
    "displayName": "display_name",
    "mailNickname": "mail_nickname",
    "mail": lambda kind, value: _mail_q(kind, value),
    "groupTypes": _any_type,
    "resourceProvisioningOptions": _any_provisioning,
}


def _mail_q(kind: str, value) -> Q:
    if kind != "eq" or not isinstance(value, str) or "@" not in value:
        raise unsupported_query()
    return Q(mail_nickname__iexact=value.split("@")[0], tenant__domain__iexact=value.split("@")[1])


def has_team(group: GraphGroup) -> bool:
    try:
        return group.team is not None
    except GraphTeam.DoesNotExist:
        return False


def group_json(group: GraphGroup) -> dict:
    mail = f"{group.mail_nickname}@{group.tenant.domain}" if group.mail_enabled else None
    return {
        "id": str(group.id),
        "deletedDateTime": None,
        "classification": None,
        "createdDateTime": iso(group.created),
        "description": group.description or None,
        "displayName": group.display_name,
        "expirationDateTime": None,
        "groupTypes": list(group.group_types),
        "isAssignableToRole": None,
        "mail": mail,
        "mailEnabled": group.mail_enabled,
        "mailNickname": group.mail_nickname,
        "membershipRule": None,
        "membershipRuleProcessingState": None,
        "preferredDataLocation": None,
        "preferredLanguage": None,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "renewedDateTime": iso(group.created),
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": ["Team"] if has_team(group) else [],
        "securityEnabled": group.security_enabled,
        "securityIdentifier": None,
        "theme": None,
        "visibility": group.visibility or None,
        "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [],
    }


def groups_of(request: GraphRequest):
    return GraphGroup.objects.filter(tenant=request.tenant).select_related("tenant", "team")


def find_group(request: GraphRequest, key: str) -> GraphGroup:
    try:
        found = groups_of(request).filter(id=uuid.UUID(key)).first()
    except ValueError:
        found = None
    if found is None:
        raise resource_not_found(key)
    return found


def unique_nickname(tenant, wanted: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "", wanted)[:56] or "group"
    nickname, n = base, 1
    while GraphGroup.objects.filter(tenant=tenant, mail_nickname__iexact=nickname).exists():
        n += 1
        nickname = f"{base}{n}"
    return nickname


def render(group: GraphGroup, names) -> dict:
    full = group_json(group)
    return project(full, names, [k for k in full if not k.startswith("@")], "group")


@route("GET", "/groups", permissions=READ)
def list_groups(request: GraphRequest) -> GraphResponse:
    names = select(request, "group")
    groups = groups_of(request).filter(filter_q(request, FILTERABLE))
    body = paginate(
        request, groups, lambda g: render(g, names), context(request, "groups", names), key="id"
    )
    if request.query.get("$count", "").lower() == "true":
        body = {"@odata.count": groups.count(), **body}
    return ok(body)


@route("GET", "/groups/{key}", permissions=READ)
def get_group(request: GraphRequest, key: str) -> GraphResponse:
    names = select(request, "group")
    group = find_group(request, key)
    return ok({"@odata.context": context(request, "groups/$entity", names), **render(group, names)})


@route("POST", "/groups", permissions=CREATE)
def create_group(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("group", body)
    for name in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
        if body.get(name) is None:
            raise bad_request(
                f"Invalid value specified for property '{name}' of resource 'Group'.",
                code="Request_BadRequest",
            )
    nickname = str(body["mailNickname"])
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", nickname):
        raise bad_request(
            "Invalid value specified for property 'mailNickname' of resource 'Group'.",
            code="Request_BadRequest",
        )
    tenant = request.tenant
    if GraphGroup.objects.filter(tenant=tenant, mail_nickname__iexact=nickname).exists():
        raise bad_request(
            "Another object with the same value for property proxyAddresses already exists.",
            code="Request_BadRequest",
        )
    owners = [
        bound_user(request, u, "owners@odata.bind") for u in body.get("owners@odata.bind") or []
    ]
    members = [
        bound_user(request, u, "members@odata.bind") for u in body.get("members@odata.bind") or []
    ]
    group = GraphGroup.objects.create(
        tenant=tenant,
        display_name=body["displayName"],
        description=body.get("description") or "",
        mail_nickname=nickname,
        mail_enabled=bool(body["mailEnabled"]),
        security_enabled=bool(body["securityEnabled"]),
        group_types=list(body.get("groupTypes") or []),
        visibility=body.get("visibility")
        or ("Public" if "Unified" in (body.get("groupTypes") or []) else ""),
    )
    for user in members:
        GraphGroupMember.objects.get_or_create(group=group, user=user)
    for user in owners:
        # Owners of a unified group are its members too (as Teams needs them).
        membership, _ = GraphGroupMember.objects.get_or_create(group=group, user=user)
        membership.owner = True
        membership.save()
    group = find_group(request, str(group.id))
    reply = {"@odata.context": context(request, "groups/$entity"), **render(group, None)}
    return created(reply, f"{request.base}/groups/{group.id}")


@route("DELETE", "/groups/{key}", permissions=("Group.ReadWrite.All", "Directory.ReadWrite.All"))
def delete_group(request: GraphRequest, key: str) -> GraphResponse:
    find_group(request, key).delete()  # and its team, channels and memberships
    return no_content()


def _directory_objects(request: GraphRequest, key: str, owners: bool) -> GraphResponse:
    group = find_group(request, key)
    memberships = group.memberships.select_related("user__graph_guest")
    memberships = memberships.filter(owner=True) if owners else memberships.filter(member=True)

    def one(membership):
        return {"@odata.type": "#microsoft.graph.user", **render_user(membership.user, None)}

    return ok(paginate(request, memberships, one, context(request, "directoryObjects")))


@route("GET", "/groups/{key}/members", permissions=READ)
def group_members(request: GraphRequest, key: str) -> GraphResponse:
    return _directory_objects(request, key, owners=False)


@route("GET", "/groups/{key}/owners", permissions=READ)
def group_owners(request: GraphRequest, key: str) -> GraphResponse:
    return _directory_objects(request, key, owners=True)
