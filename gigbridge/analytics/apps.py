from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "gigbridge.analytics"
    label = "analytics"
    verbose_name = "Program analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Analytics listens to the apps it measures; none of them knows it exists.
        from . import maintain

        maintain.connect()
