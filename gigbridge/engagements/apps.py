from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "gigbridge.engagements"
    label = "engagements"
