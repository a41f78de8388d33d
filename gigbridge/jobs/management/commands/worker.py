from django.core.management.base import BaseCommand

from gigbridge.jobs.worker import run_worker
from gigbridge.startup import check_or_exit


class Command(BaseCommand):
    help = "Run a background worker (any number may run, on any number of machines)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="seconds to wait when the queue is empty (default 0.5)",
        )
        parser.add_argument("--batch", action="store_true", help="run every queued task, then exit")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args, **options):
        # Under `gigbridge up` the program may still be in the set-up wizard: wait for it.
        check_or_exit(self.stderr, setup="required" if options["batch"] else "wait")
        run_worker(
            interval=options["interval"],
            batch=options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
