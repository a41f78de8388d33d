from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "gigbridge.audit"
    label = "audit"
