from django.urls import path

from . import sitesview

urlpatterns = [
    path("sites/", sitesview.sites, name="sites-viewer"),
    path("sites/<slug:site>/", sitesview.site, name="sites-viewer-site"),
    path("sites/<slug:site>/SitePages/<str:name>", sitesview.page, name="sites-viewer-page"),
]
