"""Writing heritage sites: the article's (load-demo) and `doorstep import-sites FILE.csv`
(docs/heritage.md, "Import"): one row per site; every bad row is reported with its line and
reason, and one bad row stores nothing unless --skip-invalid."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.centers.geo import to_wgs84
from doorstep.centers.hours import parse_weekly
from doorstep.centers.models import Region
from doorstep.centers.services import find_region
from doorstep.centers.vocab import Precision
from doorstep.core.errors import DoorstepError

from .models import HeritageSite, Kind, Source

COLUMNS = (
    "key",
    "name",
    "name_en",
    "kind",
    "district",
    "address",
    "lat",
    "lng",
    "datum",
    "precision",
    "hours",
    "history",
    "history_en",
    "source",
)
REQUIRED = ("key", "name", "kind", "district", "lat", "lng", "precision", "source")


class HeritageError(DoorstepError):
    """A site or a file of sites that cannot be stored."""


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    committed: bool = False


def save_site(values: dict[str, Any]) -> tuple[HeritageSite, bool]:
    """Create or update the site with this `external_key`; the values are checked first."""
    name = " ".join(str(values.get("name", "")).split())
    if not name or len(name) > 120:
        raise HeritageError(_("A name of 1 to 120 characters is needed."), code="invalid_name")
    if values.get("kind") not in Kind.values:
        raise HeritageError(
            _("kind is one of: %(k)s.") % {"k": ", ".join(Kind.values)}, code="invalid_kind"
        )
    if values.get("location_precision") not in Precision.values:
        raise HeritageError(
            _("precision is one of: %(p)s.") % {"p": ", ".join(Precision.values)},
            code="invalid_precision",
        )
    lat, lng = values.get("lat"), values.get("lng")
    if (
        not isinstance(lat, float)
        or not isinstance(lng, float)
        or not (30.6 <= lat <= 31.9 and 120.8 <= lng <= 122.2)
    ):
        raise HeritageError(_("The location is not in Shanghai."), code="invalid_location")
    if values.get("hours"):
        parse_weekly(values["hours"])  # raises InvalidInput with its reason
    if not str(values.get("source_detail", "")).strip():
        raise HeritageError(_("Say where the facts come from (source)."), code="no_source")
    key = values.pop("external_key")
    site, created = HeritageSite.objects.update_or_create(
        external_key=key, defaults={**values, "name": name}
    )
    return site, created


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise HeritageError(
            _("%(column)s: “%(value)s” is not a number.") % {"column": column, "value": text},
            code="bad_number",
        )
    return value


def _row_values(cells: dict[str, str], file_name: str) -> dict[str, Any]:
    district = find_region(cells.get("district", ""), level=Region.RegionLevel.DISTRICT)
    lat = _number(cells.get("lat", ""), "lat")
    lng = _number(cells.get("lng", ""), "lng")
    lat, lng = to_wgs84(lat, lng, (cells.get("datum") or "wgs84").strip().lower())
    return {
        "external_key": f"import:{cells['key'].strip()}",
        "name": cells.get("name", ""),
        "name_en": cells.get("name_en", "").strip()[:200],
        "kind": cells.get("kind", "").strip(),
        "district": district,
        "address": cells.get("address", "").strip()[:200],
        "lat": float(lat),
        "lng": float(lng),
        "location_precision": cells.get("precision", "").strip(),
        "location_note": file_name[:200],
        "hours": cells.get("hours", "").strip()[:200],
        "history": cells.get("history", "").strip()[:2000],
        "history_en": cells.get("history_en", "").strip()[:3000],
        "source": Source.IMPORT,
        "source_detail": cells.get("source", "").strip()[:300],
    }


def import_sites(path: str | Path, *, skip_invalid: bool = False) -> Imported:
    out = Imported()
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        out.errors.append(_("The file cannot be read as UTF-8 text: %(e)s") % {"e": exc})
        return out
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        out.errors.append(
            _("line 1: unknown columns %(u)s, missing %(m)s; the columns are: %(c)s.")
            % {
                "u": ", ".join(unknown) or "-",
                "m": ", ".join(missing) or "-",
                "c": ", ".join(COLUMNS),
            }
        )
        return out
    reader.fieldnames = columns
    seen: dict[str, int] = {}
    with transaction.atomic():
        try:
            rows = list(enumerate(reader, start=2))
        except csv.Error as exc:
            out.errors.append(_("The file is not valid CSV: %(e)s") % {"e": exc})
            transaction.set_rollback(True)
            return out
        for line, cells in rows:
            cells = {k: (v or "") for k, v in cells.items() if k}
            if not any(v.strip() for v in cells.values()):
                continue
            try:
                key = cells.get("key", "").strip()
                if not key:
                    raise HeritageError(_("key is required."), code="no_key")
                if key in seen:
                    raise HeritageError(
                        _("The key “%(k)s” is already used on line %(l)s.")
                        % {"k": key, "l": seen[key]},
                        code="duplicate_key",
                    )
                seen[key] = line
                with transaction.atomic():
                    _site, created = save_site(_row_values(cells, path.name))
            except DoorstepError as exc:
                out.errors.append(
                    _("line %(line)s: %(reason)s") % {"line": line, "reason": exc.message}
                )
                continue
            if created:
                out.created += 1
            else:
                out.updated += 1
        if out.errors and not skip_invalid:
            transaction.set_rollback(True)
        else:
            out.committed = True
    return out
