from django.apps import AppConfig


class SandboxUpworkConfig(AppConfig):
    name = "gigbridge.sandbox.upwork"
    label = "sandbox_upwork"
    verbose_name = "Sandbox Upwork marketplace"
    default_auto_field = "django.db.models.BigAutoField"
