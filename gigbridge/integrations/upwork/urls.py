from django.urls import path

from . import views

app_name = "upwork"
urlpatterns = [
    path("", views.connect, name="connect"),
    path("callback", views.callback, name="callback"),
]
