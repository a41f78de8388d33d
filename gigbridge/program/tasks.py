"""Outbox handlers of the program app."""

from gigbridge.jobs.registry import handler

from . import hub_publish
from .hub_actions import PUBLISH_JOB


@handler(PUBLISH_JOB)
def publish_hub(payload: dict) -> None:
    hub_publish.run_publish(int(payload["revision"]))
