from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gigbridge.people"
    label = "people"

    def ready(self) -> None:
        from gigbridge.notifications import actions as notifications

        from . import notices

        # Notices to a person go where they chose (per kind; default: the policy's).
        notifications.set_channel_source(notices.channel_for)
