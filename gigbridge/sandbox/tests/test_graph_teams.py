"""Graph emulator: teams (async creation), members, channels and their members."""

from __future__ import annotations

import uuid

import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.sandbox.graph.testing import (
    RESET,
    Graph,
    assert_conforms,
    assert_graph_error,
    set_clock,
    set_dials,
)

TEMPLATE = "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"
MEMBER = "#microsoft.graph.aadUserConversationMember"


@pytest.fixture
def dials(http, info):
    yield lambda **changes: set_dials(http, info, **changes)
    set_dials(http, info, **RESET)


def user_id(graph: Graph, upn: str) -> str:
    return graph.ok("GET", f"/users/{upn}")["id"]


def bind(user: str) -> str:
    return f"https://graph.microsoft.com/v1.0/users('{user}')"


def member(user: str, *roles: str) -> dict:
    return {"@odata.type": MEMBER, "roles": list(roles), "user@odata.bind": bind(user)}


def guest(graph: Graph) -> str:
    body = {
        "invitedUserEmailAddress": f"freelancer-{uuid.uuid4().hex[:8]}@fabrikam.example",
        "inviteRedirectUrl": "https://gigbridge.example/",
    }
    return graph.ok("POST", "/invitations", json=body, status=201)["invitedUser"]["id"]


def create_team(graph: Graph, owner: str, **extra) -> tuple[str, str]:
    """POST /teams; returns (team id, operation path) from the 202's headers."""
    body = {
        "template@odata.bind": TEMPLATE,
        "displayName": f"Project {uuid.uuid4().hex[:6]}",
        "description": "Freelance engagement",
        "members": [member(owner, "owner")],
        **extra,
    }
    assert conformance.validate("team", body, direction="request") == []
    response = graph.call("POST", "/teams", json=body)
    assert response.status_code == 202, response.text
    assert response.content == b""
    location, content_location = response.headers["location"], response.headers["content-location"]
    team_id = content_location.removeprefix("/teams('").removesuffix("')")
    assert location.startswith(f"/teams('{team_id}')/operations('")
    return team_id, location


@pytest.fixture
def team(graph):
    team_id, _ = create_team(graph, user_id(graph, "carol.owner@contoso.example"))
    return team_id


def test_team_creation_is_async_and_becomes_ready(graph, dials, http, info):
    dials(teams={"provisioning_seconds": 60.0})
    owner = user_id(graph, "carol.owner@contoso.example")

    team_id, operation_path = create_team(graph, owner)

    operation = graph.ok("GET", operation_path, type_name="teamsAsyncOperation")
    assert operation["status"] == "inProgress" and operation["operationType"] == "createTeam"
    assert_graph_error(graph.call("GET", f"/teams/{team_id}"), 404, "NotFound")
    set_clock(http, info, advance_seconds=61)  # provisioning is judged by the sandbox clock
    operation = graph.ok("GET", operation_path, type_name="teamsAsyncOperation")
    assert operation["status"] == "succeeded", operation
    assert operation["targetResourceId"] == team_id
    assert operation["targetResourceLocation"] == f"/teams('{team_id}')"
    team = graph.ok("GET", f"/teams/{team_id}", type_name="team")
    assert team["id"] == team_id and team["visibility"] == "private"
    channels = graph.ok("GET", f"/teams/{team_id}/channels", type_name="channel", collection=True)
    assert [c["displayName"] for c in channels["value"]] == ["General"]
    assert channels["value"][0]["id"] == team["internalId"]


def test_by_default_the_team_is_ready_at_the_next_request(graph):
    owner = user_id(graph, "carol.owner@contoso.example")
    team_id, operation_path = create_team(graph, owner)

    operation = graph.ok("GET", operation_path, type_name="teamsAsyncOperation")

    assert operation["status"] == "succeeded"
    group = graph.ok("GET", f"/groups/{team_id}", type_name="group")
    assert group["resourceProvisioningOptions"] == ["Team"]
    assert group["groupTypes"] == ["Unified"]


def test_app_only_team_needs_an_owner_and_a_template(graph):
    carol = user_id(graph, "carol.owner@contoso.example")
    no_owner = {"template@odata.bind": TEMPLATE, "displayName": "X", "members": [member(carol)]}
    no_template = {"displayName": "X", "members": [member(carol, "owner")]}

    for body in (no_owner, no_template):
        assert_graph_error(graph.call("POST", "/teams", json=body), 400, "BadRequest")


def test_guest_member_is_listed_with_the_guest_role(graph, team):
    freelancer = guest(graph)

    added = graph.ok(
        "POST", f"/teams/{team}/members", json=member(freelancer), status=201,
        type_name="conversationMember",
    )  # fmt: skip

    assert added["@odata.type"] == MEMBER
    assert added["roles"] == ["guest"] and added["userId"] == freelancer
    members = graph.ok("GET", f"/teams/{team}/members", type_name="conversationMember",
                       collection=True)["value"]  # fmt: skip
    roles = {m["userId"]: m["roles"] for m in members}
    assert roles[freelancer] == ["guest"]
    assert roles[user_id(graph, "carol.owner@contoso.example")] == ["owner"]
    one = graph.ok("GET", f"/teams/{team}/members/{added['id']}", type_name="conversationMember")
    assert one["id"] == added["id"]
    only = graph.ok(
        "GET",
        f"/teams/{team}/members?$filter=(microsoft.graph.aadUserConversationMember/userId eq "
        f"'{freelancer}')",
        type_name="conversationMember", collection=True,
    )  # fmt: skip
    assert [m["userId"] for m in only["value"]] == [freelancer]


def test_adding_a_member_again_is_idempotent(graph, team):
    freelancer = guest(graph)
    first = graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)

    again = graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201,
                     type_name="conversationMember")  # fmt: skip

    assert again["id"] == first["id"]
    members = graph.ok("GET", f"/teams/{team}/members")["value"]
    assert [m["userId"] for m in members].count(freelancer) == 1


def test_member_rules(graph, team):
    freelancer = guest(graph)
    carol_membership = graph.ok("GET", f"/teams/{team}/members")["value"][0]

    as_owner = graph.call("POST", f"/teams/{team}/members", json=member(freelancer, "owner"))
    untyped = {"roles": [], "user@odata.bind": bind(freelancer)}
    no_type = graph.call("POST", f"/teams/{team}/members", json=untyped)
    unknown = graph.call("POST", f"/teams/{team}/members", json=member(str(uuid.uuid4())))
    last_owner = graph.call("DELETE", f"/teams/{team}/members/{carol_membership['id']}")

    assert_graph_error(as_owner, 400, "BadRequest")
    error = assert_graph_error(no_type, 400, "BadRequest")
    assert "odata.type" in error["message"]
    assert_graph_error(unknown, 404, "NotFound")
    assert_graph_error(last_owner, 400, "BadRequest")
    assert_graph_error(graph.call("GET", f"/teams/{uuid.uuid4()}/members"), 404, "NotFound")


def test_removing_a_member(graph, team):
    freelancer = guest(graph)
    added = graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)

    graph.ok("DELETE", f"/teams/{team}/members/{added['id']}", status=204)

    members = graph.ok("GET", f"/teams/{team}/members")["value"]
    assert freelancer not in [m["userId"] for m in members]
    gone = graph.call("GET", f"/teams/{team}/members/{added['id']}")
    assert_graph_error(gone, 404, "NotFound")


def test_bulk_add_reports_each_member(graph, team):
    first, second, missing = guest(graph), guest(graph), str(uuid.uuid4())
    body = {"values": [member(first), member(second), member(missing)]}
    assert conformance.validate_action("Collection(conversationMember)", "add", body) == []

    result = graph.ok("POST", f"/teams/{team}/members/add", json=body)

    problems = conformance.validate_action_result("Collection(conversationMember)", "add", result)
    assert problems == []
    assert_conforms("actionResultPart", result, collection=True)
    by_user = {r["userId"]: r for r in result["value"]}
    assert by_user[first]["error"] is None and by_user[second]["error"] is None
    assert by_user[missing]["error"]["code"] == "NotFound"
    members = [m["userId"] for m in graph.ok("GET", f"/teams/{team}/members")["value"]]
    assert first in members and second in members


# -- channels ----------------------------------------------------------------------------------


def test_private_channel_members_must_be_team_members(graph, team):
    carol = user_id(graph, "carol.owner@contoso.example")
    freelancer = guest(graph)
    body = {
        "displayName": "Engagement 42",
        "description": "Private work with the freelancer",
        "membershipType": "private",
        "members": [member(carol, "owner")],
    }
    assert conformance.validate("channel", body, direction="request") == []
    channel = graph.ok("POST", f"/teams/{team}/channels", json=body, status=201,
                       type_name="channel")  # fmt: skip
    assert channel["membershipType"] == "private"
    members_url = f"/teams/{team}/channels/{channel['id']}/members"

    outsider = graph.call("POST", members_url, json=member(freelancer))
    error = assert_graph_error(outsider, 400, "BadRequest")
    assert error["message"] == "User is not found in the team."

    graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)
    added = graph.ok("POST", members_url, json=member(freelancer), status=201,
                     type_name="conversationMember")  # fmt: skip
    assert added["roles"] == ["guest"]
    listed = graph.ok("GET", members_url, type_name="conversationMember", collection=True)
    assert {m["userId"]: m["roles"] for m in listed["value"]} == {
        carol: ["owner"],
        freelancer: ["guest"],
    }
    assert_graph_error(graph.call("POST", members_url, json=member(freelancer, "owner")), 400,
                       "BadRequest")  # fmt: skip

    graph.ok("DELETE", f"{members_url}/{added['id']}", status=204)
    listed = graph.ok("GET", members_url, type_name="conversationMember", collection=True)
    assert [m["userId"] for m in listed["value"]] == [carol]


def test_leaving_the_team_leaves_its_private_channels(graph, team):
    carol, freelancer = user_id(graph, "carol.owner@contoso.example"), guest(graph)
    team_member = graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)
    body = {"displayName": "Secret", "membershipType": "private",
            "members": [member(carol, "owner"), member(freelancer)]}  # fmt: skip
    channel = graph.ok("POST", f"/teams/{team}/channels", json=body, status=201)

    graph.ok("DELETE", f"/teams/{team}/members/{team_member['id']}", status=204)

    listed = graph.ok("GET", f"/teams/{team}/channels/{channel['id']}/members")
    assert [m["userId"] for m in listed["value"]] == [carol]


def test_standard_channels_have_the_team_members(graph, team):
    body = {"displayName": "Design", "membershipType": "standard"}
    channel = graph.ok("POST", f"/teams/{team}/channels", json=body, status=201,
                       type_name="channel")  # fmt: skip
    freelancer = guest(graph)
    graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)
    members_url = f"/teams/{team}/channels/{channel['id']}/members"

    listed = graph.ok("GET", members_url, type_name="conversationMember", collection=True)
    refused = graph.call("POST", members_url, json=member(freelancer))

    assert freelancer in [m["userId"] for m in listed["value"]]
    error = assert_graph_error(refused, 400, "BadRequest")
    assert error["message"] == "Operation not supported for this Channel"
    fetched = graph.ok("GET", f"/teams/{team}/channels/{channel['id']}", type_name="channel")
    assert fetched["displayName"] == "Design"


def test_channel_rules(graph, team):
    carol = user_id(graph, "carol.owner@contoso.example")
    graph.ok("POST", f"/teams/{team}/channels", json={"displayName": "Ops"}, status=201)

    duplicate = graph.call("POST", f"/teams/{team}/channels", json={"displayName": "ops"})
    ownerless = graph.call(
        "POST", f"/teams/{team}/channels",
        json={"displayName": "P", "membershipType": "private", "members": [member(carol)]},
    )  # fmt: skip
    bad_name = graph.call("POST", f"/teams/{team}/channels", json={"displayName": "a/b"})
    unknown_field = graph.call("POST", f"/teams/{team}/channels",
                               json={"displayName": "Q", "colour": "red"})  # fmt: skip

    for response in (duplicate, ownerless, bad_name, unknown_field):
        assert_graph_error(response, 400, "BadRequest")
    private = graph.ok("GET", f"/teams/{team}/channels?$filter=membershipType eq 'private'",
                       type_name="channel", collection=True)  # fmt: skip
    assert private["value"] == []


def test_a_guests_teams_and_groups(graph, team):
    freelancer = guest(graph)
    graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)

    joined = graph.ok("GET", f"/users/{freelancer}/joinedTeams", type_name="team",
                      collection=True)  # fmt: skip
    groups = graph.ok("GET", f"/users/{freelancer}/memberOf", type_name="directoryObject",
                      collection=True)  # fmt: skip

    assert [t["id"] for t in joined["value"]] == [team]
    assert [(g["@odata.type"], g["id"]) for g in groups["value"]] == [
        ("#microsoft.graph.group", team)
    ]


def test_viewer_shows_teams_members_and_guest_state(graph, team, http):
    freelancer = guest(graph)
    graph.ok("POST", f"/teams/{team}/members", json=member(freelancer), status=201)
    name = graph.ok("GET", f"/teams/{team}")["displayName"]

    page = http.get("/")

    assert page.status_code == 200
    assert f'id="team-{team}"' in page.text and name in page.text
    assert "(PendingAcceptance)" in page.text and "(guest)" in page.text
    assert "/_sandbox/redeem/" not in page.text  # redemption links are credentials
