"""The policy decides per data classification where work may happen, and a workspace's folder
is shared with one engagement's freelancer at a time unless the policy allows more."""

import datetime as dt
from types import SimpleNamespace

import pytest

from conftest import EXAMPLE_POLICY, request_payload
from gigbridge.access.models import Grant
from gigbridge.access.rules import folder_problems
from gigbridge.domainerrors import RuleViolation
from gigbridge.engagements import actions
from gigbridge.program.actions import activate_policy
from gigbridge.program.models import CostCenter, Workspace
from gigbridge.program.policy import PolicyError, load_policy_file, parse_policy
from gigbridge.program.workspace_rules import workspace_kind, workspace_problems

POLICY = load_policy_file(EXAMPLE_POLICY)
CONFIDENTIAL_RULE = """access:
  workspace_kinds:
    confidential: [new_team, private_channel]
"""


def with_access(**changes):
    return POLICY.model_copy(update={"access": POLICY.access.model_copy(update=changes)})


def workspace(new_team=False):
    return SimpleNamespace(name="Spring", new_team=new_team)


def test_the_kind_of_a_workspace():
    assert workspace_kind(None, POLICY) is None
    assert workspace_kind(workspace(new_team=True), POLICY) == "new_team"
    assert workspace_kind(workspace(), POLICY) == "existing_team"
    assert workspace_kind(workspace(), with_access(private_channel=True)) == "private_channel"


def test_confidential_work_only_in_a_team_or_private_channel_made_for_it():
    policy = with_access(workspace_kinds={"confidential": ("new_team", "private_channel")})
    [problem] = workspace_problems(workspace(), "confidential", policy)
    assert problem.field == "workspace"
    assert problem.rule == "access.workspace_kinds.confidential"
    assert problem.message == (
        "confidential work may only be done in a Team made for it or a private channel of its "
        "own; Spring is a Team the tenant already had"
    )
    assert workspace_problems(workspace(new_team=True), "confidential", policy) == []
    channel_policy = policy.model_copy(
        update={"access": policy.access.model_copy(update={"private_channel": True})}
    )
    assert workspace_problems(workspace(), "confidential", channel_policy) == []
    assert workspace_problems(workspace(), "internal", policy) == []  # not named: any kind
    assert workspace_problems(None, "confidential", policy) == []  # no workspace, no access


def test_the_policy_file_names_kinds_it_knows():
    text = EXAMPLE_POLICY.read_text()
    parsed = parse_policy(text.replace("access:\n", CONFIDENTIAL_RULE, 1), "p.yaml")
    assert parsed.access.workspace_kinds == {"confidential": ("new_team", "private_channel")}
    with pytest.raises(PolicyError, match="workspace_kinds"):
        parse_policy(
            text.replace("access:\n", CONFIDENTIAL_RULE.replace("new_team", "anywhere"), 1),
            "p.yaml",
        )


@pytest.mark.django_db
def test_a_folder_shared_for_one_engagement_is_refused_to_another_freelancer(people):
    ws = Workspace.objects.create(
        name="Shared", team_id="t", drive_id="d", folder_id="f", folder_path="Freelance/Shared"
    )
    first = approved_engagement(people, ws, "first@freelancers.example")
    second = approved_engagement(people, ws, "second@freelancers.example")
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    Grant.objects.create(  # unit test of one rule: the share the reconciler recorded
        engagement=first,
        kind=Grant.Kind.FOLDER_SHARE,
        target="d:f",
        principal="first@freelancers.example",
        reason="project folder",
        applied_at=now,
    )
    [problem] = folder_problems(ws, "second@freelancers.example", POLICY, second.pk)
    assert problem.rule == "access.share_folder_across_engagements"
    assert first.reference in problem.message and "Freelance/Shared" in problem.message
    # The same freelancer, the engagement itself, or a policy that allows it: no refusal.
    assert folder_problems(ws, "first@freelancers.example", POLICY, second.pk) == []
    assert folder_problems(ws, "second@freelancers.example", POLICY, first.pk) == []
    allowing = with_access(share_folder_across_engagements=True)
    assert folder_problems(ws, "second@freelancers.example", allowing, second.pk) == []


def approved_engagement(people, ws, email):
    data = request_payload(sourcing="direct", freelancer_email=email, freelancer_country="PT")
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    data["workspace"] = ws
    request = actions.create_request(people["rita"], data)
    actions.submit_request(people["rita"], request)
    actions.decide(people["max"], request.steps.get(), "approve")
    request.refresh_from_db()
    return request.engagement


@pytest.mark.django_db
def test_requests_are_checked_when_saved_submitted_and_approved(people):
    shared_team = Workspace.objects.create(name="Marketing", team_id="t-1")
    made_for_it = Workspace.objects.create(name="Secret project", team_id="t-2", new_team=True)
    text = EXAMPLE_POLICY.read_text()
    activate_policy(text.replace("access:\n", CONFIDENTIAL_RULE, 1), "p.yaml", actor="tests")

    data = request_payload(data_classification="confidential")
    data["cost_center"] = CostCenter.objects.get(code=data["cost_center"])
    data["start_date"] = dt.date.fromisoformat(data["start_date"])
    data["end_date"] = dt.date.fromisoformat(data["end_date"])
    with pytest.raises(RuleViolation) as refused:
        actions.create_request(people["rita"], {**data, "workspace": shared_team})
    assert [(p.field, p.rule) for p in refused.value.problems] == [
        ("workspace", "access.workspace_kinds.confidential")
    ]
    request = actions.create_request(people["rita"], {**data, "workspace": made_for_it})
    actions.submit_request(people["rita"], request)

    # The policy changes while the request waits: the approval is refused, naming the rule.
    stricter = CONFIDENTIAL_RULE.replace("[new_team, private_channel]", "[private_channel]")
    activate_policy(text.replace("access:\n", stricter, 1), "p.yaml", actor="tests")
    step = request.steps.get(role="manager")
    with pytest.raises(RuleViolation) as refused:
        actions.decide(people["max"], step, "approve")
    assert refused.value.problems[0].rule == "access.workspace_kinds.confidential"
    step.refresh_from_db()
    assert step.state == "pending"
