"""doorstep import-services FILE.csv [--skip-invalid] [--dry-run]: see docs/visits.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from doorstep.visits.importing import ImportFileError, import_services


class Command(BaseCommand):
    help = "Import daily service tallies from a CSV file (format: docs/visits.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8, with a header row")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows and report the bad ones (default: import nothing)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, store nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s")
                % {"file": options["file"], "error": exc.strerror}
            ) from None
        try:
            result = import_services(
                data, skip_invalid=options["skip_invalid"], dry_run=options["dry_run"]
            )
        except ImportFileError as exc:
            raise CommandError(str(exc.message)) from None
        for bad in result.errors:
            self.stderr.write(str(bad))
        numbers = {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "invalid": len(result.errors),
        }
        summary = (
            _(
                "%(rows)s rows; created %(created)s, updated %(updated)s, unchanged "
                "%(unchanged)s, invalid %(invalid)s."
            )
            % numbers
        )
        if result.committed:
            self.stdout.write(summary)
            return
        if options["dry_run"] and not result.errors:
            self.stdout.write(_("Dry run, nothing stored: %(summary)s") % {"summary": summary})
            return
        raise CommandError(
            _("Nothing was imported: %(summary)s Fix the rows above or use --skip-invalid.")
            % {"summary": summary}
        )
