from django.apps import AppConfig


class SourcingConfig(AppConfig):
    name = "gigbridge.sourcing"
    label = "sourcing"

    def ready(self) -> None:
        # Sourcing reacts to engagements' domain events (gigbridge.engagements.events) instead of
        # engagements calling it: engagements never imports sourcing.
        from . import reactions  # noqa: F401, PLC0415 (connecting receivers is why ready() runs)
