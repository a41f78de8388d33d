from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "gigbridge.conversations"
    label = "conversations"

    def ready(self) -> None:
        # Reacts to sourcing's and engagements' events and to Teams channel messages; registers
        # its outbox job kinds. Neither sourcing nor engagements imports conversations.
        from . import reactions, tasks  # noqa: F401, PLC0415
