"""Run our own clamd in the foreground (what `gigbridge up` starts when no scanner is set)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gigbridge.integrations.clamav import daemon


class Command(BaseCommand):
    help = (
        "Run Debian's clamd on the data folder's clamav/ (test signatures: EICAR). A real "
        "deployment runs its own clamd kept fresh by freshclam instead (docs/scanning.md)."
    )

    def handle(self, *args, **options):
        try:
            paths = daemon.prepare(settings.DATA_DIR)
            daemon.clear_stale_socket(paths)
            command = daemon.command(paths)
        except daemon.DaemonError as exc:
            raise CommandError(str(exc)) from None
        output = paths.folder / "clamd.out"
        self.stdout.write(f"clamd starting at {paths.address} (its output: {output})")
        self.stdout.flush()
        # clamd repeats its whole log on stdout in the foreground (~35 lines a start): that goes
        # to a file beside its log, not into `gigbridge up`'s terminal.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        # clamd takes this process's place: `up` stops it with the same signal as the others.
        os.execv(command[0], command)
