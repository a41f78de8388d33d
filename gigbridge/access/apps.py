from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "gigbridge.access"
    label = "access"

    def ready(self) -> None:
        # Access reacts to engagements' domain events (gigbridge.engagements.events) instead of
        # engagements calling it.
        from . import reactions  # noqa: F401, PLC0415 (connecting receivers is why ready() runs)
