"""doorstep import-sites FILE.csv [--skip-invalid]: heritage sites (docs/heritage.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.heritage.services import import_sites


class Command(BaseCommand):
    help = "Import red heritage sites from a CSV file (columns: docs/heritage.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="store the good rows and report the bad ones (default: store nothing)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_sites(options["file"], skip_invalid=options["skip_invalid"])
        for error in result.errors:
            self.stderr.write(str(error))
        if not result.committed:
            raise CommandError(f"{len(result.errors)} problem(s); nothing was stored")
        self.stdout.write(f"sites: {result.created} created, {result.updated} updated")
