"""Facts added at send time that must never be stored in the outbox (signed links)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def extra_context(template: str, context: dict, user) -> dict:
    extra: dict = {}
    if context.get("link_nonce"):
        from gigbridge.engagements.links import token_for

        token = token_for(context["link_nonce"])
        extra["decision_url"] = settings.BASE_URL + reverse("web:decision-link", args=[token])
    if context.get("signing_nonce"):
        from gigbridge.people.signing import token_for as signing_token_for

        token = signing_token_for(context["signing_nonce"])
        extra["signing_url"] = settings.BASE_URL + reverse("web:sign", args=[token])
    if context.get("request_id"):
        extra["request_url"] = settings.BASE_URL + reverse(
            "web:request-detail", args=[context["request_id"]]
        )
    return extra
