from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "gigbridge.files"
    label = "files"

    def ready(self) -> None:
        # Registers its outbox job kinds, the drive notifications it handles and the milestone
        # rule it adds. Neither access nor sourcing imports files.
        from . import reactions, rules, tasks  # noqa: F401, PLC0415
