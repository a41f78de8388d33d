"""``POST /hooks/graph``: Microsoft Graph change and lifecycle notifications.

Verify, store, answer: the validation handshake is echoed as ``text/plain``; every notification
must name a subscription Gigbridge holds and carry its secret ``clientState`` (compared in
constant time), else it is refused and nothing is stored. Anyone can post here, so a refused
post is logged as exactly one bounded line (counts and the sender's address, never the body,
an id from it, or a secret), the body is bounded in bytes (checked before it is read) and in
notifications. Valid notifications go to
the inbox (a duplicate delivery is dropped there) and the request is answered 202 at once; a
job does the work (``watch.handle``). Nothing here calls the tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gigbridge import securitylog
from gigbridge.api.problems import problem
from gigbridge.jobs import actions as jobs

from .models import GraphSubscription
from .watch import EVENT_JOB, SOURCE

MAX_BODY = 1_000_000  # Graph batches at most a few hundred small notifications
MAX_NOTIFICATIONS = 1_000
MAX_ERRORS_SHOWN = 20  # a malformed batch of 1,000 items must not echo 1,000 messages


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")  # Graph adds properties over time

    subscriptionId: str  # noqa: N815 - Graph's names
    clientState: str | None = None  # noqa: N815
    id: str | None = None
    changeType: str | None = None  # noqa: N815
    resource: str | None = None
    lifecycleEvent: str | None = None  # noqa: N815


class Collection(BaseModel):
    value: list[Notification] = Field(max_length=MAX_NOTIFICATIONS)


def _stored(notification: Notification) -> dict:
    return notification.model_dump(exclude={"clientState"})  # the secret stays out of the inbox


def _external_id(notification: Notification) -> str:
    """Graph's notification id when it sends one; else a digest of the notification itself."""
    if notification.id:
        return notification.id
    canonical = json.dumps(_stored(notification), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _refused(request: HttpRequest, reason: str, response: HttpResponse) -> HttpResponse:
    # Through the security log: rate limited per sender, so a flood of forged posts costs a
    # bounded number of lines a minute, not one per post.
    return securitylog.refused_post(
        request, "/hooks/graph", "graph notification post", reason, response
    )


@csrf_exempt  # authenticated by the subscription's clientState, not a session
@require_POST
def graph_hook(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("validationToken")
    if token is not None:  # Graph checking that this endpoint is ours: echo within 10 s
        return HttpResponse(token[:2000], content_type="text/plain; charset=utf-8")
    # Refuse on the declared length, before reading the body (Django would refuse above
    # DATA_UPLOAD_MAX_MEMORY_SIZE with its own 400); the real length is checked too.
    if securitylog.content_length(request) > MAX_BODY or len(request.body) > MAX_BODY:
        return _refused(
            request,
            "body too large",
            problem(413, "Notification body too large", f"at most {MAX_BODY} bytes"),
        )
    try:
        collection = Collection.model_validate_json(request.body or b"{}")
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors(include_input=False)[:MAX_ERRORS_SHOWN]
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return _refused(
            request,
            f"not a notification collection ({exc.error_count()} errors)",
            problem(400, "Not a Graph change notification collection", detail, errors),
        )
    secrets = dict(
        GraphSubscription.objects.filter(
            subscription_id__in={n.subscriptionId for n in collection.value}
        ).values_list("subscription_id", "client_state")
    )
    # The loop never logs: a batch of 1,000 forgeries costs one line, not 1,000. Valid
    # notifications in a mixed batch are still taken (Graph may batch one for a subscription
    # that was just removed with current ones).
    unknown = wrong = 0
    for notification in collection.value:
        expected = secrets.get(notification.subscriptionId)
        given = notification.clientState or ""
        if expected is None:
            unknown += 1
        elif not hmac.compare_digest(expected.encode(), given.encode()):
            wrong += 1
        else:
            jobs.receive(SOURCE, _external_id(notification), _stored(notification), EVENT_JOB)
    if not (unknown or wrong):
        return HttpResponse(status=202)
    reason = (
        f"{unknown + wrong} of {len(collection.value)} notifications: {unknown} for an "
        f"unknown subscription, {wrong} with a wrong clientState"
    )
    if unknown + wrong < len(collection.value):
        return _refused(request, reason, HttpResponse(status=202))
    return _refused(
        request,
        reason,
        problem(403, "Notification refused", "unknown subscription or wrong clientState"),
    )
