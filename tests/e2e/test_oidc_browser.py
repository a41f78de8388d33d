"""A browser test signs in through the sandbox's OIDC login.

Chromium cannot be handed a CA file, and ``ignore_https_errors`` would accept any certificate
from any site. So this Chromium is started with ``--ignore-certificate-errors-spki-list`` set to
the SHA-256 of the sandbox server certificate's public key: it accepts exactly that key (read
from a connection verified against the sandbox CA) and still refuses every other bad certificate.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import expect

from gigbridge.sandbox.client import ssl_context_from
from gigbridge.web import oidc

from .conftest import CHROMIUM, CHROMIUM_ARGS, watch_csp

pytestmark = pytest.mark.browser


def spki_pin(url: str, ca_cert: str) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the certificate the server at ``url`` presents."""
    parts = urlsplit(url)
    context = ssl_context_from(ca_cert)  # the pin is taken only from a verified connection
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
            der = tls.getpeercert(binary_form=True)
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def pinned_browser(browser, tenant_info):
    """A second Chromium from the session's Playwright that trusts the sandbox's key only."""
    pin = spki_pin(tenant_info["authority"], tenant_info["ca_cert"])
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def oidc_page(pinned_browser, live_server, base_url, settings, tenant_info):
    settings.OIDC = {
        "authority": tenant_info["authority"],
        "client_id": tenant_info["sign_in"]["client_id"],
        "client_secret": tenant_info["sign_in"]["client_secret"],
        "ca_bundle": tenant_info["ca_cert"],
        "create_users": False,
    }
    oidc.reset()
    context = pinned_browser.new_context(base_url=live_server.url, ignore_https_errors=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = watch_csp(page)
    yield page
    context.close()
    oidc.reset()
    assert violations == [], "the Content-Security-Policy blocked something"


def test_browser_signs_in_through_the_sandbox_oidc_login(oidc_page, people, tenant_info):
    page = oidc_page
    page.goto("/requests/")  # not signed in: the login page, which offers Microsoft
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_role("button", name="Sign in with Microsoft").click()

    # The sandbox's user picker, over HTTPS with its own CA (no certificate interstitial).
    expect(page).to_have_url(re.compile(re.escape(tenant_info["authority"]) + "/oauth2/"))
    expect(page.get_by_role("heading", name="Sign in to Gigbridge")).to_be_visible()
    page.get_by_role("button", name="Rita Requester").click()

    # Back on Gigbridge, on the page first asked for, signed in as Rita.
    expect(page.get_by_role("heading", name="Work requests")).to_be_visible()
    assert urlsplit(page.url).path == "/requests/"
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Rita Requester")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
