from django.urls import include, path

from . import viewertools, views

urlpatterns = [
    path("", views.viewer, name="viewer"),
    path("_sandbox/viewer.css", viewertools.stylesheet, name="viewer-css"),
    path("_sandbox/viewer/sign-in", viewertools.sign_in, name="viewer-sign-in"),
    path("_sandbox/viewer/sign-out", viewertools.sign_out, name="viewer-sign-out"),
    path("_sandbox/viewer/clock", viewertools.move_clock, name="viewer-clock"),
    path("", include("gigbridge.sandbox.graph.urls")),
    path("", include("gigbridge.sandbox.m365files.urls")),  # Graph part 2: files, uploads
    path("", include("gigbridge.sandbox.sites.urls")),  # Graph part 3: sites, their pages
    path("", include("gigbridge.sandbox.upwork.urls")),  # the Upwork marketplace
    path("", include("gigbridge.sandbox.botconnector.urls")),  # Teams: Bot Connector, /teams/
    path("", include("gigbridge.sandbox.entra.urls")),
]
