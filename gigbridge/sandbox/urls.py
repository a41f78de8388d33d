from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.viewer, name="viewer"),
    path("", include("gigbridge.sandbox.entra.urls")),
]
