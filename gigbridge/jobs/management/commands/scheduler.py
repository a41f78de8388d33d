from django.core.management.base import BaseCommand

from gigbridge.jobs.scheduler import run_scheduler
from gigbridge.startup import check_or_exit


class Command(BaseCommand):
    help = "Run the scheduler: outbox sweeper, approval reminders and escalations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between ticks (default GIGBRIDGE_SCHEDULER_INTERVAL)",
        )
        parser.add_argument("--once", action="store_true", help="run one tick and exit")

    def handle(self, *args, **options):
        # Under `gigbridge up` the program may still be in the set-up wizard: wait for it.
        check_or_exit(self.stderr, setup="required" if options["once"] else "wait")
        run_scheduler(interval=options["interval"], once=options["once"])
