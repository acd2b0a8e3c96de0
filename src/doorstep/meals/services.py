"""Meal orders: prices by group and district subsidy, cut-off, portions never oversold,
delivery areas and rounds, idempotent retries (docs/meals.md).

Every write runs in one transaction. A limited dish's portions are taken with one guarded
UPDATE each (`taken = taken + q WHERE taken + q <= portions`), in item order, so two orders
can never both get the last portion and two orders never wait on each other in a cycle; an
order gets all its dishes or none.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.core import audit
from doorstep.core.errors import DoorstepError
from doorstep.inbox.services import Message, notify_each

from .models import (
    Canteen,
    DeliveryAddress,
    Menu,
    MenuItem,
    Mode,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PriceGroup,
    SubsidyBand,
)

MAX_QUANTITY = 5  # of one dish in one order: a meal, not a catering order


class MealError(DoorstepError):
    """An order that cannot be placed or changed (sold out, past the cut-off, ...)."""


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


# --- prices ----------------------------------------------------------------------------------


def subsidy_band(district_id: str | None, age: int, day: date) -> SubsidyBand | None:
    """The district's band for this age on this day (the latest in force), if any."""
    if not district_id:
        return None
    return (
        SubsidyBand.objects.filter(
            district_id=district_id, age_min__lte=age, effective_from__lte=day
        )
        .filter(Q(age_max__isnull=True) | Q(age_max__gte=age))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from", "-age_min")
        .first()
    )


@dataclass
class Round:
    """How delivery stands for the order's estate and menu."""

    estate: str
    orders: int  # placed delivery orders for this estate and menu, this one included
    minimum: int

    @property
    def confirmed(self) -> bool:
        return self.orders >= self.minimum


@dataclass
class Quote:
    menu: Menu
    person: Person
    group: str
    mode: str
    lines: list[tuple[MenuItem, int]]
    list_fen: int
    subsidy_fen: int
    delivery_fee_fen: int
    address: DeliveryAddress | None = None
    round: Round | None = None
    sold_out: list[int] = field(default_factory=list)  # items with too few portions left

    @property
    def due_fen(self) -> int:
        return self.list_fen - self.subsidy_fen + self.delivery_fee_fen


def _age_on(person: Person, day: date) -> int | None:
    return None if person.birth_year is None else day.year - person.birth_year


def _menu(menu_id: int) -> Menu:
    menu = (
        Menu.objects.select_related("canteen", "canteen__center")
        .filter(pk=menu_id, published=True)
        .first()
    )
    if menu is None:
        raise MealError(_("No such menu."), code="not_found", status=404)
    return menu


def _check_open(menu: Menu, now: datetime) -> None:
    if now >= menu.cut_off_at:
        raise MealError(
            _("Orders for this meal closed at %(t)s.")
            % {"t": timezone.localtime(menu.cut_off_at).strftime("%H:%M")},
            code="past_cut_off",
        )


def _person(account: User, person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id, account=account).first() if person_id else None
    if person is None:
        raise MealError(
            _("That person is not in your household."), code="not_in_household", status=404
        )
    if not person.name.strip():
        raise MealError(
            _("Please add a name for this person first (on your account page)."),
            code="name_required",
        )
    return person


def _check_group(account: User, person: Person, menu: Menu, group: str) -> int:
    """The subsidy this person's meal gets in `group` (fen), or a refusal."""
    if group not in PriceGroup.values:
        raise MealError(_("Unknown price group."), code="invalid_group")
    if group == PriceGroup.ELDERLY:
        age = _age_on(person, menu.day)
        if age is None:
            raise MealError(
                _("Add %(name)s's birth year to order at the elderly price.")
                % {"name": person.name},
                code="not_eligible",
            )
        band = subsidy_band(menu.canteen.center.district_id, age, menu.day)
        if band is None:
            raise MealError(
                _("No meal subsidy applies to %(name)s (age %(age)s) at this canteen.")
                % {"name": person.name, "age": age},
                code="not_eligible",
            )
        return band.amount_fen
    if group == PriceGroup.RIDER and not person.is_account_holder:
        raise MealError(
            _("The riders' price is for riders ordering for themselves."), code="not_eligible"
        )
    if group == PriceGroup.STAFF:
        from doorstep.accounts.scopes import can_manage

        if not can_manage(account, menu.canteen.center_id):
            raise MealError(_("The staff price is for this center's staff."), code="not_eligible")
    return 0


def _lines(menu: Menu, lines: Sequence[tuple[int, int]]) -> list[tuple[MenuItem, int]]:
    wanted: dict[int, int] = {}
    for item_id, quantity in lines:
        if not 1 <= quantity <= MAX_QUANTITY:
            raise MealError(
                _("Order between 1 and %(n)s of a dish.") % {"n": MAX_QUANTITY},
                code="invalid_quantity",
            )
        wanted[item_id] = wanted.get(item_id, 0) + quantity
    if not wanted:
        raise MealError(_("Choose at least one dish."), code="no_items")
    items = {i.pk: i for i in MenuItem.objects.filter(menu=menu, pk__in=list(wanted))}
    if len(items) != len(wanted):
        raise MealError(_("A dish is not on this menu."), code="not_on_menu")
    return [(items[i], q) for i, q in sorted(wanted.items())]


def _delivery(account: User, menu: Menu, mode: str, *, exclude: int | None = None):
    if mode not in Mode.values:
        raise MealError(_("Choose pickup or delivery."), code="invalid_mode")
    if mode == Mode.PICKUP:
        return None, None
    canteen = menu.canteen
    if not canteen.delivers:
        raise MealError(_("This canteen does not deliver."), code="no_delivery")
    address = DeliveryAddress.objects.filter(account=account).first()
    if address is None:
        raise MealError(_("Add a delivery address first."), code="no_address")
    if address.estate not in canteen.delivery_estates:
        raise MealError(
            _("%(estate)s is outside this canteen's delivery area.") % {"estate": address.estate},
            code="outside_delivery_area",
            estates=list(canteen.delivery_estates),
        )
    others = Order.objects.filter(
        menu=menu, status=OrderStatus.PLACED, mode=Mode.DELIVERY, estate=address.estate
    )
    if exclude:
        others = others.exclude(pk=exclude)
    return address, Round(address.estate, others.count() + 1, canteen.delivery_min_orders)


def quote(
    *,
    account: User,
    menu_id: int,
    person_id: int,
    lines: Sequence[tuple[int, int]],
    group: str = PriceGroup.STANDARD,
    mode: str = Mode.PICKUP,
    now: datetime | None = None,
    changing: int | None = None,
) -> Quote:
    """What the order would cost and how it would be served, before it is placed (nothing
    is written): prices for the group, the subsidy, the delivery fee, whether the estate's
    delivery round has its minimum, and which dishes have too few portions left."""
    now = now or timezone.now()
    menu = _menu(menu_id)
    _check_open(menu, now)
    person = _person(account, person_id)
    subsidy = _check_group(account, person, menu, group)
    chosen = _lines(menu, lines)
    address, round_ = _delivery(account, menu, mode, exclude=changing)
    list_fen = sum(item.list_price(group) * q for item, q in chosen)
    return Quote(
        menu=menu,
        person=person,
        group=group,
        mode=mode,
        lines=chosen,
        list_fen=list_fen,
        subsidy_fen=min(subsidy, list_fen),
        delivery_fee_fen=menu.canteen.delivery_fee_fen if mode == Mode.DELIVERY else 0,
        address=address,
        round=round_,
        sold_out=[i.pk for i, q in chosen if i.left is not None and i.left < q],
    )


# --- orders ----------------------------------------------------------------------------------


@dataclass
class OrderResult:
    order: Order
    replayed: bool = False
    round: Round | None = None


# Dishes this process found sold out, until when (time.monotonic()). Used only to say "sold
# out" sooner, without reading anything (the commonest answer of a lunch rush), never to
# say yes; a portion given back in another process is offered here at most SOLD_OUT_SECONDS
# later, at once in this one.
SOLD_OUT_SECONDS = 2.0
_sold_out: dict[int, tuple[float, str]] = {}  # item id -> (until, the dish's name)


def _known_sold_out(item_ids: Sequence[int]) -> MealError | None:
    now = time.monotonic()
    for item_id in item_ids:
        until, name = _sold_out.get(item_id, (0.0, ""))
        if until > now:
            return _sold_out_error(name, item_id)
        _sold_out.pop(item_id, None)
    return None


def _sold_out_error(name: str, item_id: int) -> MealError:
    return MealError(_("%(dish)s is sold out.") % {"dish": name}, code="sold_out", item_id=item_id)


def _take_portions(chosen: list[tuple[MenuItem, int]]) -> None:
    """One UPDATE per dish, in item order, guarded where the portions are limited: all the
    dishes or none. `taken` counts every dish ordered (the kitchen's production sheet)."""
    for item, quantity in chosen:
        rows = MenuItem.objects.filter(pk=item.pk)
        if item.portions is not None:
            rows = rows.filter(taken__lte=F("portions") - quantity)
        took = rows.update(taken=F("taken") + quantity)
        if not took:
            if len(_sold_out) > 10_000:
                _sold_out.clear()
            _sold_out[item.pk] = (time.monotonic() + SOLD_OUT_SECONDS, item.dish.name)
            raise _sold_out_error(item.dish.name, item.pk)


def _give_back(order: Order) -> None:
    items = []
    for line in order.lines.order_by("item_id"):
        MenuItem.objects.filter(pk=line.item_id).update(taken=F("taken") - line.quantity)
        items.append(line.item_id)
    forget_sold_out(items)  # forgetting early only makes this process ask the database


def forget_sold_out(item_ids: list[int]) -> None:
    """This process asks the database again about these dishes (portions given back or
    added)."""
    for item_id in item_ids:
        _sold_out.pop(item_id, None)


def _replay(account: User, key: str, menu_id: int) -> OrderResult | None:
    order = Order.objects.filter(account=account, idempotency_key=key).first()
    if order is None:
        return None
    if order.menu_id != menu_id:
        raise MealError(
            _("This Idempotency-Key was already used for another meal."),
            code="idempotency_key_reused",
            status=409,
        )
    return OrderResult(order=order, replayed=True)


def place_order(
    *,
    account: User,
    menu_id: int,
    person_id: int,
    lines: Sequence[tuple[int, int]],
    group: str = PriceGroup.STANDARD,
    mode: str = Mode.PICKUP,
    idempotency_key: str | None = None,
    placed_by: User | None = None,
    now: datetime | None = None,
) -> OrderResult:
    """Order a meal for a member of the household. A retry with the same Idempotency-Key
    returns the first order. The order is confirmed only once it is committed."""
    now = now or timezone.now()
    key = (idempotency_key or "").strip()[:80]
    try:
        gone = _known_sold_out([item_id for item_id, _q in lines])
        if gone is not None:
            raise gone
        with transaction.atomic():
            q = quote(
                account=account,
                menu_id=menu_id,
                person_id=person_id,
                lines=lines,
                group=group,
                mode=mode,
                now=now,
            )
            if placed_by is not None:
                from doorstep.accounts.scopes import can_manage

                if not can_manage(placed_by, q.menu.canteen.center_id):
                    raise MealError(_("No such menu."), code="not_found", status=404)
            _take_portions(q.lines)
            order = Order.objects.create(
                public_id=secrets.token_urlsafe(12),
                menu=q.menu,
                account=account,
                person=q.person,
                group=group,
                mode=mode,
                estate=q.address.estate if q.address else "",
                address=q.address.detail if q.address else "",
                list_fen=q.list_fen,
                subsidy_fen=q.subsidy_fen,
                delivery_fee_fen=q.delivery_fee_fen,
                due_fen=q.due_fen,
                idempotency_key=key,
                placed_by=placed_by,
                created_at=now,
                updated_at=now,
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(order=order, item=item, quantity=n, unit_fen=item.list_price(group))
                    for item, n in q.lines
                ]
            )
            _tell(order, q, event="placed", now=now)
            if placed_by is not None:
                audit.record(
                    actor=placed_by,
                    action="meal_order.desk",
                    obj=order,
                    label=order.public_id,
                    center_id=q.menu.canteen.center_id,
                    changes={"due_fen": order.due_fen, "mode": mode},
                    now=now,
                )
    except (MealError, IntegrityError) as exc:
        if key and not (isinstance(exc, MealError) and exc.code == "not_found"):
            replay = _replay(account, key, menu_id)
            if replay:
                return replay
        if isinstance(exc, IntegrityError):
            raise MealError(
                _("%(name)s already has this meal ordered; change or cancel that order.")
                % {"name": Person.objects.filter(pk=person_id).values_list("name", flat=True)[0]},
                code="already_ordered",
            ) from None
        raise
    return OrderResult(order=order, round=q.round)


def change_order(
    *,
    order_id: int,
    by: User,
    lines: Sequence[tuple[int, int]],
    group: str = PriceGroup.STANDARD,
    mode: str = Mode.PICKUP,
    now: datetime | None = None,
) -> OrderResult:
    """Change the dishes, the price group or pickup/delivery of a placed order until the
    cut-off: the old portions go back and the new ones are taken in one transaction, so a
    change to a dish that has sold out leaves the order as it was."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, account=by).first()
        if order is None:
            raise MealError(_("No such order."), code="not_found", status=404)
        if order.status != OrderStatus.PLACED:
            raise MealError(_("This order can no longer be changed."), code="not_active")
        q = quote(
            account=by,
            menu_id=order.menu_id,
            person_id=order.person_id,
            lines=lines,
            group=group,
            mode=mode,
            now=now,
            changing=order.pk,
        )
        _give_back(order)
        _take_portions(q.lines)
        order.lines.all().delete()
        OrderLine.objects.bulk_create(
            [
                OrderLine(order=order, item=item, quantity=n, unit_fen=item.list_price(group))
                for item, n in q.lines
            ]
        )
        order.group, order.mode = group, mode
        order.estate = q.address.estate if q.address else ""
        order.address = q.address.detail if q.address else ""
        order.list_fen, order.subsidy_fen = q.list_fen, q.subsidy_fen
        order.delivery_fee_fen, order.due_fen = q.delivery_fee_fen, q.due_fen
        order.updated_at = now
        order.save()
    return OrderResult(order=order, round=q.round)


def cancel_order(
    *,
    order_id: int,
    by: User,
    as_staff: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> Order:
    """Cancel before the cut-off (a resident) or at any time before it is served (staff, with
    a reason); the portions go back to the menu."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .select_related("menu__canteen")
            .filter(pk=order_id)
            .first()
        )
        if order is None or (not as_staff and order.account_id != by.pk):
            raise MealError(_("No such order."), code="not_found", status=404)
        if as_staff:
            from doorstep.accounts.scopes import can_manage

            if not can_manage(by, order.menu.canteen.center_id):
                raise MealError(_("No such order."), code="not_found", status=404)
            if not reason.strip():
                raise MealError(_("Staff must give a reason."), code="reason_required")
        if order.status != OrderStatus.PLACED:
            raise MealError(_("This order can no longer be cancelled."), code="not_active")
        if not as_staff:
            _check_open(order.menu, now)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = order.updated_at = now
        order.save(update_fields=["status", "cancelled_at", "updated_at"])
        _give_back(order)
        if as_staff:
            _tell(order, None, event="cancelled", now=now, reason=reason)
            audit.record(
                actor=by,
                action="meal_order.cancel",
                obj=order,
                label=order.public_id,
                center_id=order.menu.canteen.center_id,
                changes={"reason": reason},
                now=now,
            )
    return order


def set_address(*, account: User, estate: str, detail: str) -> DeliveryAddress:
    estate, detail = estate.strip(), detail.strip()
    if not estate or not detail:
        raise MealError(_("Give the estate and the building and room."), code="address_required")
    address, _created = DeliveryAddress.objects.update_or_create(
        account=account, defaults={"estate": estate[:60], "detail": detail[:80]}
    )
    return address


def address_of(account: User) -> DeliveryAddress | None:
    return DeliveryAddress.objects.filter(account=account).first()


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
                _tell(order, None, event="to_pickup", now=now)
            changed += len(short)
    return changed


def _tell(order: Order, q: Quote | None, *, event: str, now: datetime, reason: str = "") -> None:
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
    from .models import Service

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

    from .selectors import may_run

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
                _tell(order, None, event="not_home", now=now)
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


# --- the canteen's week ------------------------------------------------------------------------


def confirm_eligibility(
    *, person_id: int, staff: User, center_id: int, now: datetime | None = None
):  # type: ignore[no-untyped-def]
    """Record, once, that staff saw this person is of the elderly price's age (audited)."""
    from doorstep.accounts.scopes import can_manage

    from .models import Eligibility

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


def copy_week(*, canteen_id: int, staff: User, monday: date) -> int:
    """Copy the menus of the week before `monday` into the week from `monday` (dishes,
    prices and portions; unpublished, publishing at the same time before each service as
    the week before, if it had one). Days that already have that service are left alone.
    Returns how many menus were made."""
    from doorstep.accounts.scopes import can_manage

    canteen = Canteen.objects.filter(pk=canteen_id).first()
    if canteen is None or not can_manage(staff, canteen.center_id):
        raise MealError(_("No such canteen."), code="not_found", status=404)
    week = timedelta(days=7)
    made = 0
    with transaction.atomic():
        sources = (
            Menu.objects.filter(canteen=canteen, day__gte=monday - week, day__lt=monday)
            .prefetch_related("items")
            .order_by("day", "service")
        )
        for src in sources:
            if Menu.objects.filter(
                canteen=canteen, day=src.day + week, service=src.service
            ).exists():
                continue
            menu = Menu.objects.create(
                canteen=canteen,
                day=src.day + week,
                service=src.service,
                serves_at=src.serves_at + week,
                cut_off_at=src.cut_off_at + week,
                publish_at=src.publish_at + week if src.publish_at else None,
                published=False,
                synthetic=src.synthetic,
            )
            MenuItem.objects.bulk_create(
                [
                    MenuItem(
                        menu=menu,
                        dish_id=i.dish_id,
                        price_fen=i.price_fen,
                        rider_price_fen=i.rider_price_fen,
                        staff_price_fen=i.staff_price_fen,
                        portions=i.portions,
                    )
                    for i in src.items.all()
                ]
            )
            made += 1
        if made:
            audit.record(
                actor=staff,
                action="meal_menu.copy_week",
                obj=canteen,
                label=canteen.name,
                center_id=canteen.center_id,
                changes={"week_of": monday.isoformat(), "menus": made},
            )
    return made


def publish(*, menu_id: int, staff: User) -> Menu:
    from doorstep.accounts.scopes import can_manage

    menu = Menu.objects.select_related("canteen").filter(pk=menu_id).first()
    if menu is None or not can_manage(staff, menu.canteen.center_id):
        raise MealError(_("No such menu."), code="not_found", status=404)
    if not menu.published:
        Menu.objects.filter(pk=menu.pk).update(published=True)
        menu.published = True
    return menu


def publish_due(*, now: datetime | None = None) -> int:
    """Menus whose publishing time has come are published (the worker; idempotent)."""
    now = now or timezone.now()
    return Menu.objects.filter(published=False, publish_at__lte=now).update(published=True)


def _managed_canteen(staff: User, canteen_id: int) -> Canteen:
    from doorstep.accounts.scopes import can_manage

    canteen = Canteen.objects.filter(pk=canteen_id).first()
    if canteen is None or not can_manage(staff, canteen.center_id):
        raise MealError(_("No such canteen."), code="not_found", status=404)
    return canteen


def create_menu(
    *,
    canteen_id: int,
    staff: User,
    day: date,
    service: str,
    serves_at: datetime,
    publish_at: datetime | None = None,
) -> Menu:
    """A new, unpublished menu; orders close the canteen's cut-off minutes before it is
    served."""
    from .models import Service

    canteen = _managed_canteen(staff, canteen_id)
    if service not in Service.values:
        raise MealError(_("Choose breakfast, lunch or dinner."), code="invalid_service")
    if Menu.objects.filter(canteen=canteen, day=day, service=service).exists():
        raise MealError(_("That day already has this meal."), code="menu_exists")
    return Menu.objects.create(
        canteen=canteen,
        day=day,
        service=service,
        serves_at=serves_at,
        cut_off_at=serves_at - timedelta(minutes=canteen.cut_off_minutes),
        publish_at=publish_at,
    )


def add_dish(
    *,
    menu_id: int,
    staff: User,
    name: str,
    price_fen: int,
    portions: int | None = None,
    rider_price_fen: int | None = None,
    staff_price_fen: int | None = None,
    is_set: bool = False,
    tags: Sequence[str] = (),
    allergens: str = "",
) -> MenuItem:
    """A dish on a menu (the canteen's dish of that name, or a new one)."""
    from .models import Dish

    menu = Menu.objects.select_related("canteen").filter(pk=menu_id).first()
    if menu is None:
        raise MealError(_("No such menu."), code="not_found", status=404)
    canteen = _managed_canteen(staff, menu.canteen_id)
    name = name.strip()
    if not name or len(name) > 60:
        raise MealError(_("Give the dish a name of at most 60 characters."), code="invalid_name")
    prices = [p for p in (price_fen, rider_price_fen, staff_price_fen) if p is not None]
    if any(not 0 <= p <= 100_000 for p in prices) or (
        portions is not None and not 0 <= portions <= 10_000
    ):
        raise MealError(_("Check the prices and portions."), code="invalid_number")
    bad = [t for t in tags if t not in Dish.Tag.values]
    if bad:
        raise MealError(_("Unknown dietary tag."), code="invalid_tag")
    with transaction.atomic():
        dish, _created = Dish.objects.get_or_create(
            canteen=canteen,
            name=name,
            defaults={"is_set": is_set, "tags": list(tags), "allergens": allergens.strip()[:120]},
        )
        if MenuItem.objects.filter(menu=menu, dish=dish).exists():
            raise MealError(_("That dish is already on this menu."), code="dish_exists")
        return MenuItem.objects.create(
            menu=menu,
            dish=dish,
            price_fen=price_fen,
            rider_price_fen=rider_price_fen,
            staff_price_fen=staff_price_fen,
            portions=portions,
        )


def remove_dish(*, item_id: int, staff: User) -> None:
    """Take a dish off a menu nobody has ordered it from."""
    item = MenuItem.objects.select_related("menu").filter(pk=item_id).first()
    if item is None:
        raise MealError(_("No such dish."), code="not_found", status=404)
    _managed_canteen(staff, item.menu.canteen_id)
    if OrderLine.objects.filter(item=item).exists():
        raise MealError(
            _("Someone has ordered this dish: cancel their orders with a reason first."),
            code="dish_ordered",
        )
    item.delete()


def counter_sale(*, canteen_id: int, staff: User, group: str, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """One tap at the counter: a walk-in meal by price group, counted once in the ledger
    (a meal at the canteen)."""
    from doorstep.visits.services import record_served_order

    from .models import CounterSale

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

    from .models import CounterSale

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
    from .selectors import may_run

    now = now or timezone.now()
    menu = Menu.objects.select_related("canteen").filter(pk=menu_id).first()
    if menu is None or not may_run(staff, menu.canteen):
        raise MealError(_("No such menu."), code="not_found", status=404)
    orders = Order.objects.filter(
        menu=menu, status=OrderStatus.PLACED, mode=Mode.DELIVERY, estate=estate
    ).select_related("menu__canteen")
    told = 0
    for order in orders:
        _tell(order, None, event="on_the_way", now=now)
        told += 1
    return told
