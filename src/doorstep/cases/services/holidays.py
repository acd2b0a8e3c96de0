"""`doorstep import-holidays FILE.csv`: the public holidays and make-up working days the
clock reads (docs/cases.md). All or nothing: one bad row stores no row, and every bad row
is reported with its line."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction

from ..models import Holiday

COLUMNS = ("date", "name", "workday", "source")


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def import_holidays(path: str | Path) -> Imported:
    out = Imported()
    rows: dict[date, tuple[str, bool, str]] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                out.errors.append(f"line 1: missing columns: {', '.join(missing)}")
                return out
            for line, row in enumerate(reader, start=2):
                raw = (row.get("date") or "").strip()
                try:
                    day = date.fromisoformat(raw)
                except ValueError:
                    out.errors.append(f"line {line}: “{raw}” is not a date like 2027-01-01")
                    continue
                name = (row.get("name") or "").strip()
                workday = (row.get("workday") or "").strip().lower()
                source = (row.get("source") or "").strip()
                if not name or len(name) > 40:
                    out.errors.append(f"line {line}: a name of 1 to 40 characters is needed")
                elif workday not in ("0", "1", "true", "false", "yes", "no"):
                    out.errors.append(f"line {line}: workday is 1 (make-up working day) or 0")
                elif not source or len(source) > 200:
                    out.errors.append(f"line {line}: say where the date comes from (source)")
                elif day in rows:
                    out.errors.append(f"line {line}: {day} is listed twice")
                else:
                    rows[day] = (name, workday in ("1", "true", "yes"), source)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        out.errors.append(f"the file cannot be read as UTF-8 CSV: {exc}")
        return out
    if out.errors:
        return out
    with transaction.atomic():
        for day, (name, workday, source) in rows.items():
            _obj, created = Holiday.objects.update_or_create(
                date=day, defaults={"name": name, "workday": workday, "source": source}
            )
            out.created += created
            out.updated += not created
    return out
