"""CSV import of daily service tallies (docs/visits.md), validated like the center import.

Columns: center (id or external key), date (YYYY-MM-DD), service (code, or its Chinese or
English name), count, and an optional note. One row is one day's tally of one service at one
center: it becomes one ServiceRecord (source "import"). Every row is checked; a file with any
bad row imports nothing unless skip_invalid; importing the same file again changes nothing,
and a corrected count updates the record it imported before.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.models import Center
from doorstep.core.errors import DoorstepError

from .models import ServiceRecord
from .services import MAX_SERVICE_COUNT, VisitError
from .vocab import Service, ServiceSource

COLUMNS = ["center", "date", "service", "count", "note"]
REQUIRED = ["center", "date", "service", "count"]
IMPORT_KEY = "csv"
MAX_ROWS = 20000


class ImportFileError(DoorstepError):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[BadRow] = field(default_factory=list)
    committed: bool = False


def _service_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for value, label in Service.choices:
        names[value.lower()] = value
        for lang in ("zh-hans", "en"):
            with override(lang):
                names[str(label).strip().lower()] = value
    return names


def _rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is not UTF-8 text (byte %(pos)s); save it as “CSV UTF-8” and try again.")
            % {"pos": exc.start + 1},
            code="not_utf8",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[tuple[int, list[str]]] = []
    try:
        header: list[str] | None = None
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                continue
            out.append((reader.line_num, cells))
            if len(out) > MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(n)s rows; split it.") % {"n": MAX_ROWS},
                    code="too_many_rows",
                )
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not valid CSV: %(error)s") % {"error": exc}, code="bad_csv"
        ) from None
    if header is None:
        raise ImportFileError(_("The file is empty."), code="empty_file")
    unknown = [c for c in header if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        raise ImportFileError(
            _("line 1: the header must name the columns %(cols)s (unknown: %(unknown)s).")
            % {"cols": ", ".join(COLUMNS), "unknown": ", ".join(unknown) or "-"},
            code="bad_header",
        )
    return header, out


def _center(raw: str, by_key: dict[str, int], allowed: set[int] | None) -> int:
    raw = raw.strip()
    center_id = by_key.get(raw)
    if center_id is None and raw.isdigit():
        center_id = int(raw)
        if center_id not in by_key.values():
            center_id = None
    if center_id is None:
        raise VisitError(_("Unknown center “%(c)s”.") % {"c": raw[:60]}, code="unknown_center")
    if allowed is not None and center_id not in allowed:
        raise VisitError(
            _("Center “%(c)s” is not one you manage.") % {"c": raw[:60]}, code="not_managed"
        )
    return center_id


def _date(raw: str, today: date) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise VisitError(_("The date must look like 2026-03-01."), code="invalid_date") from None
    if day > today or day.year < 2000:
        raise VisitError(_("The date cannot be in the future."), code="invalid_date")
    return day


def import_services(
    data: bytes,
    *,
    staff: User | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Import CSV content. With `staff`, only centers that account manages are accepted."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    header, rows = _rows(data)
    result = ImportResult(rows=len(rows))
    names = _service_names()
    wanted = {
        cells[header.index("center")].strip() for _line, cells in rows if len(cells) == len(header)
    }
    centers = Center.objects.filter(external_key__in=wanted)
    numeric = [int(w) for w in wanted if w.isdigit()]
    by_key = dict(centers.values_list("external_key", "pk"))
    by_key.update(
        {str(pk): pk for pk in Center.objects.filter(pk__in=numeric).values_list("pk", flat=True)}
    )
    allowed = set(managed_centers(staff).values_list("pk", flat=True)) if staff else None
    seen: dict[tuple[int, date, str], int] = {}
    with transaction.atomic():
        for line, cells in rows:
            try:
                if len(cells) != len(header):
                    raise VisitError(
                        _("This row has %(found)s fields but the header has %(expected)s.")
                        % {"found": len(cells), "expected": len(header)},
                        code="field_count",
                    )
                row = dict(zip(header, cells, strict=True))
                center_id = _center(row["center"], by_key, allowed)
                day = _date(row["date"], today)
                service = names.get(row["service"].strip().lower())
                if service is None:
                    raise VisitError(
                        _("Unknown service “%(s)s”.") % {"s": row["service"].strip()[:60]},
                        code="invalid_service",
                    )
                try:
                    count = int(row["count"].strip())
                except ValueError:
                    count = 0
                if not 1 <= count <= MAX_SERVICE_COUNT:
                    raise VisitError(
                        _("The count must be a whole number from 1 to %(max)s.")
                        % {"max": MAX_SERVICE_COUNT},
                        code="invalid_count",
                    )
                note = row.get("note", "").strip()
                if len(note) > 200:
                    raise VisitError(
                        _("The note can be at most 200 characters."), code="invalid_note"
                    )
                key = (center_id, day, service)
                if key in seen:
                    raise VisitError(
                        _("The same center, date and service are already on line %(line)s.")
                        % {"line": seen[key]},
                        code="duplicate_row",
                    )
                seen[key] = line
                outcome = _save(center_id, day, service, count, note, staff)
            except VisitError as exc:
                result.errors.append(BadRow(line, str(exc.message)))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        if dry_run or (result.errors and not skip_invalid):
            transaction.set_rollback(True)
        else:
            result.committed = True
    return result


def _save(
    center_id: int, day: date, service: str, count: int, note: str, staff: User | None
) -> str:
    existing = (
        ServiceRecord.objects.select_for_update()
        .filter(center_id=center_id, day=day, service=service, import_key=IMPORT_KEY)
        .first()
    )
    if existing is None:
        # A day's tally has no time of its own: it is filed at noon, local time.
        at = timezone.make_aware(datetime.combine(day, time(12, 0)))
        ServiceRecord.objects.create(
            center_id=center_id,
            service=service,
            at=at,
            day=day,
            count=count,
            note=note,
            recorded_by=staff,
            source=ServiceSource.IMPORT,
            import_key=IMPORT_KEY,
        )
        return "created"
    if existing.count == count and existing.note == note:
        return "unchanged"
    existing.count, existing.note = count, note
    if staff is not None:
        existing.recorded_by = staff
    existing.save(update_fields=["count", "note", "recorded_by", "updated_at"])
    return "updated"
