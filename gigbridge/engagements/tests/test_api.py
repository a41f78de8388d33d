"""The same story through the REST API alone, and its error contract."""

import json

import pytest

from conftest import request_payload

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_the_whole_flow_through_the_api(api):
    rita, max_, paula, lena = api("rita"), api("max"), api("paula"), api("lena")
    created = post(
        rita, "/api/v1/requests", request_payload(budget="8000", data_classification="confidential")
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    submitted = post(rita, f"/api/v1/requests/{request_id}/submit").json()
    assert submitted["state"] == "in_approval"
    assert [(s["stage"], s["role"]) for s in submitted["steps"]] == [
        (1, "manager"),
        (2, "procurement"),
        (3, "legal"),
    ]
    for client in (max_, paula, lena):
        inbox = client.get("/api/v1/approvals").json()
        assert inbox["count"] == 1
        step_id = inbox["items"][0]["step"]["id"]
        decided = post(
            client,
            f"/api/v1/approvals/{step_id}/decision",
            {"decision": "approve", "comment": "ok"},
        )
        assert decided.status_code == 200, decided.content
        assert decided.json()["state"] == "approved"
    detail = rita.get(f"/api/v1/requests/{request_id}").json()
    assert detail["state"] == "approved"
    engagement = rita.get(f"/api/v1/engagements/{detail['engagement_id']}").json()
    assert engagement["state"] == "sourcing"
    timeline = [
        e["action"] for e in rita.get(f"/api/v1/engagements/{engagement['id']}/timeline").json()
    ]
    assert timeline.count("approval.approve") == 3
    assert timeline[-2:] == ["request.approved", "engagement.created"]


def test_wrong_types_answer_problem_json_naming_each_field(api):
    response = post(
        api("rita"),
        "/api/v1/requests",
        request_payload(budget="lots", start_date="tomorrow", pricing="barter"),
    )
    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"budget", "start_date", "pricing"}
    assert body["status"] == 422


def test_policy_violations_name_the_rule(api):
    response = post(
        api("rita"),
        "/api/v1/requests",
        request_payload(
            sourcing="direct",
            freelancer_email="a@b.example",
            freelancer_country="IR",
            cost_center="CC-NOPE",
        ),
    )
    assert response.status_code == 422
    errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert ("cost_center", "cost_centers") in errors
    rita = api("rita")
    response = post(
        rita,
        "/api/v1/requests",
        request_payload(sourcing="direct", freelancer_email="a@b.example", freelancer_country="IR"),
    )
    errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert errors == {("freelancer_country", "compliance.blocked_countries")}


def test_approving_what_is_not_yours_is_refused_in_the_security_log_not_the_trail(
    api, people, caplog
):
    from gigbridge.audit.models import AuditEvent

    rita, paula = api("rita"), api("paula")
    request_id = post(rita, "/api/v1/requests", request_payload(budget="6000")).json()["id"]
    step_id = post(rita, f"/api/v1/requests/{request_id}/submit").json()["steps"][0]["id"]
    events = AuditEvent.objects.count()
    # Paula (procurement) was not asked yet: the step is as unknown to her as a missing one.
    response = post(paula, f"/api/v1/approvals/{step_id}/decision", {"decision": "approve"})
    assert response.status_code == 404
    assert response["content-type"] == "application/problem+json"
    missing = post(paula, "/api/v1/approvals/999999/decision", {"decision": "approve"})
    assert missing.status_code == 404 and missing.json() == response.json()
    # Once asked, she sees the request: deciding the manager's step is a 403 with the reason.
    post(api("max"), f"/api/v1/approvals/{step_id}/decision", {"decision": "approve"})
    events = AuditEvent.objects.count()
    response = post(paula, f"/api/v1/approvals/{step_id}/decision", {"decision": "approve"})
    assert response.status_code == 403
    assert "not an approver" in response.json()["detail"]
    assert AuditEvent.objects.count() == events  # refusals are not business events
    refusals = [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]
    assert any(f"approvalstep:{step_id} status=403" in line for line in refusals)
    assert any("actor=paula" in line and "status=404" in line for line in refusals)


def test_no_token_or_a_bad_token_is_401(client, people):
    assert client.get("/api/v1/requests").status_code == 401
    bad = client.get("/api/v1/requests", headers={"authorization": "Bearer gbt_forged"})
    assert bad.status_code == 401
    assert bad.json()["title"] == "Authentication required"


def test_revoked_tokens_stop_working(people):
    from django.test import Client

    from gigbridge.people.actions import create_api_token, revoke_api_token

    token, secret = create_api_token(people["rita"], "script")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/me").json()["username"] == "rita"
    revoke_api_token(token, by=people["rita"])
    assert client.get("/api/v1/me").status_code == 401
    assert secret not in str(token.__dict__)  # only the hash is stored


def test_listing_is_paginated_filtered_and_scoped_to_what_i_may_see(api):
    rita, carol = api("rita"), api("carol")
    for i in range(3):
        post(rita, "/api/v1/requests", request_payload(title=f"Request number {i}"))
    post(carol, "/api/v1/requests", request_payload(title="Carol's own"))
    page = rita.get("/api/v1/requests?limit=2&offset=0").json()
    assert page["count"] == 3 and len(page["items"]) == 2
    assert rita.get("/api/v1/requests?q=number 1").json()["count"] == 1
    assert rita.get("/api/v1/requests?state=approved").json()["count"] == 0
    assert api("ada").get("/api/v1/requests").json()["count"] == 4  # program admin sees all
    carol_id = carol.get("/api/v1/requests").json()["items"][0]["id"]
    assert rita.get(f"/api/v1/requests/{carol_id}").status_code == 404


def test_engagement_transitions_are_for_program_admins(api):
    rita, max_ = api("rita"), api("max")
    request_id = post(rita, "/api/v1/requests", request_payload()).json()["id"]
    step_id = post(rita, f"/api/v1/requests/{request_id}/submit").json()["steps"][0]["id"]
    post(max_, f"/api/v1/approvals/{step_id}/decision", {"decision": "approve"})
    engagement_id = rita.get(f"/api/v1/requests/{request_id}").json()["engagement_id"]
    url = f"/api/v1/engagements/{engagement_id}/transitions"
    assert post(rita, url, {"state": "cancelled"}).status_code == 403
    illegal = post(api("ada"), url, {"state": "closed"})
    assert (
        illegal.status_code == 409
        and "can move to" in illegal.json()["title"] + illegal.json()["detail"]
    )
    ok = post(api("ada"), url, {"state": "cancelled", "reason": "budget cut"})
    assert ok.json()["state"] == "cancelled"


def test_openapi_and_policy_and_audit(api):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/requests" in schema["paths"]
    policy = api("rita").get("/api/v1/policy").json()
    assert policy["version"] == 1 and policy["policy"]["program"]["currency"] == "EUR"
    assert api("rita").get("/api/v1/audit/events").status_code == 403
    audit = api("audrey").get("/api/v1/audit/verify").json()
    assert audit["ok"] is True
    centers = {c["code"]: c for c in api("rita").get("/api/v1/cost-centers").json()}
    assert centers["CC-MKT"]["available"] == "120000.00"


def test_lists_cost_a_fixed_number_of_queries_whatever_the_page_size(
    api, people, django_assert_max_num_queries
):
    rita, max_ = api("rita"), api("max")
    for i in range(12):
        request_id = post(rita, "/api/v1/requests", request_payload(title=f"Req {i}")).json()["id"]
        post(rita, f"/api/v1/requests/{request_id}/submit")
    with django_assert_max_num_queries(12):
        assert len(rita.get("/api/v1/requests?limit=50").json()["items"]) == 12
    with django_assert_max_num_queries(12):
        assert len(max_.get("/api/v1/approvals?limit=50").json()["items"]) == 12
