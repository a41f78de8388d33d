from django.urls import path

from . import control, oauth, viewer, views

urlpatterns = [
    path("upwork/", viewer.viewer, name="upwork-viewer"),
    path("upwork/ab/account-security/oauth2/authorize", oauth.authorize, name="upwork-authorize"),
    path("upwork/api/v3/oauth2/token", oauth.token, name="upwork-token"),
    path("upwork/graphql", views.graphql, name="upwork-graphql"),
    path("upwork/_sandbox/control", control.control, name="upwork-control"),
    path("upwork/_sandbox/tick", control.tick, name="upwork-tick"),
    path("upwork/_sandbox/act", control.act, name="upwork-act"),
    path("upwork/_sandbox/freelancers", control.freelancers, name="upwork-freelancers"),
    path("upwork/_sandbox/bulk-contracts", control.bulk_contracts, name="upwork-bulk"),
]
