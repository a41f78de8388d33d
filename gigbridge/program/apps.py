from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "gigbridge.program"
    label = "program"
