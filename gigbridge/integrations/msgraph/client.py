"""The one way Gigbridge talks to Microsoft Graph v1.0.

    client = GraphClient("https://graph.microsoft.com/v1.0", tokens, verify=True,
                         limiter=InProcessTokenBucket(rate=10, burst=20))
    user = client.find_user_by_mail("robin@example.com")
    task = client.get_task(task_id)                       # WithEtag(body, etag)
    client.update_task(task_id, task.etag, {"percentComplete": 100})

What every call gets, in one place (``request``):

- a rate-limiter token per attempt (``limiter.acquire``), shared by all workers when the limiter
  is the database bucket;
- ``Authorization: Bearer`` from the TokenProvider, sent only to ``base_url``'s origin (an
  ``@odata.nextLink`` on another host is refused; upload URLs get no token, as Graph documents);
- one log line per attempt at INFO: method, path without its query string, status, latency,
  ``request-id`` and ``client-request-id``, attempt number; never headers, tokens or bodies;
- retries, only where re-sending is safe: 429, 503, 504, timeouts and connection errors are
  retried for idempotent requests (GET, PUT, PATCH, DELETE; a POST only when the caller says
  ``idempotent=True``), honouring ``Retry-After`` (seconds or an HTTP date) or else exponential
  backoff with jitter, never sleeping more than ``max_wait`` seconds in all. A non-idempotent
  request is never re-sent: its failure is raised as ``RetryableGraphError`` so the outbox job
  can check what happened and then act on its next attempt;
- typed errors (``errors.py``) for everything else.

The limiter, the log line, the retry loop and the classification of failures are the shared
outbound layer's (``gigbridge.integrations.outbound``); this module says what is Graph's.

``on_body(type_name, body, direction)`` is called by the typed helpers with every JSON body they
send ("request") or receive ("response"), named so tests can hand it to ``conformance``:

    "user", "invitation", "conversationMember", "plannerTask", ...   validate(type, body)
    "Collection(user)"                                   validate_collection_response("user")
    "driveItem/invite", "user/sendMail"            validate_action / validate_action_result
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

import httpx

from gigbridge.integrations.outbound.classify import TransportFailure, strip_query
from gigbridge.integrations.outbound.http import Caller, CallerClient, new_client
from gigbridge.integrations.outbound.retry import Retrier, RetryKnobs, RetryPolicy

from .errors import (
    FailedDependency,
    GraphError,
    PermanentGraphError,
    RetryableGraphError,
    error_for_status,
)

log = logging.getLogger("gigbridge.integrations.msgraph")

GRAPH_V1 = "https://graph.microsoft.com/v1.0"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RETRIED_STATUSES = frozenset({429, 503, 504})
BATCH_LIMIT = 20  # Graph's JSON batching takes at most 20 requests
USER_AGENT = "Gigbridge (msgraph)"

BodyHook = Callable[[str, Any, str], None]


class WithEtag(NamedTuple):
    """A body with the ETag to send back in ``If-Match`` (Planner)."""

    body: dict | None
    etag: str | None


@dataclass
class BatchResponse:
    """One sub-response of ``$batch``; ``error`` is the typed error when it failed."""

    id: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    error: GraphError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def segment(value: Any) -> str:
    """One path segment, percent-encoded (guest UPNs contain ``#``)."""
    text = str(value)
    if not text:
        raise ValueError("an empty id cannot go into a Graph path")
    return quote(text, safe="@:!")


def odata_string(value: str) -> str:
    """A string literal for ``$filter``: single quotes doubled, as OData requires."""
    return "'" + str(value).replace("'", "''") + "'"


def _iso(value: dt.datetime | dt.date | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("expiration must be timezone-aware")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"


def _json_of(response: httpx.Response) -> Any:
    """The decoded JSON body, or None for an empty or non-JSON one."""
    if response.status_code == 204 or not response.content:
        return None
    if "json" not in response.headers.get("content-type", "json"):
        return None
    try:
        return response.json()
    except ValueError:
        return None


class GraphClient(CallerClient, RetryKnobs):
    """A Microsoft Graph client over one ``httpx.Client``; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        tokens: Any,
        *,
        verify: bool | str | PathLike,
        limiter: Any,
        timeout: float = 30,
        max_retries: int = 4,
        max_wait: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        on_body: BodyHook | None = None,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        backoff_base: float = 0.5,
        backoff_cap: float = 30,
    ):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(f"base_url must be an https URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc.lower())
        self._base_path = parts.path.rstrip("/")
        self.tokens = tokens
        self.on_body = on_body
        self.retrier = Retrier(
            RetryPolicy(
                statuses=RETRIED_STATUSES,
                max_retries=max_retries,
                max_wait=max_wait,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
            ),
            sleep=sleep,
            now=now,
            rng=rng,
        )
        http = new_client(
            user_agent=USER_AGENT, verify=verify, timeout=timeout, transport=transport
        )
        self._caller = Caller(http, service="graph", logger=log, limiter=limiter)

    # -- plumbing ---------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        """A path under base_url, or an absolute URL that must be on base_url's origin."""
        if "://" in path:
            parts = urlsplit(path)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise PermanentGraphError(
                    None,
                    "untrustedUrl",
                    f"refusing to send the token to {parts.scheme}://{parts.netloc}",
                    None,
                    "",
                    parts.path,
                )
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def log_path(self, url: str) -> str:
        """What the log shows of a URL: its path (relative to base_url), no query string."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if (parts.scheme, parts.netloc.lower()) == self._origin and self._base_path:
            if path == self._base_path or path.startswith(self._base_path + "/"):
                path = path[len(self._base_path) :] or "/"
        return path

    def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping | None = None,
        headers: Mapping | None = None,
        content: bytes | None = None,
        auth: bool = True,
        attempt: int = 1,
        client_request_id: str | None = None,
        cost: int = 1,
    ) -> httpx.Response:
        """One attempt, any status back: limiter, token (when ``auth``), one log line.

        Transport failures become ``RetryableGraphError`` (timeouts, lost connections) or
        ``PermanentGraphError`` (a URL httpx cannot send). ``auth=False`` may go to any https
        host (upload URLs); ``auth=True`` only to base_url's origin.
        """
        method = method.upper()
        url = self._url(url) if auth else url
        if urlsplit(url).scheme != "https":
            raise ValueError("Graph URLs must be https")
        client_request_id = client_request_id or str(uuid.uuid4())
        request_headers = {"client-request-id": client_request_id}
        request_headers.update(headers or {})
        if auth:
            request_headers["Authorization"] = f"Bearer {self.tokens.token()}"
        path = self.log_path(url)

        def log_fields(response: httpx.Response | None):
            answered = response.headers if response is not None else {}
            return [
                ("request-id", answered.get("request-id")),
                ("client-request-id", answered.get("client-request-id") or client_request_id),
                ("attempt", attempt),
            ]

        try:
            return self._caller.attempt(
                method,
                url,
                label=f"{method} {path}",
                log_fields=log_fields,
                cost=cost,
                json=json,
                params=params,
                headers=request_headers,
                content=content,
            )
        except TransportFailure as failure:
            cls = RetryableGraphError if failure.kind.retryable else PermanentGraphError
            raise cls(None, failure.code, failure.name, None, method, path) from None

    def error_for(self, response: httpx.Response, method: str, url: str) -> GraphError:
        """The typed error for a non-2xx response (with Retry-After parsed)."""
        body = None
        try:
            body = response.json() if response.content else None
        except ValueError:
            pass
        retry_after = self.retrier.retry_after(response.headers.get("Retry-After"))
        return error_for_status(
            response.status_code,
            body,
            response.headers,
            method.upper(),
            self.log_path(url),
            retry_after=retry_after,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping | None = None,
        headers: Mapping | None = None,
        idempotent: bool | None = None,
        content: bytes | None = None,
        cost: int = 1,
    ) -> httpx.Response:
        """Send with retries (see the module docstring); -> the 2xx response, else raise."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self._url(path)
        client_request_id = str(uuid.uuid4())

        def attempt_once(attempt: int) -> httpx.Response:
            response = self.send(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                content=content,
                attempt=attempt,
                client_request_id=client_request_id,
                cost=cost,
            )
            if response.is_success:
                return response
            raise self.error_for(response, method, url)

        # A throttle, an unavailable server, a timeout or a lost connection is sent again; the
        # outbox waits the rest (error.retry_after) when the budget is spent.
        return self.retrier.run(attempt_once, idempotent=idempotent, retryable=RetryableGraphError)

    def emit_body(self, type_name: str | None, body: Any, direction: str) -> None:
        if self.on_body is not None and type_name and body is not None:
            self.on_body(type_name, body, direction)

    @staticmethod
    def _if_match(etag: str | None, require_etag: bool) -> dict[str, str]:
        if etag:
            return {"If-Match": etag}
        if require_etag:
            raise ValueError("this change needs the item's ETag (If-Match): read the item first")
        return {}

    # -- generic JSON helpers ---------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        params: Mapping | None = None,
        *,
        type_name: str | None = None,
        headers: Mapping | None = None,
    ) -> Any:
        body = _json_of(self.request("GET", path, params=params, headers=headers))
        self.emit_body(type_name, body, "response")
        return body

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        type_name: str | None = None,
        response_type: str | None = None,
        idempotent: bool | None = None,
        headers: Mapping | None = None,
    ) -> Any:
        """POST a JSON body; -> the JSON answer (None for 202/204)."""
        self.emit_body(type_name, body, "request")
        response = self.request("POST", path, json=body, idempotent=idempotent, headers=headers)
        result = _json_of(response)
        self.emit_body(response_type or type_name, result, "response")
        return result

    def _patch(self, path, body, etag, require_etag, type_name, headers) -> httpx.Response:
        request_headers = self._if_match(etag, require_etag)
        request_headers.update(headers or {})
        self.emit_body(type_name, body, "request")
        return self.request("PATCH", path, json=body, headers=request_headers)

    def patch_json(
        self,
        path: str,
        body: Any,
        *,
        etag: str | None = None,
        require_etag: bool = False,
        type_name: str | None = None,
        headers: Mapping | None = None,
    ) -> Any:
        """PATCH with ``If-Match: etag`` when given (required when ``require_etag``)."""
        result = _json_of(self._patch(path, body, etag, require_etag, type_name, headers))
        self.emit_body(type_name, result, "response")
        return result

    def delete(self, path: str, *, etag: str | None = None, require_etag: bool = False) -> None:
        self.request("DELETE", path, headers=self._if_match(etag, require_etag))

    def iterate(
        self, path: str, params: Mapping | None = None, *, type_name: str | None = None
    ) -> Iterator[Any]:
        """Every item of a collection, following ``@odata.nextLink`` (same host only)."""
        seen: set[str] = set()
        url: str | None = path
        while url:
            page = self.get_json(
                url, params, type_name=f"Collection({type_name})" if type_name else None
            )
            params = None  # a nextLink carries its own query
            if not isinstance(page, Mapping):
                return
            yield from page.get("value") or []
            url = page.get("@odata.nextLink")
            if url:
                if "://" not in url:
                    raise PermanentGraphError(
                        None, "badNextLink", "nextLink is not an absolute URL", None, "GET", path
                    )
                self._url(url)  # refuses another host before anything is sent there
                if url in seen:
                    raise PermanentGraphError(
                        None, "nextLinkLoop", "the same nextLink came twice", None, "GET", path
                    )
                seen.add(url)

    # -- $batch -----------------------------------------------------------------------------------

    def _batch_path(self, url: str) -> str:
        if "://" in url:
            self._url(url)
            url = self.log_path(url) + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        return "/" + url.lstrip("/")

    def batch(
        self, requests: Iterable[Mapping], *, idempotent: bool | None = None
    ) -> dict[str, BatchResponse]:
        """Run requests through ``/$batch`` in chunks of at most 20; -> responses by id.

        Each request: ``{"id", "method", "url", "body"?, "headers"?, "dependsOn"?}`` with a
        URL relative to the version root. Requests linked by ``dependsOn`` always travel in
        the same chunk (a linked group larger than 20 is refused). Sub-requests answered 429
        are sent again, with the ones that failed (424) only because of them, after their
        ``Retry-After``, up to ``max_retries`` rounds. A request that failed because another
        failed gets ``FailedDependency`` (or a retryable 424 when the cause was retryable).
        The ``$batch`` POST itself is retried only when every sub-request is idempotent
        (or ``idempotent=True``).
        """
        items = self._normalize_batch(requests)
        results: dict[str, BatchResponse] = {}
        for chunk in _pack(_dependency_groups(items), BATCH_LIMIT):
            safe = idempotent
            if safe is None:
                safe = all(item["method"] in IDEMPOTENT_METHODS for item in chunk)
            results.update(self._run_chunk(chunk, safe))
        return {item["id"]: results[item["id"]] for item in items}

    def _normalize_batch(self, requests: Iterable[Mapping]) -> list[dict]:
        items: list[dict] = []
        ids: set[str] = set()
        for index, raw in enumerate(requests):
            item = {
                "id": str(raw.get("id", index + 1)),
                "method": str(raw.get("method", "GET")).upper(),
                "url": self._batch_path(str(raw["url"])),
            }
            if item["id"] in ids:
                raise ValueError(f"duplicate batch request id {item['id']!r}")
            ids.add(item["id"])
            headers = dict(raw.get("headers") or {})
            if raw.get("body") is not None:
                item["body"] = raw["body"]
                if not any(k.lower() == "content-type" for k in headers):
                    headers["Content-Type"] = "application/json"
            if headers:
                item["headers"] = headers
            depends = raw.get("dependsOn") or []
            if isinstance(depends, str):
                depends = [depends]
            item["dependsOn"] = [str(d) for d in depends]
            items.append(item)
        for item in items:
            for dep in item["dependsOn"]:
                if dep not in ids:
                    raise ValueError(f"batch request {item['id']!r} depends on unknown {dep!r}")
                if dep == item["id"]:
                    raise ValueError(f"batch request {dep!r} depends on itself")
        _check_acyclic(items)
        return items

    def _run_chunk(self, chunk: list[dict], idempotent: bool) -> dict[str, BatchResponse]:
        pending = list(chunk)
        results: dict[str, BatchResponse] = {}
        rounds = 0
        budget = self.retrier.budget()
        while pending:
            rounds += 1
            sending = {item["id"] for item in pending}
            wire = []
            for item in pending:
                sub = {k: v for k, v in item.items() if k != "dependsOn"}
                depends = [d for d in item["dependsOn"] if d in sending]  # others succeeded
                if depends:
                    sub["dependsOn"] = depends
                wire.append(sub)
            response = self.request(
                "POST",
                "/$batch",
                json={"requests": wire},
                idempotent=idempotent,
                cost=len(wire),
            )
            answers = {}
            for answer in (_json_of(response) or {}).get("responses") or []:
                if isinstance(answer, Mapping) and "id" in answer:
                    answers[str(answer["id"])] = answer
            round_results = {}
            for item in pending:
                answer = answers.get(item["id"])
                if answer is None:
                    answer = {
                        "status": 502,
                        "body": {
                            "error": {
                                "code": "missingBatchResponse",
                                "message": "$batch returned no response for this id",
                            }
                        },
                    }
                round_results[item["id"]] = self._sub_response(item, answer)
            states = _classify(pending, round_results)
            again = [i for i in pending if states[i["id"]] in ("throttled", "blocked_throttled")]
            retrying = False
            if again and rounds <= self.max_retries:
                waits = [
                    round_results[i["id"]].error.retry_after
                    for i in again
                    if states[i["id"]] == "throttled"
                ]
                waits = [w for w in waits if w is not None]
                retrying = budget.wait(rounds, max(waits) if waits else None)
            again_ids = {item["id"] for item in again} if retrying else set()
            for item in pending:
                if item["id"] in again_ids:
                    continue
                result = round_results[item["id"]]
                state = states[item["id"]]
                if state.startswith("blocked_"):
                    result.error = self._dependency_error(item, result, state)
                results[item["id"]] = result
            if not retrying:
                break
            pending = again
        return results

    def _sub_response(self, item: dict, answer: Mapping) -> BatchResponse:
        status = int(answer.get("status") or 0)
        headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
        body = answer.get("body")
        result = BatchResponse(item["id"], status, headers, body)
        if not 200 <= status < 300:
            retry_after = None
            for key, value in headers.items():
                if key.lower() == "retry-after":
                    retry_after = self.retrier.retry_after(value)
            result.error = error_for_status(
                status, body, headers, item["method"], item["url"], retry_after=retry_after
            )
        return result

    @staticmethod
    def _dependency_error(item: dict, result: BatchResponse, state: str) -> GraphError:
        cause = ", ".join(item["dependsOn"])
        args = (
            424,
            "failedDependency",
            f"not run: depends on {cause}",
            result.error.request_id if result.error else None,
            item["method"],
            strip_query(item["url"]),
        )
        if state == "blocked_permanent":
            return FailedDependency(*args)
        return RetryableGraphError(*args)

    # -- typed helpers: users and guests ----------------------------------------------------------

    def invite_guest(
        self,
        email: str,
        redirect_url: str,
        display_name: str | None = None,
        message: str | None = None,
        *,
        send_invitation_message: bool = True,
    ) -> dict:
        """POST /invitations: invite a guest (B2B); -> the invitation (``invitedUser.id``)."""
        body: dict[str, Any] = {
            "invitedUserEmailAddress": email,
            "inviteRedirectUrl": redirect_url,
            "sendInvitationMessage": send_invitation_message,
        }
        if display_name:
            body["invitedUserDisplayName"] = display_name
        if message:
            body["invitedUserMessageInfo"] = {"customizedMessageBody": message}
        return self.post_json("/invitations", body, type_name="invitation")

    def get_user(self, user_id: str, *, select: Iterable[str] | None = None) -> dict:
        params = {"$select": ",".join(select)} if select else None
        return self.get_json(f"/users/{segment(user_id)}", params, type_name="user")

    def find_user_by_mail(self, email: str) -> dict | None:
        """The user (guest or member) whose ``mail`` is ``email``, or None."""
        page = self.get_json(
            "/users", {"$filter": f"mail eq {odata_string(email)}"}, type_name="Collection(user)"
        )
        users = (page or {}).get("value") or []
        return users[0] if users else None

    def delete_user(self, user_id: str) -> None:
        self.delete(f"/users/{segment(user_id)}")

    # -- Teams membership -------------------------------------------------------------------------

    def _member_body(self, user_id: str, roles: Iterable[str]) -> dict:
        return {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": list(roles),
            "user@odata.bind": f"{self.base_url}/users('{user_id}')",
        }

    def add_team_member(self, team_id: str, user_id: str, roles: Iterable[str] = ()) -> dict:
        """POST /teams/{id}/members (roles: [] for a member, ["owner"], or ["guest"])."""
        return self.post_json(
            f"/teams/{segment(team_id)}/members",
            self._member_body(user_id, roles),
            type_name="conversationMember",
        )

    def list_team_members(self, team_id: str) -> list[dict]:
        return list(
            self.iterate(f"/teams/{segment(team_id)}/members", type_name="conversationMember")
        )

    def remove_team_member(self, team_id: str, membership_id: str) -> None:
        self.delete(f"/teams/{segment(team_id)}/members/{segment(membership_id)}")

    def add_channel_member(
        self, team_id: str, channel_id: str, user_id: str, roles: Iterable[str] = ()
    ) -> dict:
        """POST /teams/{id}/channels/{id}/members (private and shared channels)."""
        return self.post_json(
            f"/teams/{segment(team_id)}/channels/{segment(channel_id)}/members",
            self._member_body(user_id, roles),
            type_name="conversationMember",
        )

    def list_channel_members(self, team_id: str, channel_id: str) -> list[dict]:
        return list(
            self.iterate(
                f"/teams/{segment(team_id)}/channels/{segment(channel_id)}/members",
                type_name="conversationMember",
            )
        )

    def remove_channel_member(self, team_id: str, channel_id: str, membership_id: str) -> None:
        self.delete(
            f"/teams/{segment(team_id)}/channels/{segment(channel_id)}/members/"
            f"{segment(membership_id)}"
        )

    def find_channel(self, team_id: str, display_name: str) -> dict | None:
        for channel in self.iterate(f"/teams/{segment(team_id)}/channels", type_name="channel"):
            if channel.get("displayName") == display_name:
                return channel
        return None

    def create_private_channel(
        self, team_id: str, display_name: str, owner_id: str, description: str = ""
    ) -> dict:
        """POST /teams/{id}/channels with membershipType private (an owner is required)."""
        body = {
            "displayName": display_name,
            "description": description,
            "membershipType": "private",
            "members": [self._member_body(owner_id, ["owner"])],
        }
        return self.post_json(f"/teams/{segment(team_id)}/channels", body, type_name="channel")

    # -- Outlook ----------------------------------------------------------------------------------

    def send_mail(
        self,
        sender_user_id: str,
        to: str | Iterable[str],
        subject: str,
        body_text: str,
        *,
        save_to_sent_items: bool = False,
    ) -> None:
        """POST /users/{id}/sendMail (202, never re-sent: a retry could mail twice)."""
        recipients = [to] if isinstance(to, str) else list(to)
        body = {
            "message": {
                "subject": subject,
                "body": {"contentType": "text", "content": body_text},
                "toRecipients": [{"emailAddress": {"address": a}} for a in recipients],
            },
            "saveToSentItems": save_to_sent_items,
        }
        self.post_json(
            f"/users/{segment(sender_user_id)}/sendMail",
            body,
            type_name="user/sendMail",
            idempotent=False,
        )

    # -- change notifications ---------------------------------------------------------------------

    def create_subscription(
        self,
        resource: str,
        change_types: Iterable[str],
        notification_url: str,
        expiration: dt.datetime,
        client_state: str,
        *,
        lifecycle_url: str | None = None,
    ) -> dict:
        """POST /subscriptions. Graph first validates ``notification_url`` (the receiver must echo
        ``validationToken``), so the web process must be reachable before this is called.
        Not re-sent on failure: a retry could leave two subscriptions (list, then decide)."""
        body = {
            "changeType": ",".join(change_types),
            "notificationUrl": notification_url,
            "resource": resource,
            "expirationDateTime": _iso(expiration),
            "clientState": client_state,
        }
        if lifecycle_url:
            body["lifecycleNotificationUrl"] = lifecycle_url
        return self.post_json("/subscriptions", body, type_name="subscription", idempotent=False)

    def list_subscriptions(self) -> list[dict]:
        return list(self.iterate("/subscriptions", type_name="subscription"))

    def renew_subscription(self, subscription_id: str, expiration: dt.datetime) -> dict:
        return self.patch_json(
            f"/subscriptions/{segment(subscription_id)}",
            {"expirationDateTime": _iso(expiration)},
            type_name="subscription",
        )

    def delete_subscription(self, subscription_id: str) -> None:
        self.delete(f"/subscriptions/{segment(subscription_id)}")

    # -- SharePoint / OneDrive sharing ------------------------------------------------------------

    def invite_to_drive_item(
        self,
        drive_id: str,
        item_id: str,
        email: str,
        role: str,
        expiration: dt.datetime | dt.date | str,
        *,
        send_invitation: bool = True,
        message: str | None = None,
    ) -> list[dict]:
        """POST /drives/{d}/items/{i}/invite (role "read" or "write"); -> the permissions."""
        if role not in ("read", "write"):
            raise ValueError(f"role must be 'read' or 'write', not {role!r}")
        body: dict[str, Any] = {
            "recipients": [{"email": email}],
            "requireSignIn": True,
            "sendInvitation": send_invitation,
            "roles": [role],
            "expirationDateTime": _iso(expiration),
        }
        if message:
            body["message"] = message
        result = self.post_json(
            f"/drives/{segment(drive_id)}/items/{segment(item_id)}/invite",
            body,
            type_name="driveItem/invite",
        )
        return list((result or {}).get("value") or [])

    def list_permissions(self, drive_id: str, item_id: str) -> list[dict]:
        return list(
            self.iterate(
                f"/drives/{segment(drive_id)}/items/{segment(item_id)}/permissions",
                type_name="permission",
            )
        )

    def update_permission_expiry(
        self, drive_id: str, item_id: str, permission_id: str, expiration: dt.datetime | dt.date
    ) -> dict:
        """PATCH /drives/{d}/items/{i}/permissions/{p} {expirationDateTime}; -> the permission."""
        return self.patch_json(
            f"/drives/{segment(drive_id)}/items/{segment(item_id)}/permissions/"
            f"{segment(permission_id)}",
            {"expirationDateTime": _iso(expiration)},
            type_name="permission",
        )

    def delete_permission(self, drive_id: str, item_id: str, permission_id: str) -> None:
        self.delete(
            f"/drives/{segment(drive_id)}/items/{segment(item_id)}/permissions/"
            f"{segment(permission_id)}"
        )

    # -- workspaces: Teams, their document library and Planner plan ----------------------------

    def list_teams(self) -> list[dict]:
        return list(self.iterate("/teams", type_name="team"))

    def create_team(self, display_name: str, description: str, owner_id: str) -> str:
        """POST /teams from the standard template (202 + operation); -> the new team's id.

        Team creation is asynchronous; callers poll ``get_team`` (404 while provisioning).
        """
        response = self.request(
            "POST",
            "/teams",
            json={
                "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
                "displayName": display_name,
                "description": description,
                "members": [self._member_body(owner_id, ["owner"])],
            },
        )
        location = response.headers.get("Content-Location") or response.headers["Location"]
        return location.split("'")[1]

    def get_team(self, team_id: str) -> dict:
        return self.get_json(f"/teams/{segment(team_id)}", type_name="team")

    def list_message_replies(self, team_id: str, channel_id: str, message_id: str) -> list[dict]:
        """GET /teams/{id}/channels/{id}/messages/{id}/replies (chatMessage): the replies of a
        channel thread, every page. Used only to check, after a crash, whether a reply the bot
        may have sent is already there (app-only: ChannelMessage.Read.All)."""
        return list(
            self.iterate(
                f"/teams/{segment(team_id)}/channels/{segment(channel_id)}/messages/"
                f"{segment(message_id)}/replies",
                type_name="chatMessage",
            )
        )

    def group_drive(self, group_id: str) -> dict:
        return self.get_json(f"/groups/{segment(group_id)}/drive", type_name="drive")

    def ensure_folder(self, drive_id: str, path: str) -> dict:
        """The folder at ``path`` (like ``Projects/Spring``) in the drive, made if missing."""
        parent = self.get_json(f"/drives/{segment(drive_id)}/root", type_name="driveItem")
        for name in [part for part in path.strip("/").split("/") if part]:
            children = self.iterate(
                f"/drives/{segment(drive_id)}/items/{parent['id']}/children", type_name="driveItem"
            )
            found = next((c for c in children if c.get("name") == name and "folder" in c), None)
            parent = found or self.post_json(
                f"/drives/{segment(drive_id)}/items/{parent['id']}/children",
                {"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"},
                type_name="driveItem",
            )
        return parent

    def ensure_plan(self, group_id: str, title: str) -> tuple[str, str]:
        """The group's Planner plan called ``title`` and its first bucket, made if missing."""
        plans = self.iterate(f"/groups/{segment(group_id)}/planner/plans", type_name="plannerPlan")
        plan = next((p for p in plans if p.get("title") == title), None) or self.post_json(
            "/planner/plans",
            {
                "container": {"url": f"https://graph.microsoft.com/v1.0/groups/{group_id}"},
                "title": title,
            },
            type_name="plannerPlan",
        )
        buckets = list(
            self.iterate(f"/planner/plans/{plan['id']}/buckets", type_name="plannerBucket")
        )
        bucket = (
            buckets[0]
            if buckets
            else self.post_json(
                "/planner/buckets",
                {"name": "Deliverables", "planId": plan["id"], "orderHint": " !"},
                type_name="plannerBucket",
            )
        )
        return plan["id"], bucket["id"]

    # -- Planner ----------------------------------------------------------------------------------

    @staticmethod
    def _etag_of(body: Any, response: httpx.Response) -> str | None:
        if isinstance(body, Mapping) and body.get("@odata.etag"):
            return str(body["@odata.etag"])
        return response.headers.get("ETag")

    def create_task(
        self, plan_id: str, bucket_id: str, title: str, assignee_ids: Iterable[str] = ()
    ) -> WithEtag:
        """POST /planner/tasks; -> the task and its ETag."""
        body = {
            "planId": plan_id,
            "bucketId": bucket_id,
            "title": title,
            "assignments": {
                user_id: {"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}
                for user_id in assignee_ids
            },
        }
        self.emit_body("plannerTask", body, "request")
        response = self.request("POST", "/planner/tasks", json=body)
        task = _json_of(response)
        self.emit_body("plannerTask", task, "response")
        return WithEtag(task, self._etag_of(task, response))

    def get_task(self, task_id: str) -> WithEtag:
        response = self.request("GET", f"/planner/tasks/{segment(task_id)}")
        task = _json_of(response)
        self.emit_body("plannerTask", task, "response")
        return WithEtag(task, self._etag_of(task, response))

    def update_task(self, task_id: str, etag: str, changes: Mapping[str, Any]) -> WithEtag:
        """PATCH with If-Match (412 -> PreconditionFailed: read again); -> the new version."""
        response = self._patch(
            f"/planner/tasks/{segment(task_id)}",
            dict(changes),
            etag,
            True,
            "plannerTask",
            {"Prefer": "return=representation"},
        )
        task = _json_of(response)
        self.emit_body("plannerTask", task, "response")
        return WithEtag(task, self._etag_of(task, response))

    def delete_task(self, task_id: str, etag: str) -> None:
        self.delete(f"/planner/tasks/{segment(task_id)}", etag=etag, require_etag=True)


# -- $batch grouping --------------------------------------------------------------------------


def _check_acyclic(items: list[dict]) -> None:
    graph = {item["id"]: item["dependsOn"] for item in items}
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        stack = [(start, iter(graph[start]))]
        on_path = {start}
        while stack:
            node, deps = stack[-1]
            nxt = next(deps, None)
            if nxt is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
            elif nxt in on_path:
                raise ValueError(f"batch requests depend on each other in a cycle ({nxt!r})")
            elif nxt not in done:
                on_path.add(nxt)
                stack.append((nxt, iter(graph[nxt])))


def _dependency_groups(items: list[dict]) -> list[list[dict]]:
    """Requests linked by dependsOn (in either direction), in first-appearance order."""
    parent = {item["id"]: item["id"] for item in items}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for item in items:
        for dep in item["dependsOn"]:
            parent[root(item["id"])] = root(dep)
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(root(item["id"]), []).append(item)
    for group in groups.values():
        if len(group) > BATCH_LIMIT:
            raise ValueError(
                f"{len(group)} batch requests are linked by dependsOn (from {group[0]['id']!r}); "
                f"$batch takes at most {BATCH_LIMIT}"
            )
    return list(groups.values())


def _pack(groups: list[list[dict]], limit: int) -> list[list[dict]]:
    """Whole groups into chunks of at most ``limit`` (first fit, keeping order otherwise)."""
    chunks: list[list[dict]] = []
    for group in groups:
        for chunk in chunks:
            if len(chunk) + len(group) <= limit:
                chunk.extend(group)
                break
        else:
            chunks.append(list(group))
    return chunks


def _classify(pending: list[dict], results: dict[str, BatchResponse]) -> dict[str, str]:
    """ok | throttled | retryable | permanent | blocked_{throttled,retryable,permanent}."""
    by_id = {item["id"]: item for item in pending}
    states: dict[str, str] = {}

    def state(item_id: str) -> str:
        if item_id in states:
            return states[item_id]
        result = results[item_id]
        if result.ok:
            value = "ok"
        elif result.status == 429:
            value = "throttled"
        elif result.status == 424:
            states[item_id] = "blocked_retryable"  # guards against odd answers
            causes = {state(d) for d in by_id[item_id]["dependsOn"] if d in results}
            if causes & {"permanent", "blocked_permanent"}:
                value = "blocked_permanent"
            elif causes & {"retryable", "blocked_retryable"} or not causes - {"ok"}:
                value = "blocked_retryable"
            else:
                value = "blocked_throttled"
        elif isinstance(result.error, RetryableGraphError):
            value = "retryable"
        else:
            value = "permanent"
        states[item_id] = value
        return value

    for item in pending:
        state(item["id"])
    return states
