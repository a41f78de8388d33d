"""Grants and drift are shown by name (Team, channel, task title, folder path), never by id."""

import datetime as dt
from types import SimpleNamespace

import pytest

from gigbridge.access.names import Names
from gigbridge.access.reconciler import Outcome
from gigbridge.program.models import TenantTeam, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace():
    return Workspace.objects.create(
        name="Spring",
        team_id="team-1",
        team_name="Spring campaign",
        drive_id="drive-1",
        folder_id="folder-1",
        folder_path="Freelance/Spring",
        plan_id="plan-1",
        bucket_id="bucket-1",
    )


def engagement(workspace):
    request = SimpleNamespace(deliverables=["Logo", "Guide"], workspace=workspace)
    return SimpleNamespace(request=request, reference="EN-000007")


def test_each_kind_of_grant_is_named(workspace):
    names = Names()
    e = engagement(workspace)
    assert names.of("team_member", "team-1", e) == 'Team "Spring campaign"'
    assert names.of("folder_share", "drive-1:folder-1", e) == (
        'folder "Freelance/Spring" of Team "Spring campaign"'
    )
    assert names.of("planner_task", "plan-1:1", e) == (
        'task "Guide (EN-000007)" in the plan of Team "Spring campaign"'
    )
    assert names.of("channel_member", "EN-000007 Brand", e, "team-1:ch-1:m-1") == (
        'private channel "EN-000007 Brand" in Team "Spring campaign"'
    )
    assert names.of("guest", "user-id-1") == "the tenant (guest account)"
    assert names.of("welcome_mail", "freya@freelancers.example") == (
        "mail to freya@freelancers.example"
    )


def test_a_team_from_the_tenants_catalog_and_an_unknown_id_say_what_they_are(workspace):
    TenantTeam.objects.create(
        team_id="team-2", display_name="Finance", synced_at=dt.datetime.now(dt.UTC)
    )
    names = Names()
    assert names.of("team_member", "team-2") == 'Team "Finance"'
    assert names.of("team_member", "team-9") == "a Team Gigbridge does not know (team-9)"
    assert names.of("folder_share", "drive-1:gone") == (
        "a folder Gigbridge does not know (drive-1:gone)"
    )


def test_the_summary_counts_only_changes_made_in_the_tenant_as_granted_or_revoked():
    outcome = Outcome()
    assert str(outcome) == "0 granted, 0 revoked"
    outcome.granted += ["team_member:t", "folder_share:f"]
    outcome.revoked += ["planner_task:p"]
    outcome.sent += ["welcome_mail:a", "manager_note:b"]
    outcome.in_place += ["guest:a"]
    outcome.gone += ["folder_share:g"]
    outcome.kept += ["private_channel:c"]
    outcome.shortened += ["folder_share:f"]
    assert str(outcome) == (
        "2 granted, 1 revoked, 1 shortened, 2 mails sent, 1 already in place, 1 already gone, "
        "1 kept in the tenant by policy"
    )
