"""Activity services, by concern: registration, draws (lotteries), timed work, staff.

Everything is importable from here (`services.register`, `services.draw`, …).
"""

from .draws import (
    draw,
    draw_record,
    lottery_entries,
)
from .registration import (
    RegistrationError,
    RegistrationResult,
    accept_offer,
    cancel,
    fill_from_waitlist,
    new_public_id,
    register,
    register_at_desk,
    release_place,
)
from .staff import (
    MAX_CAPACITY,
    MESSAGES_PER_DAY,
    ActivityInput,
    CancelledActivity,
    activity_problems,
    cancel_activity,
    create_activity,
    message_registrants,
    publish,
    update_activity,
)
from .timed import (
    DAY_AHEAD,
    NO_SHOW_GRACE,
    OFFER_REMINDER,
    REMINDER_FIELDS,
    expire_offers,
    mark_no_shows,
    remind_offers,
    reminder_offsets,
    run_due_work,
    send_reminders,
    settle,
)

__all__ = [
    "ActivityInput",
    "CancelledActivity",
    "DAY_AHEAD",
    "MAX_CAPACITY",
    "MESSAGES_PER_DAY",
    "NO_SHOW_GRACE",
    "OFFER_REMINDER",
    "REMINDER_FIELDS",
    "RegistrationError",
    "RegistrationResult",
    "accept_offer",
    "activity_problems",
    "cancel",
    "cancel_activity",
    "create_activity",
    "draw",
    "draw_record",
    "expire_offers",
    "fill_from_waitlist",
    "lottery_entries",
    "mark_no_shows",
    "message_registrants",
    "new_public_id",
    "publish",
    "register",
    "register_at_desk",
    "release_place",
    "remind_offers",
    "reminder_offsets",
    "run_due_work",
    "send_reminders",
    "settle",
    "update_activity",
]
