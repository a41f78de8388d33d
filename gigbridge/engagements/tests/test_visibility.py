"""Who sees a request: its requester, whoever decided or was asked to decide one of its steps,
and the program's overseers. Approvers never asked do not see it, whatever became of it."""

import json

import pytest
from django.test import Client

from conftest import request_payload
from gigbridge.engagements.models import ApprovalStep, WorkRequest

pytestmark = pytest.mark.django_db

# The repro: 30,000 EUR, confidential, contingent, on CC-ENG. The chain is the manager
# (max) first; procurement (paula), legal (lena), HR (hank), finance (fiona) and the cost center
# owner (dan) come later, so at first only max is asked.
BIG = dict(
    budget="30000",
    data_classification="confidential",
    worker_category="contingent",
    cost_center="CC-ENG",
    task_category="software-development",
)
NEVER_ASKED = ["paula", "lena", "hank", "fiona", "dan", "carol"]
OVERSEERS = ["ada", "audrey"]


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def clients(api, people):
    """username -> (API client, signed-in web client)."""
    out = {}
    for username in ["rita", "max", *NEVER_ASKED, *OVERSEERS]:
        web = Client()
        web.force_login(people[username])
        out[username] = (api(username), web)
    return out


def submitted(clients) -> int:
    rita = clients["rita"][0]
    request_id = post(rita, "/api/v1/requests", request_payload(**BIG)).json()["id"]
    body = post(rita, f"/api/v1/requests/{request_id}/submit").json()
    assert body["state"] == "in_approval"
    assert {s["role"] for s in body["steps"]} >= {"manager", "procurement", "legal", "hr"}
    return request_id


def seen_by(clients, request_id: int) -> dict[str, tuple[int, int, int]]:
    """username -> (API detail, API list count, web page) status for the request."""
    out = {}
    for username, (api, web) in clients.items():
        listed = api.get("/api/v1/requests").json()["count"]
        out[username] = (
            api.get(f"/api/v1/requests/{request_id}").status_code,
            listed,
            web.get(f"/requests/{request_id}/").status_code,
        )
    return out


def assert_only_the_involved_see_it(clients, request_id: int) -> None:
    seen = seen_by(clients, request_id)
    for username in NEVER_ASKED:
        assert seen[username] == (404, 0, 404), username
    for username in ["rita", "max", *OVERSEERS]:
        assert seen[username] == (200, 1, 200), username


def test_withdrawn_request_stays_hidden_from_approvers_never_asked(clients):
    request_id = submitted(clients)
    assert_only_the_involved_see_it(clients, request_id)
    post(clients["rita"][0], f"/api/v1/requests/{request_id}/withdraw")
    assert WorkRequest.objects.get(pk=request_id).state == WorkRequest.State.WITHDRAWN
    # Before the fix the cancelled, never-activated steps let every role holder read it.
    assert_only_the_involved_see_it(clients, request_id)


@pytest.mark.parametrize(
    "decision", [("reject", "rejected"), ("request_changes", "draft")], ids=lambda d: d[0]
)
def test_rejected_or_returned_request_stays_hidden_from_approvers_never_asked(clients, decision):
    request_id = submitted(clients)
    step_id = ApprovalStep.objects.get(request_id=request_id, role="manager").pk
    answer = post(
        clients["max"][0],
        f"/api/v1/approvals/{step_id}/decision",
        {"decision": decision[0], "comment": "not like this"},
    )
    assert answer.status_code == 200, answer.content
    assert WorkRequest.objects.get(pk=request_id).state == decision[1]
    assert_only_the_involved_see_it(clients, request_id)
    for username in NEVER_ASKED:  # nor its timeline, engagement-less as it is
        api = clients[username][0]
        assert api.get(f"/api/v1/requests/{request_id}/timeline").status_code == 404


def test_an_approver_sees_the_request_once_asked_and_keeps_seeing_it(clients):
    request_id = submitted(clients)
    manager = ApprovalStep.objects.get(request_id=request_id, role="manager").pk
    post(clients["max"][0], f"/api/v1/approvals/{manager}/decision", {"decision": "approve"})
    asked = set(
        ApprovalStep.objects.filter(request_id=request_id, state="pending").values_list(
            "role", flat=True
        )
    )
    assert asked == {"procurement"}  # the next stage, one at a time
    seen = seen_by(clients, request_id)
    assert seen["paula"] == (200, 1, 200)
    assert seen["lena"] == (404, 0, 404) and seen["hank"] == (404, 0, 404)
    post(clients["rita"][0], f"/api/v1/requests/{request_id}/withdraw")
    seen = seen_by(clients, request_id)
    assert seen["paula"] == (200, 1, 200)  # she was asked: the withdrawal does not hide it
    assert seen["lena"] == (404, 0, 404) and seen["fiona"] == (404, 0, 404)


def test_a_delegate_sees_what_their_delegator_was_asked(clients, people):
    import datetime as dt

    from gigbridge import clock
    from gigbridge.people.actions import set_delegation

    request_id = submitted(clients)
    assert clients["carol"][0].get(f"/api/v1/requests/{request_id}").status_code == 404
    set_delegation(people["max"], people["carol"], clock.today(), clock.today() + dt.timedelta(3))
    assert clients["carol"][0].get(f"/api/v1/requests/{request_id}").status_code == 200
