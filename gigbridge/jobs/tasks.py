"""Queue tasks of the jobs app: the trigger that makes a worker run one outbox job."""

from django_tasks import task

from . import actions


@task()
def run_job(job_id: int) -> str:
    return actions.run(job_id).status
