"""Starting a direct hire's contract: who may, which engagements, which dates, the program's
compliance rules, active at once or on the start day by the scheduler (once)."""

import datetime as dt

import pytest

from gigbridge import clock
from gigbridge.audit.describe import describe_all
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.engagements import actions, direct
from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import approved_engagement, problems_of
from gigbridge.jobs import scheduler

pytestmark = pytest.mark.django_db


def hire(people, email="freya@freelancers.example", country="PT") -> Engagement:
    """A direct hire approved and waiting in sourcing (freya has signed the NDA and the MSA)."""
    return approved_engagement(
        people, sourcing="direct", freelancer_email=email, freelancer_country=country
    )


def events(engagement, action):
    return AuditEvent.objects.filter(
        object_type="engagement", object_id=str(engagement.pk), action=action
    )


def test_the_hiring_manager_starts_the_contract_with_the_request_dates(people):
    engagement = hire(people)
    request = engagement.request
    engagement = direct.start_contract(people["rita"], engagement)
    assert engagement.state == Engagement.State.CONTRACTED
    assert (engagement.contract_start, engagement.contract_end) == (
        request.start_date,
        request.end_date,
    )
    event = events(engagement, "engagement.contracted").get()
    assert event.actor_user_id == people["rita"].pk  # the audit names her, not "system"
    assert event.rule == "compliance"
    (described,) = describe_all([event])
    assert described.text.startswith("Rita")
    assert "contracted" in described.text


def test_a_program_admin_may_too_and_nobody_else(people):
    engagement = hire(people)
    for username in ("max", "paula", "lena", "audrey"):
        with pytest.raises(NotAllowed, match="hiring manager or a program admin"):
            direct.start_contract(people[username], engagement)
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING
    assert direct.start_contract(people["ada"], engagement).state == "contracted"


def test_only_a_direct_hire_in_sourcing(people):
    marketplace = approved_engagement(people)
    with pytest.raises(InvalidTransition, match="marketplace"):
        direct.start_contract(people["rita"], marketplace)
    engagement = direct.start_contract(people["rita"], hire(people))
    with pytest.raises(InvalidTransition, match="only a direct hire in sourcing"):
        direct.start_contract(people["rita"], engagement)
    assert events(engagement, "engagement.contracted").count() == 1


def test_the_dates_stay_within_the_request(people):
    engagement = hire(people)
    first, last = engagement.request.start_date, engagement.request.end_date
    day = dt.timedelta(days=1)
    cases = [
        ({"start": first - day}, "start", "cannot start before"),
        ({"start": last + day, "end": last}, "start", "cannot start after"),
        ({"end": last + day}, "end", "cannot end later"),
        ({"start": first + 5 * day, "end": first + 4 * day}, "end", "ends before it starts"),
    ]
    for dates, field, message in cases:
        with pytest.raises(RuleViolation, match=message) as exc:
            direct.start_contract(people["rita"], engagement, **dates)
        assert [p.field for p in exc.value.problems] == [field], dates
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING
    # Narrower than the request is fine.
    engagement = direct.start_contract(
        people["rita"], engagement, start=first + 2 * day, end=last - day
    )
    assert (engagement.contract_start, engagement.contract_end) == (first + 2 * day, last - day)


def test_missing_agreements_are_refused_and_the_page_says_what_to_do(people, client):
    engagement = hire(people, email="omar@freelancers.example", country="EG")
    with pytest.raises(RuleViolation) as exc:
        direct.start_contract(people["rita"], engagement)
    assert ("freelancer", "compliance.required_agreements") in problems_of(exc)
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING

    client.force_login(people["rita"])
    url = f"/engagements/{engagement.pk}/"
    page = client.get(url).content.decode()
    assert 'id="start-contract"' in page and "Start the contract" in page
    assert "Next step: send MSA for signature" in page
    response = client.post(url + "start/", {"start": "", "end": ""})
    assert response.status_code == 200  # the page again, with the reasons
    page = response.content.decode()
    assert 'id="start-contract-error"' in page
    assert "omar@freelancers.example has not signed MSA" in page
    assert "policy rule: compliance.required_agreements" in page
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING


def test_the_form_names_the_field_and_keeps_what_was_typed(people, client):
    engagement = hire(people)
    client.force_login(people["rita"])
    url = f"/engagements/{engagement.pk}/start/"
    early = (engagement.request.start_date - dt.timedelta(days=3)).isoformat()
    page = client.post(url, {"start": early, "end": "soon"}).content.decode()
    assert 'id="start-end-error"' in page and "&#x27;soon&#x27; is not a date" in page
    page = client.post(url, {"start": early, "end": ""}).content.decode()
    assert 'id="start-start-error"' in page and "cannot start before" in page
    assert f'value="{early}"' in page and 'aria-invalid="true"' in page
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.SOURCING

    response = client.post(url, {}, follow=True)
    assert "starts on" in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED
    assert (
        'id="start-contract"' not in client.get(f"/engagements/{engagement.pk}/").content.decode()
    )


def test_the_form_is_shown_only_to_who_may_start(people, client):
    engagement = hire(people)
    url = f"/engagements/{engagement.pk}/"
    client.force_login(people["max"])  # sees it (he approved it), may not start it
    assert 'id="start-contract"' not in client.get(url).content.decode()
    assert client.post(url + "start/", {}).status_code == 403
    client.force_login(people["ada"])
    assert 'id="start-contract"' in client.get(url).content.decode()
    marketplace = approved_engagement(people)
    client.force_login(people["rita"])
    assert (
        'id="start-contract"' not in client.get(f"/engagements/{marketplace.pk}/").content.decode()
    )


def test_starting_today_goes_on_to_active_at_once(people, frozen_now):
    engagement = hire(people)
    frozen_now(days=(engagement.request.start_date - clock.today()).days)
    assert clock.today() == engagement.request.start_date
    engagement = direct.start_contract(people["rita"], engagement)
    assert engagement.state == Engagement.State.ACTIVE
    active = events(engagement, "engagement.active").get()
    assert active.actor_user_id == people["rita"].pk
    assert direct.start_due_contracts() == 0


def test_the_scheduler_makes_it_active_on_its_start_day_once(people, frozen_now, monkeypatch):
    assert "gigbridge.engagements.direct.start_due_contracts" in scheduler.PERIODIC
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    engagement = direct.start_contract(people["rita"], hire(people))
    other = hire(people, email="fabio@freelancers.example")  # never started: stays in sourcing
    day_before = (engagement.contract_start - clock.today()).days - 1
    frozen_now(days=day_before)
    assert direct.start_due_contracts() == 0
    frozen_now(days=1)
    assert clock.today() == engagement.contract_start
    assert scheduler.tick()["gigbridge.engagements.direct.start_due_contracts"] == 1
    assert direct.start_due_contracts() == 0  # a second scheduler, the next tick
    engagement.refresh_from_db()
    other.refresh_from_db()
    assert engagement.state == Engagement.State.ACTIVE
    assert other.state == Engagement.State.SOURCING
    (event,) = events(engagement, "engagement.active")
    assert event.actor_user_id is None and event.actor == "system"
    assert event.after["reason"] == "contract started"
    assert describe_all([event])[0].note == "contract started"


def test_the_scheduler_leaves_marketplace_contracts_to_the_sync(people, frozen_now):
    engagement = approved_engagement(people)
    Engagement.objects.filter(pk=engagement.pk).update(
        state=Engagement.State.CONTRACTED, contract_start=clock.today()
    )
    assert direct.start_due_contracts() == 0
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.CONTRACTED


def test_transition_engagement_names_the_actor_only_when_the_caller_checked(people):
    engagement = hire(people)
    engagement = actions.transition_engagement(
        None, engagement, Engagement.State.CONTRACTED, actor=people["rita"]
    )
    assert events(engagement, "engagement.contracted").get().actor_user_id == people["rita"].pk


def test_the_api_starts_it_and_names_the_field_it_refuses(people, api):
    engagement = hire(people)
    url = f"/api/v1/engagements/{engagement.pk}/start"
    late = (engagement.request.end_date + dt.timedelta(days=1)).isoformat()
    response = api("rita").post(url, {"end": late}, content_type="application/json")
    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["end"]
    response = api("rita").post(url, {"start": "soon"}, content_type="application/json")
    assert response.status_code == 422 and "start" in response.content.decode()
    response = api("rita").post(url, {}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "contracted"
    assert body["contract_start"] == engagement.request.start_date.isoformat()
    assert body["allowed_transitions"] == ["active", "cancelled"]
    again = api("rita").post(url, {}, content_type="application/json")
    assert again.status_code == 409
    marketplace = approved_engagement(people)
    response = api("ada").post(
        f"/api/v1/engagements/{marketplace.pk}/start", {}, content_type="application/json"
    )
    assert response.status_code == 409 and "marketplace" in response.json()["detail"]
