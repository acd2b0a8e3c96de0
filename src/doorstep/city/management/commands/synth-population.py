"""doorstep synth-population [--cell 500]: a synthetic grid over the district outlines."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.city.population import synth_population


class Command(BaseCommand):
    help = "Make a synthetic population grid (labelled synthetic) over the district outlines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cell", type=int, default=500, help="metres between cells")

    def handle(self, *args: Any, **options: Any) -> None:
        result = synth_population(cell_m=max(100, options["cell"]))
        if result.errors:
            raise CommandError(result.errors[0])
        self.stdout.write(f"synthetic cells: {result.cells}, people: {result.people}")
