"""The sandbox's Teams: the bot's token, the Bot Connector v3 routes, Graph's chatMessage view,
signed delivery to the bot's messaging endpoint, card invokes and the Teams view.

A tiny HTTP server on loopback stands in for the Gigbridge bot (``Bot``)."""

from __future__ import annotations

import html
import json
import queue
import re
import sqlite3
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import msal
import pytest

from gigbridge.sandbox.client import msal_options
from gigbridge.sandbox.graph.testing import Graph, app_token, tools_auth

from .test_graph_teams import create_team, member, user_id
from .test_viewer_tools import post, sign_in

BOTFRAMEWORK = "https://api.botframework.com"
CARD = "application/vnd.microsoft.card.adaptive"


def approval_card(title: str = "Approve the offer?") -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Large"},
            {"type": "FactSet", "facts": [{"title": "Amount", "value": "$1,200 <b>"}]},
            {
                "type": "ColumnSet",
                "columns": [{"type": "Column", "items": [{"type": "TextBlock", "text": "left"}]}],
            },
            {"type": "Input.Text", "id": "comment", "placeholder": "Comment", "isMultiline": True},
            {"type": "Image", "url": "https://example.com/logo.png", "altText": "logo"},
        ],
        "actions": [
            {
                "type": "Action.Execute",
                "title": "Approve",
                "verb": "approval.approve",
                "data": {"step": 7},
            },
            {
                "type": "Action.Execute",
                "title": "Reject",
                "verb": "approval.reject",
                "data": {"step": 7},
            },
            {"type": "Action.OpenUrl", "title": "Open", "url": "https://gigbridge.example/a/7"},
        ],
    }


class Bot:
    """The bot's messaging endpoint: records each POST; answers invokes with ``invoke_answer``."""

    def __init__(self):
        self.received: queue.Queue = queue.Queue()
        self.invoke_answer: tuple[int, dict] = (200, {})
        self.message_status = 200
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                bot.received.put((dict(self.headers), body))
                status, answer = (
                    bot.invoke_answer if body.get("type") == "invoke" else (bot.message_status, {})
                )
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/teams"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self) -> tuple[dict, dict]:
        return self.received.get(timeout=10)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def bot_token(info: dict, scope: str = "https://api.botframework.com/.default") -> str:
    app = msal.ConfidentialClientApplication(
        info["teams"]["app_id"],
        client_credential=info["teams"]["app_password"],
        authority=info["authority"],
        **msal_options(info["ca_cert"]),
    )
    result = app.acquire_token_for_client([scope])
    assert "access_token" in result, result
    return result["access_token"]


class Connector:
    def __init__(self, http: httpx.Client, info: dict, token: str):
        self.http, self.info, self.token = http, info, token
        self.base = info["teams"]["service_url"] + "v3/conversations"

    def call(self, method: str, path: str = "", token: str | None = None, **kwargs):
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, self.base + path, headers=headers, **kwargs)

    def ok(self, method: str, path: str = "", status: int = 201, **kwargs):
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == status, answer.text
        return answer.json() if answer.content else None


def quoted(conversation_id: str) -> str:
    from urllib.parse import quote

    return quote(conversation_id, safe="")


@pytest.fixture(scope="module")
def bot_access(info):
    return bot_token(info)


@pytest.fixture
def connector(http, info, bot_access):
    return Connector(http, info, bot_access)


def set_endpoint(http: httpx.Client, info: dict, url: str) -> None:
    """What a test fixture (or ``gigbridge up``) does: point the bot's messaging endpoint."""
    answer = http.post(
        info["tools"]["teams"]["endpoint_url"],
        json={"messaging_endpoint": url},
        auth=tools_auth(info),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"messaging_endpoint": url}


@pytest.fixture
def endpoint(http, info):
    """Set the endpoint for one test; the session's ``info`` stays true afterwards."""
    yield lambda url: set_endpoint(http, info, url)
    set_endpoint(http, info, info["teams"]["messaging_endpoint"])


@pytest.fixture
def bot(endpoint):
    stub = Bot()
    endpoint(stub.url)
    yield stub
    stub.close()


@pytest.fixture
def project(graph):
    """A team with Carol (owner), Rita and a guest freelancer; its General channel."""
    carol = user_id(graph, "carol.owner@contoso.example")
    rita = user_id(graph, "rita@contoso.example")
    invited = graph.ok(
        "POST",
        "/invitations",
        json={
            "invitedUserEmailAddress": f"freelancer-{uuid.uuid4().hex[:8]}@fabrikam.example",
            "inviteRedirectUrl": "https://gigbridge.example/",
        },
        status=201,
    )["invitedUser"]["id"]
    team_id, _ = create_team(graph, carol, members=[member(carol, "owner"), member(rita)])
    graph.ok("POST", f"/teams/{team_id}/members", json=member(invited), status=201)
    channels = graph.ok("GET", f"/teams/{team_id}/channels")["value"]
    general = next(c for c in channels if c["displayName"] == "General")
    name = graph.ok("GET", f"/teams/{team_id}")["displayName"]
    return {
        "team": team_id,
        "channel": general["id"],
        "carol": carol,
        "rita": rita,
        "guest": invited,
        "name": name,
    }


def thread(connector: Connector, info: dict, project: dict, text: str = "Engagement: Logo") -> dict:
    body = {
        "isGroup": True,
        "channelData": {
            "channel": {"id": project["channel"]},
            "team": {"id": project["team"]},
            "tenant": {"id": info["tenant_id"]},
        },
        "activity": {"type": "message", "text": text},
    }
    return connector.ok("POST", json=body)


# -- tokens -----------------------------------------------------------------------------------


def test_the_bot_gets_a_bot_framework_token(info, bot_access):
    claims = jwt.decode(bot_access, options={"verify_signature": False})
    assert claims["aud"] == BOTFRAMEWORK
    assert claims["appid"] == claims["azp"] == info["teams"]["app_id"]
    assert info["teams"]["token_scope"] == "https://api.botframework.com/.default"
    assert info["teams"]["service_url"].endswith("/botframework/teams/")


def _entra_key(sandbox) -> tuple[str, str]:
    db = sandbox.data_dir / "sandbox" / "sandbox.sqlite3"
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select kid, private_key_pem from sandbox_signingkey order by created desc, id desc"
        ).fetchone()


def test_the_connector_refuses_bad_tokens(sandbox, http, info, connector, bot_access, token):
    assert connector.call("GET", "/x/members", token="").status_code == 401
    graph_token = connector.call("POST", json={}, token=token)  # a Graph token: wrong audience
    assert graph_token.status_code == 401
    assert graph_token.json()["error"]["code"] == "Unauthorized"
    claims = jwt.decode(bot_access, options={"verify_signature": False})
    unsigned = jwt.encode(claims, "not-the-sandbox-key-" + "x" * 32, "HS256")
    assert connector.call("POST", json={}, token=unsigned).status_code == 401
    kid, pem = _entra_key(sandbox)
    now = int(time.time())
    expired = jwt.encode(
        {**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600},
        pem,
        "RS256",
        headers={"kid": kid},
    )
    answer = connector.call("POST", json={}, token=expired)
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]
    # A Bot Framework token of another app of the tenant is not the bot's.
    other = jwt.encode(
        {**claims, "appid": info["client_id"], "azp": info["client_id"]},
        pem,
        "RS256",
        headers={"kid": kid},
    )
    assert connector.call("POST", json={}, token=other).status_code == 401


# -- conversations ------------------------------------------------------------------------------


def test_personal_conversation_send_update_delete_and_members(graph, info, connector):
    max_id = user_id(graph, "max@contoso.example")
    body = {
        "isGroup": False,
        "bot": {"id": f"28:{info['teams']['app_id']}"},
        "members": [{"id": max_id}],
        "tenantId": info["tenant_id"],
        "channelData": {"tenant": {"id": info["tenant_id"]}},
    }
    conversation = connector.ok("POST", json=body)["id"]
    members = connector.ok("GET", f"/{quoted(conversation)}/members", status=200)
    assert [m["aadObjectId"] for m in members] == [max_id]
    person = members[0]["id"]
    assert person.startswith("29:")
    # One conversation per bot and user, found again by the 29: id too.
    again = {**body, "members": [{"id": person}]}
    assert connector.ok("POST", json=again)["id"] == conversation
    one = connector.ok("GET", f"/{quoted(conversation)}/members/{quoted(person)}", status=200)
    assert one["name"] == "Max Manager" and one["userPrincipalName"] == "max@contoso.example"
    missing = connector.call("GET", f"/{quoted(conversation)}/members/{uuid.uuid4()}")
    assert missing.status_code == 404 and "error" in missing.json()

    sent = connector.ok(
        "POST",
        f"/{quoted(conversation)}/activities",
        json={
            "type": "message",
            "attachments": [{"contentType": CARD, "content": approval_card()}],
        },
    )
    assert sent["id"].isdigit()
    updated = connector.ok(
        "PUT",
        f"/{quoted(conversation)}/activities/{sent['id']}",
        json={"type": "message", "text": "Decided by Max"},
        status=200,
    )
    assert updated == {"id": sent["id"]}
    assert (
        connector.call("DELETE", f"/{quoted(conversation)}/activities/{sent['id']}").status_code
        == 200
    )
    gone = connector.call(
        "PUT",
        f"/{quoted(conversation)}/activities/{sent['id']}",
        json={"type": "message", "text": "x"},
    )
    assert gone.status_code == 404
    unknown = connector.call("POST", json={**body, "members": [{"id": str(uuid.uuid4())}]})
    assert unknown.status_code == 404


def test_channel_thread_reply_update_delete_members_and_graph(
    http, graph, info, connector, project
):
    made = thread(connector, info, project)
    root = made["activityId"]
    assert made["id"] == f"{project['channel']};messageid={root}"
    conversation = quoted(made["id"])
    reply = connector.ok(
        "POST", f"/{conversation}/activities/{root}", json={"type": "message", "text": "Ana: hello"}
    )["id"]
    second = connector.ok(
        "POST", f"/{conversation}/activities", json={"type": "message", "text": "Ana: more"}
    )["id"]
    connector.ok(
        "PUT",
        f"/{conversation}/activities/{reply}",
        json={"type": "message", "text": "Ana: hello!"},
        status=200,
    )
    connector.ok("DELETE", f"/{conversation}/activities/{second}", status=200)
    # The Agents SDK does not percent-encode conversation ids in its paths.
    raw = connector.ok("GET", f"/{made['id']}/pagedmembers", status=200)["members"]
    members = connector.ok("GET", f"/{conversation}/members", status=200)
    assert raw == members
    ids = {m["aadObjectId"]: m for m in members}
    assert set(ids) == {project["carol"], project["rita"], project["guest"]}
    assert ids[project["guest"]]["userRole"] == "guest"

    # TeamsInfo: the team and its channels, by group id or by the team's thread id.
    details = connector.http.get(
        info["teams"]["service_url"] + f"v3/teams/{project['team']}",
        headers={"Authorization": f"Bearer {connector.token}"},
    ).json()
    assert details["aadGroupId"] == project["team"] and details["memberCount"] == 3
    channels = connector.http.get(
        info["teams"]["service_url"] + f"v3/teams/{details['id']}/conversations",
        headers={"Authorization": f"Bearer {connector.token}"},
    ).json()["conversations"]
    assert {"id": project["channel"], "name": None} in channels

    # Only channels of teams the sandbox has.
    nowhere = {
        "isGroup": True,
        "channelData": {"channel": {"id": "19:nope@thread.tacv2"}},
        "activity": {"type": "message", "text": "x"},
    }
    assert connector.call("POST", json=nowhere).status_code == 404

    # Graph: the same thread as chatMessages (app-only, ChannelMessage.Read.Group).
    # The bot's own app-only token (resource-specific consent) reads; so does the outside-tools
    # app (Group.ReadWrite.All, kept by Graph for backward compatibility); an app without either
    # does not.
    base = f"/teams/{project['team']}/channels/{project['channel']}/messages/{root}"
    assert Graph(http, info, app_token(info)).call("GET", base).status_code == 200
    sign_in_app = app_token(info, info["sign_in"]["client_id"], info["sign_in"]["client_secret"])
    assert Graph(http, info, sign_in_app).call("GET", base).status_code == 403
    reader = Graph(
        http, info, app_token(info, info["teams"]["app_id"], info["teams"]["app_password"])
    )
    message = reader.ok("GET", base)
    assert message["id"] == root and message["replyToId"] is None
    assert message["from"]["application"]["id"] == info["teams"]["app_id"]
    assert message["body"]["content"] == "Engagement: Logo"
    assert message["channelIdentity"] == {
        "teamId": project["team"],
        "channelId": project["channel"],
    }
    replies = reader.ok("GET", base + "/replies")["value"]
    assert [r["id"] for r in replies] == [reply, second]
    assert replies[0]["body"]["content"] == "Ana: hello!" and replies[0]["lastEditedDateTime"]
    assert replies[1]["deletedDateTime"] and replies[1]["body"]["content"] == ""
    assert reader.call("GET", f"{base[: -len(root)]}123").status_code == 404


# -- the Bot Framework's keys and delivery --------------------------------------------------------


def test_openid_metadata_and_keys(http, info):
    metadata = http.get(info["teams"]["openid_metadata"]).json()
    assert metadata["issuer"] == BOTFRAMEWORK
    assert metadata["jwks_uri"].endswith("/botframework/v1/.well-known/keys")
    keys = http.get(metadata["jwks_uri"]).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["kid"]


def verify_delivery(http: httpx.Client, info: dict, headers: dict) -> dict:
    """What the bot does with the Connector's token: check it against the published keys."""
    token = headers["Authorization"].removeprefix("Bearer ")
    metadata = http.get(info["teams"]["openid_metadata"]).json()
    keys = jwt.PyJWKSet.from_dict(http.get(metadata["jwks_uri"]).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(
        token, key.key, ["RS256"], audience=info["teams"]["app_id"], issuer=BOTFRAMEWORK
    )


def open_view(http: httpx.Client, info: dict, person: str, channel_pk=None) -> str:
    params = {"as": person}
    if channel_pk:
        params["channel"] = channel_pk
    page = http.get("/teams/", params=params)
    assert page.status_code == 200, page.text
    return page.text


def channel_pk(page: str, project: dict) -> str:
    found = re.search(r'channel=(\d+)"[^>]*>' + re.escape(project["name"]) + " › General", page)
    return found.group(1)


def form_post(http: httpx.Client, page: str, path: str, data: dict) -> httpx.Response:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return post(http, path, data, token)


def test_the_view_delivers_replies_and_card_clicks(http, info, connector, project, bot):
    made = thread(connector, info, project)
    conversation = quoted(made["id"])
    connector.ok(
        "POST",
        f"/{conversation}/activities/{made['activityId']}",
        json={
            "type": "message",
            "text": "Approve?",
            "attachments": [{"contentType": CARD, "content": approval_card()}],
        },
    )
    assert http.get("/teams/").status_code == 200  # signed out: the sign-in form only
    sign_in(http, info)
    home = open_view(http, info, project["rita"])
    pk = channel_pk(home, project)
    page = open_view(http, info, project["rita"], pk)
    assert "Engagement: Logo" in page and "Approve the offer?" in page
    assert "$1,200 &lt;b&gt;" in page  # card text escaped
    assert 'name="action" value="0"' in page and "https://gigbridge.example/a/7" in page
    assert "<script" not in page

    # A reply in the thread: stored, delivered as Teams sends it, with a verifiable token.
    answer = form_post(
        http,
        page,
        "/teams/post",
        {"as": project["rita"], "conversation": made["id"], "do": "reply", "text": "Looks good"},
    )
    assert answer.status_code == 303, answer.text
    headers, activity = bot.next()
    claims = verify_delivery(http, info, headers)
    assert claims["serviceUrl"] == info["teams"]["service_url"] == activity["serviceUrl"]
    assert claims["exp"] - claims["nbf"] <= 300
    assert activity["type"] == "message" and activity["text"] == "Looks good"
    assert activity["replyToId"] == made["activityId"]
    assert activity["conversation"]["id"] == made["id"]
    assert activity["conversation"]["conversationType"] == "channel"
    assert activity["from"]["aadObjectId"] == project["rita"]
    assert activity["recipient"]["id"] == f"28:{info['teams']['app_id']}"
    assert activity["channelData"]["team"]["aadGroupId"] == project["team"]
    assert activity["channelData"]["channel"]["id"] == project["channel"]
    page = open_view(http, info, project["rita"], pk)
    assert "Looks good" in page and "Delivered" in page
    mine = re.findall(
        r'name="activity" value="(\d+)"><input type="hidden" name="do" value="edit"', page
    )
    assert mine

    # Edit and delete of one's own last message.
    form_post(
        http,
        page,
        "/teams/post",
        {
            "as": project["rita"],
            "conversation": made["id"],
            "do": "edit",
            "activity": mine[-1],
            "text": "Looks great",
        },
    )
    _, edited = bot.next()
    assert edited["type"] == "messageUpdate" and edited["id"] == activity["id"]
    assert edited["channelData"]["eventType"] == "editMessage" and edited["text"] == "Looks great"
    form_post(
        http,
        page,
        "/teams/post",
        {"as": project["rita"], "conversation": made["id"], "do": "delete", "activity": mine[-1]},
    )
    _, deleted = bot.next()
    assert deleted["type"] == "messageDelete"
    assert deleted["channelData"]["eventType"] == "softDeleteMessage"

    # A card click: an invoke with the card's data and the inputs; the answer replaces the card
    # for the clicker only.
    page = open_view(http, info, project["rita"], pk)
    card_activity = re.search(r'action="/teams/invoke" id="card-(\d+)"', page).group(1)
    bot.invoke_answer = (
        200,
        {"statusCode": 200, "type": CARD, "value": approval_card("Approved by Rita")},
    )
    answer = form_post(
        http,
        page,
        "/teams/invoke",
        {
            "as": project["rita"],
            "conversation": made["id"],
            "activity": card_activity,
            "action": "0",
            "input:comment": "fine by me",
        },
    )
    assert answer.status_code == 303, answer.text
    headers, invoke = bot.next()
    verify_delivery(http, info, headers)
    assert invoke["type"] == "invoke" and invoke["name"] == "adaptiveCard/action"
    assert invoke["value"]["action"]["verb"] == "approval.approve"
    assert invoke["value"]["action"]["data"] == {"step": 7, "comment": "fine by me"}
    assert invoke["value"]["trigger"] == "manual"
    assert invoke["from"]["aadObjectId"] == project["rita"]
    assert "Approved by Rita" in open_view(http, info, project["rita"], pk)
    carol_page = open_view(
        http, info, project["carol"], channel_pk(open_view(http, info, project["carol"]), project)
    )
    assert "Approved by Rita" not in carol_page and "Approve the offer?" in carol_page

    # The bot refuses: an error line, the card stays.
    bot.invoke_answer = (
        200,
        {
            "statusCode": 403,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "Forbidden", "message": "Not your approval"},
        },
    )
    form_post(
        http,
        carol_page,
        "/teams/invoke",
        {
            "as": project["carol"],
            "conversation": made["id"],
            "activity": card_activity,
            "action": "1",
        },
    )
    bot.next()
    carol_page = open_view(
        http, info, project["carol"], channel_pk(open_view(http, info, project["carol"]), project)
    )
    assert "Not your approval" in html.unescape(carol_page) and "Approve the offer?" in carol_page


def test_a_failed_delivery_keeps_the_message_and_can_be_retried(
    http, info, connector, project, bot
):
    made = thread(connector, info, project, "Engagement: Retry")
    sign_in(http, info)
    pk = channel_pk(
        open_view(http, info, project["guest"]), project
    )  # the guest freelancer sees it too
    page = open_view(http, info, project["guest"], pk)
    bot.message_status = 503
    form_post(
        http,
        page,
        "/teams/post",
        {"as": project["guest"], "conversation": made["id"], "do": "reply", "text": "Can we talk?"},
    )
    bot.next()
    page = open_view(http, info, project["guest"], pk)
    assert "Can we talk?" in page and "Not delivered to Gigbridge" in page and "HTTP 503" in page
    failed = re.search(
        r'name="activity" value="(\d+)"><input type="hidden" name="do" value="retry"', page
    ).group(1)
    bot.message_status = 200
    form_post(
        http,
        page,
        "/teams/post",
        {"as": project["guest"], "conversation": made["id"], "do": "retry", "activity": failed},
    )
    _, again = bot.next()
    assert again["text"] == "Can we talk?" and again["type"] == "message"
    page = open_view(http, info, project["guest"], pk)
    assert "Not delivered" not in page and "Delivered" in page
    # Someone outside the team cannot post into the thread.
    outsider = user_id(Graph(http, info, app_token(info)), "audrey@contoso.example")
    refused = form_post(
        http,
        page,
        "/teams/post",
        {"as": outsider, "conversation": made["id"], "do": "reply", "text": "hi"},
    )
    assert refused.status_code == 403


def test_the_endpoint_tool_refuses_non_loopback_http(http, info):
    url = info["tools"]["teams"]["endpoint_url"]
    assert http.post(url, json={"messaging_endpoint": "http://127.0.0.1:1/x"}).status_code == 401
    bad = http.post(url, json={"messaging_endpoint": "http://example.com/x"}, auth=tools_auth(info))
    assert bad.status_code == 400


def test_a_card_click_when_the_bot_is_unreachable_shows_an_error(
    http, info, graph, connector, endpoint
):
    from .conftest import free_port

    max_id = user_id(graph, "max@contoso.example")
    conversation = connector.ok("POST", json={"members": [{"id": max_id}]})["id"]
    connector.ok(
        "POST",
        f"/{quoted(conversation)}/activities",
        json={
            "type": "message",
            "attachments": [{"contentType": CARD, "content": approval_card()}],
        },
    )
    endpoint(f"http://127.0.0.1:{free_port()}/hooks/teams")
    sign_in(http, info)
    page = open_view(http, info, max_id)  # the chat with the bot
    assert "Chat with Gigbridge" in page and "Approve the offer?" in page
    card = re.findall(r'action="/teams/invoke" id="card-(\d+)"', page)[-1]
    answer = form_post(
        http,
        page,
        "/teams/invoke",
        {"as": max_id, "conversation": conversation, "activity": card, "action": "0"},
    )
    assert answer.status_code == 303
    page = open_view(http, info, max_id)
    assert "Could not reach the bot" in page and "Approve the offer?" in page


def test_the_throttle_dial_answers_429_with_retry_after(http, info, graph, connector):
    url = info["tools"]["teams"]["endpoint_url"]
    answer = http.post(
        url, json={"throttle": {"next_requests": 1, "retry_after": 2}}, auth=tools_auth(info)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["throttle"] == {"next_requests": 1, "retry_after": 2}
    assert answer.json()["messaging_endpoint"] == info["teams"]["messaging_endpoint"]
    body = {"members": [{"id": user_id(graph, "max@contoso.example")}]}
    throttled = connector.call("POST", json=body)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    assert throttled.json()["error"]["code"] == "Throttled"
    assert connector.call("POST", json=body).status_code == 201
