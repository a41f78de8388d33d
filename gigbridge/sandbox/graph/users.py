"""``/users``, ``/users/{id | userPrincipalName}``, ``/users/delta``, ``/me``.

As in Graph, a user comes back with the default property set (``id``, ``displayName``,
``mail``, ``userPrincipalName`` ...); ``userType``, ``externalUserState``, ``accountEnabled``,
``createdDateTime`` and the rest only when ``$select`` names them. ``$filter`` supports ``eq``
(strings compared case-insensitively), ``startswith`` and ``otherMails/any(x:x eq '…')``,
joined by ``and``, on the properties in FILTERABLE.

Delta: the first ``GET /users/delta`` pages through every user (``@odata.nextLink``), its last
page carries ``@odata.deltaLink``; that link returns the users changed since, a deleted one as
``{"id": …, "@removed": {"reason": "changed"}}`` (Graph's reason for a soft delete, which is
what ``DELETE /users/{id}`` is in Graph), and a new deltaLink. ``$deltatoken=latest`` skips the
first round. The tokens are positions in the directory's change log.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

from django.db.models import Max, Q

from ..models import GraphDirectoryChange, GraphGuest, SandboxUser
from .dispatch import GraphRequest, GraphResponse, iso, no_content, ok, route
from .errors import GraphError, bad_request, resource_not_found, unsupported_query
from .paging import (
    context,
    decode_token,
    encode_token,
    filter_q,
    page_size,
    paginate,
    project,
    select,
)
from .validation import check

READ = (
    "User.Read.All", "User.ReadWrite.All", "User.ReadBasic.All", "Directory.Read.All",
    "Directory.ReadWrite.All",
)  # fmt: skip
WRITE = ("User.ReadWrite.All", "User.DeleteRestore.All", "Directory.ReadWrite.All")
# Delegated scopes; app roles too, so an app-only call gets Graph's 400 rather than a 403.
ME = ("User.Read", "User.ReadWrite", *READ)

DEFAULT_PROPERTIES = [
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
]  # fmt: skip


def _other_mails(kind: str, value) -> Q:
    if kind != "any":
        raise unsupported_query()
    return Q(mail__iexact=value, user_type=SandboxUser.UserType.GUEST)


FILTERABLE = {
    "id": "id",
    "mail": "mail",
    "userType": "user_type",
    "userPrincipalName": "user_principal_name",
    "displayName": "display_name",
    "givenName": "given_name",
    "surname": "surname",
    "jobTitle": "job_title",
    "accountEnabled": "account_enabled",
    "externalUserState": "graph_guest__state",
    "otherMails": _other_mails,
}


def guest_of(user: SandboxUser) -> GraphGuest | None:
    try:
        return user.graph_guest
    except GraphGuest.DoesNotExist:
        return None


def user_json(user: SandboxUser) -> dict:
    """Every property the emulator keeps, in Graph's names."""
    guest = guest_of(user)
    nickname = user.user_principal_name.split("@")[0]
    return {
        "id": str(user.id),
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name or None,
        "jobTitle": user.job_title or None,
        "mail": user.mail or None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": user.surname or None,
        "userPrincipalName": user.user_principal_name,
        "accountEnabled": user.account_enabled,
        "userType": user.user_type,
        "createdDateTime": iso(user.created_date_time),
        "creationType": "Invitation" if guest else None,
        "externalUserState": guest.state if guest else None,
        "externalUserStateChangeDateTime": iso(guest.state_changed) if guest else None,
        "mailNickname": nickname,
        "otherMails": [user.mail] if guest and user.mail else [],
        "proxyAddresses": [f"SMTP:{user.mail}"] if user.mail else [],
    }


def render(user: SandboxUser, names: list[str] | None) -> dict:
    return project(user_json(user), names, DEFAULT_PROPERTIES, "user")


def users_of(request: GraphRequest):
    return SandboxUser.objects.filter(tenant=request.tenant).select_related("graph_guest")


def find_user(request: GraphRequest, key: str) -> SandboxUser:
    """A user by object id or userPrincipalName (404 as Graph answers otherwise)."""
    users = users_of(request)
    try:
        found = users.filter(id=uuid.UUID(key)).first()
    except ValueError:
        found = users.filter(user_principal_name__iexact=key).first()
    if found is None:
        raise resource_not_found(key)
    return found


_BIND = re.compile(
    r"(?:^|/)(?:users|directoryObjects)(?:\('([^']+)'\)|/([^/?#]+))/?$", re.IGNORECASE
)


def bound_user(request: GraphRequest, url, name: str = "user@odata.bind") -> SandboxUser:
    """The user a ``…@odata.bind`` URL names: ``https://graph.microsoft.com/v1.0/users('id')``
    (any host; ``/users/id`` and ``directoryObjects`` too)."""
    found = _BIND.search(url) if isinstance(url, str) else None
    if not found:
        raise bad_request(f"Invalid value for '{name}': {url!r} does not name a user.")
    key = unquote(found.group(1) or found.group(2))
    try:
        return find_user(request, key)
    except GraphError:
        raise GraphError(404, "NotFound", f"User '{key}' was not found in the directory.") from None


def record_change(user: SandboxUser) -> None:
    GraphDirectoryChange.objects.create(tenant_id=user.tenant_id, object_id=user.id)


def _no_unsupported(request: GraphRequest, *names: str) -> None:
    for name in names:
        if name in request.query:
            raise unsupported_query(f"The query option '{name}' is not supported here.")


@route("GET", "/users", permissions=READ)
def list_users(request: GraphRequest) -> GraphResponse:
    _no_unsupported(request, "$orderby", "$search", "$expand")
    names = select(request, "user")
    users = users_of(request).filter(filter_q(request, FILTERABLE))
    body = paginate(
        request, users, lambda u: render(u, names), context(request, "users", names), key="id"
    )
    if request.query.get("$count", "").lower() == "true":
        body = {"@odata.count": users.count(), **body}
    return ok(body)


@route("GET", "/users/{key}", permissions=READ)
def get_user(request: GraphRequest, key: str) -> GraphResponse:
    names = select(request, "user")
    user = find_user(request, key)
    body = {"@odata.context": context(request, "users/$entity", names), **render(user, names)}
    return ok(body)


# What PATCH /users/{id} may change here (anything else the metadata knows is accepted and
# ignored, as the emulator does not keep it).
PATCHABLE = {
    "accountEnabled": "account_enabled",
    "displayName": "display_name",
    "givenName": "given_name",
    "surname": "surname",
    "jobTitle": "job_title",
}


@route("PATCH", "/users/{key}", permissions=("User.ReadWrite.All", "Directory.ReadWrite.All"))
def update_user(request: GraphRequest, key: str) -> GraphResponse:
    user = find_user(request, key)
    body = request.json()
    check("user", body)
    for name, field in PATCHABLE.items():
        if name in body:
            value = body[name]
            if field == "account_enabled":
                value = bool(value)
            elif value is None:
                value = ""
            setattr(user, field, value)
    user.save()  # the post_save signal logs it for delta
    return no_content()


@route("DELETE", "/users/{key}", permissions=WRITE)
def delete_user(request: GraphRequest, key: str) -> GraphResponse:
    find_user(request, key).delete()  # the post_delete signal logs it for delta
    return no_content()


@route("GET", "/users/{key}/memberOf", permissions=READ)
def member_of(request: GraphRequest, key: str) -> GraphResponse:
    """The unified groups (teams' groups among them) the user is a member of."""
    from ..models import GraphGroupMember
    from .groups import render as render_group

    user = find_user(request, key)
    memberships = GraphGroupMember.objects.filter(user=user, member=True).select_related(
        "group__tenant", "group__team"
    )

    def one(membership):
        return {"@odata.type": "#microsoft.graph.group", **render_group(membership.group, None)}

    return ok(paginate(request, memberships, one, context(request, "directoryObjects")))


@route("GET", "/me", permissions=ME)
def me(request: GraphRequest) -> GraphResponse:
    if request.principal.user is None:
        raise bad_request("/me request is only valid with delegated authentication flow.")
    names = select(request, "user")
    body = {
        "@odata.context": context(request, "users/$entity", names),
        **render(request.principal.user, names),
    }
    return ok(body)


# -- delta ------------------------------------------------------------------------------------


def _latest(request: GraphRequest) -> int:
    found = GraphDirectoryChange.objects.filter(tenant_id=request.tenant.id).aggregate(
        last=Max("seq")
    )
    return found["last"] or 0


@route("GET", "/users/delta", permissions=READ)
def delta(request: GraphRequest) -> GraphResponse:
    _no_unsupported(request, "$filter", "$orderby", "$search", "$expand", "$top")
    skip, since = request.query.get("$skiptoken"), request.query.get("$deltatoken")
    if skip:
        state = decode_token(skip)
    elif since == "latest":
        state = {"since": _latest(request), "until": _latest(request), "done": True}
    elif since:
        state = decode_token(since, "delta token")
        state = {**state, "until": _latest(request), "offset": 0}
    else:
        state = {"since": None, "until": _latest(request), "after": None}
    if "until" not in state:
        raise bad_request("The delta token is not valid.", code="Request_BadRequest")
    if "$select" in request.query:
        state["select"] = select(request, "user")
    names = state.get("select")
    state["size"] = state.get("size") or page_size(request)
    value, more = ([], False) if state.get("done") else _delta_page(request, state, names)
    body: dict = {"@odata.context": context(request, "users", names), "value": value}
    if more:
        body["@odata.nextLink"] = request.link("/users/delta", {"$skiptoken": encode_token(state)})
    else:
        token = {"since": state["until"], "select": names, "size": None}
        body["@odata.deltaLink"] = request.link(
            "/users/delta", {"$deltatoken": encode_token(token)}
        )
    return ok(body)


def _delta_page(request: GraphRequest, state: dict, names) -> tuple[list[dict], bool]:
    """One page of a delta round; advances ``state`` to the next page."""
    size = state["size"]
    if state["since"] is None:  # the first round: every user there is
        users = users_of(request).order_by("id")
        if state.get("after"):
            users = users.filter(id__gt=state["after"])
        found = list(users[: size + 1])
        page = found[:size]
        if page:
            state["after"] = str(page[-1].id)
        return [render(u, names) for u in page], len(found) > size
    changed = (
        GraphDirectoryChange.objects.filter(
            tenant_id=request.tenant.id, seq__gt=state["since"], seq__lte=state["until"]
        )
        .values("object_id")
        .annotate(last=Max("seq"))
        .order_by("last")
    )
    offset = state.get("offset", 0)
    ids = [row["object_id"] for row in changed[offset : offset + size + 1]]
    page = ids[:size]
    state["offset"] = offset + len(page)
    users = {u.id: u for u in users_of(request).filter(id__in=page)}
    value = []
    for object_id in page:
        user = users.get(object_id)
        if user is None:
            value.append({"id": str(object_id), "@removed": {"reason": "changed"}})
        else:
            value.append(render(user, names))
    return value, len(ids) > size
