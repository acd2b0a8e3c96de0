"""Reads for meals: a center's menus with prices and portions left, a household's orders."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch
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
        .select_related("person")
        .order_by("-created_at", "-pk")[:100]
    )


def mask_detail(detail: str) -> str:
    """The building and room as lists show them: the first two characters, the rest hidden."""
    return detail[:2] + "*" * max(len(detail) - 2, 0) if detail else ""
