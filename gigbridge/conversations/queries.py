"""Read models of the conversation bridge for the engagement page and the API."""

from __future__ import annotations

from .models import MirroredStory, OutgoingMessage, Thread


def summary(engagement) -> dict | None:
    """The engagement's thread in a line: where it is, its state, how much crossed."""
    thread = Thread.objects.filter(engagement=engagement).first()
    if thread is None:
        return None
    return {
        "state": thread.state,
        "team": thread.team_name or thread.team_id,
        "channel": thread.channel_name or "General",
        "mirrored": MirroredStory.objects.filter(
            room__thread=thread, state=MirroredStory.State.POSTED
        ).count(),
        "sent": OutgoingMessage.objects.filter(
            thread=thread, state=OutgoingMessage.State.SENT
        ).count(),
        # Stories Teams refused for good, replies that did not reach Upwork (author told).
        "not_mirrored": MirroredStory.objects.filter(
            room__thread=thread, state=MirroredStory.State.FAILED
        ).count(),
        "not_sent": OutgoingMessage.objects.filter(
            thread=thread, state=OutgoingMessage.State.FAILED
        ).count(),
        "error": thread.last_error,
    }
