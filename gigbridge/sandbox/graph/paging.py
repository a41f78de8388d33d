"""OData query options the emulator shares: paging, ``$select``, ``$filter``, contexts.

Paging is by key (keyset), so pages stay right while objects come and go between them: a page
holds up to ``$top`` (default 100, at most 999) or ``Prefer: odata.maxpagesize`` objects and,
when more follow, an absolute ``@odata.nextLink`` that repeats the request's query with an
opaque ``$skiptoken``. Clients must follow it as it is.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet

from gigbridge.integrations.msgraph import conformance

from . import filters
from .dispatch import GraphRequest
from .errors import GraphError, bad_request, unsupported_query

DEFAULT_PAGE = 100
MAX_PAGE = 999


def encode_token(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str, what: str = "skip token") -> dict:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        data = None
    if not isinstance(data, dict):
        raise bad_request(f"The {what} is not valid.", code="Request_BadRequest")
    return data


def page_size(request: GraphRequest) -> int:
    top = request.query.get("$top")
    if top is not None:
        if not re.fullmatch(r"\d+", top) or not 1 <= int(top) <= MAX_PAGE:
            raise unsupported_query(
                f"Invalid page size specified: '{top}'. Must be between 1 and {MAX_PAGE} inclusive."
            )
        return int(top)
    prefer = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
    if prefer:
        return max(1, min(MAX_PAGE, int(prefer.group(1))))
    return DEFAULT_PAGE


def context(request: GraphRequest, fragment: str, select: list[str] | None = None) -> str:
    """``{base}/$metadata#users`` (``#users(id,mail)`` with ``$select``; ``/$entity`` as given)."""
    if select:
        head, slash, tail = fragment.partition("/$entity")
        fragment = f"{head}({','.join(select)}){slash}{tail}"
    return f"{request.base}/$metadata#{fragment}"


def paginate(
    request: GraphRequest,
    queryset: QuerySet,
    render: Callable[[object], dict],
    context_url: str,
    key: str = "pk",
) -> dict:
    """One page of ``queryset`` ordered by ``key``, as a collection body."""
    size = page_size(request)
    token = request.query.get("$skiptoken")
    rows = queryset.order_by(key)
    if token:
        after = decode_token(token).get("after")
        if after is None:
            raise bad_request("The skip token is not valid.", code="Request_BadRequest")
        rows = rows.filter(**{f"{key}__gt": after})
    found = list(rows[: size + 1])
    body: dict = {"@odata.context": context_url}
    if len(found) > size:
        found = found[:size]
        last = getattr(found[-1], key if key != "pk" else "pk")
        params = {k: v for k, v in request.query.items() if k != "$skiptoken"}
        params["$skiptoken"] = encode_token({"after": str(last)})
        body["@odata.nextLink"] = request.link(request.path, params)
    body["value"] = [render(row) for row in found]
    return body


# -- $select ---------------------------------------------------------------------------------


def select(request: GraphRequest, type_name: str) -> list[str] | None:
    """The properties ``$select`` asks for (checked against the type), or None."""
    raw = request.query.get("$select")
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    subset = conformance.load_subset()
    qualified = subset.resolve(type_name)
    known = subset.properties(qualified)
    for name in names:
        if name not in known and name != "id":
            raise bad_request(
                f"Could not find a property named '{name}' on type '{qualified}'.",
                code="Request_BadRequest",
            )
    return names


def project(full: dict, names: Iterable[str] | None, defaults: Iterable[str], type_name: str):
    """The object as Graph returns it: the default properties, or those ``$select`` names
    (``id`` always; a property the emulator does not keep comes back null, or [] for lists)."""
    wanted = list(defaults) if names is None else ["id", *[n for n in names if n != "id"]]
    subset = conformance.load_subset()
    known = subset.properties(subset.resolve(type_name))
    result = {}
    for name in wanted:
        if name in full:
            result[name] = full[name]
        else:
            spec = known.get(name, {})
            result[name] = [] if spec.get("collection") else None
    for key, value in full.items():
        if key.startswith("@"):
            result[key] = value
    return result


# -- $filter ---------------------------------------------------------------------------------


def filter_q(request: GraphRequest, fields: dict) -> Q:
    """A Q for ``$filter`` over ``fields`` (Graph name -> ORM field, or a callable
    ``(kind, value) -> Q``); parsed as OData v4 by ``filters``, strings compared
    case-insensitively as Entra does; anything else is Graph's 400."""
    raw = request.query.get("$filter")
    if not raw or not raw.strip():
        return Q()
    directory = request.path.strip("/").split("/")[0].lower() in ("users", "groups")
    advanced = (
        request.headers.get("consistencylevel", "").lower() == "eventual"
        and request.query.get("$count", "").lower() == "true"
    )
    return filters.filter_to_q(raw, fields, _resource(request), advanced=advanced or not directory)


def _resource(request: GraphRequest) -> str:
    return request.path.strip("/").split("/")[0].rstrip("s").capitalize()


def ensure(condition: bool, error: GraphError) -> None:
    if not condition:
        raise error
