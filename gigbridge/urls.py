from django.urls import include, path

from gigbridge.api.main import api
from gigbridge.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("integrations/upwork/", include("gigbridge.integrations.upwork.urls")),
    path("", include("gigbridge.web.urls")),
]
