"""The API's Swagger UI page, from the npm lockfile's swagger-ui-dist (never a CDN).

ninja's own ``Swagger`` renders a CDN template unless ninja is an installed app (then its own
vendored copy). This page uses the assets pinned in package-lock.json, like htmx and Pico, and
starts Swagger UI from a static script, so it works under the CSP (no inline script).
"""

from __future__ import annotations

from django.shortcuts import render
from ninja.openapi.docs import Swagger, _csrf_needed


class LocalSwagger(Swagger):
    template = "web/swagger.html"
    default_settings = {
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,  # Swagger UI would ask validator.swagger.io about our schema
    }

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": self.settings, "api": api, "add_csrf": _csrf_needed(api)}
        return render(request, self.template, context)
