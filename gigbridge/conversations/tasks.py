"""Outbox handlers of the conversation bridge (each check-then-act, see ``actions``)."""

from gigbridge.jobs.registry import handler

from . import actions


@handler(actions.START_JOB)
def start_thread_job(payload: dict) -> None:
    actions.run_start_thread(payload["engagement_id"])


@handler(actions.POLL_JOB)
def poll_job(payload: dict) -> None:
    actions.poll_organization(payload["organization_id"])


@handler(actions.DRAIN_JOB)
def post_room_job(payload: dict) -> None:
    actions.run_drain(payload["room_link_id"])


@handler(actions.SEND_JOB)
def send_job(payload: dict) -> None:
    actions.run_send(payload["thread_id"])


@handler(actions.CLOSE_JOB)
def close_job(payload: dict) -> None:
    actions.run_close(payload["engagement_id"])


@handler(actions.TELL_JOB)
def tell_failed_job(payload: dict) -> None:
    actions.run_tell_failed(payload["message_id"])
