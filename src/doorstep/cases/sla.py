"""The service level clock in the handler's working hours (docs/cases.md, "The clock").

A center's clock runs in its published opening hours (with its date exceptions); a partner's
or a subdistrict's in the type's office hours. Neither runs on a public holiday; a make-up
working day (调休) works as a weekday: the center's own hours of that date if it opens, the
office's Monday hours otherwise. Everything here is pure arithmetic over minutes, so the
tests can build timelines by hand and know the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from doorstep.centers.hours import day_spans, parse_weekly

# A due date further than this is "never" (a calendar with no working hours at all).
HORIZON_DAYS = 800


@dataclass
class Calendar:
    weekly: list[tuple[int, int, int]]
    exceptions: dict[date, tuple[bool, int | None, int | None]] = field(default_factory=dict)
    # date → True for a make-up working day, False for a holiday.
    holidays: dict[date, bool] = field(default_factory=dict)
    _cache: dict[date, list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    def spans(self, day: date) -> list[tuple[int, int]]:
        """The working spans of `day` in minutes from its local midnight."""
        if day in self._cache:
            return self._cache[day]
        workday = self.holidays.get(day)
        if workday is False:
            out: list[tuple[int, int]] = []
        else:
            out = day_spans(self.weekly, self.exceptions, day)
            if workday and not out:
                # A make-up working day that the weekly pattern leaves closed: Monday's hours.
                monday = [(0, a, b) for w, a, b in self.weekly if w == 0]
                out = day_spans(monday, {}, day - timedelta(days=day.weekday()))
        self._cache[day] = out
        return out


def office_calendar(spec: str, holidays: dict[date, bool]) -> Calendar:
    weekly = [(i.weekday, i.open_minute, i.close_minute) for i in parse_weekly(spec)]
    return Calendar(weekly=weekly, holidays=holidays)


def _local(moment: datetime) -> tuple[date, int, float]:
    local = timezone.localtime(moment)
    return local.date(), local.hour * 60 + local.minute, local.second / 60


def _at(day: date, minute: float) -> datetime:
    tz = timezone.get_current_timezone()
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start + timedelta(minutes=minute)


def working_minutes(cal: Calendar, start: datetime, end: datetime) -> int:
    """Whole working minutes between two moments (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    d0, m0, s0 = _local(start)
    d1, m1, s1 = _local(end)
    a0, a1 = m0 + s0, m1 + s1
    total = 0.0
    day = d0
    while day <= d1:
        lo = a0 if day == d0 else 0
        hi = a1 if day == d1 else 1440
        for a, b in cal.spans(day):
            total += max(0.0, min(b, hi) - max(a, lo))
        day += timedelta(days=1)
    return int(total + 1e-9)


def add_working(cal: Calendar, start: datetime, minutes: int) -> datetime | None:
    """The moment `minutes` working minutes after `start` (the end of the working minute
    that completes them); None when the calendar has no working time within the horizon."""
    day, m, s = _local(start)
    at = m + s
    left = float(minutes)
    if left <= 0:
        return start
    for _i in range(HORIZON_DAYS):
        for a, b in cal.spans(day):
            lo = max(a, at)
            if lo >= b:
                continue
            if b - lo >= left:
                return _at(day, lo + left)
            left -= b - lo
        day += timedelta(days=1)
        at = 0
    return None


@dataclass
class Clock:
    used: int  # working minutes counted so far
    running_since: datetime | None  # None while paused or stopped
    due: datetime | None  # the resolution deadline while running


def replay(
    cal: Calendar,
    moves: Sequence[tuple[datetime, bool]],
    target_minutes: int,
    now: datetime | None = None,
) -> Clock:
    """The clock after a timeline of moves (when, whether the clock runs from then on),
    counting only the running stretches; `now` adds the current stretch to `used`."""
    used = 0
    since: datetime | None = None
    for at, runs in moves:
        if since is not None:
            used += working_minutes(cal, since, at)
        since = at if runs else None
    due = add_working(cal, since, max(0, target_minutes - used)) if since is not None else None
    if now is not None and since is not None:
        return Clock(used=used + working_minutes(cal, since, now), running_since=since, due=due)
    return Clock(used=used, running_since=since, due=due)
