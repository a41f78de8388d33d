from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.viewer, name="viewer"),
    path("", include("gigbridge.sandbox.graph.urls")),
    path("", include("gigbridge.sandbox.m365files.urls")),  # Graph part 2: files, uploads
    path("", include("gigbridge.sandbox.upwork.urls")),  # the Upwork marketplace
    path("", include("gigbridge.sandbox.entra.urls")),
]
