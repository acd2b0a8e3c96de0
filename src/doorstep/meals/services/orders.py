"""Meal orders: prices by group and district subsidy, cut-off, portions never oversold,
delivery areas and rounds, idempotent retries, changes and cancellation (docs/meals.md).

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
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.core import audit

from ..models import (
    DeliveryAddress,
    Menu,
    MenuItem,
    Mode,
    Order,
    OrderLine,
    OrderStatus,
    PriceGroup,
    SubsidyBand,
)
from .common import MealError
from .notices import tell

MAX_QUANTITY = 5  # of one dish in one order: a meal, not a catering order


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
            # Remembered only when nothing at all is left: fewer than asked for is not "sold
            # out" for someone who wants one.
            if MenuItem.objects.filter(pk=item.pk, taken__gte=F("portions")).exists():
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


def _priced(q: Quote) -> dict:
    """An order's fields that follow from its quote: how it is served and what it costs."""
    return {
        "group": q.group,
        "mode": q.mode,
        "estate": q.address.estate if q.address else "",
        "address": q.address.detail if q.address else "",
        "list_fen": q.list_fen,
        "subsidy_fen": q.subsidy_fen,
        "delivery_fee_fen": q.delivery_fee_fen,
        "due_fen": q.due_fen,
    }


def _write_lines(order: Order, q: Quote) -> None:
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, item=item, quantity=n, unit_fen=item.list_price(q.group))
            for item, n in q.lines
        ]
    )


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
                idempotency_key=key,
                placed_by=placed_by,
                created_at=now,
                updated_at=now,
                **_priced(q),
            )
            _write_lines(order, q)
            tell(order, event="placed", now=now)
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
                % {
                    "name": Person.objects.filter(pk=person_id)
                    .values_list("name", flat=True)
                    .first()
                    or ""
                },
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
        _write_lines(order, q)
        for name, value in _priced(q).items():
            setattr(order, name, value)
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
            tell(order, event="cancelled", now=now, reason=reason)
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
