"""``/teams/``: the sandbox's Teams, for the people of the tenant (employees and guests).

Signed in to the sandbox tools (``viewertools``; acting as anyone is a tool), a person picks who
they are (``?as=<object id>``), then reads their chat with the Gigbridge bot and the channels of
the teams they belong to: each thread's root and replies with author and time, Adaptive Cards
rendered here (``cards``). They click card buttons (an ``adaptiveCard/action`` invoke to the bot;
the refreshed card replaces theirs, or an error line says why not), reply in a thread, edit or
delete their own last message there; each goes to the bot as Teams sends it (``delivery``) and a
failed delivery keeps the message with a retry button. No JavaScript.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET, require_POST

from .. import viewertools
from ..m365files import clock
from ..models import GraphChannel, SandboxUser
from . import cards, delivery, ids, richtext
from .connector import member_users
from .models import Activity, CardView, Conversation

STYLESHEET = Path(__file__).parent / "static" / "teams.css"
# As the viewers', except that cards may show images from http(s) URLs.
CSP = viewertools.CSP.replace("img-src 'self'", "img-src 'self' https: http:")
MAX_TEXT = 4000
SHOWN_THREADS = 50


def page(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
        return response

    wrapped.__name__ = view.__name__
    return wrapped


def _person(value) -> SandboxUser | None:
    try:
        key = uuid.UUID(str(value or ""))
    except ValueError:
        return None
    return SandboxUser.objects.filter(id=key, account_enabled=True).first()


def visible_channels(user: SandboxUser) -> list[GraphChannel]:
    now = clock.now()
    channels = (
        GraphChannel.objects.select_related("team__group")
        .filter(
            team__group__memberships__user=user,
            team__group__memberships__member=True,
            team__ready_at__lte=now,
        )
        .filter(Q(membership_type="standard") | Q(members__user=user))
        .distinct()
        .order_by("team__group__display_name", "-is_general", "display_name")
    )
    return list(channels)


def _shown_card(activity: Activity, view: CardView | None) -> dict | None:
    if view is not None and view.card:
        return view.card
    return cards.adaptive_card(activity.attachments)


def _message(activity: Activity, user: SandboxUser, views: dict, own_last: int | None) -> dict:
    view = views.get(activity.pk)
    card = _shown_card(activity, view) if activity.deleted is None else None
    form_id = f"card-{activity.pk}"
    text, rich = activity.text, None
    if activity.text_format in {"xml", "html"}:
        text = strip_tags(text.replace("<br>", "\n").replace("</p>", "\n")).strip()
        rich = richtext.clean(activity.text) if text else None  # shown formatted, as Teams does
    return {
        "activity": activity,
        "text": text,
        "rich": rich,
        "author": activity.from_name or ("Gigbridge" if activity.by_bot else "?"),
        "mine": activity.from_user_id == user.id,
        "editable": activity.pk == own_last,
        "card": cards.render(card, form_id) if card else None,
        "form_id": form_id,
        "view": view,
        "others": [a for a in activity.attachments or [] if cards.adaptive_card([a]) is None],
    }


def _thread(conversation: Conversation, user: SandboxUser) -> dict:
    activities = list(conversation.activities.select_related("from_user"))
    views = {
        v.activity_id: v
        for v in CardView.objects.filter(activity__conversation=conversation, user=user)
    }
    own = [a.pk for a in activities if a.from_user_id == user.id and a.deleted is None]
    own_last = own[-1] if own else None  # their last message there: editable, deletable
    messages = [_message(a, user, views, own_last) for a in activities]
    return {"conversation": conversation, "messages": messages}


def _link(user: SandboxUser, **extra) -> str:
    return "/teams/?" + urlencode({"as": str(user.id), **extra})


@require_GET
@page
def teams(request: HttpRequest) -> HttpResponse:
    context = {**viewertools.context(request), "next": "/teams/"}
    context["endpoint"] = delivery.messaging_endpoint()
    if not context["tools"]:
        return render(request, "sandbox_botconnector/teams.html", context)
    people = list(SandboxUser.objects.filter(account_enabled=True).order_by("display_name"))
    user = _person(request.GET.get("as"))
    context.update(people=people, user=user)
    if user is None:
        return render(request, "sandbox_botconnector/teams.html", context)
    channels = visible_channels(user)
    context["channels"] = [{"channel": c, "url": _link(user, channel=c.pk)} for c in channels]
    context["chat_url"] = _link(user)
    context["user_mri"] = ids.user_mri(user.id)
    channel = None
    if request.GET.get("channel"):
        channel = next((c for c in channels if str(c.pk) == request.GET["channel"]), None)
        if channel is None:
            raise Http404("not a channel this person can see")
    context["channel"] = channel
    if channel is not None:
        conversations = Conversation.objects.filter(
            channel=channel, kind=Conversation.Kind.CHANNEL
        ).order_by("-created")[:SHOWN_THREADS]
        context["threads"] = [_thread(c, user) for c in reversed(list(conversations))]
    else:
        chats = Conversation.objects.filter(kind=Conversation.Kind.PERSONAL, user=user)
        context["threads"] = [_thread(c, user) for c in chats.order_by("created")]
    context["here"] = _link(user, channel=channel.pk) if channel else _link(user)
    return render(request, "sandbox_botconnector/teams.html", context)


def _back(request: HttpRequest, user: SandboxUser, conversation: Conversation) -> str:
    url = _link(user, channel=conversation.channel_id) if conversation.channel_id else _link(user)
    anchor = conversation.root_id or "chat"
    return f"{url}#thread-{anchor}"


def _refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    response = render(
        request,
        "sandbox/error.html",
        {"title": "Teams", "message": message, "back": "/teams/"},
        status=status,
    )
    response.headers["Content-Security-Policy"] = CSP
    return response


def _acting(request: HttpRequest):
    """(user, conversation) of a POST, or an error response."""
    if not viewertools.signed_in(request):
        return None, None, _refuse(request, "Sign in to the sandbox tools to act in Teams.", 403)
    user = _person(request.POST.get("as"))
    if user is None:
        return None, None, _refuse(request, "Pick who you are first.", 400)
    conversation = (
        Conversation.objects.select_related("team__group", "channel", "user", "tenant")
        .filter(id=request.POST.get("conversation", ""))
        .first()
    )
    if conversation is None or user not in member_users(conversation):
        return None, None, _refuse(request, "That conversation is not one of yours.", 403)
    return user, conversation, None


@require_POST
def post(request: HttpRequest) -> HttpResponse:
    """``do``: ``reply`` (``text``), ``edit`` (``activity``, ``text``), ``delete``
    (``activity``), ``retry`` (``activity``)."""
    user, conversation, refused = _acting(request)
    if refused:
        return refused
    what = request.POST.get("do")
    text = (request.POST.get("text") or "").strip()[:MAX_TEXT]
    if what == "reply":
        if conversation.kind != Conversation.Kind.CHANNEL:
            return _refuse(request, "Replies go in a channel thread.", 400)
        if not text:
            return _refuse(request, "Type a message first.", 400)

        def create(message_id: str) -> Activity:
            return Activity.objects.create(
                activity_id=message_id,
                conversation=conversation,
                from_id=ids.user_mri(user.id),
                from_name=user.display_name,
                from_user=user,
                text=text,
                reply_to_id=conversation.root_id,
                timestamp=clock.now(),
                delivery=Activity.Delivery.PENDING,
                delivery_kind="message",
            )

        # Stored first: what the person typed is kept whatever the bot does.
        delivery.deliver(ids.new_message(create), "message")
        return HttpResponseRedirect(_back(request, user, conversation), status=303)
    activity = conversation.activities.filter(
        pk=request.POST.get("activity") or 0, from_user=user
    ).first()
    if activity is None:
        return _refuse(request, "That is not your message.", 403)
    if what == "retry":
        if activity.delivery == Activity.Delivery.FAILED:
            delivery.deliver(activity, activity.delivery_kind or "message")
    elif what == "edit":
        if not text or activity.deleted:
            return _refuse(request, "Type the new text (a deleted message stays deleted).", 400)
        activity.text, activity.edited = text, clock.now()
        activity.delivery = Activity.Delivery.PENDING
        activity.save(update_fields=["text", "edited", "delivery"])
        delivery.deliver(activity, "messageUpdate")
    elif what == "delete":
        if activity.deleted is None:
            activity.deleted = clock.now()
            activity.delivery = Activity.Delivery.PENDING
            activity.save(update_fields=["deleted", "delivery"])
            delivery.deliver(activity, "messageDelete")
    else:
        return _refuse(request, "Unknown action.", 400)
    return HttpResponseRedirect(_back(request, user, conversation), status=303)


@require_POST
def invoke(request: HttpRequest) -> HttpResponse:
    """A card button: ``activity`` (the card's message), ``action`` (its number in the card the
    person sees), the card's inputs as ``input:<id>``."""
    user, conversation, refused = _acting(request)
    if refused:
        return refused
    activity = conversation.activities.filter(pk=request.POST.get("activity") or 0).first()
    if activity is None or activity.deleted is not None:
        return _refuse(request, "That card is gone.", 404)
    view = CardView.objects.filter(activity=activity, user=user).first()
    card = _shown_card(activity, view)
    rendered = cards.render(card, f"card-{activity.pk}") if card else None
    try:
        action = rendered.actions[int(request.POST.get("action", ""))]
    except (AttributeError, ValueError, IndexError):
        return _refuse(request, "That button is not on the card.", 400)
    data = dict(action.get("data") or {}) if isinstance(action.get("data"), dict) else {}
    for input_id in rendered.inputs:
        data[input_id] = (request.POST.get(f"input:{input_id}") or "")[:MAX_TEXT]
    delivery.invoke(activity, user, action, data, clock.now())
    return HttpResponseRedirect(_back(request, user, conversation), status=303)


@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "max-age=300"
    return response
