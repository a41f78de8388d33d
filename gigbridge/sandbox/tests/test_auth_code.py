"""Signing a person in: authorize with the user picker, then the token endpoint (PKCE S256)."""

from __future__ import annotations

import msal

from gigbridge.sandbox.client import msal_options

from .helpers import (
    REDIRECT,
    authorize_url,
    form_post_params,
    pick_user,
    pkce_pair,
    redeem,
    redirect_params,
    sign_in,
    verified,
)


def _code(http, info, upn="rita@contoso.example"):
    verifier, challenge = pkce_pair()
    params = redirect_params(pick_user(http, authorize_url(info, challenge), upn))
    return params["code"], verifier


def test_picker_lists_the_tenant_users(http, info):
    _, challenge = pkce_pair()

    page = http.get(authorize_url(info, challenge))

    assert page.status_code == 200
    for upn in ("rita@contoso.example", "carol.owner@contoso.example", "audrey@contoso.example"):
        assert f'data-upn="{upn}"' in page.text


def test_code_flow_with_pkce_returns_an_id_token_for_the_chosen_user(http, info):
    verifier, challenge = pkce_pair()

    params = redirect_params(
        pick_user(http, authorize_url(info, challenge), "rita@contoso.example")
    )
    assert params["state"] == "st-123"
    response = redeem(
        http,
        info,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    identity = verified(info, body["id_token"], info["sign_in"]["client_id"])
    assert identity["preferred_username"] == "rita@contoso.example"
    assert identity["name"] == "Rita Requester"
    assert identity["email"] == "rita@contoso.example"
    assert identity["nonce"] == "n-456"
    assert identity["tid"] == info["tenant_id"]
    access = verified(info, body["access_token"], "https://graph.microsoft.com")
    assert access["oid"] == identity["oid"]
    assert access["scp"] == "User.Read"
    assert body["refresh_token"]


def test_a_code_is_redeemed_once(http, info):
    code, verifier = _code(http, info)
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}

    assert redeem(http, info, **grant, code_verifier=verifier).status_code == 200
    again = redeem(http, info, **grant, code_verifier=verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again.json()["error_codes"] == [54005]


def test_a_wrong_code_verifier_is_refused(http, info):
    code, _ = _code(http, info)

    response = redeem(
        http,
        info,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=pkce_pair()[0],
    )

    assert response.status_code == 400
    assert response.json()["error_codes"] == [501481]


def test_refresh_token_gives_new_tokens_and_is_single_use(http, info):
    first = sign_in(http, info, "max@contoso.example")

    refreshed = redeem(http, info, grant_type="refresh_token", refresh_token=first["refresh_token"])
    reused = redeem(http, info, grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert refreshed.status_code == 200, refreshed.text
    identity = verified(info, refreshed.json()["id_token"], info["sign_in"]["client_id"])
    assert identity["preferred_username"] == "max@contoso.example"
    assert refreshed.json()["refresh_token"] != first["refresh_token"]
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_userinfo_answers_for_a_delegated_token(http, info):
    tokens = sign_in(http, info, "lena@contoso.example")

    me = http.get("/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    assert me.status_code == 200
    assert me.json()["email"] == "lena@contoso.example"
    assert http.get("/oidc/userinfo").status_code == 401


def test_msal_auth_code_flow(http, info):
    app = msal.ConfidentialClientApplication(
        info["sign_in"]["client_id"],
        client_credential=info["sign_in"]["client_secret"],
        authority=info["authority"],
        **msal_options(info["ca_cert"]),
    )
    flow = app.initiate_auth_code_flow(
        ["User.Read"], redirect_uri=REDIRECT, response_mode="form_post"
    )

    params = form_post_params(pick_user(http, flow["auth_uri"], "paula@contoso.example"))
    assert set(params) >= {"code", "state", "client_info"}
    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "paula@contoso.example"
    account = app.get_accounts()[0]
    assert account["username"] == "paula@contoso.example"
    assert app.acquire_token_silent(["User.Read"], account=account)["access_token"]


def test_an_unregistered_redirect_uri_is_refused_on_the_page(http, info):
    _, challenge = pkce_pair()

    page = http.get(authorize_url(info, challenge, redirect_uri="https://evil.example/cb"))

    assert page.status_code == 400
    assert "AADSTS50011" in page.text


def test_loopback_redirect_uris_match_on_any_port(http, info):
    _, challenge = pkce_pair()
    url = authorize_url(info, challenge, redirect_uri="http://localhost:9123/auth/oidc/callback")

    response = pick_user(http, url, "rita@contoso.example")

    assert response.headers["location"].startswith("http://localhost:9123/auth/oidc/callback?code=")


def test_prompt_none_reports_login_required_to_the_client(http, info):
    _, challenge = pkce_pair()

    response = http.get(authorize_url(info, challenge, prompt="none"))

    params = redirect_params(response)
    assert params["error"] == "login_required"
    assert params["state"] == "st-123"
