"""What a household is told about its meal order, in its language (through the inbox)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from doorstep.inbox.services import Message, notify_each

from ..models import (
    Mode,
    Order,
)
from .common import yuan


def tell(order: Order, *, event: str, now: datetime, reason: str = "") -> None:
    """The household's notice about its order, in its language (inbox)."""
    menu = order.menu
    params = {
        "canteen": menu.canteen.name,
        "day": menu.day.isoformat(),
        "service": menu.service,
        "due": yuan(order.due_fen),
        "delivery": order.mode == Mode.DELIVERY,
        "reason": reason,
    }
    render = {
        "placed": _placed,
        "to_pickup": _to_pickup,
        "not_home": _not_home,
        "cancelled": _cancelled,
        "on_the_way": _on_the_way,
    }[event]
    notify_each(
        [(order.account_id, params, f"meal:{order.pk}:{event}")],
        subject=f"meal:{order.pk}",
        kind=f"meal_{event}",
        event=f"meal:{order.pk}:{event}",
        render=render,
        center_id=menu.canteen.center_id,
        now=now,
        fresh=event == "placed",
    )


def _service_label(service: str) -> str:
    from ..models import Service

    return str(Service(service).label)


def _placed(p) -> Message:  # type: ignore[no-untyped-def]
    how = _("delivered home") if p["delivery"] else _("to pick up at the counter")
    return Message(
        title=_("Meal ordered: %(canteen)s, %(day)s %(service)s")
        % {"canteen": p["canteen"], "day": p["day"], "service": _service_label(p["service"])},
        body=_("%(how)s; %(due)s yuan to pay when you receive it.") % {"how": how, "due": p["due"]},
    )


def _on_the_way(p) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        title=_("Your meal is on the way: %(canteen)s, %(day)s %(service)s")
        % {"canteen": p["canteen"], "day": p["day"], "service": _service_label(p["service"])},
        body=_("%(due)s yuan to pay when it arrives.") % {"due": p["due"]},
    )


def _cancelled(p) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        title=_("The canteen cancelled your meal: %(canteen)s, %(day)s %(service)s")
        % {"canteen": p["canteen"], "day": p["day"], "service": _service_label(p["service"])},
        body=_("Reason: %(reason)s. Nothing is due.") % {"reason": p["reason"]},
    )


def _not_home(p) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        title=_("Your meal could not be delivered: %(canteen)s, %(day)s %(service)s")
        % {"canteen": p["canteen"], "day": p["day"], "service": _service_label(p["service"])},
        body=_("Nobody was at home. Please call the canteen."),
    )


def _to_pickup(p) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        title=_("Your meal will not be delivered: %(canteen)s, %(day)s %(service)s")
        % {"canteen": p["canteen"], "day": p["day"], "service": _service_label(p["service"])},
        body=_(
            "Too few orders from your estate for a delivery round. Please pick it up at the "
            "counter; %(due)s yuan to pay, no delivery fee."
        )
        % {"due": p["due"]},
    )
