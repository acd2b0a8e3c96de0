"""doorstep rebuild-figures [--from YYYY-MM-DD] [--to YYYY-MM-DD]: recompute the rollups."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.figures.services import rebuild_figures


class Command(BaseCommand):
    help = (
        "Recompute the figures' rollups from the raw visits and service records, for the "
        "given days (default: all). Gives the same rows as the incremental refresh; use it "
        "after deleting visits or importing old ones in bulk."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", default=None, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", default=None, help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = date.fromisoformat(options["start"]) if options["start"] else None
            end = date.fromisoformat(options["end"]) if options["end"] else None
        except ValueError as exc:
            raise CommandError(f"bad date: {exc}") from None
        began = time.perf_counter()
        pairs = rebuild_figures(start=start, end=end)
        self.stdout.write(f"rebuilt {pairs} center-days in {time.perf_counter() - began:.1f} s")
