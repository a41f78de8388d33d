from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "gigbridge.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox tenant"
    default_auto_field = "django.db.models.BigAutoField"
