"""``POST /$batch``: JSON batching, run in-process through the same dispatcher.

At most 20 requests (else 400 for the whole batch); ids unique (case-insensitively); a request
with a body needs a ``Content-Type`` header (else 400 for the whole batch, as Graph answers);
``url`` is relative to the version root (``/users`` or ``users``). Requests run one after the
other in the order given, except that one runs after those in its ``dependsOn``; when one of
those failed (status 400 or more) it is not run and answers 424. The envelope itself answers
200 with ``responses`` in request order, each ``{id, status, headers, body}``; clients should
still match them by id (Graph may reorder). Throttling and faults apply to each request (a
throttled one answers 429 with ``Retry-After`` in its headers), never to the envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from urllib.parse import parse_qsl, unquote, urlsplit

from .dispatch import GraphRequest, GraphResponse, execute, normalize
from .errors import GraphError, bad_request, error_body

MAX_REQUESTS = 20
METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


def run(request: GraphRequest) -> GraphResponse:
    try:
        items = _checked(request.json())
    except GraphError as exc:
        return request.error(exc)
    order = _order(items)
    if order is None:
        return request.error(bad_request("The dependsOn graph of the batch has a cycle."))
    results: dict[str, GraphResponse] = {}
    for item in order:
        key = item["id"].lower()
        failed = [d for d in item["depends"] if results[d.lower()].status >= 400]
        if failed:
            body = error_body(
                "FailedDependency",
                f"The request was not run: the request '{failed[0]}' it depends on failed.",
                str(uuid.uuid4()),
                request.client_request_id,
            )
            results[key] = GraphResponse(424, body)
            continue
        results[key] = _execute(request, item)
    responses = []
    for item in items:
        response = results[item["id"].lower()]
        headers = dict(response.headers)
        entry: dict = {"id": item["id"], "status": response.status, "headers": headers}
        if response.body is not None:
            headers.setdefault("Content-Type", "application/json")
            entry["body"] = response.body
        responses.append(entry)
    return GraphResponse(200, {"responses": responses})


def _checked(body: dict) -> list[dict]:
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(
            f"The batch has {len(requests)} requests; at most {MAX_REQUESTS} are allowed "
            "in one batch."
        )
    items, seen = [], set()
    for entry in requests:
        if not isinstance(entry, dict):
            raise bad_request("Invalid batch payload format: each request must be an object.")
        rid, method, url = entry.get("id"), entry.get("method"), entry.get("url")
        if not isinstance(rid, str) or not rid:
            raise bad_request("Invalid batch payload format: each request needs an 'id'.")
        if rid.lower() in seen:
            raise bad_request(f"Batch request ids must be unique: '{rid}' is repeated.")
        seen.add(rid.lower())
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise bad_request(f"Request id : {rid} has an invalid or missing 'method'.")
        if not isinstance(url, str) or not url or urlsplit(url).scheme:
            raise bad_request(f"Request id : {rid} needs a relative 'url'.")
        headers = entry.get("headers") or {}
        if not isinstance(headers, dict):
            raise bad_request(f"Request id : {rid} has invalid 'headers'.")
        headers = {str(k).lower(): str(v) for k, v in headers.items()}
        if "body" in entry and entry["body"] is not None and "content-type" not in headers:
            raise bad_request(
                f"Write request id : {rid} does not contain Content-Type header or body."
            )
        depends = entry.get("dependsOn") or []
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise bad_request(f"Request id : {rid} has an invalid 'dependsOn'.")
        items.append({**entry, "method": method.upper(), "headers": headers, "depends": depends})
    for item in items:
        for dependency in item["depends"]:
            if dependency.lower() not in seen:
                raise bad_request(
                    f"Request id : {item['id']} depends on '{dependency}', which is not in the "
                    "batch."
                )
    return items


def _order(items: list[dict]) -> list[dict] | None:
    """The items in request order, each after what it depends on; None for a cycle."""
    by_id = {item["id"].lower(): item for item in items}
    done: set[str] = set()
    visiting: set[str] = set()
    ordered: list[dict] = []

    def visit(key: str) -> bool:
        if key in done:
            return True
        if key in visiting:
            return False
        visiting.add(key)
        for dependency in by_id[key]["depends"]:
            if not visit(dependency.lower()):
                return False
        visiting.discard(key)
        done.add(key)
        ordered.append(by_id[key])
        return True

    for item in items:
        if not visit(item["id"].lower()):
            return None
    return ordered


def _execute(request: GraphRequest, item: dict) -> GraphResponse:
    url = item["url"]
    path, _, query = url.partition("?")
    path = "/" + path.lstrip("/")
    sub = GraphRequest(
        method=item["method"],
        path=unquote(path),
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=item["headers"],
        body=b"",
        principal=request.principal,
        request_id=str(uuid.uuid4()),
        client_request_id=request.client_request_id,
        in_batch=True,
    )
    if normalize(sub.path).lower() == "/$batch":
        return sub.error(bad_request("A batch request cannot contain another batch request."))
    body = item.get("body")
    if body is not None:
        if isinstance(body, str) and "json" not in item["headers"]["content-type"]:
            try:
                sub.body = base64.b64decode(body)
            except (ValueError, binascii.Error):
                return sub.error(bad_request("The request body is not valid base64."))
        else:
            sub.body = json.dumps(body).encode()
    return execute(sub)
