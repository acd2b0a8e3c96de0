"""doorstep import-centers FILE.csv [--skip-invalid] [--dry-run]: see docs/import.md."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from doorstep.centers.importing import ImportFileError, import_centers
from doorstep.core.db import refresh_statistics


class Command(BaseCommand):
    help = "Import service centers from a CSV file (format: docs/import.md)."

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
            result = import_centers(
                options["file"], skip_invalid=options["skip_invalid"], dry_run=options["dry_run"]
            )
        except ImportFileError as exc:
            if exc.line:
                raise CommandError(
                    _("line %(line)s: %(reason)s") % {"line": exc.line, "reason": exc.message}
                ) from None
            raise CommandError(str(exc.message)) from None
        for bad in result.errors:
            self.stderr.write(str(bad))
        numbers = {
            "file": result.file_name,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "valid": result.valid,
            "invalid": len(result.errors),
        }
        if result.committed:
            if result.created or result.updated:
                refresh_statistics()
            self.stdout.write(
                _(
                    "%(file)s: %(rows)s rows; created %(created)s, updated %(updated)s, "
                    "unchanged %(unchanged)s, invalid %(invalid)s."
                )
                % numbers
            )
            if result.errors and not result.valid:
                raise CommandError(_("Nothing was imported: every row has errors."))
            if result.errors:
                self.stdout.write(
                    _("Skipped %(invalid)s invalid rows; the other rows were imported.") % numbers
                )
            return
        if options["dry_run"]:
            self.stdout.write(
                _(
                    "%(file)s: %(rows)s rows; would create %(created)s, update %(updated)s, "
                    "leave %(unchanged)s unchanged; invalid %(invalid)s. Dry run: nothing stored."
                )
                % numbers
            )
            if result.errors:
                raise CommandError(_("%(invalid)s rows have errors.") % numbers)
            return
        self.stdout.write(
            _("%(file)s: %(rows)s rows; valid %(valid)s, invalid %(invalid)s.") % numbers
        )
        raise CommandError(
            _(
                "Nothing was imported: %(invalid)s rows have errors. Fix them, or use "
                "--skip-invalid to import the other rows."
            )
            % numbers
        )
