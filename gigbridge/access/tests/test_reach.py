"""Before anything is granted, whoever chooses a workspace and whoever approves the request
see what the freelancer will be able to open there, said per workspace kind from one place
(gigbridge.program.reach): the request form, the API, the workspaces page, the request page, the
decision page and its mail."""

import re
from types import SimpleNamespace

import pytest
from django.core import mail

from gigbridge import clock
from gigbridge.access import workspaces
from gigbridge.engagements.models import WorkRequest
from gigbridge.engagements.tests.test_approvals import deliver_mail
from gigbridge.engagements.tests.test_decision_page import direct_hire_form
from gigbridge.program.models import TenantTeam
from gigbridge.program.policy import WORKSPACE_KINDS
from gigbridge.program.reach import KIND_REACH, kinds_described, reach
from gigbridge.program.workspace_rules import KIND_WORDS

from .test_rules import POLICY, with_access


def workspace(new_team=False):
    return SimpleNamespace(
        name="Spring", team_name="Marketing", new_team=new_team, folder_path="Freelance/Spring"
    )


def test_every_workspace_kind_says_what_a_guest_can_open():
    assert set(KIND_REACH) == set(WORKSPACE_KINDS) == set(KIND_WORDS)
    described = kinds_described()
    for kind in WORKSPACE_KINDS:
        assert f"In {KIND_WORDS[kind]}: {KIND_REACH[kind]}." in described


def test_a_team_made_for_the_workspace_opens_its_whole_library_and_the_folder():
    found = reach(workspace(new_team=True), POLICY)  # the example: write shares, 3 days grace
    assert found.kind == "new_team" and found.summary == KIND_REACH["new_team"]
    assert found.can_open == (
        'Team "Marketing" (made for this workspace): every standard channel and every file of '
        "its document library",
        'the Planner plan "Freelance: Spring", with a task for each deliverable assigned to them',
        'the folder "Freelance/Spring", shared with them to read and change until the contract '
        "ends plus 3 days of grace",
    )


def test_an_existing_team_says_its_other_work_is_open_too():
    found = reach(workspace(), with_access(file_share_role="read", grace_days=1))
    assert found.kind == "existing_team"
    assert "the Team's other work included" in found.can_open[0]
    assert found.can_open[-1] == (
        'the folder "Freelance/Spring", shared with them to read until the contract ends plus '
        "1 day of grace"
    )


def test_a_private_channel_says_the_team_comes_with_it():
    found = reach(workspace(), with_access(private_channel=True))
    assert found.kind == "private_channel"
    assert found.kind_words == "a private channel of its own"
    assert found.can_open[1] == (
        'a private channel of the engagement\'s own in Team "Marketing"; its files open only for '
        "the channel's members"
    )
    assert "every standard channel" in found.can_open[0]  # Teams requires Team membership
    assert reach(None, POLICY) is None


@pytest.fixture
def two_workspaces(people):
    TenantTeam.objects.create(team_id="team-mkt", display_name="Marketing", synced_at=clock.now())
    workspaces.create_workspace(people["ada"], "Spring campaign", folder_path="Marketing/Spring")
    workspaces.create_workspace(people["ada"], "Shared marketing", team_id="team-mkt")


@pytest.mark.django_db
def test_the_request_form_lists_what_each_workspace_opens(client, people, two_workspaces):
    client.force_login(people["rita"])
    page = client.get("/requests/new/").content.decode()
    choices = page.split('id="workspace-choices"', 1)[1].split("</ul>", 1)[0]
    assert (
        f"<strong>Spring campaign</strong>, a Team made for it: {KIND_REACH['new_team']}"
        in choices.replace("&#x27;", "'")
    )
    assert (
        f"<strong>Shared marketing</strong>, a Team the tenant already had: "
        f"{KIND_REACH['existing_team']}" in choices.replace("&#x27;", "'")
    )


@pytest.mark.django_db
def test_the_workspaces_page_and_api_say_what_a_guest_can_open(client, api, people, two_workspaces):
    client.force_login(people["rita"])
    page = client.get("/workspaces/").content.decode().replace("&#x27;", "'")
    assert f"A Team the tenant already had: {KIND_REACH['existing_team']}." in page
    client.force_login(people["ada"])
    page = client.get("/workspaces/").content.decode().replace("&#x27;", "'")
    assert f"A freelancer in a new Team can open {KIND_REACH['new_team']}." in page

    listed = {w["name"]: w for w in api("rita").get("/api/v1/workspaces").json()}
    shared = listed["Shared marketing"]
    assert shared["kind"] == "existing_team"
    assert shared["kind_words"] == "a Team the tenant already had"
    assert shared["guest_can_open"][0].startswith('Team "Marketing" (the tenant had it already)')
    created = api("ada").post(
        "/api/v1/workspaces", {"name": "Autumn"}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["kind"] == "new_team"

    schema = api("rita").get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert kinds_described() in schema["RequestIn"]["properties"]["workspace"]["description"]


@pytest.mark.django_db
def test_the_request_page_decision_page_and_mail_say_what_the_freelancer_can_open(client, people):
    workspaces.create_workspace(people["ada"], "Spring campaign", folder_path="Marketing/Spring")
    client.force_login(people["rita"])
    assert client.post("/requests/new/", direct_hire_form()).status_code == 302
    request = WorkRequest.objects.get()
    page = client.get(f"/requests/{request.pk}/").content.decode().replace("&quot;", '"')
    section = page.split('id="workspace"', 1)[1].split("</dd>", 1)[0]
    assert "The freelancer will be able to open (a Team made for it):" in section
    assert 'Team "Spring campaign" (made for this workspace): every standard channel' in section
    assert 'the folder "Marketing/Spring", shared with them to read and change' in section

    deliver_mail()
    message = next(m for m in mail.outbox if m.to == ["max@contoso.example"])
    assert "The freelancer will be able to open (a Team made for it):\n- Team" in message.body
    assert '- the folder "Marketing/Spring", shared with them' in message.body
    token = re.search(r"/a/([^/\s]+)/", message.body).group(1)
    client.force_login(people["max"])
    page = client.get(f"/a/{token}/").content.decode().replace("&quot;", '"')
    section = page.split('id="workspace"', 1)[1].split("</dd>", 1)[0]
    assert 'Team "Spring campaign" (made for this workspace)' in section
    assert 'the Planner plan "Freelance: Spring campaign"' in section
