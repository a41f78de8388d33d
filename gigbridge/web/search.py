"""Global search from the header (``/search/?q=``): requests, engagements and people, only what
the person may open.

Visibility is the lists': requests and engagements through ``engagements.permissions`` (a
result is a page the person can open, never a 404). People: those who keep the program's
records of people (program admins, auditors, legal and HR: ``Capability.VIEW_AGREEMENTS``, who
already see every worker on /agreements/) find anyone; everyone else finds themselves, the
requesters of requests they may see and the freelancers of engagements they may see (a
requester: themselves and the freelancers on their own engagements).

Bounded: a reference (WR-000123, EN-42, or a bare number) is a primary-key lookup; words are
``icontains`` on one column each, newest first by primary key (the database walks the pk index
backwards and stops at the ``PER_KIND + 1``th match; the extra row only says "more").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import OuterRef, Q, Subquery

from gigbridge.engagements import permissions
from gigbridge.people import capabilities
from gigbridge.people.models import Person

from .home import engagement_words, request_words

Q_MAX = 100
PER_KIND = 20
REFERENCE = re.compile(r"^(?:(WR|EN)-?)?0*(\d{1,12})$", re.IGNORECASE)


class BadQuery(ValueError):
    """The search text is empty or too long: the message says which."""


@dataclass
class Result:
    kind: str  # "request" | "engagement" | "person"
    name: str
    context: str
    url: str


@dataclass
class Group:
    kind: str
    title: str
    results: list[Result] = field(default_factory=list)
    more: bool = False  # more than PER_KIND matched: refine the words


def clean(raw: str | None) -> str:
    q = (raw or "").strip()
    if not q:
        raise BadQuery("type what to search for: a reference (WR-000123), a title or a name")
    if len(q) > Q_MAX:
        raise BadQuery(f"the search text is {len(q)} characters long: at most {Q_MAX}")
    return q


def _cut(rows: list) -> tuple[list, bool]:
    return rows[:PER_KIND], len(rows) > PER_KIND


def _reference(q: str) -> tuple[str | None, int | None]:
    found = REFERENCE.match(q)
    if not found:
        return None, None
    return (found.group(1) or "").upper() or None, int(found.group(2))


def requests(user, q: str) -> Group:
    prefix, number = _reference(q)
    visible = permissions.visible_requests(user)
    match = Q(title__icontains=q)
    if number is not None and prefix in (None, "WR"):
        match |= Q(pk=number)
    rows, more = _cut(list(visible.filter(match).order_by("-pk")[: PER_KIND + 1]))
    results = [
        Result(
            "request",
            f"{r.reference} · {r.title}",
            f"{request_words(r.state)} · "
            f"{r.requester.get_full_name() or r.requester.get_username()} · {r.cost_center.code}",
            f"/requests/{r.pk}/",
        )
        for r in rows
    ]
    return Group("request", "Requests", results, more)


def engagements(user, q: str) -> Group:
    prefix, number = _reference(q)
    visible = permissions.visible_engagements(user)
    match = Q(freelancer__display_name__icontains=q)
    if "@" in q:
        match |= Q(freelancer__email__istartswith=q)
    if number is not None and prefix in (None, "EN"):
        match |= Q(pk=number)
    rows, more = _cut(list(visible.filter(match).order_by("-pk")[: PER_KIND + 1]))
    results = [
        Result(
            "engagement",
            f"{e.reference} · {e.request.title}",
            f"{engagement_words(e.state)} · "
            + (e.freelancer.display_name if e.freelancer else "no freelancer yet")
            + f" · for {e.request.requester.get_full_name() or e.request.requester.get_username()}",
            f"/engagements/{e.pk}/",
        )
        for e in rows
    ]
    return Group("engagement", "Engagements", results, more)


def sees_all_people(user) -> bool:
    return capabilities.can_view_agreements(user)


def visible_people(user):
    if sees_all_people(user):
        return Person.objects.all()
    requesters = permissions.visible_requests(user).values("requester_id")
    freelancers = permissions.visible_engagements(user).values("freelancer_id")
    return Person.objects.filter(Q(user=user) | Q(user_id__in=requesters) | Q(pk__in=freelancers))


def people(user, q: str) -> Group:
    match = Q(display_name__icontains=q) | Q(email__istartswith=q)
    last_engagement = (
        permissions.visible_engagements(user)
        .filter(freelancer=OuterRef("pk"))
        .order_by("-pk")
        .values("pk")[:1]
    )
    # Where a person's result leads when they are not on the agreements page for this user:
    # the newest engagement (a freelancer) or request (a requester) this user may open.
    last_request = (
        permissions.visible_requests(user)
        .filter(requester_id=OuterRef("user_id"))
        .order_by("-pk")
        .values("pk")[:1]
    )
    rows, more = _cut(
        list(
            visible_people(user)
            .filter(match)
            .annotate(engagement_id=Subquery(last_engagement), request_id=Subquery(last_request))
            .order_by("display_name", "id")[: PER_KIND + 1]
        )
    )
    keeper = sees_all_people(user)
    results = []
    for p in rows:
        if p.user_id == user.pk:
            url = "/me/"
        elif keeper:
            url = f"/agreements/?{urlencode({'q': p.email})}"
        elif p.engagement_id:
            url = f"/engagements/{p.engagement_id}/"
        elif p.request_id:
            url = f"/requests/{p.request_id}/"
        else:
            url = ""  # seen through a request of theirs only: nothing more to open
        where = f" · {p.country}" if p.country else ""
        results.append(Result("person", p.display_name, f"{p.kind} · {p.email}{where}", url))
    return Group("person", "People", results, more)


def search(user, raw: str | None) -> list[Group]:
    """Every kind's results for ``raw``; BadQuery (a 400 page) when it is empty or too long."""
    q = clean(raw)
    return [requests(user, q), engagements(user, q), people(user, q)]
