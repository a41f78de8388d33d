from django.urls import path, re_path

from . import control, views

urlpatterns = [
    re_path(r"^v1\.0/(?P<rest>.*)$", views.graph, name="graph"),
    path("_sandbox/control", control.control, name="graph-control"),
    path("_sandbox/mail", control.mail, name="graph-mail"),
    path("_sandbox/invitations", control.invitations, name="graph-invitations"),
    path("_sandbox/redeem/<str:token>", control.redeem, name="graph-redeem"),
]
