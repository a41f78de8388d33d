"""Facts added at send time: those that must never be stored in the outbox (signed links), and
those other apps compute when the notice is rendered, so it shows them as they are then (files:
the deliverables of a submitted milestone)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

# template -> providers of computed facts, registered by apps at start (AppConfig.ready) so that
# notifications, imported by every layer, imports none of them.
Provider = Callable[[dict], dict]
_providers: dict[str, list[Provider]] = {}


def add_provider(template: str, provider: Provider) -> None:
    """``provider(context) -> facts`` for every ``template`` notice, at send time (mail and
    Teams card alike). Registered once, however often it is asked."""
    registered = _providers.setdefault(template, [])
    if provider not in registered:
        registered.append(provider)


def computed(template: str, context: dict) -> dict:
    facts: dict = {}
    for provider in _providers.get(template, ()):
        facts.update(provider(context))
    return facts


def extra_context(template: str, context: dict, user) -> dict:
    extra: dict = computed(template, context)
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
