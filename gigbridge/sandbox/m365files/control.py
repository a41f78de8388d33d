"""``/_sandbox/…`` tools of this part (Basic auth with the outside-tools app's credentials).

- ``POST /_sandbox/lifecycle/tick``: what Graph does in the background, done now, so tests and
  demos control when: expired subscriptions are removed; each live subscription with a
  ``lifecycleNotificationUrl`` that expires within the window (``{"window_seconds": n}``, else
  the stored one, default 3600) gets one ``reauthorizationRequired`` (once per expiry: renewing
  or reauthorizing arms it again); then every due notification is sent once (lifecycle ones
  included), synchronously. Also drops expired upload sessions (and their bytes) and
  notifications sent or given up more than a week ago. Answers what it did.
- ``POST /_sandbox/lifecycle/remove`` ``{"subscriptionId"}``: Graph removing a subscription on
  its own (for example after access was revoked): ``subscriptionRemoved`` goes to the
  lifecycle URL (sent now), then the subscription is deleted.
- ``GET /_sandbox/notifications``: the latest deliveries (newest first, ``?limit=`` up to 200):
  url, state, attempts, last status and payload.
- ``GET|POST /_sandbox/clock``: see ``clock``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..graph.auth import tools_only
from . import clock, notify, storage
from .models import Delivery, FilesSettings, Subscription, UploadSession

KEEP_DELIVERIES = dt.timedelta(days=7)  # sent or given-up notifications kept for inspection


def _body(request: HttpRequest) -> dict:
    body = json.loads(request.body or b"{}")
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def tick(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        body = _body(request)
        window = body.get("window_seconds")
        if window is not None and (
            isinstance(window, bool) or not isinstance(window, int) or window < 0
        ):
            raise ValueError("window_seconds must be a whole number of seconds")
    except ValueError as exc:
        return JsonResponse({"error": "invalid_request", "message": str(exc)}, status=400)
    if window is not None:
        row, _ = FilesSettings.objects.get_or_create(pk=1)
        row.reauthorization_window_seconds = window
        row.save(update_fields=["reauthorization_window_seconds"])
    else:
        window = clock.settings_row().reauthorization_window_seconds
    now = clock.now()
    expired, _ = Subscription.objects.filter(expires__lte=now).delete()
    for session in UploadSession.objects.filter(expires__lte=now):
        storage.part_path(session.id).unlink(missing_ok=True)
        session.delete()
    Delivery.objects.exclude(state=Delivery.State.PENDING).filter(
        created__lt=timezone.now() - KEEP_DELIVERIES
    ).delete()
    reauthorize = 0
    soon = Subscription.objects.filter(expires__lte=now + dt.timedelta(seconds=window))
    for subscription in soon.exclude(lifecycle_url=""):
        if subscription.reauthorization_sent_for == subscription.expires:
            continue
        notify.lifecycle(subscription, "reauthorizationRequired")
        subscription.reauthorization_sent_for = subscription.expires
        subscription.save(update_fields=["reauthorization_sent_for"])
        reauthorize += 1
    results = [notify.deliver(pk, retry=False) for pk in notify.due()]
    return JsonResponse(
        {
            **clock.describe(),
            "expired": expired,
            "reauthorizationRequired": reauthorize,
            "delivered": results.count(Delivery.State.DELIVERED),
            "failed": sum(
                1 for r in results if r in (Delivery.State.FAILED, Delivery.State.PENDING)
            ),
        }
    )


@csrf_exempt  # Basic-authenticated tools endpoint: no cookies
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        key = uuid.UUID(str(_body(request).get("subscriptionId")))
    except ValueError:
        return JsonResponse(
            {"error": "invalid_request", "message": 'send {"subscriptionId": "<id>"}'}, status=400
        )
    subscription = Subscription.objects.filter(id=key).first()
    if subscription is None:
        return JsonResponse({"error": "not_found", "message": "no such subscription"}, status=404)
    delivery = notify.lifecycle(subscription, "subscriptionRemoved")
    subscription.delete()
    state = notify.deliver(delivery.pk, retry=False) if delivery else None
    return JsonResponse({"removed": str(key), "lifecycleNotification": state})


def delivery_json(row: Delivery) -> dict:
    return {
        "id": row.pk,
        "subscriptionId": str(row.subscription_id),
        "url": row.url,
        "lifecycle": row.lifecycle,
        "state": row.state,
        "attempts": row.attempts,
        "lastStatus": row.last_status,
        "created": row.created.isoformat(),
        "delivered": row.delivered.isoformat() if row.delivered else None,
        "payload": row.payload,
    }


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    refused = tools_only(request)
    if refused:
        return refused
    try:
        limit = max(1, min(200, int(request.GET.get("limit", "50"))))
    except ValueError:
        limit = 50
    rows = Delivery.objects.order_by("-id")[:limit]
    return JsonResponse(
        {"now": timezone.now().isoformat(), "value": [delivery_json(r) for r in rows]}
    )
