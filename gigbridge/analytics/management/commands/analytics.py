"""`gigbridge analytics rebuild | check`: recompute the analytics from the source tables, or
prove that the rollups kept by every change equal such a recomputation."""

from django.core.management.base import BaseCommand, CommandError

from gigbridge.analytics import rebuild


class Command(BaseCommand):
    help = (
        "Program analytics. `analytics rebuild` recomputes every fact and rollup from the "
        "source tables; `analytics check` does so in a transaction it rolls back and lists "
        "every cell that differs from the kept rollups (exit status 1 if any)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("rebuild", help="recompute the facts and rollups (progress on stdout)")
        check = sub.add_parser("check", help="compare the kept rollups with a recomputation")
        check.add_argument("--quiet", action="store_true", help="print only the differences")

    def handle(self, *args, **options):
        if options["subcommand"] == "rebuild":
            counts = rebuild.rebuild_all(progress=self.stdout.write)
            self.stdout.write(
                f"analytics rebuilt: {counts['requestfact']} requests, "
                f"{counts['monthlycube']} monthly cells"
            )
            return
        say = None if options["quiet"] else self.stdout.write
        differences = rebuild.check(progress=say)
        for line in differences:
            self.stdout.write(line)
        if differences:
            raise CommandError(
                f"{len(differences)} analytics cell(s) differ from a recomputation: the kept "
                "rollups are wrong; `gigbridge analytics rebuild` repairs them"
            )
        self.stdout.write("analytics check: the kept rollups equal a recomputation")
