"""The OData v4 feed under /api/v1/analytics, for Power BI's "OData feed" connector (and any
OData client): plain Django views, GET only, answering OData's own JSON and error shapes.

Authentication, in the order tried (docs/powerbi.md says which to pick in Power BI):

- ``Authorization: Bearer <token>``: a personal API token, as the REST API takes it;
- ``Authorization: Basic`` with the token as the password (any user name): what Power BI sends
  when "Basic" credentials are chosen;
- ``?api_key=<token>``: Power BI's "Web API" key credential, which Power Query sends as a
  query parameter named by ``OData.Feed(..., [ApiKeyName="api_key"])``;
- the browser session of a signed-in person (to look at the feed in a browser).

A wrong token counts against the caller's address like a wrong password (the REST API's
``BearerToken``); a locked address gets 429 with Retry-After. Without credentials: 401 with
``WWW-Authenticate`` offering Bearer and Basic. Then the same capability as the dashboard
(``VIEW_ANALYTICS``), else 403.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl, quote, urlencode

from django.http import HttpRequest, HttpResponse
from ninja.errors import Throttled

from gigbridge.api.auth import BearerToken
from gigbridge.domainerrors import NotAllowed
from gigbridge.people.capabilities import Capability, require

from . import odata

ROOT = "/api/v1/analytics/"
VERSION = "4.0"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true"
API_KEY_PARAM = "api_key"
CHALLENGE = 'Bearer realm="Gigbridge analytics", Basic realm="Gigbridge analytics", charset="UTF-8"'
MAX_TOKEN_LENGTH = 200  # characters; longer credentials are refused before any lookup


def _response(body: str | bytes, status: int = 200, content_type: str = JSON_TYPE, **headers):
    response = HttpResponse(body, status=status, content_type=content_type)
    response["OData-Version"] = VERSION
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_response(exc: odata.ODataError, **headers) -> HttpResponse:
    return _response(
        json.dumps(exc.body()),
        exc.status,
        "application/json;odata.metadata=minimal",
        **headers,
    )


def _credential(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]  # the password is the token; the user name is free
    keys = {v for k, v in _pairs(request) if k == API_KEY_PARAM}
    if len(keys) == 1:
        return keys.pop()
    if len(keys) > 1:
        return ""
    return None


def _pairs(request: HttpRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)


def _authenticate(request: HttpRequest):
    """The person asking, or an ODataError (401, 403, 429)."""
    secret = _credential(request)
    if secret is None:
        if request.user.is_authenticated:
            user = request.user
        else:
            raise odata.ODataError(
                401,
                "send a personal API token: 'Authorization: Bearer <token>', Basic with the "
                "token as the password, or the api_key query parameter",
            )
    else:
        try:
            user = BearerToken().authenticate(request, secret[:MAX_TOKEN_LENGTH])
        except Throttled as exc:
            wait = max(1, int(exc.wait or 60))
            raise odata.ODataError(
                429,
                f"too many failed sign-ins from this address; try again in {wait} s",
                retry_after=wait,
            ) from exc
        if user is None:
            raise odata.ODataError(401, "the API token is unknown, revoked or expired")
    try:
        require(user, Capability.VIEW_ANALYTICS, f"{request.method} {request.path}")
    except NotAllowed as exc:
        raise odata.ODataError(403, f"not allowed: {exc}") from None
    return user


def _ieee754(request: HttpRequest, options: dict) -> bool:
    wanted = (request.headers.get("Accept", "") + ";" + options.get("$format", "")).lower()
    return "ieee754compatible=true" in wanted.replace(" ", "")


def _check_format(request: HttpRequest, options: dict, kinds: tuple[str, ...]) -> None:
    """JSON (or XML for $metadata) only; anything else is 406 (Part 1, 8.2.1 and Part 2,
    5.1.6)."""
    requested = options.get("$format")
    if requested is not None:
        base = requested.split(";")[0].strip().lower()
        if base not in kinds:
            raise odata.ODataError(
                406, f"$format={requested[:50]} is not available; use {kinds[0]}", "$format"
            )
        return
    accept = request.headers.get("Accept", "").lower()
    if accept and not any(k in accept for k in ("*/*", "application/*", *kinds[1:])):
        raise odata.ODataError(406, f"this resource is only available as {kinds[1]}", "Accept")


def odata_view(handler):
    """GET only; authentication; ODataError -> OData's JSON error with the status."""

    def view(request: HttpRequest, *args, **kwargs):
        if request.method != "GET":
            exc = odata.ODataError(405, f"{request.method} is not allowed: the feed is read-only")
            return error_response(exc, Allow="GET")
        try:
            _authenticate(request)
            return handler(request, *args, **kwargs)
        except odata.ODataError as exc:
            headers = {"WWW_Authenticate": CHALLENGE} if exc.status == 401 else {}
            if exc.status == 429:
                headers["Retry_After"] = str(exc.retry_after)
            return error_response(exc, **headers)

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri(ROOT)


@odata_view
def service_document(request: HttpRequest):
    """The service document (JSON Format, 5): every entity set, with the context URL."""
    options = odata.system_options(_pairs(request), {"$format"})
    _check_format(request, options, ("json", "application/json"))
    root = _root(request)
    body = {
        "@odata.context": f"{root}$metadata",
        "value": [
            {"name": name, "kind": "EntitySet", "url": name} for name, _ in odata.entity_set_names()
        ],
    }
    return _response(json.dumps(body))


@odata_view
def metadata(request: HttpRequest):
    """CSDL XML (Part 3): one schema, an entity type per set, one container."""
    options = odata.system_options(_pairs(request), {"$format"})
    _check_format(request, options, ("xml", "application/xml"))
    sets = [odata.entity_set(name) for name, _ in odata.entity_set_names()]
    return _response(odata.csdl(sets), content_type="application/xml")


def _split_key(name: str) -> tuple[str, int | None]:
    """``Requests(42)`` -> ("Requests", 42): an entity by key (Part 2, 4.3.1)."""
    if not name.endswith(")") or "(" not in name:
        return name, None
    base, _, key = name[:-1].partition("(")
    if not key.lstrip("-").isdigit() or len(key) > 19:
        raise odata.ODataError(400, f"the key of {base[:100]} is a whole number", base[:100])
    return base, int(key)


def _page_size(request: HttpRequest) -> tuple[int, str | None]:
    """``Prefer: odata.maxpagesize=N`` (Part 1, 8.2.8.5), at most MAX_PAGE_SIZE."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize":
            value = value.strip().strip('"')
            if value.isdigit() and 0 < int(value) <= 10**9:
                size = min(int(value), odata.MAX_PAGE_SIZE)
                return size, f"odata.maxpagesize={size}"
    return odata.MAX_PAGE_SIZE, None


def _next_link(request: HttpRequest, name: str, token: str) -> str:
    """The same request with the new $skiptoken (never the api_key: Power BI adds it)."""
    pairs = [(k, v) for k, v in _pairs(request) if k not in ("$skiptoken", API_KEY_PARAM)]
    pairs.append(("$skiptoken", token))
    query = urlencode(pairs, quote_via=quote, safe="$,()'*:")
    return f"{_root(request)}{name}?{query}"


def _prepare(request: HttpRequest, name: str, allowed: set[str]):
    options = odata.system_options(_pairs(request), allowed)
    _check_format(request, options, ("json", "application/json"))
    base, key = _split_key(name)
    if base in odata.MODEL_SETS:
        given = [p for p in odata.FILTER_PARAMS if p in request.GET]
        if given:
            raise odata.ODataError(
                400, f"{given[0]} filters the dashboard tables only; use $filter here", given[0]
            )
        filters = odata.queries.Filters()
    else:
        filters = odata.table_filters(request.GET)
    entity = odata.entity_set(base, filters)
    return options, entity, key, odata.parse_query(entity, options, filters)


@odata_view
def entity_set(request: HttpRequest, name: str):
    """An entity set's rows (Part 1, 11.2), paged; or one entity by key."""
    options, entity, key, query = _prepare(request, name, odata.SUPPORTED)
    ieee754 = _ieee754(request, options)
    props = entity.properties
    if query.select is not None:
        props = [p for p in entity.properties if p.name in query.select]
    root = _root(request)
    selection = f"({','.join(query.select)})" if query.select else ""
    content_type = JSON_TYPE + (";IEEE754Compatible=true" if ieee754 else "")
    keyed = query.select is None or entity.key in query.select

    def entity_id(row):
        return None if keyed else f"{root}{entity.name}({row[entity.key]})"

    if key is not None:
        if set(options) - {"$select", "$format"}:
            raise odata.ODataError(400, "an entity by key takes only $select", entity.name)
        row = entity.one(key, query)
        if row is None:
            raise odata.ODataError(404, f"no {entity.name} with key {key}", entity.name)
        body = odata.row_json(row, props, ieee754, entity_id(row))
        context = json.dumps(f"{root}$metadata#{entity.name}{selection}/$entity")
        return _response('{"@odata.context":' + context + "," + body[1:], content_type=content_type)
    size, applied = _page_size(request)
    page = entity.page(query, size)
    parts = [f'"@odata.context":{json.dumps(f"{root}$metadata#{entity.name}{selection}")}']
    if page.count is not None:
        parts.append(f'"@odata.count":{page.count}')
    if page.next_token is not None:
        # Control information before the value: valid streamed or not (JSON 4.4).
        link = _next_link(request, entity.name, page.next_token)
        parts.append(f'"@odata.nextLink":{json.dumps(link)}')
    rows = ",".join(odata.row_json(r, props, ieee754, entity_id(r)) for r in page.rows)
    parts.append(f'"value":[{rows}]')
    headers = {"Preference_Applied": applied} if applied else {}
    return _response("{" + ",".join(parts) + "}", content_type=content_type, **headers)


@odata_view
def entity_count(request: HttpRequest, name: str):
    """``Set/$count``: the number of rows matching $filter, as text (Part 2, 4.8)."""
    options, entity, key, query = _prepare(request, name, {"$filter", "$format"})
    if key is not None:
        raise odata.ODataError(400, "$count applies to an entity set, not an entity", name)
    query.count = True
    query.top = 0
    return _response(str(entity.page(query, 1).count), content_type="text/plain")


@odata_view
def not_served(request: HttpRequest, rest: str):
    """Paths below an entity set other than ``/$count`` (Part 2, 4: navigation, ``$value``)."""
    raise odata.ODataError(
        404, f"this service serves entity sets and Set/$count only, not '{rest[:100]}'", rest[:100]
    )
