from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "gigbridge.notifications"
    label = "notifications"
