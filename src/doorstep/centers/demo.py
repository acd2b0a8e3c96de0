"""Example opening hours for the article's centers, so the demo has something to show.

The article states opening hours for one center only. For the others, load_demo_hours() sets
plausible weekly hours labelled hours_source="synthetic" with a note saying so; it never
replaces hours that came from the article, from staff or from an import.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .article import article_entries, center_input
from .models import Center
from .services import save_center
from .vocab import Kind, Level, Source

# No note of its own: the page says, in the reader's language, that synthetic hours are an
# example (hours_source="synthetic"); a stored note would be one language on every page.
DEMO_HOURS_NOTE = ""
# Main district and subdistrict centers open long hours every day.
HOURS_MAIN_CENTER = "mon-sun 08:30-20:30"
# Centers in office towers and business parks follow the working week.
HOURS_OFFICE = "mon-fri 09:00-18:00"
# Stations and smaller centers: office hours and Saturday morning.
HOURS_STATION = "mon-fri 09:00-17:30; sat 09:00-12:00"


# Riders and couriers work late: their stations stay open into the night; the one with
# capsule apartments and battery swapping (万有引力) never closes.
HOURS_RIDERS = "mon-sun 07:00-23:00"
HOURS_RIDERS_HOME = "24h"


def demo_hours_for(entry: dict[str, Any]) -> str:
    if "new_employment" in entry.get("themes", []):
        if "capsule_apartment" in entry.get("facilities", []):
            return HOURS_RIDERS_HOME
        return HOURS_RIDERS
    if entry["kind"] == Kind.CENTER and entry["level"] in (Level.DISTRICT, Level.SUBDISTRICT):
        return HOURS_MAIN_CENTER
    if entry["level"] == Level.OFFICE_PARK:
        return HOURS_OFFICE
    return HOURS_STATION


@transaction.atomic
def load_demo_hours() -> dict[str, int]:
    """Give every article center without real hours its synthetic demo hours.

    Returns counts created/updated/unchanged/skipped; skipped are centers whose hours come from
    the article or another real source. Running it again changes nothing.
    """
    entries = article_entries()
    existing = {
        c.external_key: c
        for c in Center.objects.filter(external_key__in=[e["external_key"] for e in entries])
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    for entry in entries:
        current = existing.get(entry["external_key"])
        stated = entry["hours"] or entry["hours_source"]
        if stated or (current is not None and current.hours_source not in ("", Source.SYNTHETIC)):
            counts["skipped"] += 1
            continue
        data = center_input(
            entry,
            hours=demo_hours_for(entry),
            hours_note=DEMO_HOURS_NOTE,
            hours_source=Source.SYNTHETIC,
        )
        _center, outcome = save_center(data=data)
        counts[outcome] += 1
    return counts
