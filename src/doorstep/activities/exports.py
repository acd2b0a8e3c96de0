"""Roster exports: CSV (UTF-8 with a BOM, so Excel reads Chinese) and XLSX.

Phones are always masked (138****5678): a roster is printed and passed around at the door.
Names are typed by residents, so a cell that a spreadsheet would run as a formula is
neutralised (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import mask_phone

from .models import Activity, RegistrationStatus

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def header() -> list[str]:
    return [
        _("No."),
        _("Name"),
        _("Mobile number"),
        _("Status"),
        _("Place on the waiting list"),
        _("Checked in at"),
        _("Registered at"),
        _("Household"),
    ]


def table(rows: Sequence[dict[str, Any]]) -> list[list[str | int]]:
    """One line per registration, from staff_views.roster_rows."""
    labels = dict(RegistrationStatus.choices)
    lines: list[list[str | int]] = []
    for i, row in enumerate(rows, start=1):
        r = row["registration"]
        lines.append(
            [
                i,
                r.person.name,
                mask_phone(r.account.phone),
                str(labels.get(r.status, r.status)),
                row["waiting_position"] or "",
                _when(r.checked_in_at),
                _when(r.created_at),
                r.party,
            ]
        )
    return lines


def safe_text(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _filename(activity: Activity, ext: str) -> str:
    day = timezone.localtime(activity.starts_at).strftime("%Y%m%d")
    return f"roster-{activity.pk}-{day}.{ext}"


def csv_response(activity: Activity, rows: Sequence[dict[str, Any]]) -> HttpResponse:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(header())
    for line in table(rows):
        writer.writerow([safe_text(v) for v in line])
    response = HttpResponse(buf.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(activity, "csv")}"'
    return response


def xlsx_response(activity: Activity, rows: Sequence[dict[str, Any]]) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Roster")[:31]
    wb.properties.title = activity.title
    ws.append(header())
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in table(rows):
        ws.append(line)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                # Text stays text: openpyxl would store "=..." as a formula.
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for column, width in zip("ABCDEFGH", (6, 16, 16, 14, 10, 18, 18, 20), strict=True):
        ws.column_dimensions[column].width = width
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(activity, "xlsx")}"'
    return response
