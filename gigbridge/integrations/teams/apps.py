from django.apps import AppConfig


class TeamsConfig(AppConfig):
    """The Teams bot transport: cached conversation references, invoke answers, /hooks/teams."""

    name = "gigbridge.integrations.teams"
    label = "teams"
    verbose_name = "Microsoft Teams"
    default_auto_field = "django.db.models.BigAutoField"
