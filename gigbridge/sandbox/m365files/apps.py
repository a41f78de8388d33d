from django.apps import AppConfig


class SandboxFilesConfig(AppConfig):
    name = "gigbridge.sandbox.m365files"
    label = "sandbox_files"
    verbose_name = "Sandbox Planner, files and subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the handler modules registers their routes with the Graph dispatcher;
        # ``notify`` connects to the directory's signals (users, team members).
        from . import delta, drives, notify, planner, subscriptions  # noqa: F401
