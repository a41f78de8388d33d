"""Global search (``/search/?q=``): by reference, title and name; only what the person may open;
bad input answers 400 with the reason."""

from __future__ import annotations

import pytest

from gigbridge.engagements import actions
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import new_request, pending, submitted
from gigbridge.people.models import Person
from gigbridge.web import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def find(client, people):
    def as_user(username, q):
        client.force_login(people[username])
        return client.get("/search/", {"q": q})

    return as_user


def names(response, kind) -> list[str]:
    group = next(g for g in response.context["groups"] if g.kind == kind)
    return [r.name for r in group.results]


def direct_hire(people, title="Direct hire"):
    request = submitted(
        people["rita"],
        title=title,
        sourcing="direct",
        freelancer_email="freya@freelancers.example",
        freelancer_country="PT",
    )
    actions.decide(people["max"], pending(request)[0], "approve")
    return Engagement.objects.get(request=request)


def test_finds_a_request_by_reference_number_and_title_words(people, find):
    request = new_request(people["rita"], title="Brand refresh for spring")
    for q in (request.reference, request.reference.lower(), str(request.pk), f"WR-{request.pk}"):
        response = find("rita", q)
        assert response.status_code == 200
        assert names(response, "request") == [f"{request.reference} · Brand refresh for spring"]
    response = find("rita", "REFRESH for")
    assert names(response, "request") == [f"{request.reference} · Brand refresh for spring"]
    page = response.content.decode()
    assert f'href="/requests/{request.pk}/"' in page and "draft: not submitted yet" in page


def test_finds_an_engagement_by_reference_and_freelancer_name(people, find):
    engagement = direct_hire(people)
    for q in (engagement.reference, "freya", "Freelance"):
        assert names(find("rita", q), "engagement") == [f"{engagement.reference} · Direct hire"]
    assert names(find("rita", "EN-999999"), "engagement") == []
    # "WR-" names a request only, even when an engagement has that number
    assert names(find("rita", f"WR-{engagement.pk}"), "engagement") == []


def test_people_a_requester_finds_themselves_and_their_freelancers_only(people, find):
    direct_hire(people)
    assert names(find("rita", "Rita"), "person") == ["Rita Requester"]
    assert names(find("rita", "freya@"), "person") == ["Freya Freelance"]
    assert names(find("rita", "Omar"), "person") == []  # on no engagement of hers
    assert names(find("rita", "Paula"), "person") == []  # a colleague she has no business with
    assert names(find("carol", "Freya"), "person") == []  # not on carol's engagements


def test_people_keepers_find_anyone(people, find):
    for who in ("ada", "audrey", "lena", "hank"):
        response = find(who, "omar")
        assert names(response, "person") == ["Omar Designer"], who
    assert 'href="/agreements/?q=omar%40freelancers.example"' in response.content.decode()


def test_a_requester_never_finds_another_requesters_request(people, find):
    theirs = new_request(people["carol"], title="Secret migration plan")
    engagement = direct_hire(people, title="Rita's own")
    for q in ("Secret migration", theirs.reference, str(theirs.pk)):
        response = find("rita", q)
        assert names(response, "request") == []
        assert f'href="/requests/{theirs.pk}/"' not in response.content.decode()
    assert names(find("carol", engagement.reference), "engagement") == []
    assert names(find("carol", "Rita's own"), "request") == []
    # the auditor sees everything
    assert names(find("audrey", "Secret migration"), "request") == [
        f"{theirs.reference} · Secret migration plan"
    ]


def test_an_approver_finds_what_they_were_asked_to_decide(people, find):
    request = submitted(people["rita"], title="Asked of max")
    assert names(find("max", "Asked of"), "request") == [f"{request.reference} · Asked of max"]
    assert names(find("paula", "Asked of"), "request") == []  # procurement was never asked


@pytest.mark.parametrize("q", ["", "   ", "x" * 101])
def test_bad_search_text_is_a_400_with_the_reason(find, q):
    response = find("rita", q)
    assert response.status_code == 400
    page = response.content.decode()
    assert ("at most 100" in page) if q.strip() else ("type what to search for" in page)


def test_at_most_twenty_a_kind_with_a_more_hint(people, find):
    for n in range(search.PER_KIND + 1):
        new_request(people["rita"], title=f"Batch item {n}")
    response = find("rita", "batch item")
    group = next(g for g in response.context["groups"] if g.kind == "request")
    assert len(group.results) == search.PER_KIND and group.more
    assert "More than 20 requests match" in response.content.decode()


def test_the_header_has_a_labelled_search_box(find, people):
    page = find("rita", "anything").content.decode()
    assert 'role="search" aria-label="Search Gigbridge" class="header-search"' in page
    assert '<label for="header-q"' in page and 'id="header-q" type="search" name="q"' in page


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/search/?q=x")
    assert response.status_code == 302 and response["location"].startswith("/login/")


def test_a_person_search_matches_names_inside_and_emails_from_the_start(people, find):
    Person.objects.create(kind="freelancer", email="zed@x.example", display_name="Anna Zed")
    assert names(find("ada", "zed"), "person") == ["Anna Zed"]
    assert names(find("ada", "x.example"), "person") == []  # not the start of the address


@pytest.mark.parametrize("q", ["999999999999", "WR-999999999999", "EN-0", "100%_", "Ünïcødé"])
def test_odd_text_finds_nothing_and_never_fails(people, find, q):
    new_request(people["rita"], title="Plain title")
    response = find("ada", q)
    assert response.status_code == 200
    assert response.context["found"] == 0
