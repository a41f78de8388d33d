"""Input bounds (gigbridge.limits): the API answers 422 problem+json naming the field, the web
form applies the same bounds, and the actions refuse what slips past both."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from conftest import request_payload
from gigbridge import limits
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements.models import WorkRequest
from gigbridge.engagements.tests.test_web import form_data
from gigbridge.jobs.models import OutboxJob
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing.models import MarketplaceOffer
from gigbridge.sourcing.tests.test_marketplace import approved_engagement, proposal, signed

pytestmark = pytest.mark.django_db

HUGE = 9223372036854775808  # 2**63: one past the largest integer the databases hold


def send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def refused(response, *fields):
    """A 422 problem+json that names exactly ``fields``; returns the messages by field."""
    assert response.status_code == 422, response.content
    assert response["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert {e["field"].split(".")[0] for e in errors} == set(fields), errors
    return {e["field"]: e["message"] for e in errors}


@pytest.fixture
def draft(api):
    rita = api("rita")
    created = send(rita, "post", "/api/v1/requests", request_payload())
    assert created.status_code == 201, created.content
    return rita, f"/api/v1/requests/{created.json()['id']}"


# --- defect 3: server errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "title",
        "description",
        "pricing",
        "budget",
        "start_date",
        "end_date",
        "data_classification",
        "sourcing",
    ],
)
def test_null_for_a_field_of_a_draft_is_refused_by_name(draft, field):
    rita, url = draft
    messages = refused(send(rita, "patch", url, {field: None}), field)
    assert "must not be null" in messages[field]
    assert rita.get(url).json()[field] is not None


def test_null_workspace_clears_it_and_omitted_fields_stay(draft):
    rita, url = draft
    edited = send(rita, "patch", url, {"workspace": None, "title": "A shorter title"})
    assert edited.status_code == 200, edited.content
    body = edited.json()
    assert body["workspace"] is None and body["title"] == "A shorter title"
    assert body["description"] == request_payload()["description"]


def _list_operations():
    from gigbridge.api.main import api

    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        operation = methods.get("get")
        names = {p["name"] for p in (operation or {}).get("parameters", [])}
        if {"limit", "offset"} <= names:
            yield path.removeprefix("/api/v1")


LISTS = sorted(_list_operations())


def test_every_paginated_list_is_walked():
    # Adding a list adds it here; losing the shared pagination would drop it from the walk.
    assert set(LISTS) >= {"/requests", "/approvals", "/engagements", "/audit/events"}


@pytest.fixture
def filled(people):
    """A list's path with its ids filled in (lists of one engagement: an approved one)."""

    def fill(path: str) -> str:
        if "{engagement_id}" in path:
            path = path.replace("{engagement_id}", str(approved_engagement(people).pk))
        assert "{" not in path, f"fill in the ids of {path}"
        return path

    return fill


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("parameter", ["offset", "limit"])
@pytest.mark.parametrize("value", [HUGE, -1, limits.PAGE_OFFSET_MAX + 1])
def test_every_list_refuses_offset_and_limit_out_of_range(api, filled, path, parameter, value):
    response = api("ada").get(f"/api/v1{filled(path)}?{parameter}={value}")
    refused(response, parameter)


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_within_the_bounds(api, filled, path):
    response = api("ada").get(
        f"/api/v1{filled(path)}?limit={limits.PAGE_LIMIT_MAX}&offset={limits.PAGE_OFFSET_MAX}"
    )
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


def test_a_limit_above_the_maximum_is_refused_not_cut(api):
    refused(api("rita").get(f"/api/v1/requests?limit={limits.PAGE_LIMIT_MAX + 1}"), "limit")


def test_dates_far_in_the_future_or_before_2000_are_refused(draft, api):
    rita, url = draft
    start = send(rita, "post", "/api/v1/requests", request_payload(start_date="9999-12-25"))
    assert "must be between 2000-01-01 and" in refused(start, "start_date")["start_date"]
    refused(send(rita, "patch", url, {"end_date": "9999-12-31"}), "end_date")
    refused(send(rita, "patch", url, {"start_date": "1999-12-31"}), "start_date")
    after_last = limits.latest_plan_date() + dt.timedelta(days=1)
    refused(send(rita, "patch", url, {"end_date": after_last.isoformat()}), "end_date")


def test_a_contract_date_in_year_9999_is_refused(api, people):
    engagement = approved_engagement(people)
    response = send(
        api("ada"),
        "post",
        f"/api/v1/engagements/{engagement.pk}/transitions",
        {"state": "contracted", "contract_start": "9999-01-01"},
    )
    refused(response, "contract_start")


# --- defect 6 and the offer amount of defect 3: offers ------------------------------------


@pytest.fixture
def sourcing(people):
    engagement = approved_engagement(people, pricing="hourly")
    p = proposal(engagement)
    signed(p.freelancer_email)
    return engagement, p


def pick_url(engagement, p):
    return f"/api/v1/engagements/{engagement.pk}/proposals/{p.pk}/pick"


@pytest.mark.parametrize(
    "terms, fields",
    [
        ({"hourly_rate": -1, "weekly_hours": -40}, {"hourly_rate", "weekly_hours"}),
        ({"hourly_rate": 0, "weekly_hours": 10}, {"hourly_rate"}),
        ({"hourly_rate": 50, "weekly_hours": limits.WEEKLY_HOURS_MAX + 1}, {"weekly_hours"}),
        ({"hourly_rate": "1e30", "weekly_hours": 1}, {"hourly_rate"}),
        ({"amount": 1e30}, {"amount"}),
        ({"amount": "-5"}, {"amount"}),
        ({"amount": "NaN"}, {"amount"}),
        ({"amount": 10, "message": "x" * (limits.COMMENT_MAX + 1)}, {"message"}),
    ],
)
def test_offer_terms_out_of_bounds_are_refused_and_nothing_is_queued(api, sourcing, terms, fields):
    engagement, p = sourcing
    refused(send(api("rita"), "post", pick_url(engagement, p), terms), *fields)
    assert not MarketplaceOffer.objects.exists()
    assert not OutboxJob.objects.filter(kind=marketplace.OFFER_JOB).exists()


def test_the_marketplace_refuses_out_of_bounds_terms_from_any_caller(people, sourcing):
    engagement, p = sourcing
    with pytest.raises(RuleViolation) as refusal:
        marketplace.pick(people["rita"], p, hourly_rate=Decimal("-1"), weekly_hours=-40)
    assert {problem.field for problem in refusal.value.problems} == {"hourly_rate", "weekly_hours"}
    with pytest.raises(RuleViolation, match="amount"):
        marketplace.pick(people["rita"], p, amount=Decimal("1e30"))
    assert not MarketplaceOffer.objects.exists()
    offer = marketplace.pick(people["rita"], p, hourly_rate=Decimal("60"), weekly_hours=7)
    assert offer.terms["weekly_hours"] == 7


def test_the_web_pick_form_shows_the_bound_at_the_field(client, people, sourcing):
    engagement, p = sourcing
    client.force_login(people["rita"])
    page = client.post(
        f"/engagements/{engagement.pk}/proposals/{p.pk}/pick/",
        {"hourly_rate": "-1", "weekly_hours": "40"},
    )
    assert page.status_code == 200
    assert "Input should be greater than 0" in page.content.decode()
    assert not MarketplaceOffer.objects.exists()


@pytest.mark.parametrize(
    "hours, message",
    [("-40", "Input should be greater than or equal to 1"), ("ten", "is not a whole number")],
)
def test_the_web_pick_form_refuses_weekly_hours_that_are_not_a_count(
    client, people, sourcing, hours, message
):
    """Weekly hours of "-40" were read as blank (refused as missing); now refused as such."""
    engagement, p = sourcing
    client.force_login(people["rita"])
    page = client.post(
        f"/engagements/{engagement.pk}/proposals/{p.pk}/pick/",
        {"hourly_rate": "50", "weekly_hours": hours},
    )
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not MarketplaceOffer.objects.exists()


def test_invite_bounds_the_profile_key_and_message(api, people):
    engagement = approved_engagement(people, sourcing="marketplace")
    url = f"/api/v1/engagements/{engagement.pk}/invite"
    rita = api("rita")
    refused(send(rita, "post", url, {"profile_key": "~" + "1" * limits.CODE_MAX}), "profile_key")
    refused(send(rita, "post", url, {"profile_key": "~01", "message": "x" * 6000}), "message")


# --- defect 7: sizes ---------------------------------------------------------------------


def test_an_edit_has_the_bounds_of_a_new_request(draft):
    rita, url = draft
    refused(send(rita, "patch", url, {"description": "x" * 2_000_000}), "description")
    refused(send(rita, "patch", url, {"deliverables": ["x" * 1_000_000]}), "deliverables")
    refused(send(rita, "patch", url, {"deliverables": ["d"] * 51}), "deliverables")
    refused(send(rita, "patch", url, {"skills": ["s"] * 31}), "skills")
    refused(send(rita, "patch", url, {"freelancer_email": "not an email"}), "freelancer_email")
    refused(send(rita, "patch", url, {"budget": "1e30"}), "budget")
    refused(send(rita, "patch", url, {"currency": "EURO"}), "currency")
    refused(send(rita, "patch", url, {"task_category": "c" * 101}), "task_category")


def test_a_new_request_refuses_a_deliverable_of_a_megabyte(api):
    response = send(
        api("rita"), "post", "/api/v1/requests", request_payload(deliverables=["x" * 1_000_000])
    )
    messages = refused(response, "deliverables")
    assert "at most 255 characters" in messages["deliverables.0"]


def test_an_edit_records_only_what_changed_and_bounded(draft):
    rita, url = draft
    long_text = "y" * limits.DESCRIPTION_MAX
    assert send(rita, "patch", url, {"description": long_text}).status_code == 200
    assert send(rita, "patch", url, {"title": "Another title"}).status_code == 200
    first, second = AuditEvent.objects.filter(action="request.updated").order_by("seq")
    assert set(first.after) == {"description"}
    assert len(first.after["description"]) < limits.AUDIT_TEXT_MAX
    assert "20000 characters, sha256" in first.after["description"]
    assert second.before == {"title": request_payload()["title"]}
    assert second.after == {"title": "Another title"}
    assert len(json.dumps(second.before) + json.dumps(second.after)) < 200


def test_the_actions_refuse_out_of_bounds_values_from_any_caller(people, draft):
    from gigbridge.engagements import actions

    work_request = WorkRequest.objects.get()
    with pytest.raises(RuleViolation) as refusal:
        actions.update_request(
            people["rita"], work_request, {"deliverables": ["d"] * 20_000, "budget": Decimal(-1)}
        )
    assert {problem.field for problem in refusal.value.problems} == {"deliverables", "budget"}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"deliverables": "\n".join(["d"] * 20_000)}, "deliverables", "at most 50 items"),
        ({"deliverables": "x" * 1_000_000}, "deliverables", "at most 255 characters"),
        ({"description": "x" * 2_000_000}, "description", "at most 20000 characters"),
        ({"skills": ",".join(["s"] * 31)}, "skills", "at most 30 items"),
        ({"budget": "1000000000.01"}, "budget", "less than or equal to 1000000000"),
        ({"start_date": "9999-12-25"}, "start_date", "must be between 2000-01-01"),
    ],
)
def test_the_web_form_has_the_api_limits(client, people, overrides, field, message):
    client.force_login(people["rita"])
    response = client.post("/requests/new/", form_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not WorkRequest.objects.exists()


def test_the_web_form_keeps_blank_lines_out_of_the_count(client, people):
    client.force_login(people["rita"])
    deliverables = "\n\n".join(f"d{n}" for n in range(limits.DELIVERABLES_MAX))
    response = client.post("/requests/new/", form_data(deliverables=deliverables))
    assert response.status_code == 302, response.context["form"].errors
    assert len(WorkRequest.objects.get().deliverables) == limits.DELIVERABLES_MAX


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/requests?q=" + "q" * (limits.SEARCH_MAX + 1),
        "/api/v1/requests?state=" + "s" * (limits.CODE_MAX + 1),
        "/api/v1/engagements?state=" + "s" * (limits.CODE_MAX + 1),
        "/api/v1/audit/events?object_id=" + "o" * (limits.CODE_MAX + 1),
        "/api/v1/audit/events?actor=" + "a" * (limits.NAME_MAX + 1),
    ],
)
def test_filters_are_bounded(api, url):
    refused(api("ada").get(url), url.split("?")[1].split("=")[0])


def test_the_web_search_is_cut_to_the_bound_not_an_error(client, people):
    client.force_login(people["rita"])
    assert client.get("/requests/?q=" + "q" * 5000).status_code == 200


def test_workspace_fields_are_bounded(api):
    ada = api("ada")
    url = "/api/v1/workspaces"
    refused(send(ada, "post", url, {"name": "n" * (limits.NAME_MAX + 1)}), "name")
    refused(send(ada, "post", url, {"name": ""}), "name")
    refused(send(ada, "post", url, {"name": "ok", "folder_path": "p" * 501}), "folder_path")


# --- web inputs outside the request form: the same bounds, refused with a message ---------


def test_web_withdraw_comment_and_transition_reason_are_bounded(client, people, draft):
    from gigbridge.engagements.models import Engagement

    work_request = WorkRequest.objects.get()
    client.force_login(people["rita"])
    client.post(f"/requests/{work_request.pk}/withdraw/", {"comment": "c" * 6000, "confirm": "1"})
    work_request.refresh_from_db()
    assert work_request.state == WorkRequest.State.DRAFT
    engagement = approved_engagement(people)
    client.force_login(people["ada"])
    client.post(
        f"/engagements/{engagement.pk}/transition/",
        {"state": "cancelled", "reason": "r" * 3000, "confirm": "1"},
    )
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.SOURCING


def test_web_workspace_and_delegation_are_bounded(client, people):
    from gigbridge.people.models import Delegation
    from gigbridge.program.models import Workspace

    client.force_login(people["ada"])
    client.post("/workspaces/", {"name": "n" * (limits.NAME_MAX + 1)})
    client.post("/workspaces/", {"name": "ok", "folder_path": "p" * (limits.PATH_MAX + 1)})
    assert not Workspace.objects.exists()
    client.force_login(people["rita"])
    page = client.post(
        "/me/",
        {"what": "delegate", "delegate": "max", "starts_on": "2030-01-01", "ends_on": "9999-12-31"},
        follow=True,
    )
    assert "ends_on: must be between 2000-01-01" in page.content.decode()
    assert not Delegation.objects.exists()
