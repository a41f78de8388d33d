"""Desired access is a pure function of the engagement's state, its workspace and the policy."""

import datetime as dt
from types import SimpleNamespace

from conftest import EXAMPLE_POLICY
from gigbridge.access.desired import desired, window_open
from gigbridge.program.policy import load_policy_file

POLICY = load_policy_file(EXAMPLE_POLICY)
TODAY = dt.date(2027, 1, 10)


def engagement(
    state="contracted",
    end=dt.date(2027, 3, 1),
    workspace=True,
    private=False,
    start=dt.date(2027, 1, 4),
):
    ws = SimpleNamespace(
        name="Spring",
        team_id="team-1",
        plan_id="plan-1",
        bucket_id="b-1",
        drive_id="drive-1",
        folder_id="folder-1",
        folder_path="/Spring",
    )
    request = SimpleNamespace(
        title="Brand refresh",
        reference="WR-000001",
        deliverables=["Logo", "Guide"],
        workspace=ws if workspace else None,
        requester=SimpleNamespace(email="rita@contoso.example"),
    )
    return SimpleNamespace(
        state=state,
        contract_start=start,
        contract_end=end,
        reference="EN-000001",
        request=request,
        freelancer=SimpleNamespace(email="freya@freelancers.example"),
    )


def kinds(wants):
    return [w.kind for w in wants]


def test_a_contracted_engagement_wants_every_grant_in_order():
    wants = desired(engagement(), POLICY, TODAY)
    assert kinds(wants) == [
        "guest",
        "team_member",
        "planner_task",
        "planner_task",
        "folder_share",
        "welcome_mail",
        "manager_note",
    ]
    share = next(w for w in wants if w.kind == "folder_share")
    assert share.params["role"] == "write"
    assert share.params["expires"] == dt.datetime(2027, 3, 4, 23, 59, 59, tzinfo=dt.UTC)


def test_private_channel_when_the_policy_asks():
    policy = POLICY.model_copy(
        update={"access": POLICY.access.model_copy(update={"private_channel": True})}
    )
    assert "private_channel" in kinds(desired(engagement(), policy, TODAY))


def test_no_workspace_means_only_the_account_and_notes():
    assert kinds(desired(engagement(workspace=False), POLICY, TODAY)) == [
        "guest",
        "welcome_mail",
        "manager_note",
    ]


def test_access_lasts_through_the_grace_days_then_ends():
    ended = engagement(state="offboarding", end=dt.date(2027, 1, 8))
    assert window_open(ended, POLICY, TODAY)  # grace of 3 days: until the 11th
    assert not window_open(ended, POLICY, dt.date(2027, 1, 12))
    assert desired(ended, POLICY, dt.date(2027, 1, 12)) == []
    for state in ["sourcing", "offered", "closed"]:
        assert desired(engagement(state=state), POLICY, TODAY) == []
    never_contracted = engagement(state="cancelled", start=None, end=None)
    assert desired(never_contracted, POLICY, TODAY) == []


def test_an_early_end_shortens_the_share_to_the_real_end_plus_grace():
    running = desired(engagement(state="active"), POLICY, TODAY)
    assert share_of(running)["expires"] == dt.datetime(2027, 3, 4, 23, 59, 59, tzinfo=dt.UTC)
    # Ended on the 10th instead of 1 March (transition_engagement records the real end).
    for state in ["offboarding", "cancelled"]:
        ended = engagement(state=state, end=TODAY)
        wants = desired(ended, POLICY, TODAY)
        assert share_of(wants)["expires"] == dt.datetime(2027, 1, 13, 23, 59, 59, tzinfo=dt.UTC)
        assert desired(ended, POLICY, dt.date(2027, 1, 13)) != []  # last day of grace
        assert desired(ended, POLICY, dt.date(2027, 1, 14)) == []  # grace over: every grant goes


def share_of(wants):
    return next(w for w in wants if w.kind == "folder_share").params
