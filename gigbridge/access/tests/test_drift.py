"""Drift follows the tenant: found, resolved when a full scan no longer sees it, reopened when
it comes back. (The scenario test against the sandbox tenant is in tests/scenarios.)"""

from __future__ import annotations

import datetime as dt

import pytest

from gigbridge import clock
from gigbridge.access.models import Drift
from gigbridge.access.review import drift_rows, find_drift, remove_drift
from gigbridge.audit.models import AuditEvent
from gigbridge.integrations.msgraph.errors import NotFound
from gigbridge.program.models import Workspace

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


class Tenant:
    """What find_drift reads of a tenant: its guests, each team's members, folder shares."""

    def __init__(self):
        self.guests: dict[str, str] = {}  # id -> mail
        self.members: dict[str, list[dict]] = {}  # team id -> members
        self.readable = True  # False: reading a team fails the scan part-way

    def iterate(self, path, params=None, type_name=""):
        assert path == "/users"
        for user_id, mail in self.guests.items():
            yield {"id": user_id, "mail": mail}

    def list_team_members(self, team_id):
        if not self.readable:
            raise RuntimeError("Graph is down")
        if team_id not in self.members:
            raise NotFound(404, "NotFound", "no such team")
        return self.members[team_id]

    def delete_user(self, user_id):
        self.guests.pop(user_id, None)

    def remove_team_member(self, team_id, membership_id):
        self.members[team_id] = [m for m in self.members[team_id] if m["id"] != membership_id]


def scan(tenant, minutes=0):
    clock.set_now(START + dt.timedelta(minutes=minutes))
    return find_drift(tenant)


def open_drift() -> set[tuple[str, str]]:
    return {(row.kind, row.guest) for row in drift_rows()}


def actions() -> list[str]:
    return list(AuditEvent.objects.filter(object_type="drift").values_list("action", flat=True))


@pytest.fixture
def tenant():
    Workspace.objects.create(name="Spring", team_id="team-1")
    tenant = Tenant()
    tenant.guests["u-1"] = "mallory@outside.example"
    tenant.members["team-1"] = [
        {"id": "m-1", "userId": "u-1", "roles": ["guest"], "email": "mallory@outside.example"}
    ]
    return tenant


def test_drift_removed_by_hand_is_resolved_at_the_next_full_scan(tenant):
    scan(tenant)
    assert open_drift() == {
        ("guest", "mallory@outside.example"),
        ("team_member", "mallory@outside.example"),
    }

    tenant.guests.clear()  # an admin removed the guest by hand (and so the membership)
    tenant.members["team-1"] = []
    scan(tenant, minutes=15)

    assert open_drift() == set()
    assert set(Drift.objects.values_list("resolved_at", flat=True)) == {
        START + dt.timedelta(minutes=15)
    }
    assert actions().count("access.drift.resolved") == 2


def test_drift_that_comes_back_is_reopened(tenant):
    scan(tenant)
    tenant.members["team-1"] = []
    scan(tenant, minutes=15)
    assert open_drift() == {("guest", "mallory@outside.example")}

    tenant.members["team-1"] = [
        {"id": "m-1", "userId": "u-1", "roles": ["guest"], "email": "mallory@outside.example"}
    ]
    scan(tenant, minutes=30)

    assert ("team_member", "mallory@outside.example") in open_drift()
    member = Drift.objects.get(kind="team_member")
    assert member.resolved_at is None and member.reopened_at == START + dt.timedelta(minutes=30)
    assert member.first_seen == START  # the same drift, not a new one
    assert actions().count("access.drift.reopened") == 1


def test_a_scan_that_fails_part_way_resolves_nothing(tenant):
    scan(tenant)
    tenant.guests.clear()
    tenant.readable = False
    with pytest.raises(RuntimeError):
        scan(tenant, minutes=15)
    assert Drift.objects.filter(resolved_at__isnull=False).count() == 0


def test_drift_in_a_team_not_scanned_stays_open(tenant):
    scan(tenant)
    Workspace.objects.all().delete()  # the team is no longer one Gigbridge reads
    scan(tenant, minutes=15)
    assert ("team_member", "mallory@outside.example") in open_drift()


def test_drift_removed_by_us_that_comes_back_is_removed_again(tenant):
    remove_drift(tenant, scan(tenant))
    assert tenant.guests == {} and open_drift() == set()
    scan(tenant, minutes=15)  # confirmed gone
    assert Drift.objects.filter(resolved_at__isnull=True).count() == 0

    tenant.guests["u-1"] = "mallory@outside.example"  # the same account is back
    again = scan(tenant, minutes=30)
    assert open_drift() == {("guest", "mallory@outside.example")}
    assert remove_drift(tenant, again) == 1
    assert tenant.guests == {}


def test_the_review_shows_a_share_expiry_as_the_program_s_date(people, settings):
    # A share expiring at 03:00 UTC ends the day before on Adak (UTC-10): the review shows the
    # program's date, like every other date on the page, not the UTC one.
    from gigbridge.access.models import Grant
    from gigbridge.access.review import granted_rows
    from gigbridge.engagements.tests.test_approvals import approved_engagement

    settings.TIME_ZONE = "America/Adak"
    engagement = approved_engagement(people)
    Grant.objects.create(
        engagement=engagement,
        kind=Grant.Kind.FOLDER_SHARE,
        target="drive-1/item-1",
        principal="kim@freelancers.example",
        reason="contract",
        expires_at=dt.datetime(2027, 3, 2, 3, 0, tzinfo=dt.UTC),
        applied_at=START,
    )
    [row] = granted_rows()
    assert row.until == "2027-03-01"
