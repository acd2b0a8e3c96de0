"""The canteen's menus: making them, their dishes, copying last week, publishing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core import audit

from ..models import Canteen, Dish, Menu, MenuItem, OrderLine
from .common import MealError, _managed_canteen


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
    from ..models import Service

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


def set_dish_photo(*, dish_id: int, staff: User, upload: object) -> Dish:
    """A photo of the dish (JPEG, PNG or WebP, at most 5 MB), re-encoded without EXIF; it
    replaces the one before."""
    import secrets

    from django.core.files.base import ContentFile

    from doorstep.core.photos import clean_photo

    dish = Dish.objects.filter(pk=dish_id).first()
    if dish is None:
        raise MealError(_("No such dish."), code="not_found", status=404)
    _managed_canteen(staff, dish.canteen_id)
    clean = clean_photo(upload, error=MealError)
    old = dish.photo.name if dish.photo else ""
    dish.photo.save(
        f"{secrets.token_hex(8)}.{clean.extension}", ContentFile(clean.data), save=False
    )
    dish.photo_type = clean.content_type
    dish.save(update_fields=["photo", "photo_type"])
    if old:
        dish.photo.storage.delete(old)
    return dish
