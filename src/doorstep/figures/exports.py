"""Figures as CSV (UTF-8 with a BOM, so Excel reads Chinese) and XLSX, and as chart data.

Both exports carry the same sections as the page: the summary with how each figure is
computed, then per day, hour, weekday, group, service and first-visit month. No personal
data: only counts.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .selectors import Figures

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Section = tuple[str, list[str], list[list[Any]]]


def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
            _("Saturday"), _("Sunday")]  # fmt: skip


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f}%"


def _minutes(x: float | None) -> str:
    return "" if x is None else f"{x:.0f}"


def summary(f: Figures) -> list[list[Any]]:
    a = f.activities
    return [
        [_("Visits (person-times)"), f.visits, _("Every recorded visit, signed in or not.")],
        [_("Anonymous visits"), f.anonymous_visits, _("Counted, never followed.")],
        [
            _("Unique visitors (signed in)"),
            f.unique_visitors,
            _("Distinct signed-in people; anonymous visitors cannot be told apart."),
        ],
        [
            _("Return rate"),
            _pct(f.return_rate),
            _(
                "Share of signed-in people whose first visit in the period was followed by "
                "another on a later day within 30 days; people still inside their 30 days "
                "are left out."
            ),
        ],  # fmt: skip
        [_("Still inside their 30 days"), f.pending, ""],
        [
            _("Average stay (minutes)"),
            _minutes(f.dwell_average_minutes),
            _("Visits with a leaving time."),
        ],
        [
            _("Median stay (minutes)"),
            _minutes(f.dwell_median_minutes),
            _("Interpolated in the histogram bucket that holds the middle visit."),
        ],
        [_("Stays with an estimated leaving time"), f.totals["dwell_estimated"], ""],
        [_("Activities held"), a["activities"], ""],
        [_("Activity fill rate"), _pct(a["fill_rate"]), _("Places taken / places offered.")],
        [_("No-show rate"), _pct(a["no_show_rate"]), _("No-shows / places taken, once marked.")],
        [_("Synthetic rows included"), f.totals["synthetic"], ""],
        [
            _("Anonymous check-ins left out as suspicious bursts"),
            f.suspect_visits,
            _(
                "More anonymous check-ins in an hour from one network at one center than a place "
                "usually sees; not in any other figure."
            ),
        ],
    ]


def sections(f: Figures) -> list[Section]:
    names = weekday_names()
    return [
        (_("Summary"), [_("Figure"), _("Value"), _("How computed")], summary(f)),
        (_("Visits per day"), [_("Day"), _("Visits")], [[d.isoformat(), n] for d, n in f.by_day]),
        (
            _("Visits by hour of arrival"),
            [_("Hour"), _("Visits")],
            [[f"{h:02d}:00", n] for h, n in enumerate(f.by_hour)],
        ),
        (
            _("Visits by weekday"),
            [_("Weekday"), _("Visits")],
            [[names[i], n] for i, n in enumerate(f.by_weekday)],
        ),
        (_("Visits by group"), [_("Group"), _("Visits")], [[lbl, n] for _c, lbl, n in f.by_group]),
        (
            _("Services by type"),
            [_("Service"), _("Count")],
            [[lbl, n] for _c, lbl, n in f.services],
        ),
        (
            _("Stay length (minutes)"),
            [_("Minutes"), _("Visits")],
            [[name, n] for name, n in f.dwell_histogram],
        ),
        (
            _("Return by first-visit month"),
            [_("Month"), _("People"), _("30 days over"), _("Came back"), _("Return rate")],
            [[c.month, c.people, c.settled, c.returned, _pct(c.rate)] for c in f.cohorts],
        ),
    ]


def _filename(f: Figures, ext: str) -> str:
    return f"figures-{f.scope.key}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.{ext}"


def _title(f: Figures) -> str:
    # A center's name is typed by staff: never let a spreadsheet run it as a formula.
    title = f"{f.scope.name} {f.start.isoformat()} – {f.end.isoformat()}"
    return "'" + title if title.startswith(FORMULA_STARTS) else title


def csv_response(f: Figures) -> HttpResponse:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow([_title(f)])
    if f.has_synthetic:
        writer.writerow([_("Includes synthetic (made-up) data.")])
    for title, header, rows in sections(f):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
    response = HttpResponse(buf.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(f, "csv")}"'
    return response


def xlsx_response(f: Figures) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    wb.properties.title = _title(f)
    for i, (title, header, rows) in enumerate(sections(f)):
        ws = wb.create_sheet(f"{i + 1} {title}"[:31])
        ws.append([_title(f)])
        ws["A1"].data_type = "s"
        if f.has_synthetic:
            ws.append([_("Includes synthetic (made-up) data.")])
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["C"].width = 60 if i == 0 else 14
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(f, "xlsx")}"'
    return response


def chart_data(f: Figures) -> dict[str, Any]:
    return {
        "day": {
            "labels": [date_format(d, "m-d") for d, _n in f.by_day],
            "values": [n for _d, n in f.by_day],
        },
        "hour": {"labels": [f"{h:02d}" for h in range(24)], "values": f.by_hour},
        "weekday": {"labels": weekday_names(), "values": f.by_weekday},
        "group": {
            "labels": [lbl for _c, lbl, _n in f.by_group],
            "values": [n for _c, _l, n in f.by_group],
        },
        "service": {
            "labels": [lbl for _c, lbl, _n in f.services],
            "values": [n for _c, _l, n in f.services],
        },
        "label": _("Visits"),
        "service_label": _("Count"),
    }
