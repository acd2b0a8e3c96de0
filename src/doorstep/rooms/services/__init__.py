"""Rooms services by concern (docs/rooms.md): booking once or as a series (`bookings`), the
checks a booking passes (`rules`), what happens after (`lifecycle`: approval, lapse, check-in,
release, reminders, cancellation), the staff's spaces and closures and an activity's hold
(`spaces`), what the booker is told (`notices`). Views, the API and other apps import from here.

Every write that can make a space's time taken runs in one transaction that first locks the
space's row (`SELECT … FOR UPDATE`; on SQLite the IMMEDIATE transaction is the lock), then
re-reads the space's rules and what is booked, then inserts. The database rule (migration
0002) is the last guard: an overlap that got past the check is an IntegrityError, answered
`slot_taken` like any other.
"""

from .bookings import MAX_SESSIONS, BookingResult, SeriesResult, Skipped, book, book_series
from .common import RoomError, bookable_minutes, centers_hours, local_moment
from .lifecycle import (
    KEEP_PERSONAL,
    REMIND_BEFORE,
    cancel,
    check_in,
    check_in_at_door,
    checkin_window,
    decide,
    forget_past,
    lapse_due,
    release_no_shows,
    remind_due,
    staff_check_in,
)
from .notices import tell
from .spaces import (
    SPACE_FIELDS,
    BlackoutResult,
    add_blackout,
    hold_for_activity,
    release_hold,
    remove_blackout,
    save_space,
    set_space_photo,
    space_problems,
)

__all__ = [
    "KEEP_PERSONAL",
    "MAX_SESSIONS",
    "REMIND_BEFORE",
    "SPACE_FIELDS",
    "BlackoutResult",
    "BookingResult",
    "RoomError",
    "SeriesResult",
    "Skipped",
    "add_blackout",
    "book",
    "book_series",
    "bookable_minutes",
    "cancel",
    "centers_hours",
    "check_in",
    "check_in_at_door",
    "checkin_window",
    "decide",
    "forget_past",
    "hold_for_activity",
    "lapse_due",
    "local_moment",
    "release_hold",
    "release_no_shows",
    "remind_due",
    "remove_blackout",
    "save_space",
    "set_space_photo",
    "space_problems",
    "staff_check_in",
    "tell",
]
