"""``POST /hooks/graph``: Microsoft Graph change and lifecycle notifications.

Verify, store, answer: the validation handshake is echoed as ``text/plain``; every notification
must name a subscription Gigbridge holds and carry its secret ``clientState`` (compared in
constant time), else it is refused and logged and nothing is stored. Valid notifications go to
the inbox (a duplicate delivery is dropped there) and the request is answered 202 at once; a
job does the work (``watch.handle``). Nothing here calls the tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import BaseModel, ConfigDict, ValidationError

from gigbridge.api.problems import problem
from gigbridge.jobs import actions as jobs

from .models import GraphSubscription
from .watch import EVENT_JOB, SOURCE

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # Graph batches at most a few hundred small notifications


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")  # Graph adds properties over time

    subscriptionId: str  # noqa: N815 - Graph's names
    clientState: str | None = None  # noqa: N815
    id: str | None = None
    changeType: str | None = None  # noqa: N815
    resource: str | None = None
    lifecycleEvent: str | None = None  # noqa: N815


class Collection(BaseModel):
    value: list[Notification]


def _stored(notification: Notification) -> dict:
    return notification.model_dump(exclude={"clientState"})  # the secret stays out of the inbox


def _external_id(notification: Notification) -> str:
    """Graph's notification id when it sends one; else a digest of the notification itself."""
    if notification.id:
        return notification.id
    canonical = json.dumps(_stored(notification), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


@csrf_exempt  # authenticated by the subscription's clientState, not a session
@require_POST
def graph_hook(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("validationToken")
    if token is not None:  # Graph checking that this endpoint is ours: echo within 10 s
        return HttpResponse(token[:2000], content_type="text/plain; charset=utf-8")
    if len(request.body) > MAX_BODY:
        return problem(413, "Notification body too large", f"at most {MAX_BODY} bytes")
    try:
        collection = Collection.model_validate_json(request.body or b"{}")
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(400, "Not a Graph change notification collection", detail, errors)
    secrets = dict(
        GraphSubscription.objects.filter(
            subscription_id__in={n.subscriptionId for n in collection.value}
        ).values_list("subscription_id", "client_state")
    )
    accepted = refused = 0
    for notification in collection.value:
        expected = secrets.get(notification.subscriptionId)
        given = notification.clientState or ""
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            refused += 1
            log.warning(
                "graph notification refused: %s for subscription %s",
                "unknown subscription" if expected is None else "wrong clientState",
                notification.subscriptionId[:100],
            )
            continue
        jobs.receive(SOURCE, _external_id(notification), _stored(notification), EVENT_JOB)
        accepted += 1
    if refused and not accepted:
        return problem(403, "Notification refused", "unknown subscription or wrong clientState")
    return HttpResponse(status=202)
