"""What the booker is told, in their language (through the inbox)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.inbox.services import Message, notify_each

from ..models import (
    Booking,
    BookingKind,
)


def tell(booking: Booking, event: str, now: datetime, **extra: Any) -> None:
    if booking.user_id is None or booking.kind == BookingKind.ACTIVITY:
        return
    local_s, local_e = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
    params = {
        "space": booking.space.name,
        "space_en": booking.space.name_en or booking.space.name,
        "when": f"{local_s:%Y-%m-%d %H:%M}–{local_e:%H:%M}",
        "reason": booking.reason,
        **extra,
    }
    notify_each(
        [
            (
                booking.user_id,
                params,
                f"booking:{booking.pk}:{event}:{booking.updated_at.timestamp():.0f}",
            )
        ],
        subject=f"booking:{booking.pk}",
        kind=f"booking_{event}",
        event=f"booking:{booking.pk}:{event}",
        render=_RENDER[event],
        center_id=booking.space.center_id,
        now=now,
    )


def _name(p: Mapping[str, Any]) -> str:
    from django.utils.translation import get_language

    return p["space_en"] if (get_language() or "").startswith("en") else p["space"]


def _confirmed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booked: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Check in at the door with the booking's QR code."),
    )


def _pending(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking request sent: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("The center's staff will approve or refuse it; you will be told."),
    )


def _series(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Series booked: %(space)s, %(n)s dates from %(when)s")
        % {"space": _name(p), "n": p["count"], "when": p["when"]},
        body=_("%(skipped)s dates were skipped because they could not be booked.")
        % {"skipped": p["skipped"]}
        if p["skipped"]
        else "",
    )


def _approved(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking approved: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]}
    )


def _refused(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking refused: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Reason: %(reason)s") % {"reason": p["reason"]},
    )


def _lapsed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking request lapsed: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("The center did not decide in time; the time is free again. Please ask the center."),
    )


def _released(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking released: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Nobody checked in, so the space was given back. This counts as a no-show."),
    )


def _cancelled_by_staff(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("The center cancelled your booking: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("Reason: %(reason)s") % {"reason": p["reason"]},
    )


def _reminder(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Reminder: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_(
            "Scan the QR poster at the door to check in, within %(m)s minutes of the start, "
            "or the space is released."
        )
        % {"m": p["minutes"]},
    )


def _cancelled(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking cancelled: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]}
    )


_RENDER = {
    "reminder": _reminder,
    "cancelled": _cancelled,
    "confirmed": _confirmed,
    "pending": _pending,
    "series": _series,
    "approved": _approved,
    "refused": _refused,
    "lapsed": _lapsed,
    "released": _released,
    "cancelled_by_staff": _cancelled_by_staff,
}
