"""doorstep synth-city --centers 12600 [--seed 1] [--replace]: a synthetic city for benchmarks.

With --visits it also generates a year of synthetic visits and services at the synthetic
centers (figures/synth.py); --centers 0 --visits adds them to an existing synthetic city.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from doorstep.centers.synth import SynthError, synth_city
from doorstep.core.db import refresh_statistics


class Command(BaseCommand):
    help = (
        "Generate synthetic (clearly marked, not real) centers for benchmarks. "
        "Other centers are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--centers", type=int, default=12600, help="how many centers (default 12600)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the existing synthetic centers first (otherwise refuse if any exist)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes computing the search keys (default: one per CPU, up to 8)",
        )
        parser.add_argument(
            "--visits",
            action="store_true",
            help="also generate synthetic visits and services, then roll them up",
        )
        parser.add_argument("--year", type=int, default=None, help="year of visits (default: this)")
        parser.add_argument(
            "--days", type=int, default=None, help="days from 1 January (default: the whole year)"
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=11.0,
            help="mean visits per center per day (default 11: 50 million a year for 12,600)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["visits"] and options["centers"] == 0:
            self._visits(options)
            return
        started = time.perf_counter()
        try:
            created = synth_city(
                options["centers"], seed=options["seed"], replace=options["replace"]
            )
        except SynthError as exc:
            raise CommandError(str(exc.message)) from None
        refresh_statistics()
        self.stdout.write(
            _("Created %(n)s synthetic centers (seed %(seed)s) in %(seconds).1f s.")
            % {"n": created, "seed": options["seed"], "seconds": time.perf_counter() - started}
        )
        if options["visits"]:
            self._visits(options)

    def _visits(self, options: dict[str, Any]) -> None:
        from datetime import date, timedelta

        from django.utils import timezone

        from doorstep.figures.synth import roll_up, synth_visits

        year = options["year"] or timezone.localdate().year
        start = date(year, 1, 1)
        days = options["days"] or (date(year + 1, 1, 1) - start).days
        result = synth_visits(
            start=start, days=days, per_center_per_day=options["scale"], seed=options["seed"]
        )
        refresh_statistics()
        began = time.perf_counter()
        roll_up(start, start + timedelta(days=days - 1))
        self.stdout.write(
            f"{result.visits} synthetic visits and {result.services} service records over "
            f"{days} days from {start} in {result.seconds:.1f} s; rolled up in "
            f"{time.perf_counter() - began:.1f} s"
        )
