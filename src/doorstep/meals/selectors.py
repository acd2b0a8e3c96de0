"""Reads for meals: a center's menus with prices and portions left, a household's orders."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, Q
from django.utils import timezone

from doorstep.accounts.models import User

from .models import Menu, MenuItem, Order, PriceGroup

_PRICED = (PriceGroup.STANDARD, PriceGroup.RIDER, PriceGroup.STAFF)


def menus_for(center_id: int, day: date) -> list[Menu]:
    return list(
        Menu.objects.filter(canteen__center_id=center_id, day=day, published=True)
        .select_related("canteen")
        .prefetch_related(
            Prefetch("items", queryset=MenuItem.objects.select_related("dish").order_by("pk"))
        )
        .order_by("serves_at", "canteen_id")
    )


def menus_out(menus: list[Menu]) -> list[dict]:
    now = timezone.now()
    return [
        {
            "id": m.pk,
            "canteen_id": m.canteen_id,
            "canteen": m.canteen.name,
            "center_id": m.canteen.center_id,
            "day": m.day,
            "service": m.service,
            "serves_at": m.serves_at,
            "cut_off_at": m.cut_off_at,
            "open": now < m.cut_off_at,
            "delivers": m.canteen.delivers,
            "delivery_fee_fen": m.canteen.delivery_fee_fen,
            "synthetic": m.synthetic,
            "items": [
                {
                    "id": i.pk,
                    "dish": i.dish.name,
                    "is_set": i.dish.is_set,
                    "tags": list(i.dish.tags),
                    "allergens": i.dish.allergens,
                    # The elderly price depends on the person's age band: see the quote.
                    "prices_fen": {str(g): i.list_price(g) for g in _PRICED},
                    "portions_left": i.left,
                }
                for i in m.items.all()
            ],
        }
        for m in menus
    ]


def orders_of(account: User) -> list[Order]:
    return list(
        Order.objects.filter(account=account)
        .select_related("person", "menu__canteen")
        .prefetch_related("lines__item__dish")
        .order_by("-created_at", "-pk")[:100]
    )


def mask_detail(detail: str) -> str:
    """The building and room as lists show them: the first two characters, the rest hidden."""
    return detail[:2] + "*" * max(len(detail) - 2, 0) if detail else ""


def _with_items(qs):  # type: ignore[no-untyped-def]
    return qs.select_related("canteen", "canteen__center").prefetch_related(
        Prefetch("items", queryset=MenuItem.objects.select_related("dish").order_by("pk"))
    )


def menu_days(center_id: int, first: date, last: date) -> list[date]:
    return sorted(
        set(
            Menu.objects.filter(
                canteen__center_id=center_id, published=True, day__gte=first, day__lte=last
            ).values_list("day", flat=True)
        )
    )


def menus_between(center_id: int, first: date, last: date) -> list[Menu]:
    return list(
        _with_items(
            Menu.objects.filter(
                canteen__center_id=center_id, published=True, day__gte=first, day__lte=last
            )
        ).order_by("serves_at", "canteen_id")
    )


def open_menu(menu_id: int) -> Menu | None:
    return _with_items(Menu.objects.filter(pk=menu_id, published=True)).first()


def may_run(user: User, canteen) -> bool:  # type: ignore[no-untyped-def]
    """Staff of the canteen's center, or one of its caterer's accounts."""
    from doorstep.accounts.scopes import can_manage

    return (
        can_manage(user, canteen.center_id) or canteen.caterer_accounts.filter(pk=user.pk).exists()
    )


def staff_menus(user: User, first: date, last: date) -> list[Menu]:
    from doorstep.accounts.scopes import managed_centers

    return list(
        Menu.objects.filter(
            Q(canteen__center__in=managed_centers(user)) | Q(canteen__caterer_accounts=user),
            day__gte=first,
            day__lte=last,
        )
        .distinct()
        .select_related("canteen", "canteen__center")
        .order_by("serves_at", "canteen_id")[:200]
    )


def managed_menu(user: User, menu_id: int) -> Menu | None:
    menu = _with_items(Menu.objects.filter(pk=menu_id)).first()
    if menu is None or not may_run(user, menu.canteen):
        return None
    return menu


def _live(menu: Menu):  # type: ignore[no-untyped-def]
    return Order.objects.filter(menu=menu).exclude(status="cancelled")


def production_sheet(menu: Menu) -> dict:
    """Portions per dish for pickup and for delivery, and the dietary tags, from the live
    orders (the counter's walk-in sales are tallied apart)."""
    from django.db.models import Count, Sum

    rows = (
        _live(menu)
        .values("lines__item_id", "mode")
        .annotate(portions=Sum("lines__quantity"))
        .order_by()
    )
    by_item: dict[int, dict[str, int]] = {}
    for row in rows:
        if row["lines__item_id"] is not None:
            by_item.setdefault(row["lines__item_id"], {})[row["mode"]] = row["portions"]
    dishes = []
    for item in menu.items.all():
        pickup = by_item.get(item.pk, {}).get("pickup", 0)
        delivery = by_item.get(item.pk, {}).get("delivery", 0)
        dishes.append(
            {"item": item, "pickup": pickup, "delivery": delivery, "total": pickup + delivery}
        )
    orders = _live(menu).aggregate(n=Count("pk"), elderly=Count("pk", filter=Q(group="elderly")))
    return {"dishes": dishes, "orders": orders["n"], "elderly": orders["elderly"]}


def orders_for(menu: Menu, mode: str) -> list[Order]:
    return list(
        _live(menu)
        .filter(mode=mode)
        .select_related("person", "account")
        .prefetch_related("lines__item__dish")
        .order_by("person__name", "pk")
    )


def round_sheet(menu: Menu) -> list[tuple[str, list[Order]]]:
    """Delivery orders by estate, in a stable walking order (estate, then address)."""
    estates: dict[str, list[Order]] = {}
    for order in (
        _live(menu)
        .filter(mode="delivery")
        .select_related("person", "account")
        .prefetch_related("lines__item__dish")
        .order_by("estate", "address", "pk")
    ):
        estates.setdefault(order.estate, []).append(order)
    return list(estates.items())


REPORT_COLUMNS = (
    "orders",
    "standard",
    "elderly",
    "rider",
    "staff",
    "pickup",
    "delivery",
    "served",
    "no_show",
    "not_delivered",
    "subsidy_fen",
    "due_fen",
    "walk_in",
)


def monthly_report(user: User, first: date, last: date) -> list[dict]:
    """Per canteen of the user's centers and per day from `first` to `last`: orders by price
    group and by pickup/delivery, served, never collected, deliveries not completed, the
    subsidy and the amounts due (cancelled orders left out). The monthly report a
    subdistrict sends on."""
    from django.db.models import Count, Sum

    from doorstep.accounts.scopes import managed_centers

    def n(**kw: object) -> Count:
        return Count("pk", filter=Q(**kw))

    rows = (
        Order.objects.filter(
            menu__canteen__center__in=managed_centers(user),
            menu__day__gte=first,
            menu__day__lte=last,
        )
        .exclude(status="cancelled")
        .values("menu__canteen_id", "menu__canteen__name", "menu__day")
        .annotate(
            orders=Count("pk"),
            standard=n(group="standard"),
            elderly=n(group="elderly"),
            rider=n(group="rider"),
            staff=n(group="staff"),
            pickup=n(mode="pickup"),
            delivery=n(mode="delivery"),
            served=n(status__in=["collected", "delivered"]),
            no_show=n(status="no_show"),
            not_delivered=n(mode="delivery", status__in=["not_home", "refused"]),
            subsidy_fen=Sum("subsidy_fen"),
            due_fen=Sum("due_fen"),
        )
        .order_by("menu__canteen__name", "menu__canteen_id", "menu__day")
    )
    from .models import CounterSale

    walk_ins = {
        (w["canteen_id"], w["day"]): w["n"]
        for w in CounterSale.objects.filter(
            canteen__center__in=managed_centers(user), day__gte=first, day__lte=last
        )
        .values("canteen_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    }
    out = []
    for r in rows:
        row: dict = dict(r)
        out.append(
            {
                "canteen_id": row["menu__canteen_id"],
                "canteen": row["menu__canteen__name"],
                "day": row["menu__day"],
                **{c: row[c] or 0 for c in REPORT_COLUMNS if c != "walk_in"},
                "walk_in": walk_ins.pop((row["menu__canteen_id"], row["menu__day"]), 0),
            }
        )
    if walk_ins:  # days with walk-in meals and no order
        from .models import Canteen

        names = dict(
            Canteen.objects.filter(pk__in={k[0] for k in walk_ins}).values_list("pk", "name")
        )
        for (canteen_id, day), n in walk_ins.items():
            out.append(
                {
                    "canteen_id": canteen_id,
                    "canteen": names[canteen_id],
                    "day": day,
                    **dict.fromkeys(REPORT_COLUMNS, 0),
                    "walk_in": n,
                }
            )
        out.sort(key=lambda r: (r["canteen"], r["canteen_id"], r["day"]))
    return out


def report_totals(rows: list[dict]) -> list[dict]:
    """The month per canteen, with the share of meals at the elderly price."""
    totals: dict[int, dict] = {}
    for r in rows:
        t = totals.setdefault(
            r["canteen_id"], {"canteen": r["canteen"], **dict.fromkeys(REPORT_COLUMNS, 0)}
        )
        for c in REPORT_COLUMNS:
            t[c] += r[c]
    for t in totals.values():
        t["elderly_pct"] = round(100 * t["elderly"] / t["orders"]) if t["orders"] else 0
    return list(totals.values())


def managed_canteen(user: User, canteen_id: int):  # type: ignore[no-untyped-def]
    from doorstep.accounts.scopes import can_manage

    from .models import Canteen

    canteen = Canteen.objects.filter(pk=canteen_id).first()
    if canteen is None or not can_manage(user, canteen.center_id):
        return None
    return canteen


def canteen_menus(canteen, first: date, last: date) -> list[Menu]:  # type: ignore[no-untyped-def]
    return list(
        _with_items(Menu.objects.filter(canteen=canteen, day__gte=first, day__lte=last)).order_by(
            "serves_at"
        )
    )


def confirmed_people(person_ids: list[int]) -> set[int]:
    from .models import Eligibility

    return set(
        Eligibility.objects.filter(person_id__in=person_ids).values_list("person_id", flat=True)
    )


# Outcome codes of a deliberation topic that are about meals: a canteen (a facility), meals at
# the canteen or delivered home (services).
MEAL_OUTCOME_CODES = ("canteen", "canteen_meal", "meal_delivery")


def centers_with_canteens(center_ids: list[int]) -> set[int]:
    from .models import Canteen

    if not center_ids:
        return set()
    return set(Canteen.objects.filter(center_id__in=center_ids).values_list("center_id", flat=True))


def walk_ins_today(canteen_id: int) -> int:
    from .models import CounterSale

    return CounterSale.objects.filter(canteen_id=canteen_id, day=timezone.localdate()).count()


def menus_near(
    day: date, *, lat: float | None = None, lng: float | None = None, limit: int = 20
) -> list[dict]:
    """Centers with a canteen and a published menu on `day`, nearest first when a point is
    given (walking distance from the directory's rule); a center whose location is only its
    district's point gets no distance and comes after the others."""
    from doorstep.centers.selectors import distance_m, walking_minutes

    menus = list(
        _with_items(Menu.objects.filter(day=day, published=True)).order_by("serves_at", "pk")
    )
    by_center: dict[int, dict] = {}
    for menu in menus:
        center = menu.canteen.center
        entry = by_center.setdefault(center.pk, {"center": center, "menus": []})
        entry["menus"].append(menu)
    out = list(by_center.values())
    for entry in out:
        c = entry["center"]
        far = None
        if lat is not None and lng is not None and c.precise and c.lat is not None:
            far = distance_m(lat, lng, c.lat, c.lng)
        entry["distance_m"] = round(far) if far is not None else None
        entry["walking_minutes"] = walking_minutes(far) if far is not None else None
    out.sort(key=lambda e: (e["distance_m"] is None, e["distance_m"] or 0, e["center"].name))
    return out[:limit]
