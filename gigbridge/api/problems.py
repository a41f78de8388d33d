"""Errors as RFC 9457 ``application/problem+json``, naming the field and the policy rule."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation

CONTENT_TYPE = "application/problem+json"
# Machine clients live under these prefixes: every error there is problem+json, never a page.
MACHINE_PREFIXES = ("/api/", "/hooks/")

log = logging.getLogger(__name__)


def for_machines(request: HttpRequest) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def problem(
    status: int,
    title: str = "",
    detail: str = "",
    errors: list[dict] | None = None,
    kind: str = "about:blank",
) -> JsonResponse:
    body = {"type": kind, "title": title or HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def too_large(limit: int | None = None) -> JsonResponse:
    detail = f"the request body is larger than {limit} bytes" if limit else ""
    return problem(413, "Request body too large", detail or "the request body is too large")


class FieldError(Schema):
    field: str
    message: str
    rule: str | None = None


class Problem(Schema):
    """RFC 9457 problem details: every 4xx and 5xx answer of the API and the webhooks."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


def _field(loc: list) -> str:
    # ninja reports ("body", "payload", "budget"); users know the field as "budget".
    parts = [str(p) for p in loc]
    while parts and parts[0] in {"body", "query", "path", "payload", "filters", "file", "form"}:
        parts.pop(0)
    return ".".join(parts) or "(body)"


def invalid_fields(errors: list[dict]) -> JsonResponse:
    return problem(
        422,
        "The request has invalid fields",
        "; ".join(f"{e['field']}: {e['message']}" for e in errors),
        errors,
        kind="/problems/validation",
    )


def install(api) -> None:
    @api.exception_handler(ValidationError)
    def validation(request, exc: ValidationError):
        return invalid_fields(
            [
                {"field": _field(e.get("loc", [])), "message": e.get("msg", "invalid")}
                for e in exc.errors
            ]
        )

    @api.exception_handler(RuleViolation)
    def rule_violation(request, exc: RuleViolation):
        errors = [
            {"field": p.field or "(request)", "message": p.message, "rule": p.rule}
            for p in exc.problems
        ]
        return problem(
            422, "The request breaks program rules", str(exc), errors, kind="/problems/policy"
        )

    @api.exception_handler(NotAllowed)
    def not_allowed(request, exc: NotAllowed):
        return problem(403, "Forbidden", str(exc))

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc: PermissionDenied):
        return problem(403, "Forbidden", str(exc))

    @api.exception_handler(InvalidTransition)
    def conflict(request, exc: InvalidTransition):
        return problem(409, "Not possible in the current state", str(exc))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return problem(
            401,
            "Authentication required",
            "send 'Authorization: Bearer <token>' with a personal API token",
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(404, "Not found", str(exc) or "no such object, or not visible to you")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        response = problem(exc.status_code, str(exc))
        if isinstance(exc, Throttled) and exc.wait:
            response["Retry-After"] = str(exc.wait)
        return response

    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request, exc):
        from django.conf import settings

        return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    @api.exception_handler(Exception)
    def server_error(request, exc):
        # ninja re-raises to Django's HTML 500 page (or, with DEBUG, answers the traceback as
        # text): the client gets neither; the traceback goes to the server log only.
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "the error was logged")


# What each documented error means; `document` attaches those that apply to each operation.
ERROR_RESPONSES = {
    400: "The request could not be understood: a malformed header (such as Host) or a body "
    "that is not valid JSON",
    401: "No valid bearer token or session",
    403: "Your roles do not allow this",
    404: "No such object, or not visible to you",
    409: "Not possible in the object's current state",
    413: "The request body is too large",
    422: "Invalid fields: `errors` names each field",
    429: "Too many failed sign-ins from this address, or too many requests: retry after "
    "Retry-After seconds",
}


def _applicable(path: str, method: str, operation: dict, throttled: bool) -> list[int]:
    """The errors an operation can answer, from its shape: auth, path ids, inputs, a body."""
    codes = [400]  # any request can arrive malformed (a bad Host header), with a body or not
    if operation.get("security"):
        codes += [401, 403, 429]  # 429: bearer tokens are throttled like passwords
    if "{" in path:
        codes.append(404)
        if method != "get":
            codes.append(409)  # actions on an object depend on its state
    if operation.get("requestBody"):
        codes.append(413)
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append(422)
    if throttled and 429 not in codes:
        codes.append(429)
    return sorted(codes)


def document(schema: dict, throttled: set[str] = frozenset()) -> dict:
    """Add the Problem schema once, and the problem+json error responses to every operation
    (an operation's own declaration of a status wins). ``throttled``: operationIds with a
    throttle."""
    definition = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(definition.pop("$defs", {}))
    components["Problem"] = definition
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            declared = {str(code) for code in responses}
            for code in _applicable(
                path, method, operation, operation.get("operationId") in throttled
            ):
                if str(code) not in declared:
                    responses[code] = {
                        "description": ERROR_RESPONSES[code],
                        "content": {CONTENT_TYPE: {"schema": ref}},
                    }
    return schema
