from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gigbridge.people"
    label = "people"
