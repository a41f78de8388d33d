"""Graph's error shape: ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}``; handlers raise GraphError and the dispatcher renders it."""

from __future__ import annotations

import datetime as dt


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict:
    # Graph's innerError date has no fraction and no zone designator.
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": date,
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(message: str, code: str = "Request_ResourceNotFound") -> GraphError:
    return GraphError(404, code, message)


def resource_not_found(key: str) -> GraphError:
    """What Entra-backed resources (users, groups) answer for an id they do not have."""
    return not_found(
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present."
    )


def teams_not_found(what: str) -> GraphError:
    return GraphError(404, "NotFound", f"{what} not found.")


def denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def unsupported_query(message: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)
