"""Graph emulator: sendMail (stored, never delivered) and JSON $batch."""

from __future__ import annotations

import uuid

import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.sandbox.graph.testing import (
    Graph,
    assert_conforms,
    assert_graph_error,
    sent_mail,
)

from .helpers import sign_in


def mail(to: str, subject: str) -> dict:
    return {
        "message": {
            "subject": subject,
            "body": {"contentType": "html", "content": "<p>Please review the offer.</p>"},
            "toRecipients": [{"emailAddress": {"address": to, "name": "Freelancer"}}],
        },
        "saveToSentItems": False,
    }


def invite(graph: Graph) -> dict:
    body = {
        "invitedUserEmailAddress": f"f-{uuid.uuid4().hex[:8]}@fabrikam.example",
        "inviteRedirectUrl": "https://gigbridge.example/",
    }
    return graph.ok("POST", "/invitations", json=body, status=201)


# -- sendMail ----------------------------------------------------------------------------------


def test_send_mail_is_accepted_and_stored(graph, http, info):
    to = f"someone-{uuid.uuid4().hex[:6]}@fabrikam.example"
    body = mail(to, "Offer for engagement 7")
    assert conformance.validate_action("user", "sendMail", body) == []

    response = graph.call("POST", "/users/max@contoso.example/sendMail", json=body)

    assert response.status_code == 202 and response.content == b""
    (stored,) = sent_mail(http, info, to=to)
    assert stored["from"] == "max@contoso.example" and stored["source"] == "sendMail"
    assert stored["saveToSentItems"] is False
    assert stored["message"]["subject"] == "Offer for engagement 7"
    assert_conforms("message", stored["message"])
    assert "Offer for engagement 7" in http.get("/").text  # the viewer lists it


def test_send_mail_refusals(graph):
    guest = invite(graph)["invitedUser"]["id"]
    no_recipients = {"message": {"subject": "x", "body": {"contentType": "text", "content": "x"}}}

    from_guest = graph.call("POST", f"/users/{guest}/sendMail", json=mail("a@b.example", "x"))
    empty = graph.call("POST", "/users/max@contoso.example/sendMail", json=no_recipients)
    wrong = graph.call("POST", "/users/max@contoso.example/sendMail", json={"msg": {}})

    assert_graph_error(from_guest, 404, "MailboxNotEnabledForRESTAPI")
    assert_graph_error(empty, 400, "ErrorInvalidRecipients")
    assert_graph_error(wrong, 400, "ErrorInvalidRequest")


def test_enum_members_are_matched_without_case_as_graph_does(graph, http, info):
    to = f"case-{uuid.uuid4().hex[:6]}@fabrikam.example"
    body = mail(to, "Case")
    body["message"]["body"]["contentType"] = "HTML"  # what Graph's own examples send

    response = graph.call("POST", "/users/max@contoso.example/sendMail", json=body)

    assert response.status_code == 202, response.text
    assert len(sent_mail(http, info, to=to)) == 1


def test_mail_tool_needs_the_tools_credentials(http, info):
    url = info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/mail"

    assert http.get(url).status_code == 401
    assert http.get(url, auth=(info["client_id"], "wrong")).status_code == 401


def test_delegated_send_as_the_signed_in_user_only(http, info):
    tokens = sign_in(http, info, "max@contoso.example")
    # The sign-in app has User.Read only: sendMail needs Mail.Send.
    max_ = Graph(http, info, tokens["access_token"])

    response = max_.call("POST", "/me/sendMail", json=mail("x@fabrikam.example", "x"))

    assert_graph_error(response, 403, "Authorization_RequestDenied")


# -- $batch ------------------------------------------------------------------------------------


def get(request_id: str, url: str, **extra) -> dict:
    return {"id": request_id, "method": "GET", "url": url, **extra}


def test_batch_of_twenty_runs_every_request(graph):
    requests = [get(str(i), "/users?$top=1&$select=id,mail") for i in range(1, 21)]

    body = graph.ok("POST", "/$batch", json={"requests": requests})

    assert [r["id"] for r in body["responses"]] == [str(i) for i in range(1, 21)]
    for response in body["responses"]:
        assert response["status"] == 200
        assert response["headers"]["Content-Type"].startswith("application/json")
        assert_conforms("user", response["body"], collection=True)


def test_batch_of_twenty_one_is_refused(graph):
    requests = [get(str(i), "/users?$top=1") for i in range(21)]

    response = graph.call("POST", "/$batch", json={"requests": requests})

    error = assert_graph_error(response, 400, "BadRequest")
    assert "20" in error["message"]


def test_depends_on_a_failed_request_is_424(graph):
    requests = [
        get("1", "/users/ada@contoso.example"),
        get("2", f"/users/{uuid.uuid4()}", dependsOn=["1"]),
        get("3", "/users/hank@contoso.example", dependsOn=["2"]),
        get("4", "/users/lena@contoso.example", dependsOn=["1"]),
    ]

    body = graph.ok("POST", "/$batch", json={"requests": requests})

    by_id = {r["id"]: r for r in body["responses"]}
    assert [by_id[i]["status"] for i in "1234"] == [200, 404, 424, 200]
    assert_graph_error(by_id["2"], 404, "Request_ResourceNotFound")
    assert_graph_error(by_id["3"], 424, "FailedDependency")
    assert_conforms("user", by_id["4"]["body"])


def test_batch_writes_go_through_the_same_handlers(graph):
    carol = graph.ok("GET", "/users/carol.owner@contoso.example")["id"]
    email = f"batch-{uuid.uuid4().hex[:6]}@fabrikam.example"
    team = {
        "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
        "displayName": "Batch team",
        "members": [{"@odata.type": "#microsoft.graph.aadUserConversationMember",
                     "roles": ["owner"], "user@odata.bind": f"users('{carol}')"}],
    }  # fmt: skip
    json_headers = {"Content-Type": "application/json"}
    requests = [
        {"id": "invite", "method": "POST", "url": "/invitations", "headers": json_headers,
         "body": {"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://x.example/"}},
        {"id": "team", "method": "POST", "url": "teams", "headers": json_headers, "body": team},
        get("find", f"/users?$filter=mail eq '{email}'&$select=id,userType",
            dependsOn=["invite"]),
    ]  # fmt: skip

    body = graph.ok("POST", "/$batch", json={"requests": requests})

    by_id = {r["id"]: r for r in body["responses"]}
    assert by_id["invite"]["status"] == 201
    assert_conforms("invitation", by_id["invite"]["body"])
    assert by_id["team"]["status"] == 202 and "body" not in by_id["team"]
    operation = by_id["team"]["headers"]["Location"]
    assert operation.startswith("/teams('")
    assert graph.ok("GET", operation, type_name="teamsAsyncOperation")["status"] == "succeeded"
    (found,) = by_id["find"]["body"]["value"]
    assert found["userType"] == "Guest"


@pytest.mark.parametrize(
    "requests",
    [
        [get("1", "/users"), get("1", "/me")],  # ids must be unique
        [{"id": "1", "method": "POST", "url": "/invitations", "body": {}}],  # no Content-Type
        [get("1", "/users", dependsOn=["9"])],  # depends on nothing in the batch
        [get("1", "https://graph.microsoft.com/v1.0/users")],  # absolute URL
        [],
    ],
)
def test_malformed_batches_are_400(graph, requests):
    response = graph.call("POST", "/$batch", json={"requests": requests})

    assert_graph_error(response, 400, "BadRequest")
