"""doorstep refresh-figures: roll up what changed since the last refresh (the worker does it)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from doorstep.figures.services import refresh_figures


class Command(BaseCommand):
    help = "Refresh the figures' rollups incrementally: only the center-days that changed."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        result = refresh_figures()
        self.stdout.write(
            f"refreshed {result.pairs} center-days over {result.days} days "
            f"in {time.perf_counter() - began:.2f} s"
        )
