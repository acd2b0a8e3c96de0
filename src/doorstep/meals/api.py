"""Meals API: menus near a center, a quote before ordering, orders (Idempotency-Key), my
orders, cancellation, the household's delivery address. Money is in fen."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from doorstep.accounts.auth import account_auth, caller
from doorstep.core.api import ErrorOut

from . import selectors, services
from .models import Mode, Order, PriceGroup

router = Router(tags=["meals"])

_ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ItemOut(Schema):
    id: int
    dish: str
    is_set: bool
    tags: list[str]
    allergens: str
    prices_fen: dict[str, int]
    portions_left: int | None


class MenuOut(Schema):
    id: int
    canteen_id: int
    canteen: str
    center_id: int
    day: date
    service: str
    serves_at: datetime
    cut_off_at: datetime
    open: bool
    delivers: bool
    delivery_fee_fen: int
    synthetic: bool
    items: list[ItemOut]


class MenuQuery(Schema):
    center_id: int
    day: date | None = None


class LineIn(Schema):
    item_id: int
    quantity: int = Field(1, ge=1)


class OrderIn(Schema):
    menu_id: int
    person_id: int
    lines: list[LineIn] = Field(..., max_length=20)
    group: str = Field(PriceGroup.STANDARD, max_length=10)
    mode: str = Field(Mode.PICKUP, max_length=10)


class RoundOut(Schema):
    estate: str
    orders: int
    minimum: int
    confirmed: bool


class QuoteOut(Schema):
    list_fen: int
    subsidy_fen: int
    delivery_fee_fen: int
    due_fen: int
    round: RoundOut | None
    sold_out: list[int]
    cut_off_at: datetime


class OrderOut(Schema):
    id: int
    public_id: str
    menu_id: int
    person_id: int
    person_name: str
    group: str
    mode: str
    status: str
    estate: str
    list_fen: int
    subsidy_fen: int
    delivery_fee_fen: int
    due_fen: int
    created_at: datetime


class PlacedOut(Schema):
    replayed: bool
    order: OrderOut
    round: RoundOut | None


class AddressIn(Schema):
    estate: str = Field(..., max_length=60)
    detail: str = Field(..., max_length=80)


class AddressOut(Schema):
    estate: str
    detail_masked: str


def _round(r: services.Round | None) -> dict | None:
    if r is None:
        return None
    return {"estate": r.estate, "orders": r.orders, "minimum": r.minimum, "confirmed": r.confirmed}


def order_out(order: Order) -> dict:
    return {
        "id": order.pk,
        "public_id": order.public_id,
        "menu_id": order.menu_id,
        "person_id": order.person_id,
        "person_name": order.person.name,
        "group": order.group,
        "mode": order.mode,
        "status": order.status,
        "estate": order.estate,
        "list_fen": order.list_fen,
        "subsidy_fen": order.subsidy_fen,
        "delivery_fee_fen": order.delivery_fee_fen,
        "due_fen": order.due_fen,
        "created_at": order.created_at,
    }


@router.get("/meals/menus", response={200: list[MenuOut], 422: ErrorOut})
def menus(request: HttpRequest, filters: Query[MenuQuery]) -> list[dict]:
    """A center's published menus for a day (default today), with each dish's price for
    every group and the portions left."""
    day = filters.day or timezone.localdate()
    return selectors.menus_out(selectors.menus_for(filters.center_id, day))


class NearQuery(Schema):
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    day: date | None = None


class NearOut(Schema):
    center_id: int
    center: str
    distance_m: int | None
    walking_minutes: int | None
    menus: list[MenuOut]


@router.get("/meals/near", response={200: list[NearOut], 422: ErrorOut})
def near(request: HttpRequest, filters: Query[NearQuery]) -> list[dict]:
    """Canteens with a menu on a day (default today), nearest first when `lat`/`lng` are
    given; a center whose location is not known precisely has no distance and comes last."""
    day = filters.day or timezone.localdate()
    return [
        {
            "center_id": e["center"].pk,
            "center": e["center"].name,
            "distance_m": e["distance_m"],
            "walking_minutes": e["walking_minutes"],
            "menus": selectors.menus_out(e["menus"]),
        }
        for e in selectors.menus_near(day, lat=filters.lat, lng=filters.lng)
    ]


@router.post("/meals/quote", auth=account_auth, response={200: QuoteOut, **_ERRORS})
def quote(request: HttpRequest, body: OrderIn) -> dict:
    """What an order would cost and whether its delivery round has its minimum, before it
    is placed. Nothing is written."""
    q = services.quote(
        account=caller(request),
        menu_id=body.menu_id,
        person_id=body.person_id,
        lines=[(line.item_id, line.quantity) for line in body.lines],
        group=body.group,
        mode=body.mode,
    )
    return {
        "list_fen": q.list_fen,
        "subsidy_fen": q.subsidy_fen,
        "delivery_fee_fen": q.delivery_fee_fen,
        "due_fen": q.due_fen,
        "round": _round(q.round),
        "sold_out": q.sold_out,
        "cut_off_at": q.menu.cut_off_at,
    }


@router.post(
    "/meals/orders", auth=account_auth, response={201: PlacedOut, 200: PlacedOut, **_ERRORS}
)
def place_order(request: HttpRequest, body: OrderIn) -> Status:
    """Order a meal for a member of your household. Send an `Idempotency-Key` header: a
    retry with the same key returns the same order."""
    result = services.place_order(
        account=caller(request),
        menu_id=body.menu_id,
        person_id=body.person_id,
        lines=[(line.item_id, line.quantity) for line in body.lines],
        group=body.group,
        mode=body.mode,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    order = Order.objects.select_related("person").get(pk=result.order.pk)
    return Status(
        200 if result.replayed else 201,
        {"replayed": result.replayed, "order": order_out(order), "round": _round(result.round)},
    )


@router.get("/meals/me/orders", auth=account_auth, response=list[OrderOut])
def my_orders(request: HttpRequest) -> list[dict]:
    return [order_out(o) for o in selectors.orders_of(caller(request))]


@router.delete("/meals/orders/{order_id}", auth=account_auth, response={200: OrderOut, **_ERRORS})
def cancel_order(request: HttpRequest, order_id: int) -> dict:
    user = caller(request)
    order = services.cancel_order(order_id=order_id, by=user)
    return order_out(Order.objects.select_related("person").get(pk=order.pk))


class ChangeIn(Schema):
    lines: list[LineIn] = Field(..., max_length=20)
    group: str = Field(PriceGroup.STANDARD, max_length=10)
    mode: str = Field(Mode.PICKUP, max_length=10)


@router.patch("/meals/orders/{order_id}", auth=account_auth, response={200: PlacedOut, **_ERRORS})
def change_order(request: HttpRequest, order_id: int, body: ChangeIn) -> dict:
    """Change the dishes, the price group or pickup/delivery until the cut-off."""
    result = services.change_order(
        order_id=order_id,
        by=caller(request),
        lines=[(line.item_id, line.quantity) for line in body.lines],
        group=body.group,
        mode=body.mode,
    )
    order = Order.objects.select_related("person").get(pk=result.order.pk)
    return {"replayed": False, "order": order_out(order), "round": _round(result.round)}


@router.put("/meals/me/address", auth=account_auth, response={200: AddressOut, **_ERRORS})
def set_address(request: HttpRequest, body: AddressIn) -> dict:
    """The household's delivery address: asked only to deliver meals, shown masked."""
    address = services.set_address(account=caller(request), estate=body.estate, detail=body.detail)
    return {"estate": address.estate, "detail_masked": selectors.mask_detail(address.detail)}
