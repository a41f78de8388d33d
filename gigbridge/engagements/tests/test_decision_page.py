"""The decision page and the approval mail show what a decider needs: deliverables, the
freelancer and country of a direct hire, the workspace, what is left in the cost center and the
policy rule that made them an approver. State is made through the web form, as rita would."""

import datetime as dt
import re

import pytest
from django.core import mail

from gigbridge import clock
from gigbridge.access import workspaces
from gigbridge.engagements.models import WorkRequest
from gigbridge.engagements.tests.test_approvals import deliver_mail

pytestmark = pytest.mark.django_db


def direct_hire_form(**overrides):
    start = clock.today() + dt.timedelta(days=14)
    data = {
        "title": "Spring campaign visuals",
        "description": "Key visuals for the spring campaign.",
        "deliverables": "Key visual\nSocial media kit",
        "skills": "figma",
        "task_category": "design",
        "worker_category": "freelancer",
        "cost_center": "CC-DATA",
        "pricing": "fixed",
        "budget": "12500",
        "currency": "EUR",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=30)).isoformat(),
        "data_classification": "internal",
        "sourcing": "direct",
        "freelancer_email": "freya@freelancers.example",
        "freelancer_country": "PT",
        "workspace": "Spring campaign",
        "submit": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def direct_hire(client, people):
    workspaces.create_workspace(people["ada"], "Spring campaign", folder_path="Marketing/Spring")
    client.force_login(people["rita"])
    assert client.post("/requests/new/", direct_hire_form()).status_code == 302
    request = WorkRequest.objects.get()
    assert request.state == "in_approval"
    client.logout()
    return request


def test_decision_page_shows_what_the_decider_needs(client, people, direct_hire):
    deliver_mail()
    message = next(m for m in mail.outbox if m.to == ["max@contoso.example"])
    token = re.search(r"/a/([^/\s]+)/", message.body).group(1)
    client.force_login(people["max"])
    page = client.get(f"/a/{token}/").content.decode()

    assert "Key visual<br>Social media kit" in page
    assert "Direct hire: Freya Freelance (freya@freelancers.example), Portugal (PT)" in page
    assert "Spring campaign · Team Spring campaign · folder Marketing/Spring" in page
    # CC-DATA: 80,000 EUR a year; this request's 12,500 is committed.
    assert (
        "budget 80,000.00 EUR, committed 12,500.00 EUR (this request included), "
        "available 67,500.00 EUR"
    ) in page
    assert "12,500.00 EUR (" in page
    assert re.search(
        r"policy rule <code>manager</code> \(policy v\d+\): "
        r"The requester&#x27;s line manager approves every request\.",
        page,
    )
    assert 'class="overspent"' not in page


def test_approval_mail_shows_the_same_facts(people, direct_hire):
    deliver_mail()
    message = next(m for m in mail.outbox if m.to == ["max@contoso.example"])
    body = message.body
    assert "Deliverables:\n- Key visual\n- Social media kit\n" in body
    assert (
        "Freelancer (direct hire): Freya Freelance <freya@freelancers.example>, Portugal (PT)"
        in body
    )
    assert "Workspace: Spring campaign (Team Spring campaign, folder Marketing/Spring)" in body
    assert (
        "budget 80,000.00 EUR, committed 12,500.00 EUR (this request included), "
        "available 67,500.00 EUR"
    ) in body
    assert (
        'You are asked by policy rule "manager": '
        "The requester's line manager approves every request."
    ) in body
    assert "(12,500.00 EUR)" in body


def test_an_over_committed_cost_center_is_flagged_on_the_decision_page(client, people):
    from gigbridge.program.models import CostCenter

    workspaces.create_workspace(people["ada"], "Spring campaign")
    client.force_login(people["rita"])
    client.post("/requests/new/", direct_hire_form(cost_center="CC-OPS", budget="20000"))
    client.post(
        "/requests/new/",
        direct_hire_form(cost_center="CC-OPS", budget="9000", title="Second one"),
    )
    CostCenter.objects.filter(code="CC-OPS").update(annual_budget=25000)  # finance cut it
    request = WorkRequest.objects.get(title="Second one")
    step = request.steps.get(rule_id="manager")
    client.force_login(people["max"])
    page = client.get(f"/approvals/{step.pk}/").content.decode()
    assert 'id="cost-center" class="overspent"' in page
    assert "available -4,000.00 EUR <strong>Over-committed</strong>" in page
