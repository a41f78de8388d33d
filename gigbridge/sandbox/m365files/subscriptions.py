"""``/subscriptions``: change notification subscriptions, with Graph's validation handshake.

Before a subscription is created (and when ``PATCH`` changes ``notificationUrl``), the sandbox
POSTs to ``notificationUrl?validationToken=…`` (and to ``lifecycleNotificationUrl`` when there
is one) with an empty ``text/plain`` body, as Graph does. The endpoint must answer 200 with
``Content-Type: text/plain`` and the decoded token as its whole body within 10 seconds;
otherwise the request fails with 400 ``InvalidRequest`` "Subscription validation request
failed. …" and nothing is created. The token looks like Graph's ("Validation: Testing client
application reachability for subscription Request-Id: …"): it has spaces and a colon, so a
receiver that does not URL-decode it fails here as it would against Graph.

Receivers must be ``https`` (TLS verified against the system's CAs); ``http`` is accepted for
loopback hosts only, for a local Gigbridge. Note that the handshake runs inside the request's
database transaction: a slow receiver holds up the sandbox's other writers for as long.

Resources and change types (Graph's documented support; anything else is 400):

======================  ========================  ============================================
resource                changeType                longest expiration
======================  ========================  ============================================
``/users``              updated, deleted          41760 minutes (under 29 days)
``/users/{id}``         updated, deleted          41760 minutes
``/teams/{id}/members`` created, updated, deleted 60 minutes; 4320 with a lifecycle URL
``/drives/{d}/root``    updated                   42300 minutes (under 30 days)
======================  ========================  ============================================

An expiration in the past or beyond the limit is 400 ("Subscription expiration can only be
0-N minutes in the future."). Expired subscriptions disappear (sandbox clock). ``GET
/subscriptions`` lists the calling app's live subscriptions; ``PATCH`` takes
``expirationDateTime`` and ``notificationUrl`` only; ``DELETE`` answers 204;
``POST …/reauthorize`` answers 204.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import httpx
from django.utils.dateparse import parse_datetime

from ..graph.dispatch import GraphRequest, GraphResponse, created, iso, no_content, ok, route
from ..graph.errors import GraphError
from ..graph.paging import paginate
from ..graph.validation import check
from ..models import GraphTeam
from . import clock, notify
from .models import Drive, Subscription

VALIDATION_TIMEOUT = 10.0
USERS = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
MEMBERS = (
    "TeamMember.Read.All", "TeamMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All",
    "Directory.Read.All", "Directory.ReadWrite.All",
)  # fmt: skip
FILES = (
    "Files.Read.All",
    "Files.ReadWrite.All",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Sites.Manage.All",
    "Sites.FullControl.All",
)
ANY = tuple(sorted(set(USERS + MEMBERS + FILES)))
ALLOWED = {
    "users": ({"updated", "deleted"}, USERS),
    "user": ({"updated", "deleted"}, USERS),
    "team_members": ({"created", "updated", "deleted"}, MEMBERS),
    "drive_root": ({"updated"}, FILES),
}
MAX_MINUTES = {"users": 41760, "user": 41760, "team_members": 60, "drive_root": 42300}
MAX_MEMBERS_WITH_LIFECYCLE = 4320
MAX_CLIENT_STATE = 128


def invalid(message: str) -> GraphError:
    return GraphError(400, "InvalidRequest", message)


def not_found() -> GraphError:
    return GraphError(404, "ResourceNotFound", "The subscription was not found.")


def _key(text: str) -> str:
    """``teams('x')`` and ``teams/x`` alike."""
    return re.sub(r"\('((?:[^']|'')*)'\)", lambda m: "/" + m.group(1), text)


def parse_resource(request: GraphRequest, resource: str) -> tuple[str, str]:
    """(kind, target) for a resource path; 400/404 as Graph answers otherwise."""
    path = "/" + _key(resource.strip()).strip("/")
    if re.fullmatch(r"/users", path, re.IGNORECASE):
        return "users", ""
    found = re.fullmatch(r"/users/([0-9a-fA-F-]{36})", path)
    if found:
        return "user", found.group(1).lower()
    found = re.fullmatch(r"/teams/([^/]+)/members", path, re.IGNORECASE)
    if found:
        try:
            team = GraphTeam.objects.filter(
                group__tenant=request.tenant, group_id=uuid.UUID(found.group(1))
            ).first()
        except ValueError:
            team = None
        if team is None:
            raise GraphError(404, "NotFound", f"No team found with Group Id {found.group(1)}")
        return "team_members", str(team.group_id)
    found = re.fullmatch(r"/drives/([^/]+)/root", path, re.IGNORECASE)
    if found:
        drive = Drive.objects.filter(tenant=request.tenant, id=found.group(1)).first()
        if drive is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return "drive_root", drive.id
    found = re.fullmatch(r"/groups/([^/]+)/drive/root", path, re.IGNORECASE)
    if found:
        try:
            drive = Drive.objects.filter(
                tenant=request.tenant, group_id=uuid.UUID(found.group(1))
            ).first()
        except ValueError:
            drive = None
        if drive is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return "drive_root", drive.id
    raise invalid(
        f"Resource '{resource}' is not supported for change notifications in the "
        "sandbox (it supports /users, /users/{id}, /teams/{id}/members and "
        "/drives/{id}/root)."
    )


def parse_change_types(value, kind: str) -> list[str]:
    types = [part.strip() for part in str(value or "").split(",") if part.strip()]
    if not types:
        raise invalid("'changeType' is required: created, updated, deleted (comma-separated).")
    supported, _ = ALLOWED[kind]
    for change in types:
        if change not in {"created", "updated", "deleted"}:
            raise invalid(f"Invalid 'changeType' value '{change}'.")
        if change not in supported:
            raise invalid(
                f"ChangeType '{change}' is not supported for this resource. Supported: "
                f"{', '.join(sorted(supported))}."
            )
    return list(dict.fromkeys(types))


def parse_expiration(value, kind: str, lifecycle: bool) -> dt.datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise invalid("'expirationDateTime' is required and must be a date and time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    limit = MAX_MINUTES[kind]
    if kind == "team_members" and lifecycle:
        limit = MAX_MEMBERS_WITH_LIFECYCLE
    now = clock.now()
    if parsed <= now or parsed > now + dt.timedelta(minutes=limit):
        raise invalid(f"Subscription expiration can only be 0-{limit} minutes in the future.")
    return parsed


def check_url(url, name: str) -> str:
    if not isinstance(url, str) or not notify.receiver_allowed(url):
        raise invalid(
            f"The {name} must be an https URL (the sandbox also accepts http on loopback): '{url}'."
        )
    return url


def validation_token() -> str:
    return (
        "Validation: Testing client application reachability for subscription Request-Id: "
        f"{uuid.uuid4()}"
    )


def handshake(url: str) -> None:
    """Graph's validation request; 400 InvalidRequest unless the endpoint echoes the token."""
    token = validation_token()
    started = time.monotonic()
    failed = (
        "Subscription validation request failed. Notification endpoint must respond with "
        "200 OK to validation request."
    )
    try:
        with notify.http_client(VALIDATION_TIMEOUT) as client:
            response = client.post(
                url,
                params={"validationToken": token},
                content=b"",
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
    except httpx.HTTPError:
        raise invalid(failed) from None
    if time.monotonic() - started > VALIDATION_TIMEOUT or response.status_code != 200:
        raise invalid(failed)
    if response.headers.get("content-type", "").split(";")[0].strip().lower() != "text/plain":
        raise invalid(
            "Subscription validation request failed. Response must be text/plain with the "
            "validationToken as its body."
        )
    if response.text != token:
        raise invalid(
            "Subscription validation request failed. Response must exactly match "
            "validationToken query parameter."
        )


def subscription_json(request: GraphRequest, subscription: Subscription) -> dict:
    return {
        "id": str(subscription.id),
        "resource": subscription.resource,
        "applicationId": subscription.application_id,
        "changeType": ",".join(subscription.change_types),
        "clientState": subscription.client_state or None,
        "notificationUrl": subscription.notification_url,
        "notificationQueryOptions": None,
        "lifecycleNotificationUrl": subscription.lifecycle_url or None,
        "expirationDateTime": iso(subscription.expires),
        "creatorId": subscription.creator_id,
        "includeResourceData": False,
        "latestSupportedTlsVersion": subscription.latest_tls,
        "encryptionCertificate": None,
        "encryptionCertificateId": None,
        "notificationUrlAppId": None,
    }


def _entity(request: GraphRequest, subscription: Subscription) -> dict:
    context = f"{request.base}/$metadata#subscriptions/$entity"
    return {"@odata.context": context, **subscription_json(request, subscription)}


def _mine(request: GraphRequest):
    return Subscription.objects.filter(
        tenant=request.tenant,
        application_id=request.principal.client_id,
        expires__gt=clock.now(),
    )


def find(request: GraphRequest, key: str) -> Subscription:
    try:
        found = _mine(request).filter(id=uuid.UUID(key)).first()
    except ValueError:
        found = None
    if found is None:
        raise not_found()
    return found


@route("POST", "/subscriptions", permissions=ANY)
def create_subscription(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("subscription", body, code="InvalidRequest")
    for name in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
        if not body.get(name):
            raise invalid(f"The property '{name}' is required.")
    kind, target = parse_resource(request, str(body["resource"]))
    _, needed = ALLOWED[kind]
    if not request.principal.allows(needed):
        raise GraphError(
            403,
            "ExtensionError",
            "Operation: Create; Exception: [Status Code: "
            "Forbidden; Reason: The caller does not have the permissions this "
            "resource needs.]",
        )
    types = parse_change_types(body["changeType"], kind)
    lifecycle_url = body.get("lifecycleNotificationUrl")
    expires = parse_expiration(body["expirationDateTime"], kind, bool(lifecycle_url))
    notification_url = check_url(body["notificationUrl"], "notificationUrl")
    if lifecycle_url is not None:
        check_url(lifecycle_url, "lifecycleNotificationUrl")
    client_state = body.get("clientState") or ""
    if len(client_state) > MAX_CLIENT_STATE:
        raise invalid(f"'clientState' can have at most {MAX_CLIENT_STATE} characters.")
    if body.get("includeResourceData"):
        raise invalid(
            "The sandbox sends basic notifications only: 'includeResourceData' "
            "(encrypted resource data) is not supported."
        )
    tls = body.get("latestSupportedTlsVersion") or "v1_2"
    if tls not in ("v1_0", "v1_1", "v1_2", "v1_3"):
        raise invalid(f"Invalid 'latestSupportedTlsVersion': '{tls}'.")
    handshake(notification_url)
    if lifecycle_url and lifecycle_url != notification_url:
        handshake(lifecycle_url)
    principal = request.principal
    subscription = Subscription.objects.create(
        tenant=request.tenant,
        application_id=principal.client_id,
        creator_id=str(principal.user.id) if principal.user else _service_principal(request),
        resource=str(body["resource"]),
        kind=kind,
        target=target,
        change_types=types,
        notification_url=notification_url,
        lifecycle_url=lifecycle_url or "",
        client_state=client_state,
        latest_tls=tls,
        expires=expires,
    )
    return created(_entity(request, subscription))


def _service_principal(request: GraphRequest) -> str:
    from ..models import AppRegistration

    app = AppRegistration.objects.filter(client_id=uuid.UUID(request.principal.client_id)).first()
    return str(app.service_principal_id) if app else request.principal.client_id


@route("GET", "/subscriptions", permissions=ANY)
def list_subscriptions(request: GraphRequest) -> GraphResponse:
    context = f"{request.base}/$metadata#subscriptions"
    return ok(
        paginate(
            request, _mine(request), lambda s: subscription_json(request, s), context, key="id"
        )
    )


@route("GET", "/subscriptions/{key}", permissions=ANY)
def get_subscription(request: GraphRequest, key: str) -> GraphResponse:
    return ok(_entity(request, find(request, key)))


@route("PATCH", "/subscriptions/{key}", permissions=ANY)
def update_subscription(request: GraphRequest, key: str) -> GraphResponse:
    subscription = find(request, key)
    body = request.json()
    check("subscription", body, code="InvalidRequest")
    extra = sorted(set(body) - {"expirationDateTime", "notificationUrl"})
    if extra:
        raise invalid(
            f"Only expirationDateTime and notificationUrl can be updated, not '{extra[0]}'."
        )
    if "expirationDateTime" in body:
        subscription.expires = parse_expiration(
            body["expirationDateTime"], subscription.kind, bool(subscription.lifecycle_url)
        )
        subscription.reauthorization_sent_for = None
    if "notificationUrl" in body and body["notificationUrl"] != subscription.notification_url:
        url = check_url(body["notificationUrl"], "notificationUrl")
        handshake(url)
        subscription.notification_url = url
    subscription.save()
    return ok(_entity(request, subscription))


@route("DELETE", "/subscriptions/{key}", permissions=ANY)
def delete_subscription(request: GraphRequest, key: str) -> GraphResponse:
    find(request, key).delete()
    return no_content()


@route("POST", "/subscriptions/{key}/reauthorize", permissions=ANY)
def reauthorize(request: GraphRequest, key: str) -> GraphResponse:
    subscription = find(request, key)
    subscription.reauthorization_sent_for = None
    subscription.save(update_fields=["reauthorization_sent_for"])
    return no_content()
