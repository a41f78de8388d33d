import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gigbridge.audit import checkpoints
from gigbridge.audit.actions import verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. `audit verify` checks the hash chain and the signed checkpoints "
        "and names what is broken; `audit checkpoint` writes a checkpoint now."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser(
            "verify", help="exit 0 when the chain and its checkpoints agree, 1 naming each break"
        )
        check.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="check against this checkpoint file (e.g. lines saved from the auditors' "
            "mails) instead of the one in GIGBRIDGE_AUDIT_CHECKPOINT_DIR",
        )
        sub.add_parser("checkpoint", help="append a signed checkpoint of the chain now")

    def handle(self, *args, **options):
        if options["subcommand"] == "checkpoint":
            try:
                written = checkpoints.write(force=True)
            except (checkpoints.CheckpointError, OSError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"checkpoint #{written.number} of {written.at}: {written.events} events, "
                f"appended to {checkpoints.default_file()}"
            )
            return
        result = verify(checkpoint_file=options["checkpoints"])
        if result.ok:
            agree = (
                "1 checkpoint agrees"
                if result.checkpoints == 1
                else f"{result.checkpoints} checkpoints agree"
            )
            self.stdout.write(f"OK: audit chain intact ({result.checked} events); {agree} with it")
            return
        for problem in result.problems:
            self.stderr.write(f"BROKEN: {problem}")
        sys.exit(1)
