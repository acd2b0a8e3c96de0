"""doorstep load-demo [--no-demo-hours]: the data `make run` serves, loaded idempotently."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from doorstep.centers.article import load_article_centers
from doorstep.centers.demo import load_demo_hours
from doorstep.centers.regions import load_regions
from doorstep.core.db import refresh_statistics


class Command(BaseCommand):
    help = (
        "Load Shanghai's regions, the article's centers and (unless --no-demo-hours) synthetic "
        "example opening hours for the centers the article gives none for. A second run "
        "changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-demo-hours",
            action="store_true",
            help="do not add synthetic example opening hours",
        )
        parser.add_argument(
            "--no-demo-schedule",
            action="store_true",
            help="do not add synthetic example activities",
        )
        parser.add_argument(
            "--no-demo-visits",
            action="store_true",
            help="do not add 60 days of synthetic visits and services at the article's centers",
        )
        parser.add_argument(
            "--no-demo-drafts",
            action="store_true",
            help="do not add the synthetic example draft laws",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._report("regions", load_regions())
        self._report("article centers", load_article_centers())
        if not options["no_demo_hours"]:
            self._report("demo hours", load_demo_hours())
        if not options["no_demo_schedule"]:
            from doorstep.activities.demo import load_demo_schedule

            self._report("demo schedule (synthetic)", load_demo_schedule())
            from doorstep.activities.rooms import spaces_from_rooms

            held = spaces_from_rooms()
            self._report(
                "demo rooms as spaces (synthetic)",
                {
                    "spaces": held.spaces,
                    "activities held": held.held,
                    "overlaps": len(held.clashes),
                },
            )
        from doorstep.deliberation.demo import load_demo_topics
        from doorstep.visits.demo import load_demo_routes

        # Facts from the article: its seven check-in routes and the Gubei deliberation story.
        self._report("article routes", load_demo_routes())
        self._report("article topics", {"loaded": load_demo_topics()})
        if not options["no_demo_visits"]:
            from doorstep.figures.synth import load_demo_figures

            made = load_demo_figures(days=60)
            self._report(
                "demo visits and services (synthetic)",
                {"visits": made.visits, "service records": made.services},
            )
        from doorstep.meals.demo import load_demo_meals

        # The article's canteens; their week of menus and the subsidy bands are synthetic.
        self._report("article canteens, example menus (synthetic)", load_demo_meals())
        from doorstep.rooms.demo import load_demo_rooms

        # The article's spaces; their hours, rules and the week's bookings are synthetic.
        self._report("article spaces, example bookings (synthetic)", load_demo_rooms())
        from doorstep.cases.demo import load_demo_requests

        # The article's health-certificate platform at 苏河湾; the catalogue's service levels,
        # the partner hospital and the example requests are synthetic.
        self._report("request types, example requests (synthetic)", load_demo_requests())
        from doorstep.heritage.demo import load_demo_sites

        # The two heritage sites the article names beside 黄浦区党建服务中心.
        self._report("article heritage sites", load_demo_sites())
        from doorstep.volunteers.demo import load_demo_volunteers

        # The article's explainers and guides at 黄浦区党建服务中心; shifts are synthetic.
        self._report("volunteer opportunities", load_demo_volunteers())
        from doorstep.gym.demo import load_demo_bands

        # 徐家汇's elderly gym hands out heart-rate bands (the article); these are synthetic.
        self._report("gym heart-rate bands", load_demo_bands())
        from doorstep.city.models import Cell
        from doorstep.city.population import synth_population

        # No registry ships population data: an illustrative grid (500 m cells, labelled
        # synthetic) gives the coverage page and the big screens a figure until a real grid
        # is imported (`doorstep import-population`); an existing grid is kept.
        if Cell.objects.exists():
            self._report("population grid", {"kept": Cell.objects.count()})
        else:
            grid = synth_population(cell_m=500)
            self._report("population grid (synthetic)", {"cells": grid.cells})
        if not options["no_demo_drafts"]:
            from doorstep.legislation.demo import load_demo_drafts

            self._report("contact point and example drafts (synthetic)", load_demo_drafts())
        refresh_statistics()

    def _report(self, what: str, counts: dict[str, int]) -> None:
        numbers = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"{what}: {numbers}"))
