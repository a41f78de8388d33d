"""Steps the tests share: PKCE, clicking through the user picker, reading redirects."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt

from gigbridge.sandbox.client import ssl_context_from


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pick_user(http: httpx.Client, authorize_url: str, upn: str) -> httpx.Response:
    """What a person does in a browser: open the picker, click ``upn``. Returns the redirect."""
    return pick(http, authorize_url, rf'value="([0-9a-f-]{{36}})" data-upn="{re.escape(upn)}"')


def pick(http: httpx.Client, url: str, user_pattern: str) -> httpx.Response:
    """Open a user picker (Entra's or Upwork's) and post its form with the user whose id is
    the group of ``user_pattern``, as a browser would. Returns the answer (the redirect)."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    user = re.search(user_pattern, page.text).group(1)
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text)
    fields = {name: html.unescape(value) for name, value in hidden}
    fields.update(csrfmiddlewaretoken=token, user=user)
    # A browser sends Origin with a POST; Django's CSRF check on HTTPS relies on it.
    origin = f"{page.url.scheme}://{page.url.netloc.decode()}"
    return http.post(str(page.url), data=fields, headers={"Origin": origin})


def form_post_params(response: httpx.Response) -> dict:
    """The fields of a ``response_mode=form_post`` answer, which a browser would post on."""
    assert response.status_code == 200, response.text
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', response.text)
    return {name: html.unescape(value) for name, value in hidden}


def redirect_params(response: httpx.Response) -> dict:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    return {key: values[0] for key, values in parse_qs(location.query).items()}


REDIRECT = "http://127.0.0.1:8000/auth/oidc/callback"  # registered for the sign-in app


def authorize_url(info: dict, challenge: str, **extra) -> str:
    params = {
        "client_id": info["sign_in"]["client_id"],
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access User.Read",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{info['authority']}/oauth2/v2.0/authorize?{urlencode(params)}"


def redeem(http: httpx.Client, info: dict, **data) -> httpx.Response:
    """POST to the token endpoint as the sign-in app."""
    body = {
        "client_id": info["sign_in"]["client_id"],
        "client_secret": info["sign_in"]["client_secret"],
        **data,
    }
    return http.post(f"{info['authority']}/oauth2/v2.0/token", data=body)


def sign_in(http: httpx.Client, info: dict, upn: str) -> dict:
    """The whole code flow for ``upn``; returns the token response body."""
    verifier, challenge = pkce_pair()
    params = redirect_params(pick_user(http, authorize_url(info, challenge), upn))
    response = redeem(
        http,
        info,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert response.status_code == 200, response.text
    return response.json()


def verified(info: dict, token: str, audience: str) -> dict:
    """Claims of ``token`` checked with PyJWT against the sandbox JWKS, as any client would."""
    keys = jwt.PyJWKClient(
        f"{info['authority']}/discovery/v2.0/keys", ssl_context=ssl_context_from(info["ca_cert"])
    )
    return jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        ["RS256"],
        audience=audience,
        issuer=f"{info['authority']}/v2.0",
    )
