from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gigbridge.web"
    label = "web"
