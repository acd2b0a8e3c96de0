"""The centers named in the newspaper feature 《党群服务中心：走得进 坐得下 还想来》.

The feature defines who doorstep is for. Its facts were transcribed by hand into
data/article_centers.json (the product never reads the article itself): one entry per center,
each entry's keys being CenterInput's fields. The article gives no coordinates, so every
center is placed at its region's representative point by save_center(), labelled as such.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from .hours import WEEKDAY_CODES, format_minute
from .models import Center
from .search import pinyin_name
from .services import CenterInput, save_center
from .vocab import NameKind, Source

DATA_FILE = Path(__file__).resolve().parent / "data" / "article_centers.json"


def article_entries() -> list[dict[str, Any]]:
    """The transcribed entries, in the article's order."""
    with DATA_FILE.open(encoding="utf-8") as fh:
        return list(json.load(fh)["centers"])


def center_input(entry: dict[str, Any], **overrides: Any) -> CenterInput:
    """The CenterInput for one JSON entry; unknown keys raise TypeError, catching typos."""
    values = {**entry, **overrides}
    if not values.get("name_en"):
        # No official English name is known: a pinyin form, marked as such on the page.
        values["name_en"] = pinyin_name(values["name"]) + (
            f" ({pinyin_name(values['branch'])})" if values.get("branch") else ""
        )
        values["name_en_kind"] = NameKind.PINYIN
    if values.get("opened_on"):
        values["opened_on"] = date.fromisoformat(values["opened_on"])
    return CenterInput(**values)


def weekly_spec(center: Center) -> str:
    """The center's stored weekly hours written back as a spec that parse_weekly() reads."""
    return "; ".join(
        f"{WEEKDAY_CODES[h.weekday]} {format_minute(h.open_minute)}-{format_minute(h.close_minute)}"
        for h in center.hours.all()
    )


def keeps_other_hours(center: Center | None) -> bool:
    """True when the center's hours came from a source other than the article."""
    return center is not None and center.hours_source not in ("", Source.ARTICLE)


@transaction.atomic
def load_article_centers() -> dict[str, int]:
    """Create or update every center the article names; returns created/updated/unchanged.

    Where the article states no opening hours, hours that another source gave (staff, an
    import, the demo's synthetic hours) are kept, so reloading the article never erases them.
    """
    entries = article_entries()
    existing = {
        c.external_key: c
        for c in Center.objects.filter(
            external_key__in=[e["external_key"] for e in entries]
        ).prefetch_related("hours")
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for entry in entries:
        data = center_input(entry)
        current = existing.get(data.external_key)
        if not data.hours and current is not None and keeps_other_hours(current):
            data.hours = weekly_spec(current)
            data.hours_note = current.hours_note
            data.hours_source = current.hours_source
        _center, outcome = save_center(data=data)
        counts[outcome] += 1
    return counts
