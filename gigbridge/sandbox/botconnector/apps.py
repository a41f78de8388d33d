from django.apps import AppConfig


class SandboxBotConnectorConfig(AppConfig):
    name = "gigbridge.sandbox.botconnector"
    label = "sandbox_botconnector"
    verbose_name = "Sandbox Bot Connector and Teams view"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the channel-message routes with the Graph dispatcher.
        from . import graphmessages  # noqa: F401
