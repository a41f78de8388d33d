"""Helpers for tests that talk to a running sandbox's Graph emulator over HTTPS.

No Django here (tests run with the product's settings); needs httpx and msal.

    graph = Graph(http, info, app_token(info))
    body = graph.ok("GET", "/users", type_name="user")   # asserts 200 and a conformant body
    set_dials(http, info, throttle={"rate": 1, "burst": 2})
"""

from __future__ import annotations

from typing import Any

import httpx
import msal

from gigbridge.integrations.msgraph import conformance
from gigbridge.sandbox.client import msal_options

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
RESET = {
    "throttle": None,
    "faults": {"error_rate": 0.0, "latency_ms": 0, "seed": None, "retry_after": 1},
    "teams": {"provisioning_seconds": 0},
    "invitations": {"blocked_domains": ["blocked.example"]},
}


def app_token(info: dict, client_id: str | None = None, secret: str | None = None) -> str:
    """An app-only Graph token from the sandbox's Entra ID, through MSAL as the product gets it."""
    app = msal.ConfidentialClientApplication(
        client_id or info["client_id"],
        client_credential=secret or info["client_secret"],
        authority=info["authority"],
        **msal_options(info["ca_cert"]),
    )
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    return result["access_token"]


def tools_auth(info: dict) -> tuple[str, str]:
    return info["client_id"], info["client_secret"]


def control_url(info: dict) -> str:
    return info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/control"


def set_dials(http: httpx.Client, info: dict, **changes) -> dict:
    response = http.post(control_url(info), json=changes, auth=tools_auth(info))
    assert response.status_code == 200, response.text
    return response.json()


def invitations(http: httpx.Client, info: dict, email: str) -> list[dict]:
    url = info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/invitations"
    response = http.get(url, params={"email": email}, auth=tools_auth(info))
    assert response.status_code == 200, response.text
    return response.json()["value"]


def set_clock(http: httpx.Client, info: dict, **change: float | str) -> None:
    """Move the sandbox clock (``advance_seconds``, ``offset_seconds`` or ``now``, an ISO
    datetime) instead of sleeping: throttle buckets refill, shares and subscriptions expire."""
    url = info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/clock"
    response = http.post(url, json=change, auth=tools_auth(info))
    assert response.status_code == 200, response.text


def sent_mail(http: httpx.Client, info: dict, **params) -> list[dict]:
    url = info["graph_base_url"].removesuffix("/v1.0") + "/_sandbox/mail"
    response = http.get(url, params=params, auth=tools_auth(info))
    assert response.status_code == 200, response.text
    return response.json()["value"]


def problems(type_name: str, body: Any, *, collection: bool = False) -> list[str]:
    if collection:
        return conformance.validate_collection_response(type_name, body, strict=True)
    return conformance.validate(type_name, body, direction="response", strict=True)


def assert_conforms(type_name: str, body: Any, *, collection: bool = False) -> None:
    found = problems(type_name, body, collection=collection)
    assert found == [], found


def assert_graph_error(response: httpx.Response | dict, status: int, code: str) -> dict:
    """Graph's error shape, with innerError's date and ids; returns the error object."""
    if isinstance(response, httpx.Response):
        assert response.status_code == status, response.text
        body = response.json()
        inner_id = response.headers["request-id"]
    else:
        assert response["status"] == status, response
        body, inner_id = response["body"], None
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert conformance.validate("publicError", error, direction="response") == []
    inner = error["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}, inner
    if inner_id:
        assert inner["request-id"] == inner_id
    return error


class Graph:
    """Calls to ``/v1.0`` with a bearer token; asserts Graph's headers on every answer."""

    def __init__(self, http: httpx.Client, info: dict, token: str):
        self.http, self.info, self.token = http, info, token
        self.base = info["graph_base_url"]

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base}{path}"

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.http.request(method, self.url(path), headers=headers, **kwargs)
        assert response.headers.get("request-id"), response.headers
        assert response.headers.get("client-request-id"), response.headers
        return response

    def ok(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        type_name: str | None = None,
        collection: bool = False,
        **kwargs,
    ) -> Any:
        """The JSON body of a call expected to answer ``status``, checked against ``type_name``."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        if not response.content:
            return None
        body = response.json()
        if type_name:
            assert_conforms(type_name, body, collection=collection)
        return body

    def all_pages(self, path: str, type_name: str, **kwargs) -> list[dict]:
        """Every item of a collection, following ``@odata.nextLink``."""
        body = self.ok("GET", path, type_name=type_name, collection=True, **kwargs)
        items, pages = list(body["value"]), 1
        headers = kwargs.get("headers", {})
        while body.get("@odata.nextLink"):
            assert body["@odata.nextLink"].startswith(self.base + "/"), body["@odata.nextLink"]
            body = self.ok(
                "GET",
                body["@odata.nextLink"],
                type_name=type_name,
                collection=True,
                headers=headers,
            )
            items += body["value"]
            pages += 1
            assert pages < 1000
        return items
