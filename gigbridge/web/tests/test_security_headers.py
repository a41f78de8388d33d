"""Response headers, the templates they rely on, the local API docs page and the https settings."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from conftest import PASSWORD
from gigbridge.web import oidc

ROOT = Path(__file__).resolve().parents[3]


def csp(response) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";"))
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def test_every_page_has_the_csp_and_isolation_headers(client, db):
    response = client.get("/login/")

    assert response.status_code == 200
    policy = csp(response)
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"  # no 'unsafe-inline': templates use classes
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "Strict-Transport-Security" not in response  # http base URL


def test_a_new_api_token_is_never_stored_by_the_browser(client, people):
    client.force_login(people["rita"])

    shown = client.post("/me/", {"what": "token", "name": "script"})

    assert shown.status_code == 200 and b'id="new-token"' in shown.content
    directives = {d.strip() for d in shown["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    for path in ("/requests/", "/approvals/", "/me/"):
        page = client.get(path)
        assert {"private", "no-store"} <= {d.strip() for d in page["Cache-Control"].split(",")}


def test_api_answers_to_a_token_are_not_stored_either(api):
    response = api("rita").get("/api/v1/me")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]


def test_hsts_is_sent_whenever_the_base_url_is_https(client, db, settings):
    settings.BASE_URL = "https://gigbridge.example.com"
    settings.SECURE_HSTS_SECONDS = 31536000

    response = client.get("/login/")  # plain http here, as behind a TLS-terminating proxy

    assert response["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize(
    ("base_url", "secure", "hsts"),
    [("https://gigbridge.example.com", True, 31536000), ("http://127.0.0.1:8000", False, 0)],
)
def test_https_base_url_means_secure_cookies_and_hsts(
    monkeypatch, tmp_path, base_url, secure, hsts
):
    monkeypatch.setenv("GIGBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GIGBRIDGE_BASE_URL", base_url)
    monkeypatch.delenv("GIGBRIDGE_BEHIND_PROXY", raising=False)

    values = runpy.run_module("gigbridge.settings")

    assert values["SESSION_COOKIE_SECURE"] is secure and values["CSRF_COOKIE_SECURE"] is secure
    assert values["SECURE_HSTS_SECONDS"] == hsts
    assert "SECURE_PROXY_SSL_HEADER" not in values  # trusting X-Forwarded-Proto is opt-in
    monkeypatch.setenv("GIGBRIDGE_BEHIND_PROXY", "true")
    behind = runpy.run_module("gigbridge.settings")
    assert behind["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def _product_templates():
    for path in sorted(ROOT.glob("gigbridge/**/templates/**/*.html")):
        if "/sandbox/" not in str(path):  # the sandbox is its own site, with its own headers
            yield path.relative_to(ROOT), path.read_text()
    yield "gigbridge/web/oidc.py PAGE", oidc.PAGE


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "inline script"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on (evaluated script)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_an_unsafe_csp():
    templates = list(_product_templates())
    found = [
        f"{name}: {what}"
        for name, text in templates
        for pattern, what in INLINE
        if pattern.search(text)
    ]
    assert len(templates) > 20 and found == []


def test_the_api_docs_are_served_from_the_lockfile_not_a_cdn(client, db):
    page = client.get("/api/v1/docs")

    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts == [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/gigbridge/swagger-init.js",
    ]
    assert "cdn" not in html.lower() and "https://" not in html
    assert '"url": "/api/v1/openapi.json"' in html and "validatorUrl" in html
    assert csp(page)["script-src"] == "'self'"
    for path in scripts + ["/static/vendor/swagger-ui/swagger-ui.css"]:
        asset = client.get(path)
        assert asset.status_code == 200, path
        b"".join(asset.streaming_content)
    lock = (ROOT / "package-lock.json").read_text()
    assert '"node_modules/swagger-ui-dist"' in lock


def test_the_locked_out_page_also_has_the_headers(client, people, settings):
    for _ in range(settings.SIGNIN_ACCOUNT_LIMIT):
        response = client.post("/login/", {"username": "rita", "password": PASSWORD + "x"})
    assert response.status_code == 429
    assert csp(response)["frame-ancestors"] == "'none'"
    assert "no-store" in response["Cache-Control"]
