"""The kitchen's day: serving orders (the ledger), the counter's walk-in meals and age
checks, delivery rounds, meals never collected."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.core import audit

from ..models import (
    Menu,
    Mode,
    Order,
    OrderStatus,
    Payment,
    PriceGroup,
)
from .common import MealError, _managed_canteen
from .notices import tell

NO_SHOW_AFTER = timedelta(hours=3)


def mark_no_shows(*, now: datetime | None = None) -> int:
    """Pickup orders never collected by three hours after the service began become
    `no_show` (the figures count them). Idempotent; run by the worker."""
    now = now or timezone.now()
    return Order.objects.filter(
        status=OrderStatus.PLACED,
        mode=Mode.PICKUP,
        menu__serves_at__lte=now - NO_SHOW_AFTER,
    ).update(status=OrderStatus.NO_SHOW, updated_at=now)


def close_rounds(*, now: datetime | None = None) -> int:
    """At the cut-off, delivery orders of an estate that did not reach the canteen's minimum
    become pickup orders (no delivery fee), and their households are told. Idempotent: run
    by the worker and safe to run twice. Returns how many orders changed."""
    now = now or timezone.now()
    changed = 0
    menus = Menu.objects.filter(
        cut_off_at__lte=now,
        serves_at__gt=now,
        orders__status=OrderStatus.PLACED,
        orders__mode=Mode.DELIVERY,
    ).distinct()
    for menu in menus.select_related("canteen"):
        with transaction.atomic():
            orders = list(
                Order.objects.select_for_update()
                .filter(menu=menu, status=OrderStatus.PLACED, mode=Mode.DELIVERY)
                .order_by("pk")
            )
            by_estate: dict[str, list[Order]] = {}
            for order in orders:
                by_estate.setdefault(order.estate, []).append(order)
            short = [
                o
                for group in by_estate.values()
                if len(group) < menu.canteen.delivery_min_orders
                for o in group
            ]
            for order in short:
                order.mode = Mode.PICKUP
                order.due_fen -= order.delivery_fee_fen
                order.delivery_fee_fen = 0
                order.updated_at = now
            Order.objects.bulk_update(short, ["mode", "due_fen", "delivery_fee_fen", "updated_at"])
            for order in short:
                tell(order, event="to_pickup", now=now)
            changed += len(short)
    return changed


SERVED: dict[str, str] = {
    OrderStatus.COLLECTED: "canteen_meal",
    OrderStatus.DELIVERED: "meal_delivery",
}


OUTCOMES = (OrderStatus.COLLECTED, OrderStatus.DELIVERED, OrderStatus.NOT_HOME, OrderStatus.REFUSED)


def serve(
    *,
    order_id: int,
    staff: User,
    outcome: str,
    paid_with: str = "",
    now: datetime | None = None,
) -> Order:
    """The counter or the deliverer marks an order: picked up, delivered, not at home or
    refused (and how it was paid). A served order is one entry in the center's service
    ledger (a meal at the canteen or delivered home), written once whatever is marked again;
    a correction to not served removes it. Once delivered, the building and room are
    erased from the order: they have served their purpose. Audited."""
    from doorstep.visits.services import forget_served_order, record_served_order

    from ..selectors import may_run

    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise MealError(_("Unknown outcome."), code="invalid_outcome")
    if paid_with and paid_with not in Payment.values:
        raise MealError(_("Unknown way of paying."), code="invalid_payment")
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .select_related("menu__canteen")
            .filter(pk=order_id)
            .first()
        )
        if order is None or not may_run(staff, order.menu.canteen):
            raise MealError(_("No such order."), code="not_found", status=404)
        if order.status == OrderStatus.CANCELLED:
            raise MealError(_("This order was cancelled."), code="not_active")
        if outcome in (OrderStatus.DELIVERED, OrderStatus.NOT_HOME, OrderStatus.REFUSED) and (
            order.mode != Mode.DELIVERY
        ):
            raise MealError(_("This order is for pickup."), code="not_delivery")
        was = order.status
        order.status = outcome
        order.served_at = order.updated_at = now
        order.served_by = staff
        if paid_with:
            order.paid_with = paid_with
        if outcome == OrderStatus.DELIVERED:
            order.address = ""
        order.save()
        center_id = order.menu.canteen.center_id
        key = f"meal-order:{order.public_id}"
        if outcome in SERVED:
            record_served_order(
                center_id=center_id,
                service=SERVED[outcome],
                key=key,
                at=now,
                staff=staff,
                resident=order.account,
            )
        else:
            forget_served_order(center_id=center_id, key=key)
            if outcome == OrderStatus.NOT_HOME and was != outcome:
                tell(order, event="not_home", now=now)
        audit.record(
            actor=staff,
            action="meal_order.serve",
            obj=order,
            label=order.public_id,
            center_id=center_id,
            changes={"status": [was, outcome], "paid_with": paid_with},
            now=now,
        )
    return order


def confirm_eligibility(
    *, person_id: int, staff: User, center_id: int, now: datetime | None = None
):  # type: ignore[no-untyped-def]
    """Record, once, that staff saw this person is of the elderly price's age (audited)."""
    from doorstep.accounts.scopes import can_manage

    from ..models import Eligibility

    now = now or timezone.now()
    if not can_manage(staff, center_id):
        raise MealError(_("No such center."), code="not_found", status=404)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise MealError(_("No such person."), code="not_found", status=404)
    with transaction.atomic():
        found, created = Eligibility.objects.get_or_create(
            person=person,
            defaults={"confirmed_by": staff, "center_id": center_id, "confirmed_at": now},
        )
        if created:
            audit.record(
                actor=staff,
                action="meal_eligibility.confirm",
                obj=found,
                label=str(person.pk),
                center_id=center_id,
                changes={"birth_year": person.birth_year},
                now=now,
            )
    return found


def counter_sale(*, canteen_id: int, staff: User, group: str, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """One tap at the counter: a walk-in meal by price group, counted once in the ledger
    (a meal at the canteen)."""
    from doorstep.visits.services import record_served_order

    from ..models import CounterSale

    now = now or timezone.now()
    canteen = _managed_canteen(staff, canteen_id)
    if group not in PriceGroup.values:
        raise MealError(_("Unknown price group."), code="invalid_group")
    with transaction.atomic():
        sale = CounterSale.objects.create(
            canteen=canteen, group=group, at=now, day=timezone.localdate(now), recorded_by=staff
        )
        record_served_order(
            center_id=canteen.center_id,
            service="canteen_meal",
            key=f"counter-sale:{sale.pk}",
            at=now,
            staff=staff,
            resident=None,
        )
    return sale


def undo_counter_sale(*, canteen_id: int, staff: User, now: datetime | None = None) -> bool:
    """Take back today's last tap (a slip of the finger); its ledger entry goes too."""
    from doorstep.visits.services import forget_served_order

    from ..models import CounterSale

    now = now or timezone.now()
    canteen = _managed_canteen(staff, canteen_id)
    with transaction.atomic():
        sale = (
            CounterSale.objects.select_for_update()
            .filter(canteen=canteen, day=timezone.localdate(now))
            .order_by("-at", "-pk")
            .first()
        )
        if sale is None:
            return False
        forget_served_order(center_id=canteen.center_id, key=f"counter-sale:{sale.pk}")
        sale.delete()
    return True


def start_round(*, menu_id: int, staff: User, estate: str, now: datetime | None = None) -> int:
    """The deliverer sets off for an estate: its households are told their meal is on the
    way (once per order). Returns how many were told."""
    from ..selectors import may_run

    now = now or timezone.now()
    menu = Menu.objects.select_related("canteen").filter(pk=menu_id).first()
    if menu is None or not may_run(staff, menu.canteen):
        raise MealError(_("No such menu."), code="not_found", status=404)
    orders = Order.objects.filter(
        menu=menu, status=OrderStatus.PLACED, mode=Mode.DELIVERY, estate=estate
    ).select_related("menu__canteen")
    told = 0
    for order in orders:
        tell(order, event="on_the_way", now=now)
        told += 1
    return told


def paid_online(*, public_id: str, amount_fen: int, now: datetime | None = None) -> Order | None:
    """A payment provider's genuine notice: the order is paid online if the amount is what is
    due (once; a repeat notice changes nothing). None for an unknown order or amount."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(public_id=public_id[:20]).first()
        if order is None or order.status == OrderStatus.CANCELLED or amount_fen != order.due_fen:
            return None
        if order.paid_with != Payment.ONLINE:
            order.paid_with = Payment.ONLINE
            order.updated_at = now
            order.save(update_fields=["paid_with", "updated_at"])
            audit.record(
                actor=None,
                action="meal_order.paid_online",
                obj=order,
                label=order.public_id,
                changes={"amount_fen": amount_fen},
                now=now,
            )
    return order
