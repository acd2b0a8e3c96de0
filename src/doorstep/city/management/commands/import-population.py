"""doorstep import-population FILE.csv: a population grid (docs/city.md)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.city.population import import_population


class Command(BaseCommand):
    help = "Import a population grid (CSV: lat, lng, population[, datum]); replaces the grid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_population(options["file"])
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise CommandError(f"{len(result.errors)} problem(s); nothing was stored")
        self.stdout.write(f"cells: {result.cells}, people: {result.people}")
