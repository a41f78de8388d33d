from django.apps import AppConfig


class OutboundConfig(AppConfig):
    """The shared outbound HTTP layer; its one model is the rate bucket all processes share."""

    name = "gigbridge.integrations.outbound"
    label = "outbound"
    verbose_name = "Outbound HTTP"
    default_auto_field = "django.db.models.BigAutoField"
