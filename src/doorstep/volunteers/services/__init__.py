"""The volunteers services (docs/volunteers.md)."""

from .common import VolunteerError
from .hours import (
    approve,
    certificate_pdf,
    close_open,
    export_csv,
    figures,
    issue_certificate,
    mark_no_shows,
    verify,
    years,
)
from .lessons import make_lesson
from .roster import add_shifts, clear, create_opportunity, leave, save_profile
from .signups import cancel, offer_swap, scan, sign_up, staff_check, take_swap


def run_due_work() -> dict[str, int]:
    return {"volunteer_shifts_closed": close_open(), "volunteer_no_shows": mark_no_shows()}


__all__ = [
    "VolunteerError",
    "add_shifts",
    "approve",
    "cancel",
    "certificate_pdf",
    "clear",
    "close_open",
    "create_opportunity",
    "export_csv",
    "figures",
    "issue_certificate",
    "leave",
    "make_lesson",
    "mark_no_shows",
    "offer_swap",
    "run_due_work",
    "save_profile",
    "scan",
    "sign_up",
    "staff_check",
    "take_swap",
    "verify",
    "years",
]
