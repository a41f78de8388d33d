"""The dashboard and its exports (mounted at /analytics/), and the OData v4 feed's routes
(``odata_urlpatterns``, mounted by gigbridge/urls.py under /api/v1/analytics before the REST
API, which would otherwise answer them with its own 404)."""

from django.urls import path

from . import api, views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<str:slug>.csv", views.export_table, {"extension": "csv"}, name="export-csv"),
    path("<str:slug>.parquet", views.export_table, {"extension": "parquet"}, name="export-parquet"),
]

# Plain patterns, not an include: the feed is named from the root (see api.ROOT).
odata_urlpatterns = [
    path("api/v1/analytics", api.service_document, name="odata-service"),
    path("api/v1/analytics/", api.service_document, name="odata-service-slash"),
    path("api/v1/analytics/$metadata", api.metadata, name="odata-metadata"),
    path("api/v1/analytics/<str:name>/$count", api.entity_count, name="odata-count"),
    path("api/v1/analytics/<str:name>", api.entity_set, name="odata-set"),
    # Anything deeper (navigation, $ref, $value...) is not served: an OData 404, not the
    # REST API's problem+json.
    path("api/v1/analytics/<path:rest>", api.not_served, name="odata-other"),
]
