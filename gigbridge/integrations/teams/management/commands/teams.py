"""``gigbridge teams package [--out FILE]``: write the Teams app package (docs/teams.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gigbridge.integrations.teams import package


class Command(BaseCommand):
    help = "Teams: 'package' writes the app package (manifest and icons) an admin uploads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pack = sub.add_parser("package", help="write the Teams app package (a zip)")
        pack.add_argument("--out", default="gigbridge-teams.zip", help="where to write the zip")
        pack.add_argument(
            "--version",
            dest="app_version",
            default="1.0.0",
            help="the app's version (raise it for every upload)",
        )
        pack.add_argument("--developer-name", default="Gigbridge")
        pack.add_argument("--website-url", default="", help="default: GIGBRIDGE_BASE_URL")
        pack.add_argument("--privacy-url", default="", help="default: the website URL")
        pack.add_argument("--terms-url", default="", help="default: the website URL")

    def handle(self, *args, **options):
        info = package.from_settings(
            version=options["app_version"],
            developer_name=options["developer_name"],
            website_url=options["website_url"],
            privacy_url=options["privacy_url"],
            terms_url=options["terms_url"],
        )
        try:
            data = package.build(info)
        except package.PackageError as exc:
            raise CommandError(str(exc)) from None
        out = Path(options["out"])
        out.write_bytes(data)
        self.stdout.write(f"wrote {out} ({len(data)} bytes) for bot {info.app_id}")
        manifest = package.manifest(info)
        if not all(
            url.startswith("https://") for url in manifest["developer"].values() if "://" in url
        ):
            self.stderr.write(
                "note: Teams accepts only https developer URLs: set GIGBRIDGE_BASE_URL to the "
                "public https address or pass --website-url/--privacy-url/--terms-url"
            )
