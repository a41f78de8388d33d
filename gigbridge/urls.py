from django.urls import include, path

from gigbridge.access.hooks import graph_hook
from gigbridge.analytics.urls import odata_urlpatterns
from gigbridge.api.main import api
from gigbridge.integrations.teams.views import teams_hook
from gigbridge.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    *odata_urlpatterns,  # the analytics OData feed, before the REST API claims /api/v1/
    path("api/v1/", api.urls),
    path("hooks/graph", graph_hook, name="hooks-graph"),
    path("hooks/teams", teams_hook, name="hooks-teams"),
    path("integrations/upwork/", include("gigbridge.integrations.upwork.urls")),
    path("analytics/", include("gigbridge.analytics.urls")),
    path("", include("gigbridge.web.urls")),
]

# Problem+json under /api/ and /hooks/, friendly pages elsewhere (DEBUG off).
handler400 = "gigbridge.errors.bad_request"
handler403 = "gigbridge.errors.permission_denied"
handler404 = "gigbridge.errors.page_not_found"
handler500 = "gigbridge.errors.server_error"
