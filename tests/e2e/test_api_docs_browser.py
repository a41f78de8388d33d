"""/api/v1/docs renders in a real browser, offline, under the CSP (Swagger UI from the lockfile)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_api_reference_renders_from_local_assets(page, people, live_server):
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    sign_in(page, "rita")

    page.goto("/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Gigbridge API")
    expect(page.locator(".opblock").first).to_be_visible()  # operations listed from the schema
    page.locator(".opblock-summary").first.click()  # React re-renders: styles and scripts work
    expect(page.locator(".opblock-body").first).to_be_visible()
    shots = os.environ.get("GIGBRIDGE_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "api-docs.png"), full_page=False)
    assert [u for u in outside if not u.startswith("data:")] == []  # no CDN, nothing outside
