"""iCalendar (RFC 5545), written by hand: events (activities, bookings) and free/busy.

Only what calendar apps need: VCALENDAR with VEVENTs carrying UID, DTSTAMP, DTSTART and DTEND
in UTC, SEQUENCE (raised whenever the time, the place or the status changes, so a calendar
updates the event it has under the same UID), SUMMARY, LOCATION, DESCRIPTION, URL, STATUS
(CANCELLED for a cancelled activity) and a VALARM per reminder. Text values are escaped (section
3.3.11) and content lines folded at 75 octets without splitting a UTF-8 character (3.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PRODID = "-//doorstep//activities//ZH"  # kept: calendars match events by PRODID and UID
CRLF = "\r\n"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    cancelled: bool = False
    sequence: int = 0
    # Reminders before the start (a VALARM each), for someone holding a place.
    alarms: tuple[timedelta, ...] = ()


def escape_text(value: str) -> str:
    """TEXT value escaping: backslash first, then ; , and newlines (CR dropped)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def utc_stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, continued with CRLF + space."""
    pieces: list[str] = []
    current, size = "", 0
    limit = MAX_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            pieces.append(current)
            # A continuation line starts with one space, which counts towards its 75 octets.
            current, size, limit = ch, n, MAX_OCTETS - 1
        else:
            current += ch
            size += n
    pieces.append(current)
    return (CRLF + " ").join(pieces)


def _event_lines(event: Event, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    lines.append("STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED")
    if not event.cancelled:
        for before in event.alarms:
            minutes = int(before.total_seconds() // 60)
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"TRIGGER:-PT{minutes}M",
                f"DESCRIPTION:{escape_text(event.summary)}",
                "END:VALARM",
            ]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, name: str = "", now: datetime | None = None) -> str:
    """A whole VCALENDAR object, CRLF line ends, ready to serve as text/calendar."""
    stamp = now or datetime.now(UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def free_busy(
    busy: Iterable[tuple[datetime, datetime]],
    *,
    uid: str,
    name: str,
    starts: datetime,
    ends: datetime,
    now: datetime | None = None,
) -> str:
    """A VCALENDAR with one VFREEBUSY (RFC 5545 3.6.4) for `[starts, ends)`: the busy periods
    only, never who is busy."""
    stamp = now or datetime.now(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "METHOD:PUBLISH",
        "BEGIN:VFREEBUSY",
        f"UID:{uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(starts)}",
        f"DTEND:{utc_stamp(ends)}",
        f"SUMMARY:{escape_text(name)}",
    ]
    for a, b in sorted(busy):
        lines.append(f"FREEBUSY;FBTYPE=BUSY:{utc_stamp(a)}/{utc_stamp(b)}")
    lines += ["END:VFREEBUSY", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)
