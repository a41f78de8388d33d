"""Upwork emulator OAuth2: the authorize picker, the three grants, bearer checks, info."""

from __future__ import annotations

from .upwork_support import (
    REDIRECT,
    Upwork,
    app_token,
    authorize_url,
    pick,
    query_of,
    token,
    upwork,
)

ORG = "query Organization { organization { id name } }"


def test_info_names_endpoints_app_and_organizations(info):
    details = upwork(info)
    assert details["graphql_url"].endswith("/upwork/graphql")
    assert details["token_url"].endswith("/upwork/api/v3/oauth2/token")
    assert details["authorize_url"].endswith("/upwork/ab/account-security/oauth2/authorize")
    assert len(details["tenant_ids"]) >= 2 and details["user"] == "ada@contoso.example"
    assert details["client_id"] and details["client_secret"]


def test_authorization_code_then_refresh(http, info):
    params = query_of(pick(http, authorize_url(info), "ada@contoso.example"))
    assert params["state"] == "st-1"

    first = token(http, info, grant_type="authorization_code", code=params["code"],
                  redirect_uri=REDIRECT)  # fmt: skip
    again = token(http, info, grant_type="authorization_code", code=params["code"],
                  redirect_uri=REDIRECT)  # fmt: skip

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["access_token"].startswith("oauth2v2_")
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert Upwork(http, info, body["access_token"]).data(ORG)["organization"]["name"]

    refreshed = token(http, info, grant_type="refresh_token", refresh_token=body["refresh_token"])
    reused = token(http, info, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200 and reused.status_code == 400
    assert Upwork(http, info, refreshed.json()["access_token"]).data(ORG)


def test_pkce_verifier_must_match(http, info):
    from .helpers import pkce_pair

    verifier, challenge = pkce_pair()
    url = authorize_url(info, code_challenge=challenge, code_challenge_method="S256")
    code = query_of(pick(http, url, "max@contoso.example"))["code"]
    wrong = token(http, info, grant_type="authorization_code", code=code,
                  redirect_uri=REDIRECT, code_verifier="x" * 43)  # fmt: skip
    assert wrong.status_code == 400

    code = query_of(pick(http, url, "max@contoso.example"))["code"]
    right = token(http, info, grant_type="authorization_code", code=code,
                  redirect_uri=REDIRECT, code_verifier=verifier)  # fmt: skip
    assert right.status_code == 200, right.text


def test_client_credentials_and_bad_secret(http, info):
    assert app_token(http, info)
    bad = token(http, info, {"client_id": upwork(info)["client_id"], "client_secret": "nope"},
                grant_type="client_credentials")  # fmt: skip
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    odd = token(http, info, grant_type="password")
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"


def test_unregistered_redirect_is_shown_not_followed(http, info):
    page = http.get(authorize_url(info, redirect_uri="https://evil.example/cb"))
    assert page.status_code == 400


def test_graphql_needs_a_valid_bearer_token(http, info):
    response = Upwork(http, info, "oauth2v2_not-a-token").post(ORG)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]
