from django.apps import AppConfig


class UpworkConfig(AppConfig):
    """The Upwork connector: its connection rows (tokens, state) and the connect views."""

    name = "gigbridge.integrations.upwork"
    label = "upwork"
    verbose_name = "Upwork"
    default_auto_field = "django.db.models.BigAutoField"
