"""Graph emulator: auth, invitations, users (filter, select, paging, delta), groups."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from gigbridge.sandbox.graph.testing import (
    Graph,
    app_token,
    assert_conforms,
    assert_graph_error,
    sent_mail,
)

from .helpers import sign_in

REDIRECT = "https://gigbridge.example/welcome"


def invite(graph: Graph, email: str | None = None, **extra) -> dict:
    email = email or f"guest-{uuid.uuid4().hex[:10]}@fabrikam.example"
    body = {"invitedUserEmailAddress": email, "inviteRedirectUrl": REDIRECT, **extra}
    return graph.ok("POST", "/invitations", json=body, status=201, type_name="invitation")


# -- authentication and permissions ---------------------------------------------------------------


def test_no_token_is_401_in_graphs_shape(http, info):
    response = http.get(f"{info['graph_base_url']}/users")

    error = assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert error["message"] == "Access token is empty."
    assert response.headers["www-authenticate"].startswith("Bearer ")


def test_a_token_not_from_the_sandbox_is_401(http, info, token):
    head, body, _ = token.split(".")
    forged = f"{head}.{body}.{'A' * 342}"

    response = http.get(
        f"{info['graph_base_url']}/users", headers={"Authorization": f"Bearer {forged}"}
    )

    assert_graph_error(response, 401, "InvalidAuthenticationToken")


def test_request_ids_are_sent_and_the_clients_is_echoed(graph):
    response = graph.call("GET", "/users?$top=1", headers={"client-request-id": "my-id-1"})

    assert response.status_code == 200
    assert response.headers["client-request-id"] == "my-id-1"
    uuid.UUID(response.headers["request-id"])
    assert response.headers["content-type"].startswith("application/json")


def test_app_without_the_role_is_denied(http, info):
    # The sign-in app has no application permissions: its app-only token carries no roles.
    bare = Graph(
        http, info, app_token(info, info["sign_in"]["client_id"], info["sign_in"]["client_secret"])
    )

    response = bare.call("GET", "/users")
    error = assert_graph_error(response, 403, "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."

    invited = bare.call(
        "POST", "/invitations",
        json={"invitedUserEmailAddress": "x@fabrikam.example", "inviteRedirectUrl": REDIRECT},
    )  # fmt: skip
    assert_graph_error(invited, 403, "Authorization_RequestDenied")


def test_delegated_token_acts_within_its_scopes(http, info):
    tokens = sign_in(http, info, "rita@contoso.example")  # scp: User.Read
    rita = Graph(http, info, tokens["access_token"])

    me = rita.ok("GET", "/me", type_name="user")
    assert me["userPrincipalName"] == "rita@contoso.example"
    assert_graph_error(rita.call("GET", "/users"), 403, "Authorization_RequestDenied")


def test_me_needs_a_signed_in_user(graph):
    assert_graph_error(graph.call("GET", "/me"), 400, "BadRequest")


def test_unknown_segment_is_400(graph):
    error = assert_graph_error(graph.call("GET", "/nothingHere"), 400, "BadRequest")
    assert error["message"] == "Resource not found for the segment 'nothingHere'."


# -- invitations -------------------------------------------------------------------------------


def test_invitation_creates_a_pending_guest(graph, info):
    email = f"Jane.Doe-{uuid.uuid4().hex[:6]}@Fabrikam.example"

    invitation = invite(graph, email, invitedUserDisplayName="Jane Doe")

    assert invitation["status"] == "PendingAcceptance"
    assert invitation["invitedUserType"] == "Guest"
    assert invitation["inviteRedeemUrl"].startswith(info["graph_base_url"].removesuffix("/v1.0"))
    user_id = invitation["invitedUser"]["id"]
    select = "id,displayName,mail,userType,externalUserState,userPrincipalName,creationType"
    user = graph.ok("GET", f"/users/{user_id}?$select={select}", type_name="user")
    assert user["userType"] == "Guest"
    assert user["externalUserState"] == "PendingAcceptance"
    assert user["creationType"] == "Invitation"
    assert user["mail"] == email
    assert user["userPrincipalName"] == (f"{email.replace('@', '_')}#EXT#@{info['tenant_domain']}")
    assert user["@odata.context"].endswith(f"$metadata#users({select})/$entity")
    by_upn = graph.ok("GET", f"/users/{quote(user['userPrincipalName'])}", type_name="user")
    assert by_upn["id"] == user_id


def test_default_properties_leave_out_user_type(graph):
    user_id = invite(graph)["invitedUser"]["id"]

    user = graph.ok("GET", f"/users/{user_id}", type_name="user")

    assert "userType" not in user and "externalUserState" not in user
    assert {"id", "displayName", "mail", "userPrincipalName", "businessPhones"} <= set(user)


def test_inviting_again_returns_the_same_guest(graph):
    email = f"again-{uuid.uuid4().hex[:6]}@fabrikam.example"
    first = invite(graph, email)

    second = invite(graph, email.upper())

    assert second["invitedUser"]["id"] == first["invitedUser"]["id"]
    assert second["id"] != first["id"]
    assert second["status"] == "PendingAcceptance"
    found = graph.ok("GET", f"/users?$filter=mail eq '{email}'", type_name="user",
                     collection=True)  # fmt: skip
    assert [u["id"] for u in found["value"]] == [first["invitedUser"]["id"]]


def test_redeeming_accepts_the_invitation(graph, http):
    email = f"redeem-{uuid.uuid4().hex[:6]}@fabrikam.example"
    invitation = invite(graph, email)

    landing = http.get(invitation["inviteRedeemUrl"])

    assert landing.status_code == 302 and landing.headers["location"] == REDIRECT
    user = graph.ok(
        "GET", f"/users/{invitation['invitedUser']['id']}?$select=id,externalUserState",
        type_name="user",
    )  # fmt: skip
    assert user["externalUserState"] == "Accepted"
    assert invite(graph, email)["status"] == "Completed"


def test_blocked_domain_is_refused_by_policy(graph):
    response = graph.call(
        "POST", "/invitations",
        json={"invitedUserEmailAddress": "eve@blocked.example", "inviteRedirectUrl": REDIRECT},
    )  # fmt: skip

    error = assert_graph_error(response, 400, "BadRequest")
    assert "blocked.example" in error["message"]
    assert "B2B collaboration policy" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"inviteRedirectUrl": REDIRECT},
        {"invitedUserEmailAddress": "not-an-address", "inviteRedirectUrl": REDIRECT},
        {"invitedUserEmailAddress": "a@fabrikam.example"},
        {"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": REDIRECT,
         "invitedUserEmail": "typo"},
    ],
)  # fmt: skip
def test_invalid_invitations_are_400(graph, body):
    assert_graph_error(graph.call("POST", "/invitations", json=body), 400, "BadRequest")


def test_invitation_message_is_recorded_as_sent_mail(graph, http, info):
    email = f"mailme-{uuid.uuid4().hex[:6]}@fabrikam.example"

    invite(graph, email, sendInvitationMessage=True,
           invitedUserMessageInfo={"customizedMessageBody": "Welcome aboard"})  # fmt: skip

    (mail,) = sent_mail(http, info, to=email)
    assert mail["source"] == "invitation"
    assert "Welcome aboard" in mail["message"]["body"]["content"]
    assert_conforms("message", mail["message"])


# -- users -------------------------------------------------------------------------------------


def test_filter_on_user_type_and_mail(graph):
    guest_id = invite(graph)["invitedUser"]["id"]

    guests = graph.all_pages("/users?$filter=userType eq 'Guest'&$select=id,userType", "user")
    members = graph.ok("GET", "/users?$filter=mail eq 'MAX@contoso.example'", type_name="user",
                       collection=True)["value"]  # fmt: skip

    assert guest_id in [u["id"] for u in guests]
    assert {u["userType"] for u in guests} == {"Guest"}
    assert [u["userPrincipalName"] for u in members] == ["max@contoso.example"]


def test_unsupported_queries_are_refused(graph):
    assert_graph_error(
        graph.call("GET", "/users?$filter=city eq 'Berlin'"), 400, "Request_UnsupportedQuery"
    )
    assert_graph_error(graph.call("GET", "/users?$top=1000"), 400, "Request_UnsupportedQuery")
    assert_graph_error(graph.call("GET", "/users?$select=nickName"), 400, "Request_BadRequest")


def test_paging_follows_next_links_across_pages(graph):
    for _ in range(3):
        invite(graph)
    everyone = graph.ok("GET", "/users?$top=999&$select=id", type_name="user", collection=True)
    assert "@odata.nextLink" not in everyone

    pages, url = [], "/users?$top=2&$select=id,displayName"
    while url:
        body = graph.ok("GET", url, type_name="user", collection=True)
        pages.append(body["value"])
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(f"{graph.base}/users?") and "$skiptoken=" in url
            assert "$top=2" in url and "$select=id,displayName" in url

    ids = [u["id"] for page in pages for u in page]
    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(u["id"] for u in everyone["value"])


def test_default_page_size_is_100(graph):
    requests = [
        {"id": str(i), "method": "POST", "url": "/invitations",
         "headers": {"Content-Type": "application/json"},
         "body": {"invitedUserEmailAddress": f"bulk-{uuid.uuid4().hex[:8]}@fabrikam.example",
                  "inviteRedirectUrl": REDIRECT}}
        for i in range(20)
    ]  # fmt: skip
    total = len(graph.ok("GET", "/users?$top=999&$select=id")["value"])
    while total <= 100:
        body = graph.ok("POST", "/$batch", json={"requests": requests})
        assert {r["status"] for r in body["responses"]} == {201}
        for r in requests:
            r["body"]["invitedUserEmailAddress"] = f"bulk-{uuid.uuid4().hex[:8]}@fabrikam.example"
        total += 20

    first = graph.ok("GET", "/users", type_name="user", collection=True)

    assert len(first["value"]) == 100
    assert first["@odata.nextLink"].startswith(f"{graph.base}/users?$skiptoken=")
    assert len(graph.all_pages("/users", "user")) == total


def test_unknown_user_is_404(graph):
    missing = str(uuid.uuid4())
    error = assert_graph_error(graph.call("GET", f"/users/{missing}"), 404,
                               "Request_ResourceNotFound")  # fmt: skip
    assert missing in error["message"]


def test_delta_reports_new_guests_and_removed_users(graph):
    prefer = {"Prefer": "odata.maxpagesize=4"}
    body = graph.ok("GET", "/users/delta?$select=id,userType,mail", type_name="user",
                    collection=True, headers=prefer)  # fmt: skip
    users = list(body["value"])
    while "@odata.deltaLink" not in body:
        assert len(body["value"]) == 4 and "$skiptoken=" in body["@odata.nextLink"]
        body = graph.ok("GET", body["@odata.nextLink"], type_name="user", collection=True)
        users += body["value"]
    assert len({u["id"] for u in users}) == len(users) > 10
    assert {"id", "userType", "mail"} == set(users[0])
    delta_link = body["@odata.deltaLink"]
    assert delta_link.startswith(f"{graph.base}/users/delta?$deltatoken=")

    guest = invite(graph)["invitedUser"]["id"]
    changes = graph.ok("GET", delta_link, type_name="user", collection=True)

    changed = {u["id"]: u for u in changes["value"]}
    assert changed[guest]["userType"] == "Guest"  # $select carried in the token
    assert "@odata.nextLink" not in changes

    graph.ok("DELETE", f"/users/{guest}", status=204)
    removed = graph.ok("GET", changes["@odata.deltaLink"], type_name="user", collection=True)

    assert {"id": guest, "@removed": {"reason": "changed"}} in removed["value"]
    assert_graph_error(graph.call("GET", f"/users/{guest}"), 404, "Request_ResourceNotFound")
    quiet = graph.ok("GET", removed["@odata.deltaLink"], type_name="user", collection=True)
    assert quiet["value"] == []


def test_delta_latest_starts_from_now(graph):
    body = graph.ok("GET", "/users/delta?$deltatoken=latest", type_name="user", collection=True)

    assert body["value"] == [] and "@odata.deltaLink" in body


# -- groups ------------------------------------------------------------------------------------


def test_create_and_read_a_unified_group(graph):
    owner = graph.ok("GET", "/users/ada@contoso.example")["id"]
    nickname = f"proj{uuid.uuid4().hex[:8]}"
    body = {
        "displayName": "Project Falcon",
        "mailEnabled": True,
        "mailNickname": nickname,
        "securityEnabled": False,
        "groupTypes": ["Unified"],
        "owners@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{owner}"],
    }

    group = graph.ok("POST", "/groups", json=body, status=201, type_name="group")

    assert group["mail"] == f"{nickname}@contoso.example"
    assert group["groupTypes"] == ["Unified"] and group["resourceProvisioningOptions"] == []
    again = graph.ok("GET", f"/groups/{group['id']}", type_name="group")
    assert again["displayName"] == "Project Falcon"
    owners = graph.ok("GET", f"/groups/{group['id']}/owners", type_name="directoryObject",
                      collection=True)  # fmt: skip
    assert [o["id"] for o in owners["value"]] == [owner]
    found = graph.ok("GET", f"/groups?$filter=mailNickname eq '{nickname}'", type_name="group",
                     collection=True)  # fmt: skip
    assert [g["id"] for g in found["value"]] == [group["id"]]
    duplicate = graph.call("POST", "/groups", json=body)
    assert_graph_error(duplicate, 400, "Request_BadRequest")


def test_disabling_a_guest_shows_in_the_user_and_in_delta(graph):
    guest = invite(graph)["invitedUser"]["id"]
    start = graph.ok("GET", "/users/delta?$deltatoken=latest&$select=id,accountEnabled")

    graph.ok("PATCH", f"/users/{guest}", json={"accountEnabled": False}, status=204)

    user = graph.ok("GET", f"/users/{guest}?$select=id,accountEnabled", type_name="user")
    assert user["accountEnabled"] is False
    changes = graph.ok("GET", start["@odata.deltaLink"], type_name="user", collection=True)
    assert {"id": guest, "accountEnabled": False} in changes["value"]
    bad = graph.call("PATCH", f"/users/{guest}", json={"accountEnabled": "no"})
    assert_graph_error(bad, 400, "BadRequest")
