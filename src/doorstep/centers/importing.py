"""Import a list of centers from a CSV file (see docs/import.md).

Every row goes through services.save_center(), which does all the validation; this module only
reads the file, turns cells into a CenterInput (numbers, dates, lists) and collects the rows
that fail, each with its line number. A file with any bad row imports nothing unless
skip_invalid is set, in which case the good rows are imported and the bad ones reported.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.core.errors import DoorstepError

from .models import Region
from .services import CenterError, CenterInput, find_region, save_center
from .vocab import Kind, Level, Source

KEY_PREFIX = "import:"
REQUIRED_COLUMNS = ("key", "name", "district")
COLUMNS = (
    "key",
    "name",
    "branch",
    "name_en",
    "aliases",
    "kind",
    "level",
    "district",
    "subdistrict",
    "themes",
    "facilities",
    "address",
    "lat",
    "lng",
    "datum",
    "precision",
    "phone",
    "hours",
    "description",
    "floor_area_m2",
    "opened_on",
)
CODE_COLUMNS = ("kind", "level", "themes", "facilities", "precision", "datum")
# The longest key whose external_key ("import:" + key) still fits the 120-character column.
MAX_KEY_LENGTH = 120 - len(KEY_PREFIX)
DEFAULT_LEVEL = Level.OTHER
_LIST_SEPARATORS = re.compile(r"[;；]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# A name's ending tells its kind when the kind column is empty: 中心 / 站 / 点.
_KIND_BY_SUFFIX = (("中心", Kind.CENTER), ("站", Kind.STATION), ("点", Kind.POINT))


class ImportFileError(DoorstepError):
    """The file as a whole cannot be read: not UTF-8, no header, unknown columns."""

    def __init__(self, message: object, *, code: str, line: int = 1) -> None:
        super().__init__(message, code=code, line=line)
        self.line = line


class RowError(DoorstepError):
    """One cell of a row cannot be understood (raised before save_center sees the row)."""


@dataclass(frozen=True)
class BadRow:
    line: int  # in the file, the header being line 1
    reason: str

    def __str__(self) -> str:
        return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    file_name: str
    rows: int = 0  # data rows read (blank lines not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[BadRow] = field(default_factory=list)
    # False when the import was rolled back: nothing in the file was stored.
    committed: bool = False

    @property
    def valid(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]


def import_centers(
    path: str | Path, *, skip_invalid: bool = False, dry_run: bool = False
) -> ImportResult:
    """Import the CSV file at path; raises ImportFileError when it cannot be read at all."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror},
            code="unreadable_file",
            line=0,
        ) from None
    return import_bytes(data, file_name=path.name, skip_invalid=skip_invalid, dry_run=dry_run)


def import_bytes(
    data: bytes, *, file_name: str, skip_invalid: bool = False, dry_run: bool = False
) -> ImportResult:
    """Import CSV content; file_name only labels the records (source_detail)."""
    rows = list(read_rows(data))
    result = ImportResult(file_name=file_name, rows=len(rows))
    first_line_of_key: dict[str, int] = {}
    with transaction.atomic():
        for row in rows:
            try:
                key = row.cells.get("key", "").strip()
                if key in first_line_of_key:
                    raise RowError(
                        _("The key “%(key)s” is already used on line %(line)s.")
                        % {"key": key, "line": first_line_of_key[key]},
                        code="duplicate_key",
                    )
                if key:
                    first_line_of_key[key] = row.line
                data_in = row_input(row, file_name=file_name)
                # A savepoint per row: a row that fails leaves nothing behind.
                with transaction.atomic():
                    _center, outcome = save_center(data=data_in)
            except DoorstepError as exc:
                result.errors.append(BadRow(row.line, _reason(exc, row)))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        if dry_run or (result.errors and not skip_invalid):
            transaction.set_rollback(True)
        else:
            result.committed = True
    return result


def read_rows(data: bytes) -> Iterator[_Row]:
    """Decode and split the file; yields the non-blank data rows keyed by column name."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is not UTF-8 text (byte %(pos)s); save it as “CSV UTF-8” and try again.")
            % {"pos": exc.start + 1},
            code="not_utf8",
            line=text_line_of(data, exc.start),
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)  # leading blank lines
        if header is None:
            raise ImportFileError(_("The file is empty."), code="empty_file")
        header_line = reader.line_num
        columns = _check_header(header, line=header_line)
        end_of_previous = reader.line_num
        for cells in reader:
            line = end_of_previous + 1  # a quoted cell may span lines: report where it starts
            end_of_previous = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                yield _Row(line, {"__error__": _field_count_error(len(cells), len(columns))})
                continue
            yield _Row(line, dict(zip(columns, cells, strict=True)))
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not valid CSV: %(error)s") % {"error": exc},
            code="bad_csv",
            line=reader.line_num,
        ) from None


def text_line_of(data: bytes, position: int) -> int:
    return data[:position].count(b"\n") + 1


def _field_count_error(found: int, expected: int) -> str:
    return _("This row has %(found)s fields but the header has %(expected)s.") % {
        "found": found,
        "expected": expected,
    }


def _check_header(header: list[str], *, line: int) -> list[str]:
    columns = [c.strip().lower() for c in header]
    problems: list[str] = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s.") % {"columns": ", ".join(f"“{c}”" for c in unknown)}
        )
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        problems.append(
            _("Columns given twice: %(columns)s.")
            % {"columns": ", ".join(f"“{c}”" for c in duplicated)}
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(
            _("Missing required columns: %(columns)s.")
            % {"columns": ", ".join(f"“{c}”" for c in missing)}
        )
    if problems:
        problems.append(_("The columns are: %(columns)s.") % {"columns": ", ".join(COLUMNS)})
        raise ImportFileError(" ".join(problems), code="bad_header", line=line)
    return columns


def row_input(row: _Row, *, file_name: str) -> CenterInput:
    """Turn a row's cells into a CenterInput; raises RowError for a cell it cannot read."""
    if "__error__" in row.cells:
        raise RowError(row.cells["__error__"], code="field_count")
    cells = {k: v.strip() for k, v in row.cells.items()}
    for column in CODE_COLUMNS:  # codes are lower case; accept "Residential", "ELDERLY"
        if column in cells:
            cells[column] = cells[column].lower()
    key = cells["key"]
    if not key:
        raise RowError(_("The key is empty."), code="missing_key")
    if len(key) > MAX_KEY_LENGTH:
        raise RowError(
            _("The key is longer than %(n)s characters.") % {"n": MAX_KEY_LENGTH},
            code="key_too_long",
        )
    lat = _number(cells, "lat")
    lng = _number(cells, "lng")
    if cells.get("precision") and lat is None and lng is None:
        raise RowError(
            _("A precision is given but no lat and lng."), code="precision_without_location"
        )
    name = cells["name"]
    kind = cells.get("kind") or next(
        (k for suffix, k in _KIND_BY_SUFFIX if name.endswith(suffix)), Kind.CENTER
    )
    return CenterInput(
        external_key=KEY_PREFIX + key,
        name=name,
        branch=cells.get("branch", ""),
        name_en=cells.get("name_en", ""),
        aliases=_list(cells.get("aliases", "")),
        kind=kind,
        level=cells.get("level") or DEFAULT_LEVEL,
        district=cells["district"],
        subdistrict=cells.get("subdistrict", ""),
        themes=_list(cells.get("themes", "")),
        facilities=_list(cells.get("facilities", "")),
        address=cells.get("address", ""),
        lat=lat,
        lng=lng,
        datum=cells.get("datum") or "wgs84",
        location_precision=cells.get("precision", ""),
        phone=cells.get("phone", ""),
        hours=cells.get("hours", ""),
        hours_source=Source.IMPORT if cells.get("hours") else "",
        description=cells.get("description", ""),
        floor_area_m2=_integer(cells, "floor_area_m2"),
        opened_on=_date(cells, "opened_on"),
        source=Source.IMPORT,
        # Stored data, not a UI message: the same in every language, so re-imports match.
        source_detail=f"{file_name} line {row.line}",
    )


def _list(text: str) -> list[str]:
    return [v for v in (p.strip() for p in _LIST_SEPARATORS.split(text)) if v]


def _number(cells: dict[str, str], column: str) -> float | None:
    text = cells.get(column, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise RowError(
            _("%(column)s: “%(value)s” is not a number.") % {"column": column, "value": text},
            code="bad_number",
        )
    return value


def _integer(cells: dict[str, str], column: str) -> int | None:
    text = cells.get(column, "")
    if not text:
        return None
    if not re.fullmatch(r"[+-]?\d+", text):
        raise RowError(
            _("%(column)s: “%(value)s” is not a whole number.") % {"column": column, "value": text},
            code="bad_number",
        )
    return int(text)


def _date(cells: dict[str, str], column: str) -> date | None:
    text = cells.get(column, "")
    if not text:
        return None
    m = _ISO_DATE.match(text)
    try:
        if not m:
            raise ValueError(text)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise RowError(
            _("%(column)s: “%(value)s” is not a date like 2024-05-01.")
            % {"column": column, "value": text},
            code="bad_date",
        ) from None


def _reason(exc: DoorstepError, row: _Row) -> str:
    """The error's message, with context where save_center's own message lacks it."""
    if exc.code == "invalid_hours":
        return _("hours: %(reason)s") % {"reason": exc.message}
    if exc.code == "unknown_region" and row.cells.get("subdistrict", "").strip():
        hint = _subdistrict_elsewhere(row)
        if hint:
            return hint
    return str(exc.message)


def _subdistrict_elsewhere(row: _Row) -> str:
    """When the subdistrict exists but in another district, say so."""
    value = row.cells["subdistrict"].strip()
    try:
        district = find_region(row.cells["district"], level=Region.RegionLevel.DISTRICT)
    except CenterError:
        return ""  # the district itself is unknown: save_center's message says that
    elsewhere = (
        Region.objects.filter(level=Region.RegionLevel.SUBDISTRICT)
        .exclude(parent=district)
        .filter(code=value)
        .first()
        or Region.objects.filter(level=Region.RegionLevel.SUBDISTRICT, name=value)
        .exclude(parent=district)
        .select_related("parent")
        .first()
    )
    if elsewhere is None:
        return _("There is no subdistrict “%(value)s” in %(district)s.") % {
            "value": value,
            "district": district.name,
        }
    return _("The subdistrict “%(value)s” is not in %(district)s but in %(other)s.") % {
        "value": value,
        "district": district.name,
        "other": elsewhere.parent.name if elsewhere.parent else "?",
    }
