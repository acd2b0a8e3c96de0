"""doorstep synth-city --centers 12600 [--seed 1] [--replace]: a synthetic city for benchmarks."""

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

    def handle(self, *args: Any, **options: Any) -> None:
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
