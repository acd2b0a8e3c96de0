"""doorstep import-holidays FILE.csv: public holidays and make-up working days (docs/cases.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.cases.services.holidays import import_holidays


class Command(BaseCommand):
    help = (
        "Import public holidays and make-up working days (CSV with date,name,workday,source; "
        "workday 1 marks a make-up working day). One bad row stores nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_holidays(options["file"])
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} bad row(s); nothing was stored")
        self.stdout.write(f"holidays: {result.created} created, {result.updated} updated")
