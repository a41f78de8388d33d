"""Planner in the Graph emulator: plans, buckets, tasks with ETags, through the product client."""

from __future__ import annotations

import pytest

from gigbridge.integrations.msgraph.errors import NotFound, PreconditionFailed
from gigbridge.sandbox.graph.testing import assert_graph_error

from .files_support import (
    conforms,
    guest,
    unified_group,
    user_id,
)

ASSIGNMENT = "#microsoft.graph.plannerAssignment"


@pytest.fixture
def plan(graph):
    group = unified_group(graph)
    body = {
        "container": {"url": f"https://graph.microsoft.com/v1.0/groups/{group}"},
        "title": "Freelance work",
    }
    plan = graph.ok("POST", "/planner/plans", json=body, status=201)
    conforms("plannerPlan", plan)
    bucket = graph.ok(
        "POST",
        "/planner/buckets",
        status=201,
        json={"name": "To do", "planId": plan["id"], "orderHint": " !"},
    )
    conforms("plannerBucket", bucket)
    return {"group": group, "plan": plan["id"], "bucket": bucket["id"]}


def test_plans_and_buckets_of_a_group(graph, plan):
    got = graph.call("GET", f"/planner/plans/{plan['plan']}")
    assert got.status_code == 200
    body = got.json()
    conforms("plannerPlan", body)
    assert body["owner"] == body["container"]["containerId"] == plan["group"]
    assert body["container"]["type"] == "group"
    assert body["@odata.etag"].startswith('W/"') and got.headers["etag"] == body["@odata.etag"]

    listed = graph.ok("GET", f"/groups/{plan['group']}/planner/plans")
    conforms("plannerPlan", listed, collection=True)
    assert [p["id"] for p in listed["value"]] == [plan["plan"]]
    buckets = graph.ok("GET", f"/planner/plans/{plan['plan']}/buckets")
    conforms("plannerBucket", buckets, collection=True)
    assert buckets["value"][0]["name"] == "To do"
    assert buckets["value"][0]["orderHint"] != " !"  # the input format is not stored


def test_a_plan_needs_an_existing_unified_group(graph):
    missing = graph.call(
        "POST",
        "/planner/plans",
        json={"owner": "00000000-0000-0000-0000-000000000001", "title": "x"},
    )
    assert_graph_error(missing, 404, "NotFound")
    no_title = graph.call("POST", "/planner/plans", json={"owner": unified_group(graph)})
    assert_graph_error(no_title, 400, "BadRequest")


def test_task_lifecycle_with_etags_through_the_product_client(client, graph, plan):
    owner = user_id(graph)
    freelancer = guest(graph)["id"]

    task, etag = client.create_task(
        plan["plan"], plan["bucket"], "Draft the spec", [owner, freelancer]
    )
    assert etag == task["@odata.etag"]
    assert set(task["assignments"]) == {owner, freelancer}
    assignment = task["assignments"][freelancer]
    assert assignment["@odata.type"] == ASSIGNMENT
    assert assignment["orderHint"] != " !" and assignment["assignedDateTime"]
    assert assignment["assignedBy"]["application"]["id"]

    read = client.get_task(task["id"])
    assert read.etag == etag and read.body["title"] == "Draft the spec"

    updated, new_etag = client.update_task(task["id"], etag, {"percentComplete": 50})
    assert updated["percentComplete"] == 50 and new_etag != etag
    with pytest.raises(PreconditionFailed):
        client.update_task(task["id"], etag, {"title": "stale write"})
    assert client.get_task(task["id"]).body["title"] == "Draft the spec"

    # Removing an assignment: set it to null.
    removed, latest = client.update_task(task["id"], new_etag, {"assignments": {freelancer: None}})
    assert set(removed["assignments"]) == {owner}

    done, latest = client.update_task(task["id"], latest, {"percentComplete": 100})
    assert done["completedDateTime"] and done["completedBy"]["application"]["id"]

    with pytest.raises(PreconditionFailed):
        client.delete_task(task["id"], etag)
    client.delete_task(task["id"], latest)
    with pytest.raises(NotFound):
        client.get_task(task["id"])


def test_if_match_is_required_and_prefer_decides_the_answer(graph, plan):
    task = graph.ok(
        "POST",
        "/planner/tasks",
        status=201,
        json={"planId": plan["plan"], "bucketId": plan["bucket"], "title": "Review"},
    )
    conforms("plannerTask", task)
    path = f"/planner/tasks/{task['id']}"

    missing = graph.call("PATCH", path, json={"title": "x"})
    error = assert_graph_error(missing, 412, "PreconditionFailed")
    assert "If-Match" in error["message"]
    assert_graph_error(graph.call("DELETE", path), 412, "PreconditionFailed")

    plain = graph.call(
        "PATCH", path, json={"priority": 1}, headers={"If-Match": task["@odata.etag"]}
    )
    assert plain.status_code == 204 and plain.content == b""
    etag = plain.headers["etag"]
    assert etag != task["@odata.etag"]

    full = graph.call(
        "PATCH",
        path,
        json={"priority": 3},
        headers={"If-Match": etag, "Prefer": "return=representation"},
    )
    assert full.status_code == 200
    conforms("plannerTask", full.json())
    assert full.json()["priority"] == 3 and full.headers["etag"] == full.json()["@odata.etag"]

    listed = graph.ok("GET", f"/planner/plans/{plan['plan']}/tasks")
    conforms("plannerTask", listed, collection=True)
    assert [t["id"] for t in listed["value"]] == [task["id"]]


def test_planner_refuses_what_planner_refuses(graph, plan):
    base = {"planId": plan["plan"], "title": "t"}
    no_type = graph.call(
        "POST",
        "/planner/tasks",
        json={**base, "assignments": {user_id(graph): {"orderHint": " !"}}},
    )
    assert_graph_error(no_type, 400, "BadRequest")
    bad_hint = graph.call("POST", "/planner/tasks", json={**base, "orderHint": "8585269"})
    assert_graph_error(bad_hint, 400, "BadRequest")
    dates = graph.call(
        "POST",
        "/planner/tasks",
        json={
            **base,
            "startDateTime": "2030-02-01T00:00:00Z",
            "dueDateTime": "2030-01-01T00:00:00Z",
        },
    )
    assert_graph_error(dates, 400, "BadRequest")
    unknown = graph.call("POST", "/planner/tasks", json={**base, "colour": "red"})
    assert_graph_error(unknown, 400, "BadRequest")


def test_task_details(graph, plan):
    task = graph.ok(
        "POST", "/planner/tasks", status=201, json={"planId": plan["plan"], "title": "Details"}
    )
    details = graph.call("GET", f"/planner/tasks/{task['id']}/details")
    assert details.status_code == 200
    conforms("plannerTaskDetails", details.json())
    assert details.json()["description"] is None

    changed = graph.call(
        "PATCH",
        f"/planner/tasks/{task['id']}/details",
        json={
            "description": "Acceptance criteria",
            "checklist": {
                "a1": {"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "Spec"}
            },
        },
        headers={"If-Match": details.json()["@odata.etag"], "Prefer": "return=representation"},
    )
    assert changed.status_code == 200, changed.text
    conforms("plannerTaskDetails", changed.json())
    assert changed.json()["checklist"]["a1"]["title"] == "Spec"
    summary = graph.ok("GET", f"/planner/tasks/{task['id']}")
    assert summary["hasDescription"] is True and summary["checklistItemCount"] == 1
    assert summary["@odata.etag"] != task["@odata.etag"]


def test_batch_reaches_planner_and_drives(graph, plan):
    drive = graph.ok("GET", f"/groups/{plan['group']}/drive")["id"]
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": f"/planner/plans/{plan['plan']}"},
            {"id": "2", "method": "GET", "url": f"/drives/{drive}/root:/Nope"},
            {
                "id": "3",
                "method": "POST",
                "url": "/planner/tasks",
                "headers": {"Content-Type": "application/json"},
                "body": {"planId": plan["plan"], "title": "Batched"},
            },
        ]
    }
    answers = {a["id"]: a for a in graph.ok("POST", "/$batch", json=body)["responses"]}
    assert answers["1"]["status"] == 200
    conforms("plannerPlan", answers["1"]["body"])
    assert answers["2"]["status"] == 404
    assert answers["2"]["body"]["error"]["code"] == "itemNotFound"
    assert answers["3"]["status"] == 201
    conforms("plannerTask", answers["3"]["body"])
