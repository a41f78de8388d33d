"""The small router that both the HTTP view and ``$batch`` run requests through.

A handler is a function ``handler(request: GraphRequest, **path_params) -> GraphResponse``
registered with ``@route("GET", "/users/{user}", permissions=READ_USERS)``. ``execute`` finds
it, applies throttling and faults (``gated``), checks the caller's permissions, runs the handler
in a transaction and turns a GraphError into Graph's error body. Nothing here knows about HTTP.

Paths are matched after OData's spellings are folded in: ``/teams('x')/operations('y')`` is
``/teams/x/operations/y``; ``microsoft.graph.delta()`` is ``delta``; matching ignores case.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction

from .errors import GraphError, bad_request, denied, error_body

logger = logging.getLogger(__name__)

# Resource modules; each registers its routes when imported. Later slices append theirs.
MODULES = ["users", "invitations", "groups", "teams", "mail"]

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"


@dataclass
class GraphResponse:
    status: int
    body: Any = None  # a dict rendered as JSON, or None for no body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GraphRequest:
    method: str
    path: str  # below /v1.0, e.g. "/users/abc"; percent-decoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    principal: Any  # auth.Principal
    request_id: str
    client_request_id: str
    in_batch: bool = False
    _json: Any = field(default=None, repr=False)

    @property
    def base(self) -> str:
        """The service root clients reach: ``https://127.0.0.1:8443/v1.0``."""
        return f"{settings.SANDBOX_URL}/v1.0"

    @property
    def tenant(self):
        return self.principal.tenant

    def json(self) -> dict:
        """The body as a JSON object; 400 as Graph answers for anything else."""
        if self._json is None:
            if not self.body.strip():
                raise bad_request("Empty Payload. JSON content expected.")
            try:
                parsed = json.loads(self.body)
            except (ValueError, UnicodeDecodeError):
                raise bad_request("Unable to read JSON request payload.") from None
            if not isinstance(parsed, dict):
                raise bad_request("The request body must be a JSON object.")
            self._json = parsed
        return self._json

    def link(self, path: str, params: dict[str, str] | None = None) -> str:
        url = self.base + quote(path, safe="/()',:@$!*+;=~")
        if params:
            url += "?" + urlencode(params, safe="$'(),:@", quote_via=quote)
        return url

    def error(self, exc: GraphError) -> GraphResponse:
        body = error_body(exc.code, exc.message, self.request_id, self.client_request_id)
        return GraphResponse(exc.status, body, dict(exc.headers))


def iso(moment) -> str | None:
    """A timestamp as Graph writes them: UTC, ``2025-01-31T12:00:00Z``."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def created(body: dict, location: str | None = None) -> GraphResponse:
    headers = {"Location": location} if location else {}
    return GraphResponse(201, body, headers)


def ok(body: dict) -> GraphResponse:
    return GraphResponse(200, body)


def no_content() -> GraphResponse:
    return GraphResponse(204)


Handler = Callable[..., GraphResponse]


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern
    handler: Handler
    permissions: tuple[str, ...]
    gated: bool
    params: int


_ROUTES: list[Route] = []
_loaded = False


def route(method: str, pattern: str, *, permissions: tuple[str, ...], gated: bool = True):
    """Register a handler for ``method`` on ``pattern`` (``{name}`` matches one segment).

    ``permissions``: the caller needs at least one of them (app roles or delegated scopes).
    """
    parts = []
    for piece in re.split(r"(\{\w+\})", pattern):
        if piece.startswith("{"):
            parts.append(f"(?P<{piece[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    regex = re.compile("".join(parts), re.IGNORECASE)

    def register(handler: Handler) -> Handler:
        count = pattern.count("{")
        _ROUTES.append(Route(method, pattern, regex, handler, permissions, gated, count))
        return handler

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"{__package__}.{name}")
        _loaded = True


_KEY = re.compile(r"\('((?:[^']|'')*)'\)")
# Type casts and bound operations are namespace-qualified, by the namespace or by its alias
# (``<Schema Namespace="microsoft.graph" Alias="graph">``): the official SDK writes
# ``/pages/{id}/graph.sitePage``.
_NAMESPACE = re.compile(r"(?<=/)(?:microsoft\.)?graph\.", re.IGNORECASE)


def normalize(path: str) -> str:
    path = _KEY.sub(lambda m: "/" + m.group(1).replace("''", "'"), path)
    path = _NAMESPACE.sub("", path).replace("()", "")
    path = "/" + path.strip("/")
    return path


def find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    _load()
    matches = []
    for candidate in _ROUTES:
        found = candidate.regex.fullmatch(path)
        if found:
            matches.append((candidate, found.groupdict()))
    if not matches:
        segment = path.rstrip("/").rsplit("/", 1)[-1] or path
        raise bad_request(f"Resource not found for the segment '{segment}'.")
    # Literal segments win over parameters: /users/delta before /users/{user}.
    matches.sort(key=lambda pair: pair[0].params)
    for candidate, params in matches:
        if candidate.method == method:
            return candidate, params
    raise GraphError(
        405,
        "Request_BadRequest",
        f"The HTTP method '{method}' is not supported on the resource '{path}'.",
    )


def execute(request: GraphRequest) -> GraphResponse:
    """Run one request (from HTTP or from a batch) through throttling, permissions, handler."""
    from . import throttle

    try:
        path = normalize(request.path)
        candidate, params, problem = None, {}, None
        try:
            candidate, params = find(request.method, path)
        except GraphError as exc:
            problem = exc
        if candidate is None or candidate.gated:
            refused = throttle.gate(request)
            if refused is not None:
                return refused
        if problem is not None:
            raise problem
        if not request.principal.allows(candidate.permissions):
            raise denied()
        with transaction.atomic():
            return candidate.handler(request, **params)
    except GraphError as exc:
        return request.error(exc)
    except Exception:
        # Graph answers a fault of its own in its error shape too; the log has the traceback.
        logger.exception("Graph emulator failed on %s %s", request.method, request.path)
        return request.error(
            GraphError(500, "InternalServerError", "An internal server error occurred.")
        )
