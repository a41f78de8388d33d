from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "gigbridge.access"
    label = "access"
