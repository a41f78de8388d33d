from django.apps import AppConfig


class SandboxSitesConfig(AppConfig):
    name = "gigbridge.sandbox.sites"
    label = "sandbox_sites"
    verbose_name = "Sandbox SharePoint sites and pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the handlers registers their routes with the Graph dispatcher.
        from . import pages  # noqa: F401
