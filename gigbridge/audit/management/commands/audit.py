import sys

from django.core.management.base import BaseCommand

from gigbridge.audit.actions import verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. `audit verify` checks the hash chain and names the first broken event."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="exit 0 when the chain is intact, 1 naming the first break")

    def handle(self, *args, **options):
        result = verify()
        if result.ok:
            self.stdout.write(f"OK: audit chain intact ({result.checked} events)")
            return
        self.stderr.write(
            f"BROKEN: audit event #{result.broken_seq}: {result.reason} "
            f"({result.checked} events before it verified)"
        )
        sys.exit(1)
