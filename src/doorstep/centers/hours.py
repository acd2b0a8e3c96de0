"""Weekly opening hours: parsing, display and the open-now test (Python and SQL forms).

An interval lives on the weekday it starts; close_minute past 1440 runs into the next day.
A date exception replaces that date's weekly intervals (including their spill past midnight).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.errors import InvalidInput

DAY = 1440
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Interval:
    weekday: int
    open_minute: int
    close_minute: int


def _minute(text: str, *, allow_24: bool) -> int:
    m = _TIME.match(text.strip())
    if not m:
        raise InvalidInput(
            _("“%(t)s” is not a time like 09:00.") % {"t": text}, code="invalid_hours"
        )
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and (mi or not allow_24)):
        raise InvalidInput(_("“%(t)s” is not a valid time.") % {"t": text}, code="invalid_hours")
    return h * 60 + mi


def _days(text: str) -> list[int]:
    text = text.strip().lower()
    if text in ("daily", "every day", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (p.strip() for p in part.split("-", 1))
            if a not in WEEKDAY_CODES or b not in WEEKDAY_CODES:
                raise InvalidInput(
                    _("Unknown weekday in “%(d)s”.") % {"d": part}, code="invalid_hours"
                )
            i, j = WEEKDAY_CODES.index(a), WEEKDAY_CODES.index(b)
            days.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in WEEKDAY_CODES:
            days.append(WEEKDAY_CODES.index(part))
        else:
            raise InvalidInput(_("Unknown weekday in “%(d)s”.") % {"d": part}, code="invalid_hours")
    return days


def parse_weekly(spec: str) -> list[Interval]:
    """Parse `24h`, `daily 09:00-21:00` or `mon-fri 08:30-20:00; sat,sun 09:00-17:00`.

    An interval whose close is not after its open runs past midnight (`fri 20:00-02:00`).
    An empty spec means "hours unknown" and parses to no intervals.
    """
    spec = (spec or "").strip()
    if not spec:
        return []
    if spec.lower() in ("24h", "24/7", "24 hours", "全天24小时"):
        return [Interval(d, 0, DAY) for d in range(7)]
    intervals: list[Interval] = []
    for clause in re.split(r"[;；]", spec):
        clause = clause.strip()
        if not clause:
            continue
        try:
            days_text, times_text = clause.rsplit(" ", 1)
            start, end = times_text.split("-", 1)
        except ValueError:
            raise InvalidInput(
                _("“%(c)s” should look like “mon-fri 09:00-21:00”.") % {"c": clause},
                code="invalid_hours",
            ) from None
        o = _minute(start, allow_24=False)
        c = _minute(end, allow_24=True)
        if c <= o:
            c += DAY
        if c - o > DAY:
            raise InvalidInput(_("An interval cannot be longer than a day."), code="invalid_hours")
        intervals.extend(Interval(d, o, c) for d in _days(days_text))
    _check_overlaps(intervals)
    return sorted(intervals, key=lambda i: (i.weekday, i.open_minute))


def _check_overlaps(intervals: list[Interval]) -> None:
    spans = sorted(
        (i.weekday * DAY + i.open_minute, i.weekday * DAY + i.close_minute) for i in intervals
    )
    week = 7 * DAY
    for (_a0, a1), (b0, _b1) in zip(spans, spans[1:], strict=False):
        if b0 < a1:
            raise InvalidInput(_("Opening intervals overlap."), code="invalid_hours")
    if spans and spans[-1][1] > week and spans[-1][1] - week > spans[0][0]:
        raise InvalidInput(_("Opening intervals overlap."), code="invalid_hours")


def format_minute(minute: int) -> str:
    """09:00; 24:00 for the end of the day; a minute past midnight shows as that clock time."""
    if minute != DAY:
        minute %= DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def is_open(
    intervals: Iterable[tuple[int, int, int]],
    exceptions: dict[date, tuple[bool, int | None, int | None]],
    at: datetime,
) -> bool:
    """intervals: (weekday, open, close); exceptions: date -> (closed, open, close)."""
    local = timezone.localtime(at)
    today = local.date()
    minute = local.hour * 60 + local.minute
    weekly = list(intervals)
    for day, offset in ((today, 0), (today - timedelta(days=1), DAY)):
        t = minute + offset
        if day in exceptions:
            closed, o, c = exceptions[day]
            if not closed and o is not None and c is not None and o <= t < c:
                return True
            continue
        wd = day.weekday()
        if any(w == wd and o <= t < c for w, o, c in weekly):
            return True
    return False


@dataclass(frozen=True)
class Status:
    """Open now, until when, and when it next opens (local times; None where not known).

    `until` is None while open when the place stays open for the whole week ahead (24 hours);
    `next_open` is None when it is open now or has no hours in the week ahead.
    """

    open: bool
    until: datetime | None = None
    next_open: datetime | None = None
    known: bool = True  # False: no hours published at all

    @property
    def always_open(self) -> bool:
        return self.open and self.until is None


def _spans(
    weekly: list[tuple[int, int, int]],
    exceptions: dict[date, tuple[bool, int | None, int | None]],
    start_day: date,
    days: int,
) -> list[tuple[int, int]]:
    """Opening spans in minutes from start_day's midnight, merged where one ends as the next
    begins. Integers, not datetimes: this runs for every center on every results page."""
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for w, o, c in weekly:
        by_weekday.setdefault(w, []).append((o, c))
    out: list[tuple[int, int]] = []
    first_weekday = start_day.weekday()
    for n in range(days):
        base = n * DAY
        if exceptions:
            day = start_day + timedelta(days=n)
            if day in exceptions:
                closed, o, c = exceptions[day]
                if not closed and o is not None and c is not None:
                    out.append((base + o, base + c))
                continue
        for o, c in by_weekday.get((first_weekday + n) % 7, ()):
            out.append((base + o, base + c))
    out.sort()
    merged: list[tuple[int, int]] = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def status(
    intervals: Iterable[tuple[int, int, int]],
    exceptions: dict[date, tuple[bool, int | None, int | None]],
    at: datetime,
) -> Status:
    """is_open() with the closing time and the next opening, over the coming week.

    Exceptions are needed from yesterday to six days ahead for the answer to be exact.
    """
    local = timezone.localtime(at)
    horizon = 8
    weekly = list(intervals)
    if not weekly and not exceptions:
        return Status(open=False, known=False)
    start_day = local.date() - timedelta(days=1)
    now = DAY + local.hour * 60 + local.minute  # to the minute, as is_open() counts

    def moment(minute: int) -> datetime:
        midnight = datetime(start_day.year, start_day.month, start_day.day, tzinfo=local.tzinfo)
        return midnight + timedelta(minutes=minute)

    spans = _spans(weekly, exceptions, start_day, horizon)
    for a, b in spans:
        if a <= now < b:
            # Open through the whole view: "24 hours" (no closing time worth printing).
            if b == spans[-1][1] and b >= horizon * DAY:
                return Status(open=True, until=None)
            return Status(open=True, until=moment(b))
        if a > now:
            return Status(open=False, next_open=moment(a))
    return Status(open=False)


def _when(moment: datetime, now: datetime) -> str:
    """“21:00”, “tomorrow 08:30”, “Mon 08:30”, in the active language."""
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    clock = f"{local.hour:02d}:{local.minute:02d}"
    days = (local.date() - today).days
    if days == 0:
        return clock
    if days == 1:
        return _("tomorrow %(time)s") % {"time": clock}
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return _("%(weekday)s %(time)s") % {"weekday": names[local.weekday()], "time": clock}


def describe(st: Status, now: datetime) -> str:
    """The words a card shows next to open/closed: until when, or when it opens."""
    if st.open:
        if st.until is None:
            return _("Open 24 hours")
        return _("Open until %(when)s") % {"when": _when(st.until, now)}
    if st.next_open is not None:
        return _("Opens %(when)s") % {"when": _when(st.next_open, now)}
    return _("Hours not published") if not st.known else _("Closed this week")


def day_spans(
    intervals: Iterable[tuple[int, int, int]],
    exceptions: dict[date, tuple[bool, int | None, int | None]],
    day: date,
) -> list[tuple[int, int]]:
    """The opening spans of one date in minutes from its midnight (0-1440; hours past
    midnight belong to the next date), the date's exception taking the weekly pattern's place."""
    out = []
    for a, b in _spans(list(intervals), exceptions, day, 1):
        if a < DAY:
            out.append((a, min(b, DAY)))
    return out
