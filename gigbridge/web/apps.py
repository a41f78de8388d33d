from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gigbridge.web"
    label = "web"

    def ready(self):
        from . import signin  # noqa: F401 - connects the sign-in failure and lockout receivers
