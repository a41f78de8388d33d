"""Approvers and admins on any screen: no decision is pre-selected, ending actions ask for
confirmation and are never a default, the engagement list pages through every engagement."""

import re

import pytest

from gigbridge.engagements.models import Engagement, WorkRequest
from gigbridge.engagements.tests.test_approvals import (
    approved_engagement,
    new_request,
    pending,
    submitted,
)

pytestmark = pytest.mark.django_db


def test_no_decision_is_pre_selected_and_none_chosen_is_refused(client, people):
    request = submitted(people["rita"])
    step = pending(request)[0]
    client.force_login(people["max"])
    page = client.get(f"/approvals/{step.pk}/").content.decode()
    radios = re.findall(r'<input type="radio" name="decision"[^>]*>', page)
    assert len(radios) == 3 and not any("checked" in r for r in radios)
    assert all("required" in r for r in radios)
    response = client.post(f"/approvals/{step.pk}/", {"comment": ""})
    assert response.status_code == 200
    assert "Choose approve, reject or ask for changes." in response.content.decode()
    step.refresh_from_db()
    assert step.state == "pending"


def test_withdraw_needs_the_confirmation_tick(client, people):
    request = new_request(people["rita"])
    client.force_login(people["rita"])
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required>', page)
    response = client.post(f"/requests/{request.pk}/withdraw/", follow=True)
    assert "to withdraw it" in response.content.decode()
    request.refresh_from_db()
    assert request.state == WorkRequest.State.DRAFT
    client.post(f"/requests/{request.pk}/withdraw/", {"confirm": "1"})
    request.refresh_from_db()
    assert request.state == WorkRequest.State.WITHDRAWN


def test_cancel_is_never_the_default_and_needs_the_confirmation_tick(client, people):
    engagement = approved_engagement(people)
    client.force_login(people["ada"])
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    select = re.search(r'<select name="state"[^>]*>(.*?)</select>', page, re.S).group(1)
    first = re.search(r'<option value="([^"]*)"', select).group(1)
    assert first == ""
    assert re.findall(r'<option value="([^"]*)" selected', select) == [""]  # the placeholder
    url = f"/engagements/{engagement.pk}/transition/"
    response = client.post(url, {"state": "cancelled", "reason": "x"}, follow=True)
    assert "cannot be undone" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.SOURCING
    response = client.post(url, {"state": "", "reason": "x"}, follow=True)
    assert "Choose the state" in response.content.decode()
    client.post(url, {"state": "cancelled", "reason": "x", "confirm": "1"})
    assert Engagement.objects.get(pk=engagement.pk).state == Engagement.State.CANCELLED


def test_the_engagement_list_pages_through_every_engagement(client, people):
    for _ in range(27):
        approved_engagement(people, budget="1000")
    client.force_login(people["ada"])
    first = client.get("/engagements/").content.decode()
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get("/engagements/?page=2").content.decode()
    refs = set(re.findall(r">(EN-\d{6})</a>", first)) | set(re.findall(r">(EN-\d{6})</a>", second))
    assert len(refs) == Engagement.objects.count() == 27
    filtered = client.get("/engagements/?state=sourcing").content.decode()
    assert 'href="?page=2&amp;state=sourcing"' in filtered
