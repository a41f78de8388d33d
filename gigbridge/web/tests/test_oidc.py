"""Web sign-in through OpenID Connect, against the real sandbox tenant over HTTPS.

The Django test client plays the browser on Gigbridge's side; httpx (trusting exactly the
sandbox CA) plays it on the identity provider's side, clicking through the user picker.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from joserfc.errors import JoseError

from gigbridge.audit.actions import verify as verify_audit
from gigbridge.audit.models import AuditEvent
from gigbridge.people.models import Person
from gigbridge.sandbox.client import ssl_context_from
from gigbridge.sandbox.tests.helpers import pick_user
from gigbridge.web import oidc

BASE = "http://127.0.0.1:8000"  # the redirect URI the sandbox's sign-in app registers


@pytest.fixture
def oidc_on(settings, tenant_info):
    settings.OIDC = {
        "authority": tenant_info["authority"],
        "client_id": tenant_info["sign_in"]["client_id"],
        "client_secret": tenant_info["sign_in"]["client_secret"],
        "ca_bundle": tenant_info["ca_cert"],
        "create_users": False,
    }
    settings.BASE_URL = BASE
    oidc.reset()
    yield tenant_info
    oidc.reset()


def start(client, next_url: str | None = None) -> str:
    """GET /auth/oidc/login/; returns the identity provider URL it redirects to."""
    response = client.get("/auth/oidc/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content
    return response["Location"]


def pick(info: dict, authorize_url: str, upn: str) -> str:
    """Choose ``upn`` in the sandbox's picker; returns the callback path with its query."""
    with httpx.Client(verify=ssl_context_from(info["ca_cert"]), timeout=10) as http:
        answer = pick_user(http, authorize_url, upn)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{BASE}/auth/oidc/callback?"), location
    return location.removeprefix(BASE)


def sign_in(client, info: dict, upn: str, next_url: str | None = None):
    return client.get(pick(info, start(client, next_url), upn))


def signed_in_user(client):
    from django.contrib.auth import get_user

    class _Request:
        session = client.session

    return get_user(_Request())


def test_code_flow_signs_rita_in_and_audits_it(client, people, oidc_on):
    authorize = start(client, "/requests/?mine=1")
    url = urlsplit(authorize)
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        f"{oidc_on['authority']}/oauth2/v2.0/authorize"
    )
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == oidc_on["sign_in"]["client_id"]
    assert params["redirect_uri"] == f"{BASE}/auth/oidc/callback"
    assert params["scope"] == "openid profile email"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"]

    response = client.get(pick(oidc_on, authorize, "rita@contoso.example"))

    assert response.status_code == 302
    assert response["Location"] == "/requests/?mine=1"
    rita = people["rita"]
    assert signed_in_user(client) == rita
    assert client.session["_auth_user_backend"] == oidc.BACKEND
    page = client.get("/requests/")
    assert page.status_code == 200 and b"Rita Requester" in page.content

    event = AuditEvent.objects.get(action="auth.oidc_sign_in")
    assert event.actor_user_id == rita.pk and event.actor == "rita"
    assert (event.object_type, event.object_id) == ("user", str(rita.pk))
    assert set(event.after) == {"subject_oid", "email"}
    assert event.after["email"] == "rita@contoso.example"
    assert len(event.after["subject_oid"]) == 36  # the Entra object id, a GUID
    assert verify_audit().ok
    # Nothing of the flow is left in the session: no code verifier, nonce or state.
    assert not [key for key in client.session.keys() if key.startswith("_state_")]


def test_the_state_is_used_once(client, people, oidc_on):
    callback = pick(oidc_on, start(client), "rita@contoso.example")
    assert client.get(callback).status_code == 302
    client.logout()

    replayed = client.get(callback)

    assert replayed.status_code == 400
    assert b"was not started here" in replayed.content
    assert isinstance(signed_in_user(client), AnonymousUser)


def test_a_tampered_state_is_refused(client, people, oidc_on):
    callback = pick(oidc_on, start(client), "rita@contoso.example")
    url = urlsplit(callback)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    params["state"] = params["state"][:-2] + ("aa" if params["state"][-2:] != "aa" else "bb")

    response = client.get(f"{url.path}?{urlencode(params)}")

    assert response.status_code == 400
    assert b"Sign-in failed" in response.content
    assert isinstance(signed_in_user(client), AnonymousUser)
    assert not AuditEvent.objects.filter(action="auth.oidc_sign_in").exists()


def test_a_callback_from_another_browser_is_refused(client, people, oidc_on):
    """Login CSRF: a code and state made for the attacker's session do not work in another."""
    from django.test import Client

    attacker = Client()
    callback = pick(oidc_on, start(attacker), "max@contoso.example")

    response = client.get(callback)

    assert response.status_code == 400
    assert isinstance(signed_in_user(client), AnonymousUser)


def test_next_to_another_host_is_ignored(client, people, oidc_on):
    response = sign_in(client, oidc_on, "rita@contoso.example", "https://evil.example/steal")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user(client) == people["rita"]


def test_unknown_person_is_refused(client, db, oidc_on):
    response = sign_in(client, oidc_on, "rita@contoso.example")

    assert response.status_code == 403
    assert b"There is no Gigbridge account for rita@contoso.example" in response.content
    assert isinstance(signed_in_user(client), AnonymousUser)
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.exists()


def test_inactive_account_is_refused(client, people, oidc_on):
    people["rita"].is_active = False
    people["rita"].save()

    response = sign_in(client, oidc_on, "rita@contoso.example")

    assert response.status_code == 403
    assert b"is disabled" in response.content
    assert isinstance(signed_in_user(client), AnonymousUser)


def test_person_email_finds_the_account(client, people, oidc_on):
    """An account whose own email differs is found through the Person linked to it."""
    rita = people["rita"]
    rita.email = "rita.old@example.org"
    rita.save()

    response = sign_in(client, oidc_on, "rita@contoso.example")

    assert response.status_code == 302
    assert signed_in_user(client) == rita


def test_email_match_ignores_case(client, people, oidc_on):
    rita = people["rita"]
    rita.email = "Rita@Contoso.EXAMPLE"
    rita.save()
    Person.objects.filter(user=rita).update(email="someone-else@contoso.example")

    assert sign_in(client, oidc_on, "rita@contoso.example").status_code == 302
    assert signed_in_user(client) == rita


def test_create_users_makes_an_account_linked_to_the_person(client, db, settings, oidc_on):
    settings.OIDC = {**settings.OIDC, "create_users": True}
    person = Person.objects.create(
        kind=Person.Kind.EMPLOYEE, email="rita@contoso.example", display_name="Rita Requester"
    )

    response = sign_in(client, oidc_on, "rita@contoso.example", "/me/")

    assert response.status_code == 302 and response["Location"] == "/me/"
    user = get_user_model().objects.get()
    assert signed_in_user(client) == user
    assert (user.username, user.email) == ("rita@contoso.example", "rita@contoso.example")
    assert (user.first_name, user.last_name) == ("Rita", "Requester")
    assert not user.has_usable_password()
    person.refresh_from_db()
    assert person.user == user
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["auth.oidc_user_created", "auth.oidc_sign_in"]


def test_an_error_from_the_identity_provider_shows_a_page(client, people, oidc_on):
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    query = urlencode(
        {
            "error": "access_denied",
            "error_description": "AADSTS50034: The user account does not exist.",
            "state": state,
        }
    )

    response = client.get(f"/auth/oidc/callback?{query}")

    assert response.status_code == 400
    assert b"Sign-in was cancelled." in response.content
    # The description is text from the URL: logged, never shown.
    assert b"AADSTS50034" not in response.content
    assert isinstance(signed_in_user(client), AnonymousUser)


def test_an_error_without_our_state_reflects_nothing(client, people, oidc_on, caplog):
    start(client)  # a sign-in is under way, but this link does not carry its state
    for state in ("", "not-ours"):
        query = urlencode(
            {
                "error": "server_error",
                "error_description": "<b>Call +1 555 0100 to restore your account</b>",
                "state": state,
            }
        )

        response = client.get(f"/auth/oidc/callback?{query}")

        assert response.status_code == 400
        assert b"was not started here" in response.content
        assert b"555" not in response.content and b"server_error" not in response.content
    assert "555" not in caplog.text  # not even logged: nothing from a forged link is trusted


def test_an_unknown_error_code_gets_the_fixed_message_and_a_bounded_log(
    client, people, oidc_on, caplog
):
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    query = urlencode(
        {
            "error": "<script>x</script>",
            "error_description": "A" * 5000 + "\nforged",
            "state": state,
        }
    )

    response = client.get(f"/auth/oidc/callback?{query}")

    assert response.status_code == 400
    assert b"Microsoft could not sign you in." in response.content
    assert b"<script>x" not in response.content and b"AAAA" not in response.content
    line = next(r.getMessage() for r in caplog.records if "ended by the identity" in r.getMessage())
    assert len(line) < 500 and "\n" not in line


def test_the_sandbox_ca_is_kept_when_requests_ca_bundle_is_set(
    client, people, oidc_on, monkeypatch, tmp_path
):
    """requests lets REQUESTS_CA_BUNDLE replace a session's CA unless the session ignores it."""
    other_ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if not other_ca.exists():
        other_ca = tmp_path / "empty.pem"
        other_ca.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other_ca))

    response = sign_in(client, oidc_on, "rita@contoso.example")

    assert response.status_code == 302
    assert signed_in_user(client) == people["rita"]


def test_an_untrusted_identity_provider_is_not_used(client, people, settings, oidc_on):
    """Without the sandbox CA, TLS verification fails: a clear page, never a silent bypass."""
    settings.OIDC = {**settings.OIDC, "ca_bundle": "/etc/ssl/certs/ca-certificates.crt"}
    if not Path(settings.OIDC["ca_bundle"]).exists():
        pytest.skip("no system CA bundle here")

    response = client.get("/auth/oidc/login/")

    assert response.status_code == 502
    assert b"cannot be reached" in response.content


def test_login_page_offers_microsoft_only_when_configured(client, db, settings, oidc_on):
    page = client.get("/login/?next=/requests/")
    assert b"Sign in with Microsoft" in page.content
    assert b'href="/auth/oidc/login/?next=/requests/"' in page.content
    assert b'name="password"' in page.content  # local accounts stay for break-glass admins

    settings.OIDC = {**settings.OIDC, "authority": None}
    assert b"Sign in with Microsoft" not in client.get("/login/").content
    assert client.get("/auth/oidc/login/").status_code == 404
    assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404


def test_misconfiguration_is_explained(settings):
    settings.OIDC = {
        "authority": "http://login.microsoftonline.com/common",
        "client_id": "x",
        "client_secret": None,
        "ca_bundle": "/nonexistent/ca.pem",
    }
    problems = " ".join(oidc.config_problems())
    assert "must be an https URL" in problems
    assert "must name your tenant" in problems
    assert "GIGBRIDGE_OIDC_CLIENT_SECRET" in problems
    assert "GIGBRIDGE_OIDC_CA_BUNDLE" in problems


def test_id_token_for_another_audience_is_rejected(settings):
    """Authlib 1.9 checks ``aud`` only when told to: claims_options must tell it."""
    settings.OIDC = {
        "authority": "https://idp.test/tenant",
        "client_id": "our-client",
        "client_secret": "s",
    }
    oidc.reset()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    app = oidc.client()
    app.server_metadata.update(
        issuer="https://idp.test/tenant/v2.0",
        jwks={"keys": [{**public, "kid": "k1", "use": "sig"}]},
        id_token_signing_alg_values_supported=["RS256"],
        _loaded_at=time.time(),
    )

    def id_token(**claims):
        now = int(time.time())
        body = {"iss": "https://idp.test/tenant/v2.0", "sub": "s", "aud": "our-client"}
        body.update(iat=now, exp=now + 300, nonce="n")
        body.update(claims)
        signed = jwt.encode(body, key, "RS256", headers={"kid": "k1"})
        return {"id_token": signed, "access_token": "a"}

    def parse(token):
        return app.parse_id_token(token, nonce="n", claims_options=oidc.claims_options(app))

    try:
        assert parse(id_token())["sub"] == "s"
        with pytest.raises(JoseError):
            parse(id_token(aud="someone-else", azp="our-client"))
        with pytest.raises(JoseError):
            parse(id_token(iss="https://idp.test/other/v2.0"))
        with pytest.raises(JoseError):
            parse(id_token(nonce="replayed"))
    finally:
        oidc.reset()
