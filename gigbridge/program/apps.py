from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "gigbridge.program"
    label = "program"

    def ready(self) -> None:
        # Registers its outbox job kind (the hub's publication to SharePoint).
        from . import tasks  # noqa: F401, PLC0415
