"""Sending to Teams through the Bot Connector (Bot Framework REST v3, through the Agents SDK).

    client.send_to_person("robin@contoso.example", client.card_activity(card, "Approve?"))
    sent = client.start_thread(team_group_id, "19:abc@thread.tacv2", {"type": "message", ...})
    client.reply(sent.conversation_id, {"type": "message", "text": "..."})
    client.update(sent.conversation_id, sent.activity_id, new_activity)

Every call goes to a Connector service URL (the one Teams sent with the person's activities, or
``TEAMS["service_url"]``) through the SDK's ``ConnectorClient`` on an aiohttp session of our own
(TLS verified against ``TEAMS["ca_bundle"]`` when set; plain http only on loopback) with the bot's
token (``auth.BotTokenProvider``). The SDK is async: each call runs on the process's connector
event loop, a daemon thread (outbox jobs are synchronous; see ``_run_sync``).

What every call gets, in one place (``BotConnector.call``): one log line at INFO (method, path,
status, latency, attempt; never a header, token or body); failures typed as
``RetryableTeamsError`` (429 with Retry-After, 408, 5xx, timeouts, lost connections) or
``PermanentTeamsError`` (every other answer; ``NotFound`` for 404); idempotent calls (PUT,
DELETE, GET) are retried in-process on 429/503/504/no answer within a short budget, a POST never
(the outbox job checks, then acts, on its next attempt). Call only from outbox jobs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from django.conf import settings
from pydantic import ValidationError

from gigbridge.integrations.outbound.retry import Retrier, RetryPolicy

from .errors import NotFound, PermanentTeamsError, RetryableTeamsError, TeamsError
from .errors import error_for_status as _error_for_status

log = logging.getLogger("gigbridge.integrations.teams")
T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({429, 503, 504})
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    activity_id: str


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_service_url(url: str) -> str:
    """The service URL with a trailing slash; https (http only on loopback: tests)."""
    parts = urlsplit(url or "")
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise PermanentTeamsError(None, "badServiceUrl", "not an absolute URL", "", "")
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        raise PermanentTeamsError(None, "badServiceUrl", "the bot token goes over https only")
    return url if url.endswith("/") else url + "/"


def segment(value: str) -> str:
    """A conversation or activity id as the Connector's routes take it (as the SDK sends it)."""
    if not value:
        raise PermanentTeamsError(None, "requestError", "an empty id cannot go into a path")
    return quote(value, safe="@:;=!$&'()*+,-._~")


def _json_error(text: str) -> tuple[str, str]:
    """The Bot Connector's ``{"error": {"code", "message"}}`` -> (code, message)."""
    try:
        body = json.loads(text)
    except (TypeError, ValueError):
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return error, str(body.get("error_description") or "")
    return "", ""


class BotConnector:
    """The bot's calls to the Connector; see the module docstring."""

    def __init__(
        self,
        app_id: str,
        tokens: Any,
        *,
        tenant_id: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30,
        max_retries: int = 2,
        max_wait: float = 15,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ):
        self.app_id = app_id
        self.tokens = tokens
        self.tenant_id = tenant_id
        self.ca_bundle = ca_bundle
        # Built once: a context per call would read the CA file on every call.
        self._ssl_context = ssl.create_default_context(cafile=ca_bundle or None)
        self.timeout = timeout
        self.retrier = Retrier(
            RetryPolicy(statuses=RETRIED_STATUSES, max_retries=max_retries, max_wait=max_wait),
            sleep=sleep,
            now=now,
        )

    @property
    def bot_id(self) -> str:
        return f"28:{self.app_id}"

    # -- plumbing ---------------------------------------------------------------------------------

    def call(
        self,
        service_url: str,
        method: str,
        path: str,
        operation: Callable[[Any], Awaitable[T]],
        *,
        accept_empty: bool = False,
    ) -> T | None:
        """Run ``operation(connector_client)`` against ``service_url``; ``path`` is what the log
        line and errors show. ``accept_empty``: a 2xx answer without a JSON body is success."""
        base = check_service_url(service_url)
        idempotent = method in IDEMPOTENT_METHODS

        def attempt_once(attempt: int):
            return self._attempt(base, method, path, operation, attempt, accept_empty)

        return self.retrier.run(attempt_once, idempotent=idempotent, retryable=RetryableTeamsError)

    def _attempt(self, base, method, path, operation, attempt, accept_empty):
        token = self.tokens.token()  # raises TeamsError itself
        seen: dict = {}

        async def on_request_end(session, context, params):
            seen["status"] = params.response.status

        async def run():
            from microsoft_agents.hosting.core.connector import ConnectorClient

            trace = aiohttp.TraceConfig()
            trace.on_request_end.append(on_request_end)
            session = aiohttp.ClientSession(
                base_url=base,
                connector=aiohttp.TCPConnector(ssl=self._ssl_context),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                trust_env=False,  # no proxy from the environment
                trace_configs=[trace],
            )
            async with session:
                return await operation(ConnectorClient(base, token, session=session))

        started = time.monotonic()
        outcome = "error"
        try:
            result = _run_sync(run)
            outcome = str(seen.get("status", "ok"))
            return result
        except Exception as exc:
            error = self._error(exc, method, path, seen.get("status"))
            if error is None and accept_empty:
                outcome = str(seen.get("status", "ok"))
                return None
            error = error or PermanentTeamsError(
                seen.get("status"),
                "malformedAnswer",
                "the answer is not what was expected",
                method,
                path,
            )
            outcome = str(error.status) if error.status else (error.code or "error")
            raise error from None
        finally:
            log.info(
                "teams %s %s -> %s %.0f ms attempt=%d",
                method,
                path,
                outcome,
                (time.monotonic() - started) * 1000,
                attempt,
            )

    def _error(self, exc: Exception, method: str, path: str, status: int | None):
        """The typed error for what an attempt raised; None for a 2xx answer that could not be
        read (the SDK insists on a JSON body some calls do not need)."""
        if isinstance(exc, TeamsError):
            return exc
        if isinstance(exc, aiohttp.ClientResponseError):
            if 200 <= exc.status < 300:
                return None
            code, message = _json_error(exc.message)
            if not code and not message:
                message = str(exc.message or "")[:200] if exc.message else ""
                if message.startswith("Error accessing resource"):
                    message = ""
            header = (exc.headers or {}).get("Retry-After") if exc.headers else None
            retry_after = self.retrier.retry_after(header)
            return _error_for_status(exc.status, code, message, method, path, retry_after)
        if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
            return PermanentTeamsError(None, "tls_error", type(exc).__name__, method, path)
        if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return RetryableTeamsError(None, "timeout", type(exc).__name__, method, path)
        if isinstance(exc, aiohttp.InvalidURL):
            return PermanentTeamsError(None, "requestError", type(exc).__name__, method, path)
        if isinstance(exc, aiohttp.ClientError | ConnectionError):
            return RetryableTeamsError(None, "connectionError", type(exc).__name__, method, path)
        if isinstance(exc, ValidationError | json.JSONDecodeError):
            if status is not None and 200 <= status < 300:
                return None
            return PermanentTeamsError(status, "malformedAnswer", "unreadable answer", method, path)
        if isinstance(exc, ValueError):
            return PermanentTeamsError(None, "requestError", str(exc)[:200], method, path)
        raise exc

    # -- the Connector's routes -------------------------------------------------------------------

    def create_conversation(self, service_url: str, parameters: dict) -> dict:
        """``POST v3/conversations`` -> ``{"id", "activityId"?, "serviceUrl"?}``."""
        from microsoft_agents.activity import ConversationParameters

        body = ConversationParameters.model_validate(parameters)

        async def operation(connector):
            answer = await connector.conversations.create_conversation(body)
            return answer.model_dump(by_alias=True, exclude_none=True)

        return self.call(service_url, "POST", "v3/conversations", operation)

    def send(self, service_url: str, conversation_id: str, activity: dict) -> str:
        body = _activity(activity)
        path = f"v3/conversations/{segment(conversation_id)}/activities"

        async def operation(connector):
            return (await connector.conversations.send_to_conversation(conversation_id, body)).id

        return self._id_of(self.call(service_url, "POST", path, operation), "POST", path)

    def reply_to(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict
    ) -> str:
        body = _activity(activity)
        path = f"v3/conversations/{segment(conversation_id)}/activities/{segment(activity_id)}"

        async def operation(connector):
            answer = await connector.conversations.reply_to_activity(
                conversation_id, activity_id, body
            )
            return answer.id

        return self._id_of(self.call(service_url, "POST", path, operation), "POST", path)

    def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict
    ) -> None:
        body = _activity({**activity, "id": activity_id})
        path = f"v3/conversations/{segment(conversation_id)}/activities/{segment(activity_id)}"

        async def operation(connector):
            await connector.conversations.update_activity(conversation_id, activity_id, body)

        self.call(service_url, "PUT", path, operation, accept_empty=True)

    def delete_activity(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        path = f"v3/conversations/{segment(conversation_id)}/activities/{segment(activity_id)}"

        async def operation(connector):
            await connector.conversations.delete_activity(conversation_id, activity_id)

        self.call(service_url, "DELETE", path, operation, accept_empty=True)

    def members(self, service_url: str, conversation_id: str) -> list[dict]:
        path = f"v3/conversations/{segment(conversation_id)}/members"

        async def operation(connector):
            found = await connector.conversations.get_conversation_members(conversation_id)
            return [m.model_dump(by_alias=True, exclude_none=True) for m in found]

        return self.call(service_url, "GET", path, operation) or []

    @staticmethod
    def _id_of(value: str | None, method: str, path: str) -> str:
        if not value:
            raise PermanentTeamsError(None, "malformedAnswer", "the answer has no id", method, path)
        return value


def _activity(activity: dict):
    """The SDK's ``Activity`` for a dict (a ``message`` unless it says otherwise)."""
    from microsoft_agents.activity import Activity

    try:
        return Activity.model_validate({"type": "message", **activity})
    except ValidationError as exc:
        raise PermanentTeamsError(
            None, "invalidActivity", f"{exc.error_count()} validation errors", "", ""
        ) from None


def _run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, on the process's connector loop.

    One event loop per process runs on a daemon thread and keeps running between calls. With
    a loop per call (``asyncio.run``), a connection the server closed (``Connection: close``)
    was left in the middle of its TLS shutdown when the loop ended, so its socket stayed open
    until garbage collection; a server that waits for the client's FIN before it takes the
    next connection (gunicorn's sync workers linger up to 2 s) was blocked that long, and about
    one call in three waited 2 s for a connection (bench/bridge). Also works from a thread
    that runs an event loop of its own."""
    loop = _connector_loop()
    return asyncio.run_coroutine_threadsafe(factory(), loop).result()


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _connector_loop() -> asyncio.AbstractEventLoop:
    """The process's connector loop (a new one after a fork: the thread does not follow)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="teams-connector", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


# -- the process's bot, from settings -------------------------------------------------------------

_connector: BotConnector | None = None
_lock = threading.Lock()


def configured() -> bool:
    """A bot is configured (app id and credentials): Teams notices can be sent."""
    teams = settings.TEAMS
    return bool(teams.get("app_id") and teams.get("app_password"))


def connector() -> BotConnector:
    global _connector
    if not configured():
        raise PermanentTeamsError(
            None, "notConfigured", "no Teams bot (GIGBRIDGE_TEAMS_APP_ID / _APP_PASSWORD unset)"
        )
    with _lock:
        if _connector is None:
            from gigbridge.integrations.msgraph.connection import _http_session

            from .auth import BotTokenProvider

            teams = settings.TEAMS
            tokens = BotTokenProvider(
                teams.get("tenant_id"),
                teams["app_id"],
                teams["app_password"],
                authority_host=teams.get("authority_host") or "login.microsoftonline.com",
                verify=teams.get("ca_bundle") or True,
                http_client=_http_session(teams.get("ca_bundle")),
            )
            _connector = BotConnector(
                teams["app_id"],
                tokens,
                tenant_id=teams.get("tenant_id"),
                ca_bundle=teams.get("ca_bundle"),
                timeout=teams.get("timeout") or 30,
            )
        return _connector


def reset() -> None:
    """Forget the bot (tests, settings changes)."""
    global _connector
    with _lock:
        _connector = None


def _default_service_url() -> str:
    return settings.TEAMS.get("service_url") or "https://smba.trafficmanager.net/teams/"


def _service_url_for(conversation_id: str) -> str:
    """The service URL Teams gave with this conversation (a person's chat), else the default."""
    from .models import TeamsMember

    known = (
        TeamsMember.objects.filter(conversation_id=conversation_id)
        .exclude(service_url="")
        .values_list("service_url", flat=True)
        .first()
    )
    return known or _default_service_url()


def _tenant() -> str | None:
    return connector().tenant_id or None


def send_to_person(email: str, activity: dict) -> Sent:
    """Send ``activity`` in the person's 1:1 chat with the bot (created on first use)."""
    from gigbridge import clock

    from . import directory
    from .models import TeamsMember

    bot = connector()
    member = directory.by_email(email)
    if member is None:
        raise PermanentTeamsError(
            None,
            "unknownUser",
            "no user with this address in the tenant",
            "POST",
            "v3/conversations",
        )
    if member.conversation_id:
        service_url = member.service_url or _default_service_url()
        try:
            return Sent(
                member.conversation_id, bot.send(service_url, member.conversation_id, activity)
            )
        except NotFound:
            # The chat is gone (the app was uninstalled and installed again): make a new one.
            TeamsMember.objects.filter(pk=member.pk).update(conversation_id="", service_url="")
    tenant = _tenant()
    parameters: dict = {
        "isGroup": False,
        "bot": {"id": bot.bot_id},
        "members": [{"id": member.aad_object_id}],
    }
    if tenant:
        parameters["tenantId"] = tenant
        parameters["channelData"] = {"tenant": {"id": tenant}}
    service_url = member.service_url or _default_service_url()
    created = bot.create_conversation(service_url, parameters)
    conversation_id = created.get("id")
    if not conversation_id:
        raise PermanentTeamsError(
            None, "malformedAnswer", "no conversation id", "POST", "v3/conversations"
        )
    service_url = created.get("serviceUrl") or service_url
    TeamsMember.objects.filter(pk=member.pk).update(
        conversation_id=conversation_id[:400],
        service_url=service_url[:400],
        updated_at=clock.now(),
    )
    return Sent(conversation_id, bot.send(service_url, conversation_id, activity))


def start_thread(team_id: str, channel_id: str, activity: dict) -> Sent:
    """Start a thread in a channel; ``conversation_id`` is the thread's
    (``19:...;messageid=<root>``) and ``activity_id`` its root message.

    ``team_id`` (the team's Graph group id) is not sent: the Connector knows a channel by its
    own id, and names the team by its thread id, which Graph does not give."""
    bot = connector()
    channel_data: dict = {"channel": {"id": channel_id}}
    tenant = _tenant()
    if tenant:
        channel_data["tenant"] = {"id": tenant}
    parameters = {
        "isGroup": True,
        "bot": {"id": bot.bot_id},
        "channelData": channel_data,
        "activity": _activity(activity).model_dump(by_alias=True, exclude_unset=True, mode="json"),
    }
    if tenant:
        parameters["tenantId"] = tenant
    created = bot.create_conversation(_default_service_url(), parameters)
    conversation_id, root = created.get("id"), created.get("activityId")
    if not root and conversation_id and ";messageid=" in conversation_id:
        root = conversation_id.rsplit(";messageid=", 1)[1]
    if not conversation_id or not root:
        raise PermanentTeamsError(
            None, "malformedAnswer", "no thread or message id", "POST", "v3/conversations"
        )
    return Sent(conversation_id, root)


def reply(conversation_id: str, activity: dict) -> Sent:
    """Reply in a thread (or send in a personal chat)."""
    bot = connector()
    service_url = _service_url_for(conversation_id)
    if ";messageid=" in conversation_id:
        root = conversation_id.rsplit(";messageid=", 1)[1]
        return Sent(conversation_id, bot.reply_to(service_url, conversation_id, root, activity))
    return Sent(conversation_id, bot.send(service_url, conversation_id, activity))


def update(conversation_id: str, activity_id: str, activity: dict) -> None:
    connector().update_activity(
        _service_url_for(conversation_id), conversation_id, activity_id, activity
    )


def delete(conversation_id: str, activity_id: str) -> None:
    connector().delete_activity(_service_url_for(conversation_id), conversation_id, activity_id)


def card_activity(card: dict, text: str = "") -> dict:
    """A message activity carrying one Adaptive Card (``text`` is the notification preview)."""
    activity: dict = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    if text:
        activity["summary"] = text
    return activity


def health() -> dict:
    """Configured or not (no call to the Connector: the outbox's failures tell the rest)."""
    if not configured():
        return {"configured": False, "ok": True, "detail": "no Teams bot configured"}
    return {"configured": True, "ok": True, "app_id": settings.TEAMS["app_id"]}
