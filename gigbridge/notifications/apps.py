from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "gigbridge.notifications"
    label = "notifications"

    def ready(self) -> None:
        from . import approvals  # noqa: F401  registers the approval card buttons
