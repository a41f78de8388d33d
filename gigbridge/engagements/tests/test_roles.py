"""Capabilities by role, the same in the web, the API and the actions."""

import json

import pytest

from conftest import request_payload
from gigbridge.domainerrors import NotAllowed
from gigbridge.engagements import actions
from gigbridge.engagements.models import WorkRequest
from gigbridge.engagements.tests.test_approvals import new_request
from gigbridge.engagements.tests.test_web import form_data
from gigbridge.jobs.models import OutboxJob

pytestmark = pytest.mark.django_db


def test_only_requesters_create_requests_in_the_api_and_the_web(api, people, client):
    refused = api("audrey").post(
        "/api/v1/requests", json.dumps(request_payload()), content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "only a requester can create requests"
    client.force_login(people["audrey"])
    assert client.get("/requests/new/").status_code == 403
    assert client.post("/requests/new/", form_data(submit="1")).status_code == 403
    assert "New request" not in client.get("/requests/").content.decode()
    with pytest.raises(NotAllowed):
        new_request(people["audrey"])
    assert not WorkRequest.objects.exists()
    client.force_login(people["rita"])
    assert "New request" in client.get("/requests/").content.decode()


def test_a_draft_whose_author_lost_the_requester_role_cannot_be_sent_into_approval(people):
    from gigbridge.people.models import RoleAssignment

    draft = new_request(people["rita"])
    RoleAssignment.objects.filter(user=people["rita"], role="requester").delete()
    rita = type(people["rita"]).objects.get(pk=people["rita"].pk)  # roles are cached per object
    with pytest.raises(NotAllowed, match="only a requester"):
        actions.submit_request(rita, draft)
    draft.refresh_from_db()
    assert draft.state == WorkRequest.State.DRAFT and not draft.steps.exists()


def test_refreshing_the_teams_list_is_for_program_admins_in_the_api_as_in_the_web(api, people):
    queued = OutboxJob.objects.count()
    for username in ["rita", "paula", "audrey"]:
        response = api(username).post("/api/v1/workspaces/teams/refresh")
        assert response.status_code == 403, username
        assert "program admin" in response.json()["detail"]
    assert OutboxJob.objects.count() == queued  # nothing queued for them
    assert api("ada").post("/api/v1/workspaces/teams/refresh").status_code == 202
    assert OutboxJob.objects.count() == queued + 1
