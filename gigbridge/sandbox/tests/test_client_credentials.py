"""App-only tokens, as the product's Graph client gets them: MSAL against the sandbox."""

from __future__ import annotations

import base64

import jwt
import msal
import pytest
import requests

from gigbridge.sandbox.client import msal_options
from gigbridge.sandbox.defaults import OUTSIDE_TOOLS_PERMISSIONS

from .helpers import verified

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def _app(info, secret=None, **options):
    return msal.ConfidentialClientApplication(
        info["client_id"],
        client_credential=secret or info["client_secret"],
        authority=info["authority"],
        **(options or msal_options(info["ca_cert"])),
    )


def test_msal_with_verify_path_gets_a_token(info, monkeypatch):
    # requests would replace verify= with these (psf/requests#4726); see gigbridge.sandbox.client
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    app = _app(info, verify=info["ca_cert"], instance_discovery=False)

    result = app.acquire_token_for_client(GRAPH_DEFAULT)

    assert result.get("token_type") == "Bearer", result
    assert result["expires_in"] > 3000


def test_msal_options_keep_the_ca_when_the_environment_names_another_bundle(info, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with pytest.raises(requests.exceptions.SSLError):
        _app(info, verify=info["ca_cert"], instance_discovery=False)

    result = _app(info).acquire_token_for_client(GRAPH_DEFAULT)

    assert "access_token" in result, result


def test_msal_needs_instance_discovery_off_for_the_sandbox(info):
    """Left on, MSAL asks login.microsoftonline.com about the loopback authority."""
    asked = []

    class Recording(requests.Session):
        def request(self, method, url, *args, **kwargs):
            asked.append(url)
            raise requests.exceptions.ConnectionError("no network in this test")

    with pytest.raises(requests.exceptions.ConnectionError):
        _app(info, http_client=Recording())

    assert asked == ["https://login.microsoftonline.com/common/discovery/instance"]


def test_app_token_verifies_against_the_jwks_and_carries_the_roles(info):
    token = _app(info).acquire_token_for_client(GRAPH_DEFAULT)["access_token"]

    header = jwt.get_unverified_header(token)
    claims = verified(info, token, "https://graph.microsoft.com")

    assert header["alg"] == "RS256" and header["kid"]
    assert claims["roles"] == OUTSIDE_TOOLS_PERMISSIONS
    assert claims["tid"] == info["tenant_id"]
    assert claims["appid"] == claims["azp"] == info["client_id"]
    assert claims["idtyp"] == "app" and claims["oid"]
    assert claims["nbf"] <= claims["iat"] < claims["exp"]


def test_wrong_secret_is_invalid_client(info, http):
    result = _app(info, secret="not-the-secret").acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_client"

    response = http.post(
        f"{info['authority']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": "not-the-secret",
            "scope": GRAPH_DEFAULT[0],
        },
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert body["error_codes"] == [7000215]


def test_client_secret_basic_is_accepted(info, http):
    basic = base64.b64encode(f"{info['client_id']}:{info['client_secret']}".encode()).decode()

    response = http.post(
        f"{info['authority']}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH_DEFAULT[0]},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("change", "status", "error", "code"),
    [
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"scope": "User.Read"}, 400, "invalid_scope", 1002012),
        ({"scope": "https://example.org/.default"}, 400, "invalid_resource", 500011),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ],
)
def test_token_errors_look_like_entra(info, http, change, status, error, code):
    data = {
        "grant_type": "client_credentials",
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "scope": GRAPH_DEFAULT[0],
        **change,
    }

    response = http.post(f"{info['authority']}/oauth2/v2.0/token", data=data)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_codes"] == [code]


def test_unknown_tenant_is_not_found(http):
    response = http.get("/contoso.invalid/v2.0/.well-known/openid-configuration")

    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]
