"""The Graph client against a small fake Graph (httpx.MockTransport): no network, no sleeping.

Plain pytest, no database. ``FakeGraph`` keeps a little state (users, team members, permissions,
Planner tasks with ETags, upload sessions), answers with bodies shaped like Graph's documented
examples, and can be told to fail the next calls to a path (``graph.fail(...)``) or sub-requests
of ``$batch`` (``graph.batch_faults``). ``test_upload.py`` uses it too.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json
import logging
import re
from collections import defaultdict, deque
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from gigbridge.integrations.msgraph import conformance
from gigbridge.integrations.msgraph.client import GraphClient, WithEtag
from gigbridge.integrations.msgraph.errors import (
    BadRequest,
    Conflict,
    FailedDependency,
    Forbidden,
    GraphError,
    NotFound,
    PermanentGraphError,
    PreconditionFailed,
    RetryableGraphError,
    Unauthorized,
)
from gigbridge.integrations.outbound.ratelimit import InProcessTokenBucket
from gigbridge.jobs.errors import PermanentError, RetryableError

HOST = "graph.test"
BASE = f"https://{HOST}/v1.0"
UPLOAD_HOST = "upload.graph.test"
# Looks like a real JWT so the redaction and "never logged" checks mean something.
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJncmFwaCJ9.c2lnbmF0dXJlLXNlY3JldA"
NOW = 1_800_000_000.0  # the fake wall clock, 2027-01-15

USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GUEST_ID = "243b1de4-ad9f-421c-a933-d55305fb165d"
TEAM_ID = "ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062"
CHANNEL_ID = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
PLAN_ID = "xqQg5FS2LkCp935s-FIFm2QAFkHM"
BUCKET_ID = "gcrYAaAkgU2EQUvpkNNXLGQAGTtu"
DRIVE_ID = "b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd"
FOLDER_ID = "01NKDM7HNBFNI3FOYIXFC3TOZZHYMMRYLX"
ITEM_ID = "01NKDM7HMOJTVYMDOSXFDK2QJDXCDI3WUK"


# -- the fake Graph -----------------------------------------------------------------------------


def graph_error(status: int, code: str, message: str, headers: dict | None = None):
    request_id = f"err-{status}-{code}"
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"request-id": request_id, "date": "2027-01-15T08:00:00"},
        }
    }
    return httpx.Response(status, json=body, headers={"request-id": request_id, **(headers or {})})


class FakeGraph:
    """Enough of Graph v1.0 for the client's helpers, with fault injection."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.faults: dict[tuple[str, str], deque] = defaultdict(deque)
        self.batch_faults: dict[str, deque] = defaultdict(deque)  # sub-request id -> answers
        self.batch_sizes: list[int] = []
        self.request_ids = itertools.count(1)
        self.users = {
            USER_ID: {
                "id": USER_ID,
                "displayName": "Adele Vance",
                "mail": "AdeleV@contoso.com",
                "userPrincipalName": "AdeleV@contoso.com",
                "userType": "Member",
                "accountEnabled": True,
            },
            GUEST_ID: {
                "id": GUEST_ID,
                "displayName": "Robin O'Neil",
                "mail": "robin.o'neil@example.com",
                "userPrincipalName": "robin.o'neil_example.com#EXT#@contoso.onmicrosoft.com",
                "userType": "Guest",
                "externalUserState": "PendingAcceptance",
                "accountEnabled": True,
            },
        }
        for n in range(7):  # more people, for paging
            user_id = f"00000000-0000-4000-8000-{n:012d}"
            self.users[user_id] = {"id": user_id, "displayName": f"Person {n}", "mail": None}
        self.members: dict[str, dict] = {}
        self.permissions: dict[str, dict] = {
            "aTowIy5mfG1lbWJlcnNoaXA": {
                "id": "aTowIy5mfG1lbWJlcnNoaXA",
                "roles": ["write"],
                "grantedToV2": {"user": {"id": USER_ID, "displayName": "Adele Vance"}},
            }
        }
        self.tasks: dict[str, dict] = {}
        self.task_versions = itertools.count(1)
        self.mail: list[dict] = []
        self.uploads: dict[str, dict] = {}
        self.items: dict[str, dict] = {}

    # -- plumbing --

    def fail(self, method: str, path: str, *answers) -> None:
        """The next calls of ``method path`` (path under /v1.0, or the upload URL's path) get
        these answers (httpx.Response or an exception to raise) before the normal one."""
        self.faults[(method, path)].extend(answers)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def sent(self, method: str | None = None, path_prefix: str = "") -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and self.path(r).startswith(path_prefix)
        ]

    @staticmethod
    def path(request: httpx.Request) -> str:
        path = request.url.path
        return path.removeprefix("/v1.0") if request.url.host == HOST else path

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.faults.get((request.method, self.path(request)))
        if queue:
            answer = queue.popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        response = self.handle(request)
        response.headers.setdefault("request-id", f"req-{next(self.request_ids)}")
        if "client-request-id" in request.headers:
            response.headers["client-request-id"] = request.headers["client-request-id"]
        return response

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == UPLOAD_HOST:
            if "authorization" in request.headers:
                return graph_error(400, "invalidRequest", "upload URLs take no Authorization")
            return self.upload(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        return self.route(
            request.method,
            self.path(request),
            dict(request.url.params),
            json.loads(request.content) if request.content else None,
            request.headers,
        )

    # -- routes --

    def route(self, method, path, params, body, headers) -> httpx.Response:  # noqa: C901
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "POST" and path == "/$batch":
            return self.batch(body, headers)
        if parts[0] == "invitations" and method == "POST":
            return httpx.Response(201, json=self.invitation(body))
        if parts[0] == "users":
            if len(parts) == 1 and method == "GET":
                return self.list_users(params)
            user = self.users.get(parts[1])
            if user is None:
                return graph_error(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{parts[1]}' "
                    "does not exist or one of its queried reference-property "
                    "objects are not present.",
                )
            if len(parts) == 2 and method == "GET":
                return httpx.Response(
                    200, json={"@odata.context": f"{BASE}/$metadata#users/$entity", **user}
                )
            if len(parts) == 2 and method == "DELETE":
                del self.users[parts[1]]
                return httpx.Response(204)
            if parts[2:] == ["sendMail"] and method == "POST":
                self.mail.append(body)
                return httpx.Response(202)
        if parts[0] == "teams":
            scope = "/".join(parts[1:-1]) if parts[-1] == "members" else ""
            if parts[-1] == "members" and method == "POST":
                return self.add_member(scope, body)
            if parts[-1] == "members" and method == "GET":
                return self.page([m for m in self.members.values() if m["_scope"] == scope])
            if parts[-2] == "members" and method == "DELETE":
                if self.members.pop(parts[-1], None) is None:
                    return graph_error(404, "NotFound", "membership not found")
                return httpx.Response(204)
        if parts[0] == "drives":
            return self.drive(method, parts, body)
        if parts[0] == "planner":
            return self.planner(method, parts, body, headers)
        return graph_error(400, "BadRequest", f"Unsupported request: {method} {path}")

    def page(self, values: list[dict]) -> httpx.Response:
        values = [{k: v for k, v in value.items() if not k.startswith("_")} for value in values]
        return httpx.Response(200, json={"@odata.context": f"{BASE}/$metadata#x", "value": values})

    def list_users(self, params) -> httpx.Response:
        users = list(self.users.values())
        filter_ = params.get("$filter")
        if filter_:
            match = re.fullmatch(r"mail eq '((?:[^']|'')*)'", filter_)
            if not match:
                return graph_error(400, "Request_UnsupportedQuery", "Unsupported query.")
            wanted = match.group(1).replace("''", "'").lower()
            users = [u for u in users if (u.get("mail") or "").lower() == wanted]
        top = int(params.get("$top", 100))
        start = int(params.get("$skiptoken", 0))
        body = {"@odata.context": f"{BASE}/$metadata#users", "value": users[start : start + top]}
        if start + top < len(users):
            body["@odata.nextLink"] = f"{BASE}/users?$top={top}&$skiptoken={start + top}"
        return httpx.Response(200, json=body)

    def invitation(self, body) -> dict:
        user_id = "7b92124c-9fa9-406f-8b8e-225df8376ba9"
        self.users[user_id] = {
            "id": user_id,
            "mail": body["invitedUserEmailAddress"],
            "userType": "Guest",
            "displayName": body.get("invitedUserDisplayName"),
        }
        return {
            "@odata.context": f"{BASE}/$metadata#invitations/$entity",
            "id": "a1b2c3d4-0000-4000-8000-000000000001",
            "inviteRedeemUrl": "https://invitations.microsoft.com/redeem/?tenant=t&user=u",
            "invitedUserDisplayName": body.get("invitedUserDisplayName"),
            "invitedUserType": "Guest",
            "invitedUserEmailAddress": body["invitedUserEmailAddress"],
            "sendInvitationMessage": body.get("sendInvitationMessage", False),
            "resetRedemption": False,
            "inviteRedirectUrl": body["inviteRedirectUrl"],
            "status": "PendingAcceptance",
            "invitedUser": {"id": user_id},
        }

    def add_member(self, scope: str, body) -> httpx.Response:
        bound = re.fullmatch(r".*/users\('([^']+)'\)", body.get("user@odata.bind", ""))
        if not bound or bound.group(1) not in self.users:
            return graph_error(404, "NotFound", "user not found")
        user = self.users[bound.group(1)]
        membership_id = f"MCMjMiMj{len(self.members) + 1:04d}"
        member = {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": membership_id,
            "displayName": user.get("displayName"),
            "roles": body.get("roles", []),
            "userId": user["id"],
            "email": user.get("mail"),
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "_scope": scope,
        }
        self.members[membership_id] = member
        shown = {k: v for k, v in member.items() if not k.startswith("_")}
        return httpx.Response(201, json=shown)

    def drive(self, method, parts, body) -> httpx.Response:
        # /drives/{d}/items/{i}/invite | permissions[/{p}] | {parent}:/{name}:/createUploadSession
        rest = parts[4:]
        if rest == ["invite"] and method == "POST":
            permission_id = f"perm{len(self.permissions) + 1}"
            permission = {
                "@odata.type": "#microsoft.graph.permission",
                "id": permission_id,
                "roles": body["roles"],
                "grantedTo": {"user": {"email": body["recipients"][0]["email"], "id": GUEST_ID}},
                "invitation": {"email": body["recipients"][0]["email"], "signInRequired": True},
                "expirationDateTime": body.get("expirationDateTime"),
            }
            self.permissions[permission_id] = permission
            return httpx.Response(200, json={"value": [permission]})
        if rest == ["permissions"] and method == "GET":
            return self.page(list(self.permissions.values()))
        if rest[:1] == ["permissions"] and method == "DELETE":
            if self.permissions.pop(rest[1], None) is None:
                return graph_error(404, "itemNotFound", "The permission does not exist")
            return httpx.Response(204)
        joined = "/".join(parts[3:])
        match = re.fullmatch(r"(.+):/(.+):/(createUploadSession|content)", "/".join(parts[2:]))
        if match and match.group(3) == "createUploadSession" and method == "POST":
            return self.create_upload_session(match.group(2), body)
        if match and match.group(3) == "content" and method == "PUT":
            item = self.drive_item(match.group(2), b"")
            return httpx.Response(201, json=item)
        return graph_error(400, "invalidRequest", f"Unsupported drive request {joined}")

    def planner(self, method, parts, body, headers) -> httpx.Response:
        if parts[1:] == ["tasks"] and method == "POST":
            task_id = f"01gzSlKkIUSUl6DF_EilrmQAK{len(self.tasks) + 1:03d}"
            task = {
                "id": task_id,
                "planId": body["planId"],
                "bucketId": body["bucketId"],
                "title": body["title"],
                "percentComplete": 0,
                "priority": 5,
                "createdDateTime": "2027-01-15T08:00:00Z",
                "assignments": {
                    uid: {
                        "@odata.type": "#microsoft.graph.plannerAssignment",
                        "assignedBy": {"user": {"id": USER_ID}},
                        "assignedDateTime": "2027-01-15T08:00:00Z",
                        "orderHint": "8585269241124848266P^",
                    }
                    for uid in body.get("assignments", {})
                },
            }
            self.tasks[task_id] = task
            self._new_version(task_id)
            return httpx.Response(201, json=self.tasks[task_id])
        task_id = parts[2]
        if task_id not in self.tasks:
            return graph_error(404, "NotFound", "The requested item is not found.")
        task = self.tasks[task_id]
        if method == "GET":
            return httpx.Response(200, json=task, headers={"ETag": task["@odata.etag"]})
        if_match = headers.get("if-match")
        if not if_match:
            return graph_error(400, "MissingIfMatch", "The If-Match header is required.")
        if if_match != task["@odata.etag"]:
            return graph_error(412, "PreconditionFailed", "The request is stale.")
        if method == "DELETE":
            del self.tasks[task_id]
            return httpx.Response(204)
        if method == "PATCH":
            task.update(body)
            self._new_version(task_id)
            if headers.get("prefer") == "return=representation":
                return httpx.Response(200, json=task, headers={"ETag": task["@odata.etag"]})
            return httpx.Response(204, headers={"ETag": task["@odata.etag"]})
        return graph_error(405, "MethodNotAllowed", "no")

    def _new_version(self, task_id: str) -> None:
        version = next(self.task_versions)
        self.tasks[task_id]["@odata.etag"] = f'W/"JzEtVGFzayAgQEBAQEBAQEBAQEBA{version:04d}Cc="'

    # -- $batch --

    def batch(self, body, headers) -> httpx.Response:
        requests = body["requests"]
        self.batch_sizes.append(len(requests))
        if len(requests) > 20:
            return graph_error(400, "BadRequest", "Too many requests in the batch (max 20).")
        ids = {r["id"] for r in requests}
        status: dict[str, int] = {}
        responses = []
        for sub in requests:  # dependsOn only points backwards in what the client sends
            depends = sub.get("dependsOn") or []
            assert set(depends) <= ids, "dependsOn must stay within one batch"
            if any(not 200 <= status[d] < 300 for d in depends):
                answer = {
                    "id": sub["id"],
                    "status": 424,
                    "body": {"error": {"code": "FailedDependency", "message": "dependency failed"}},
                }
            elif self.batch_faults.get(sub["id"]):
                answer = {"id": sub["id"], **self.batch_faults[sub["id"]].popleft()}
            else:
                parsed = urlsplit(sub["url"])
                params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                sub_headers = httpx.Headers(sub.get("headers") or {})
                result = self.route(
                    sub["method"], parsed.path, params, sub.get("body"), sub_headers
                )
                answer = {
                    "id": sub["id"],
                    "status": result.status_code,
                    "headers": {"Content-Type": "application/json"},
                    "body": json.loads(result.content) if result.content else None,
                }
            status[sub["id"]] = answer["status"]
            responses.append(answer)
        responses.reverse()  # Graph answers in any order
        return httpx.Response(200, json={"responses": responses})

    # -- upload sessions --

    def drive_item(self, name: str, data: bytes) -> dict:
        item = {
            "id": ITEM_ID,
            "name": name,
            "size": len(data),
            "file": {"mimeType": "application/octet-stream"},
            "createdDateTime": "2027-01-15T08:00:00Z",
            "lastModifiedDateTime": "2027-01-15T08:00:00Z",
            "parentReference": {"driveId": DRIVE_ID, "id": FOLDER_ID},
        }
        self.items[name] = {"item": item, "data": data}
        return item

    def create_upload_session(self, name, body) -> httpx.Response:
        session_id = f"fe6987415ace7X4e1eF86633{len(self.uploads) + 1}"
        self.uploads[session_id] = {
            "name": name,
            "received": bytearray(),
            "size": None,
            "body": body,
            "cancelled": False,
            "chunks": [],
        }
        return httpx.Response(
            200,
            json={
                "@odata.context": f"{BASE}/$metadata#microsoft.graph.uploadSession",
                "uploadUrl": f"https://{UPLOAD_HOST}/up/{session_id}?tempauth=c2VjcmV0LXRlbXBhdXRo",
                "expirationDateTime": "2027-01-16T08:00:00.523Z",
                "nextExpectedRanges": ["0-"],
            },
        )

    def upload(self, request: httpx.Request) -> httpx.Response:
        session_id = request.url.path.rsplit("/", 1)[-1]
        session = self.uploads.get(session_id)
        if session is None or session["cancelled"]:
            return graph_error(404, "itemNotFound", "The upload session was not found")
        received = session["received"]
        if request.method == "DELETE":
            session["cancelled"] = True
            return httpx.Response(204)
        if request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "expirationDateTime": "2027-01-16T08:00:00.523Z",
                    "nextExpectedRanges": [f"{len(received)}-"],
                },
            )
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", ""))
        if not match:
            return graph_error(400, "invalidRange", "Content-Range is missing or malformed")
        start, end, size = (int(g) for g in match.groups())
        data = request.content
        session["chunks"].append((start, end, len(data)))
        if len(data) != end - start + 1 or end >= size:
            return graph_error(400, "invalidRange", "Content-Range does not match the body")
        if start != len(received):
            return graph_error(416, "invalidRange", "The uploaded fragment overlaps or skips")
        is_last = end == size - 1
        if not is_last and len(data) % (320 * 1024):
            return graph_error(400, "invalidChunk", "Chunks must be multiples of 320 KiB")
        received.extend(data)
        if is_last:
            return httpx.Response(201, json=self.drive_item(session["name"], bytes(received)))
        return httpx.Response(
            202,
            json={
                "expirationDateTime": "2027-01-16T08:00:00.523Z",
                "nextExpectedRanges": [f"{len(received)}-{size - 1}"],
            },
        )


class FakeTokens:
    def __init__(self):
        self.calls = 0

    def token(self) -> str:
        self.calls += 1
        return TOKEN


class FakeTime:
    """Sleeping moves this clock; tests read what was slept."""

    def __init__(self, start: float = NOW):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class Bodies:
    """The on_body hook: records (type, body, direction)."""

    def __init__(self):
        self.seen: list[tuple[str, object, str]] = []

    def __call__(self, type_name, body, direction):
        self.seen.append((type_name, json.loads(json.dumps(body)), direction))

    def types(self, direction: str) -> list[str]:
        return [t for t, _, d in self.seen if d == direction]


def check_body(type_name: str, body, direction: str) -> list[str]:
    """The conformance check named by an on_body type name (see client.py)."""
    if "/" in type_name:
        binding, action = type_name.split("/")
        if direction == "request":
            return conformance.validate_action(binding, action, body)
        return conformance.validate_action_result(binding, action, body)
    if type_name.startswith("Collection("):
        return conformance.validate_collection_response(type_name[len("Collection(") : -1], body)
    return conformance.validate(type_name, body, direction=direction)


@pytest.fixture
def graph():
    return FakeGraph()


@pytest.fixture
def clock():
    return FakeTime()


@pytest.fixture
def bodies():
    return Bodies()


def build_client(graph: FakeGraph, clock: FakeTime, bodies: Bodies, **options) -> GraphClient:
    """A GraphClient on the fake Graph: fake tokens, fake time, no limiter, fixed jitter."""
    options.setdefault("limiter", None)
    options.setdefault("rng", lambda: 0.5)
    return GraphClient(
        BASE,
        FakeTokens(),
        verify=True,
        sleep=clock.sleep,
        now=clock,
        on_body=bodies,
        transport=graph.transport(),
        **options,
    )


@pytest.fixture
def make_client(graph, clock, bodies):
    return lambda **options: build_client(graph, clock, bodies, **options)


@pytest.fixture
def client(make_client):
    return make_client()


def throttled(seconds="3"):
    return graph_error(429, "TooManyRequests", "Too many requests.", {"Retry-After": seconds})


# -- retries ------------------------------------------------------------------------------------


def test_get_retried_after_429_honouring_retry_after_seconds(client, graph, clock):
    graph.fail("GET", f"/users/{USER_ID}", throttled("3"), throttled("1.5"))
    assert client.get_user(USER_ID)["displayName"] == "Adele Vance"
    assert clock.sleeps == [3.0, 1.5]
    assert len(graph.sent("GET", "/users/")) == 3
    # One logical request: the same client-request-id on every attempt.
    assert len({r.headers["client-request-id"] for r in graph.sent("GET", "/users/")}) == 1


def test_retry_after_as_an_http_date(client, graph, clock):
    when = email.utils.formatdate(NOW + 7, usegmt=True)
    graph.fail("GET", f"/users/{USER_ID}", throttled(when))
    client.get_user(USER_ID)
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("status", [503, 504])
def test_unavailable_without_retry_after_backs_off_exponentially(make_client, graph, clock, status):
    client = make_client(rng=lambda: 1.0)
    fault = graph_error(status, "serviceNotAvailable", "try later")
    graph.fail("GET", f"/users/{USER_ID}", fault, fault, fault)
    client.get_user(USER_ID)
    assert clock.sleeps == [0.5, 1.0, 2.0]  # base 0.5 s, doubling; rng=1 takes the full ceiling


def test_backoff_has_jitter(make_client):
    low, high = make_client(rng=lambda: 0.0), make_client(rng=lambda: 0.999)
    assert low.backoff(3) == 1.0 and 1.99 < high.backoff(3) < 2.0
    assert make_client(rng=lambda: 1.0).backoff(20) == 30  # capped


def test_timeouts_and_connection_errors_are_retried_for_get(client, graph, clock):
    graph.fail(
        "GET",
        f"/users/{USER_ID}",
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
    )
    assert client.get_user(USER_ID)["id"] == USER_ID
    assert len(clock.sleeps) == 2


def test_gives_up_after_max_retries(make_client, graph, clock):
    client = make_client(max_retries=2)
    graph.fail("GET", "/users/x", *[throttled("1")] * 5)
    with pytest.raises(RetryableGraphError) as caught:
        client.get_json("/users/x")
    assert caught.value.status == 429 and caught.value.retry_after == 1
    assert len(graph.sent("GET", "/users/x")) == 3
    assert clock.sleeps == [1, 1]


def test_never_waits_more_than_max_wait_in_total(make_client, graph, clock):
    client = make_client(max_wait=60)
    graph.fail("GET", "/users/x", throttled("40"), throttled("40"))
    with pytest.raises(RetryableGraphError) as caught:
        client.get_json("/users/x")
    assert clock.sleeps == [40]  # a second 40 s wait would pass 60 s: left to the outbox
    assert caught.value.retry_after == 40
    assert isinstance(caught.value, RetryableError)  # what the outbox looks for


@pytest.mark.parametrize(
    "fault",
    [
        throttled("2"),
        graph_error(503, "serviceNotAvailable", "try later", {"Retry-After": "5"}),
        graph_error(504, "gatewayTimeout", "upstream timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["429", "503", "504", "timeout", "disconnect"],
)
def test_post_is_never_resent(client, graph, clock, fault):
    graph.fail("POST", f"/users/{USER_ID}/sendMail", fault)
    with pytest.raises(RetryableGraphError) as caught:
        client.send_mail(USER_ID, "robin@example.com", "Hello", "Welcome aboard")
    assert len(graph.sent("POST", "/users/")) == 1
    assert clock.sleeps == []
    assert graph.mail == []
    if isinstance(fault, httpx.Response) and "Retry-After" in fault.headers:
        assert caught.value.retry_after == float(fault.headers["Retry-After"])


def test_post_marked_idempotent_is_retried(client, graph, clock):
    graph.fail("POST", "/invitations", throttled("2"))
    body = {"invitedUserEmailAddress": "a@example.com", "inviteRedirectUrl": "https://x.test"}
    assert client.post_json("/invitations", body, idempotent=True)["status"]
    assert clock.sleeps == [2]


def test_500_and_502_are_raised_retryable_without_retrying(client, graph, clock):
    graph.fail("GET", "/users/x", graph_error(500, "generalException", "boom"))
    with pytest.raises(RetryableGraphError):
        client.get_json("/users/x")
    assert clock.sleeps == [] and len(graph.sent("GET", "/users/x")) == 1


# -- typed errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (412, PreconditionFailed),
        (405, PermanentGraphError),
        (500, RetryableGraphError),
        (502, RetryableGraphError),
    ],
)
def test_typed_errors_per_status_with_request_id(client, graph, status, cls):
    graph.fail(
        "GET",
        "/users/x",
        graph_error(status, f"code{status}", f"Graph said {status} Bearer {TOKEN}"),
    )
    with pytest.raises(GraphError) as caught:
        client.get_json("/users/x", {"$select": "secretive"})
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, RetryableError if status >= 500 else PermanentError)
    assert (error.status, error.code) == (status, f"code{status}")
    assert error.request_id == f"err-{status}-code{status}"
    assert error.method == "GET" and error.path == "/users/x"
    text = str(error)
    assert f"request-id err-{status}-code{status}" in text and f"code{status}" in text
    assert TOKEN not in text and "secretive" not in text and "innerError" not in text


def test_request_id_from_the_error_body_when_the_header_is_missing(client, graph):
    response = graph_error(404, "itemNotFound", "gone")
    del response.headers["request-id"]
    graph.fail("GET", "/users/x", response)
    with pytest.raises(NotFound) as caught:
        client.get_json("/users/x")
    assert caught.value.request_id == "err-404-itemNotFound"
    assert caught.value.date == "2027-01-15T08:00:00"


def test_errors_survive_pickling():
    import pickle

    error = RetryableGraphError(429, "TooMany", "slow down", "r-1", "GET", "/users", retry_after=9)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (type(copy), copy.retry_after, str(copy)) == (type(error), 9, str(error))


def test_tls_verification_cannot_be_turned_off():
    with pytest.raises(ValueError, match="TLS"):
        GraphClient(BASE, FakeTokens(), verify=False, limiter=None)
    with pytest.raises(ValueError, match="https"):
        GraphClient("http://graph.test/v1.0", FakeTokens(), verify=True, limiter=None)


# -- logging ------------------------------------------------------------------------------------


def test_one_log_line_per_attempt_without_token_query_or_body(client, graph, caplog):
    caplog.set_level(logging.INFO)
    graph.fail("GET", "/users", throttled("1"))
    assert client.find_user_by_mail("robin.o'neil@example.com")["id"] == GUEST_ID
    client.send_mail(USER_ID, ["robin@example.com"], "Secret subject", "Body text 12345")
    lines = [r.getMessage() for r in caplog.records if r.name == "gigbridge.integrations.msgraph"]
    assert len(lines) == 3
    assert re.fullmatch(
        r"graph GET /users 429 \d+ms request-id=err-429-TooManyRequests "
        r"client-request-id=[0-9a-f-]{36} attempt=1",
        lines[0],
    )
    assert re.fullmatch(r"graph GET /users 200 \d+ms request-id=req-\d+ .* attempt=2", lines[1])
    assert lines[2].startswith(f"graph POST /users/{USER_ID}/sendMail 202 ")
    # Nothing logged by anyone (httpx included) shows the token, the query or the body.
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (TOKEN, "Bearer", "neil", "filter", "Secret subject", "Body text", "robin@"):
        assert secret not in everything


# -- paging -------------------------------------------------------------------------------------


def test_iterate_follows_next_links_across_three_pages(client, graph, bodies):
    users = list(client.iterate("/users", {"$top": "3"}, type_name="user"))
    assert len(users) == 9 and len({u["id"] for u in users}) == 9
    pages = graph.sent("GET", "/users")
    assert len(pages) == 3
    assert pages[0].url.params["$top"] == "3"
    assert pages[2].url.params["$skiptoken"] == "6"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in pages)
    assert bodies.types("response") == ["Collection(user)"] * 3


def test_iterate_refuses_a_next_link_on_another_host(client, graph):
    page = {"value": [{"id": "1"}], "@odata.nextLink": "https://evil.test/v1.0/users?$skiptoken=1"}
    graph.fail("GET", "/users", httpx.Response(200, json=page))
    found = client.iterate("/users")
    assert next(found) == {"id": "1"}
    with pytest.raises(PermanentGraphError, match="refusing to send the token"):
        next(found)
    assert all(r.url.host == HOST for r in graph.requests)


def test_iterate_stops_a_next_link_loop(client, graph):
    page = {"value": [], "@odata.nextLink": f"{BASE}/users?$skiptoken=1"}
    graph.fail("GET", "/users", *[httpx.Response(200, json=page)] * 3)
    with pytest.raises(PermanentGraphError, match="nextLink"):
        list(client.iterate("/users"))


# -- $batch -------------------------------------------------------------------------------------


def test_batch_of_45_goes_in_chunks_of_20_and_maps_answers_by_id(client, graph):
    user_ids = list(graph.users)
    requests = [
        {"id": f"r{n}", "method": "GET", "url": f"/users/{user_ids[n % len(user_ids)]}"}
        for n in range(44)
    ] + [{"id": "missing", "method": "GET", "url": "/users/nobody"}]
    results = client.batch(requests)
    assert graph.batch_sizes == [20, 20, 5]
    assert list(results) == [r["id"] for r in requests]
    for n in range(44):
        assert results[f"r{n}"].ok
        assert results[f"r{n}"].body["id"] == user_ids[n % len(user_ids)]
    assert isinstance(results["missing"].error, NotFound)
    assert results["missing"].error.path == "/users/nobody"


def test_batch_retries_sub_requests_answered_429(client, graph, clock):
    graph.batch_faults["b"].extend(
        [
            {"status": 429, "headers": {"Retry-After": "4"}, "body": throttled().json()},
            {"status": 429, "headers": {"Retry-After": "2"}, "body": throttled().json()},
        ]
    )
    results = client.batch(
        [
            {"id": "a", "method": "GET", "url": f"/users/{USER_ID}"},
            {"id": "b", "method": "GET", "url": f"/users/{GUEST_ID}"},
        ]
    )
    assert results["a"].ok and results["b"].ok
    assert results["b"].body["id"] == GUEST_ID
    assert graph.batch_sizes == [2, 1, 1]  # only the throttled one goes again
    assert clock.sleeps == [4, 2]


def test_batch_gives_up_on_429_after_max_retries(make_client, graph, clock):
    client = make_client(max_retries=1)
    answer = {"status": 429, "headers": {"Retry-After": "1"}, "body": throttled().json()}
    graph.batch_faults["a"].extend([answer, answer, answer])
    results = client.batch(
        [
            {"id": "a", "method": "GET", "url": f"/users/{USER_ID}"},
            {"id": "b", "method": "DELETE", "url": f"/users/{GUEST_ID}", "dependsOn": ["a"]},
        ]
    )
    assert isinstance(results["a"].error, RetryableGraphError)
    assert results["a"].error.retry_after == 1
    # b was not run because a was throttled: retryable too, not a permanent failure.
    assert results["b"].status == 424 and isinstance(results["b"].error, RetryableGraphError)
    assert graph.batch_sizes == [2, 2]
    assert GUEST_ID in graph.users


def test_batch_keeps_depends_on_chains_together_and_reports_424(client, graph, clock):
    # 15 independent reads, then a chain of 8, then a chain of 10 whose head fails.
    requests = [{"id": f"i{n}", "method": "GET", "url": f"/users/{USER_ID}"} for n in range(15)]
    requests += [
        {
            "id": f"c{n}",
            "method": "GET",
            "url": f"/users/{USER_ID}",
            **({"dependsOn": [f"c{n - 1}"]} if n else {}),
        }
        for n in range(8)
    ]
    requests += [{"id": "f0", "method": "GET", "url": "/users/nobody"}]
    requests += [
        {"id": f"f{n}", "method": "GET", "url": f"/users/{USER_ID}", "dependsOn": [f"f{n - 1}"]}
        for n in range(1, 10)
    ]
    results = client.batch(requests)
    # Chunks: 15 + (chain of 8 does not fit: 23) -> first chunk gets 15 reads;
    # chain of 8 + chain of 10 share the second.
    assert graph.batch_sizes == [15, 18]
    assert all(results[f"c{n}"].ok for n in range(8))
    assert isinstance(results["f0"].error, NotFound)
    for n in range(1, 10):
        error = results[f"f{n}"].error
        assert results[f"f{n}"].status == 424 and isinstance(error, FailedDependency)
        assert isinstance(error, PermanentError)


def test_batch_resends_dependents_of_a_throttled_request(client, graph, clock):
    graph.batch_faults["b"].append({"status": 429, "headers": {"Retry-After": "3"}})
    results = client.batch(
        [
            {"id": "a", "method": "GET", "url": f"/users/{USER_ID}"},
            {"id": "b", "method": "GET", "url": f"/users/{GUEST_ID}", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": f"/users/{USER_ID}", "dependsOn": ["b"]},
        ]
    )
    assert all(r.ok for r in results.values())
    assert graph.batch_sizes == [3, 2] and clock.sleeps == [3]
    second = json.loads(graph.sent("POST", "/$batch")[1].content)["requests"]
    assert [(r["id"], r.get("dependsOn")) for r in second] == [("b", None), ("c", ["b"])]


def test_batch_refuses_chains_longer_than_20_and_bad_references(client, graph):
    chain = [{"id": "0", "method": "GET", "url": "/users/x"}] + [
        {"id": str(n), "method": "GET", "url": "/users/x", "dependsOn": [str(n - 1)]}
        for n in range(1, 21)
    ]
    with pytest.raises(ValueError, match="at most 20"):
        client.batch(chain)
    with pytest.raises(ValueError, match="unknown"):
        client.batch([{"id": "a", "method": "GET", "url": "/x", "dependsOn": ["zz"]}])
    with pytest.raises(ValueError, match="cycle"):
        client.batch(
            [
                {"id": "a", "method": "GET", "url": "/x", "dependsOn": ["b"]},
                {"id": "b", "method": "GET", "url": "/x", "dependsOn": ["a"]},
            ]
        )
    with pytest.raises(ValueError, match="duplicate"):
        client.batch([{"id": "a", "url": "/x"}, {"id": "a", "url": "/y"}])
    assert graph.requests == []


def test_batch_post_is_resent_only_when_every_sub_request_is_idempotent(client, graph, clock):
    graph.fail("POST", "/$batch", throttled("1"))
    reads = [{"id": "1", "method": "GET", "url": f"/users/{USER_ID}"}]
    assert client.batch(reads)["1"].ok
    assert clock.sleeps == [1]
    graph.fail("POST", "/$batch", throttled("1"))
    writes = [
        {
            "id": "1",
            "method": "POST",
            "url": "/invitations",
            "body": {
                "invitedUserEmailAddress": "a@example.com",
                "inviteRedirectUrl": "https://x.test",
            },
        }
    ]
    with pytest.raises(RetryableGraphError):
        client.batch(writes)
    assert clock.sleeps == [1]
    body = json.loads(graph.sent("POST", "/$batch")[-1].content)["requests"][0]
    assert body["headers"] == {"Content-Type": "application/json"}


# -- ETags (Planner) ----------------------------------------------------------------------------


def test_planner_update_sends_if_match_and_412_is_precondition_failed(client, graph):
    created = client.create_task(PLAN_ID, BUCKET_ID, "Review deliverable", [GUEST_ID])
    assert isinstance(created, WithEtag) and created.etag.startswith('W/"')
    task_id = created.body["id"]
    current = client.get_task(task_id)
    assert current.etag == created.etag
    updated = client.update_task(task_id, current.etag, {"percentComplete": 50})
    patch = graph.sent("PATCH")[-1]
    assert patch.headers["if-match"] == current.etag
    assert updated.body["percentComplete"] == 50 and updated.etag != current.etag
    with pytest.raises(PreconditionFailed) as caught:
        client.update_task(task_id, current.etag, {"percentComplete": 100})  # stale
    assert caught.value.status == 412 and isinstance(caught.value, PermanentError)
    assert len(graph.sent("PATCH")) == 2  # a 412 is not retried
    with pytest.raises(PreconditionFailed):
        client.delete_task(task_id, current.etag)
    client.delete_task(task_id, updated.etag)
    assert graph.sent("DELETE")[-1].headers["if-match"] == updated.etag
    assert task_id not in graph.tasks


def test_etag_is_required_before_anything_is_sent(client, graph):
    with pytest.raises(ValueError, match="ETag"):
        client.update_task("t1", "", {"title": "x"})
    with pytest.raises(ValueError, match="ETag"):
        client.delete_task("t1", None)
    with pytest.raises(ValueError, match="ETag"):
        client.patch_json("/planner/tasks/t1", {"title": "x"}, require_etag=True)
    assert graph.requests == []


def test_plain_patch_and_delete_send_if_match_only_when_given(client, graph):
    graph.fail("PATCH", "/users/x", httpx.Response(204))
    graph.fail("DELETE", "/users/x", httpx.Response(204))
    assert client.patch_json("/users/x", {"displayName": "X"}) is None
    client.delete("/users/x")
    assert all("if-match" not in r.headers for r in graph.requests)


# -- typed helpers ------------------------------------------------------------------------------


def test_find_user_by_mail_escapes_quotes(client, graph):
    user = client.find_user_by_mail("robin.o'neil@example.com")
    assert user["id"] == GUEST_ID
    assert graph.requests[-1].url.params["$filter"] == "mail eq 'robin.o''neil@example.com'"
    assert client.find_user_by_mail("nobody@example.com") is None


def test_ids_are_escaped_in_paths(client, graph):
    with pytest.raises(NotFound):
        client.get_user("robin_example.com#EXT#@contoso.onmicrosoft.com")
    assert graph.requests[-1].url.raw_path.endswith(
        b"/users/robin_example.com%23EXT%23@contoso.onmicrosoft.com"
    )


def exercise_every_helper(client: GraphClient, graph: FakeGraph) -> None:
    invitation = client.invite_guest(
        "robin@example.com",
        "https://teams.microsoft.com",
        "Robin Freelancer",
        "Welcome to the brand refresh team.",
    )
    guest_id = invitation["invitedUser"]["id"]
    client.get_user(guest_id)
    client.find_user_by_mail("robin@example.com")
    member = client.add_team_member(TEAM_ID, guest_id, ["guest"])
    client.add_channel_member(TEAM_ID, CHANNEL_ID, guest_id)
    assert [m["id"] for m in client.list_team_members(TEAM_ID)] == [member["id"]]
    client.remove_team_member(TEAM_ID, member["id"])
    client.send_mail(USER_ID, ["robin@example.com", "adele@example.com"], "Welcome", "Hello!")
    expires = dt.datetime(2027, 3, 31, 18, 0, tzinfo=dt.UTC)
    permissions = client.invite_to_drive_item(
        DRIVE_ID, FOLDER_ID, "robin@example.com", "write", expires
    )
    assert permissions[0]["expirationDateTime"] == "2027-03-31T18:00:00Z"
    assert len(client.list_permissions(DRIVE_ID, FOLDER_ID)) == 2
    client.delete_permission(DRIVE_ID, FOLDER_ID, permissions[0]["id"])
    task = client.create_task(PLAN_ID, BUCKET_ID, "Deliver the logo", [guest_id])
    task = client.get_task(task.body["id"])
    task = client.update_task(task.body["id"], task.etag, {"percentComplete": 100})
    client.delete_task(task.body["id"], task.etag)
    client.delete_user(guest_id)


def test_helpers_send_the_documented_requests(client, graph):
    exercise_every_helper(client, graph)
    calls = [(r.method, graph.path(r)) for r in graph.requests]
    assert calls == [
        ("POST", "/invitations"),
        ("GET", "/users/7b92124c-9fa9-406f-8b8e-225df8376ba9"),
        ("GET", "/users"),
        ("POST", f"/teams/{TEAM_ID}/members"),
        ("POST", f"/teams/{TEAM_ID}/channels/{CHANNEL_ID}/members"),
        ("GET", f"/teams/{TEAM_ID}/members"),
        ("DELETE", f"/teams/{TEAM_ID}/members/MCMjMiMj0001"),
        ("POST", f"/users/{USER_ID}/sendMail"),
        ("POST", f"/drives/{DRIVE_ID}/items/{FOLDER_ID}/invite"),
        ("GET", f"/drives/{DRIVE_ID}/items/{FOLDER_ID}/permissions"),
        ("DELETE", f"/drives/{DRIVE_ID}/items/{FOLDER_ID}/permissions/perm2"),
        ("POST", "/planner/tasks"),
        ("GET", "/planner/tasks/01gzSlKkIUSUl6DF_EilrmQAK001"),
        ("PATCH", "/planner/tasks/01gzSlKkIUSUl6DF_EilrmQAK001"),
        ("DELETE", "/planner/tasks/01gzSlKkIUSUl6DF_EilrmQAK001"),
        ("DELETE", "/users/7b92124c-9fa9-406f-8b8e-225df8376ba9"),
    ]
    member = json.loads(graph.sent("POST", f"/teams/{TEAM_ID}/members")[0].content)
    assert member == {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": ["guest"],
        "user@odata.bind": f"{BASE}/users('7b92124c-9fa9-406f-8b8e-225df8376ba9')",
    }
    invite = json.loads(graph.sent("POST", "/drives/")[0].content)
    assert invite == {
        "recipients": [{"email": "robin@example.com"}],
        "requireSignIn": True,
        "sendInvitation": True,
        "roles": ["write"],
        "expirationDateTime": "2027-03-31T18:00:00Z",
    }
    mail = graph.mail[0]
    assert mail["message"]["body"] == {"contentType": "text", "content": "Hello!"}
    assert [r["emailAddress"]["address"] for r in mail["message"]["toRecipients"]] == [
        "robin@example.com",
        "adele@example.com",
    ]
    assert graph.sent("PATCH")[0].headers["prefer"] == "return=representation"


def test_on_body_receives_the_typed_bodies(client, graph, bodies):
    exercise_every_helper(client, graph)
    assert bodies.types("request") == [
        "invitation",
        "conversationMember",
        "conversationMember",
        "user/sendMail",
        "driveItem/invite",
        "plannerTask",
        "plannerTask",
    ]
    assert bodies.types("response") == [
        "invitation",
        "user",
        "Collection(user)",
        "conversationMember",
        "conversationMember",
        "Collection(conversationMember)",
        "driveItem/invite",
        "Collection(permission)",
        "plannerTask",
        "plannerTask",
        "plannerTask",
    ]
    sent_invitation = bodies.seen[0][1]
    assert sent_invitation["invitedUserMessageInfo"] == {
        "customizedMessageBody": "Welcome to the brand refresh team."
    }


def test_every_body_the_helpers_send_conforms_to_graph_metadata(client, graph, bodies):
    exercise_every_helper(client, graph)
    problems = {}
    for type_name, body, direction in bodies.seen:
        # Requests strictly: a misspelt property name fails even on open types.
        if direction == "request" and "/" not in type_name:
            found = conformance.validate(type_name, body, direction="request", strict=True)
        else:
            found = check_body(type_name, body, direction)
        if found:
            problems[f"{direction} {type_name}"] = found
    assert problems == {}
    assert len(bodies.types("request")) == 7


def test_the_conformance_check_would_catch_a_bad_helper_body():
    bad = {"invitedUserEmailAddress": "a@example.com", "sendInvitationMessage": "yes", "foo": 1}
    problems = check_body("invitation", bad, "request")
    assert any("foo: unknown property" in p for p in problems)
    assert any("sendInvitationMessage: expected Edm.Boolean" in p for p in problems)


def test_limiter_token_taken_per_attempt(make_client, graph, clock):
    limiter = InProcessTokenBucket(rate=1, burst=2, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter)
    graph.fail("GET", f"/users/{USER_ID}", throttled("0"))
    client.get_user(USER_ID)  # two attempts: two tokens, the burst
    client.get_user(USER_ID)  # a third token: waits one second for it
    assert clock.sleeps == [0, 1.0]


def test_batch_takes_one_limiter_token_per_sub_request(make_client, graph):
    taken = []

    class Recorder:
        burst = 10

        def acquire(self, cost=1):
            taken.append(cost)

    client = make_client(limiter=Recorder())
    client.batch([{"id": str(n), "url": f"/users/{USER_ID}"} for n in range(25)])
    assert taken == [10, 5]  # 20 capped at the limiter's burst, then 5


def test_the_token_goes_only_to_graph(client, graph):
    client.get_user(USER_ID)
    assert graph.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(PermanentGraphError):
        client.get_json("https://elsewhere.test/v1.0/users")
    assert all(r.url.host == HOST for r in graph.requests)


# -- TokenProvider (MSAL) -----------------------------------------------------------------------


class MsalResponse:
    def __init__(self, status_code: int, body: dict | str = "", headers: dict | None = None):
        self.status_code = status_code
        self.text = body if isinstance(body, str) else json.dumps(body)
        self.headers = headers or {}

    def raise_for_status(self):
        if self.status_code >= 400:
            import requests

            raise requests.HTTPError(f"{self.status_code}")


class FakeEntra:
    """An Entra ID for MSAL's http_client: OIDC discovery and the token endpoint."""

    def __init__(self, authority: str):
        self.authority = authority
        self.calls: list[tuple[str, str]] = []
        self.posts: list[dict] = []
        self.issued = 0
        self.expires_in = 3600
        self.answers: deque = deque()  # answers (or exceptions) for the next calls

    def _next(self):
        if self.answers:
            answer = self.answers.popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        return None

    def get(self, url, params=None, headers=None, **kwargs):
        self.calls.append(("GET", url))
        answer = self._next()
        if answer is not None:
            return answer
        if url == f"{self.authority}/v2.0/.well-known/openid-configuration":
            return MsalResponse(
                200,
                {
                    "issuer": f"{self.authority}/v2.0",
                    "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
                    "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
                },
            )
        return MsalResponse(404, {"error": "not_found"})

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.calls.append(("POST", url))
        self.posts.append({"url": url, "data": dict(data or {}), "headers": dict(headers or {})})
        answer = self._next()
        if answer is not None:
            return answer
        self.issued += 1
        return MsalResponse(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "access_token": f"access-token-{self.issued}",
            },
        )

    def close(self):
        pass


SANDBOX_AUTHORITY = "https://127.0.0.1:8443/entra/contoso"
SECRET = "s3cr3t-client-value~with.chars"


def make_tokens(credential=SECRET, **options):
    from gigbridge.integrations.msgraph.auth import TokenProvider

    entra = FakeEntra(SANDBOX_AUTHORITY)
    options.setdefault("authority_host", "127.0.0.1:8443/entra")
    tokens = TokenProvider("contoso", "client-id-1", credential, http_client=entra, **options)
    return tokens, entra


def test_token_provider_discovers_the_sandbox_authority_and_caches_the_token():
    tokens, entra = make_tokens()
    assert tokens.authority == SANDBOX_AUTHORITY
    assert tokens.token() == "access-token-1"
    assert tokens.token() == "access-token-1"  # from MSAL's cache
    # MSAL's first call is OIDC discovery on the authority itself; nothing goes to Microsoft.
    assert entra.calls[0] == ("GET", f"{SANDBOX_AUTHORITY}/v2.0/.well-known/openid-configuration")
    assert all(url.startswith(SANDBOX_AUTHORITY) for _, url in entra.calls)
    assert [url for method, url in entra.calls if method == "POST"] == [
        f"{SANDBOX_AUTHORITY}/oauth2/v2.0/token"
    ]
    sent = entra.posts[0]
    assert sent["data"]["grant_type"] == "client_credentials"
    assert "https://graph.microsoft.com/.default" in sent["data"]["scope"]
    assert SECRET in repr(sent)  # the secret went to Entra ID (and nowhere else)


def test_token_provider_refreshes_a_token_close_to_expiry():
    tokens, entra = make_tokens()
    entra.expires_in = 120  # under MSAL's five-minute margin: treated as expiring
    assert tokens.token() == "access-token-1"
    assert tokens.token() == "access-token-2"


def test_token_provider_with_a_certificate_signs_a_client_assertion():
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    tokens, entra = make_tokens({"private_key": pem, "thumbprint": "A1B2C3D4E5F60718293A"})
    assert tokens.token() == "access-token-1"
    data = entra.posts[0]["data"]
    assert data["client_assertion_type"].endswith("jwt-bearer")
    claims = jwt.decode(
        data["client_assertion"],
        key.public_key(),
        algorithms=["RS256", "PS256"],
        audience=f"{SANDBOX_AUTHORITY}/oauth2/v2.0/token",
    )
    assert claims["iss"] == claims["sub"] == "client-id-1"
    assert "PRIVATE KEY" not in repr(entra.posts)


def test_token_provider_options_for_microsoft_and_for_the_sandbox(tmp_path):
    from gigbridge.integrations.msgraph.auth import TokenProvider

    ca = tmp_path / "ca.pem"
    sandbox = TokenProvider("contoso", "c", SECRET, authority_host="127.0.0.1:8443", verify=ca)
    options = sandbox.app_options()
    assert options["authority"] == "https://127.0.0.1:8443/contoso"
    assert options["verify"] == str(ca)
    assert options["instance_discovery"] is False and options["validate_authority"] is False
    real = TokenProvider("contoso.onmicrosoft.com", "c", SECRET)
    options = real.app_options()
    assert options["authority"] == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert options["verify"] is True
    assert "instance_discovery" not in options and "validate_authority" not in options
    assert SECRET not in repr(sandbox)
    with pytest.raises(ValueError, match="TLS"):
        TokenProvider("contoso", "c", SECRET, verify=False)
    with pytest.raises(ValueError, match="certificate"):
        TokenProvider("contoso", "c", {"private_key": "x"})


def test_token_provider_invalid_client_is_permanent_without_the_secret():
    tokens, entra = make_tokens()
    entra.answers.extend(
        [
            None,
            MsalResponse(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.\r\n"
                    f"Trace ID: 1\r\nCorrelation ID: corr-9 {SECRET}",
                    "error_codes": [7000215],
                    "correlation_id": "corr-9",
                },
            ),
        ]
    )
    with pytest.raises(PermanentGraphError) as caught:
        tokens.token()
    error = caught.value
    assert error.code == "invalid_client" and error.request_id == "corr-9"
    assert "AADSTS7000215" in str(error) and SECRET not in str(error)
    assert isinstance(error, PermanentError)


def test_token_provider_unauthorized_client_is_permanent():
    tokens, entra = make_tokens()
    entra.answers.extend([None, MsalResponse(400, {"error": "unauthorized_client"})])
    with pytest.raises(PermanentGraphError, match="unauthorized_client"):
        tokens.token()


def test_token_provider_network_errors_are_retryable_and_recover():
    import requests

    tokens, entra = make_tokens()
    entra.answers.append(requests.ConnectionError("connection refused"))  # discovery
    with pytest.raises(RetryableGraphError):
        tokens.token()
    entra.answers.extend([None, requests.ReadTimeout("slow")])  # discovery ok, token times out
    with pytest.raises(RetryableGraphError):
        tokens.token()
    entra.answers.append(MsalResponse(503, "busy"))
    with pytest.raises(RetryableGraphError):
        tokens.token()


def test_token_provider_recovers_after_a_network_error():
    import requests

    tokens, entra = make_tokens()
    entra.answers.append(requests.ConnectionError("connection refused"))
    with pytest.raises(RetryableGraphError):
        tokens.token()
    assert tokens.token() == "access-token-1"


def test_token_provider_unknown_tenant_is_permanent():
    tokens, entra = make_tokens()
    entra.answers.append(MsalResponse(400, {"error": "invalid_tenant"}))
    with pytest.raises(PermanentGraphError):
        tokens.token()


def test_graph_client_uses_the_token_provider(graph, clock):
    tokens, entra = make_tokens()
    client = GraphClient(
        BASE, tokens, verify=True, limiter=None, transport=graph.transport(), sleep=clock.sleep
    )
    with pytest.raises(Unauthorized):  # the fake Graph wants TOKEN, MSAL gave another
        client.get_user(USER_ID)
    assert graph.requests[-1].headers["authorization"] == "Bearer access-token-1"
