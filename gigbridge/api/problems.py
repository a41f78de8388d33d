"""Errors as RFC 9457 ``application/problem+json``, naming the field and the policy rule."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from gigbridge.engagements.errors import InvalidTransition, NotAllowed, RuleViolation

CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: list[dict] | None = None,
    kind: str = "about:blank",
) -> JsonResponse:
    body = {"type": kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def _field(loc: list) -> str:
    # ninja reports ("body", "payload", "budget"); users know the field as "budget".
    parts = [str(p) for p in loc]
    while parts and parts[0] in {"body", "query", "path", "payload", "filters"}:
        parts.pop(0)
    return ".".join(parts) or "(body)"


def install(api) -> None:
    @api.exception_handler(ValidationError)
    def validation(request, exc: ValidationError):
        errors = [
            {"field": _field(e.get("loc", [])), "message": e.get("msg", "invalid")}
            for e in exc.errors
        ]
        return problem(
            422,
            "The request has invalid fields",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors,
            kind="/problems/validation",
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
        return problem(exc.status_code, str(exc))
