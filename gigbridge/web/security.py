"""Response headers that Django's SecurityMiddleware does not set (Django 5.2 has no CSP).

- ``Content-Security-Policy`` (``settings.CONTENT_SECURITY_POLICY``) on every answer that has
  none: scripts, styles, images and fetches from this origin only; no inline script or style
  (templates use classes and static files), no plugins, no <base>, no framing, forms post here.
- ``Cache-Control: private, no-store`` on every dynamic answer that says nothing about caching,
  and on every answer to a signed-in user (pages show confidential requests and, once, new API
  tokens: no browser cache, back-button copy or shared proxy may keep them). Static files are
  answered by WhiteNoise before this middleware, with their own long cache lifetimes.
- ``Strict-Transport-Security`` whenever the public base URL is https, also when a proxy in
  front terminates TLS and the request reaches us as http (browsers ignore it over http).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if not response.has_header("Cache-Control") or _signed_in(request):
            patch_cache_control(response, private=True, no_store=True)
        if settings.BASE_URL.startswith("https://") and settings.SECURE_HSTS_SECONDS:
            value = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                value += "; includeSubDomains"
            response.headers.setdefault("Strict-Transport-Security", value)
        return response
