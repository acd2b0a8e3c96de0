"""Meals services by concern (docs/meals.md): orders, the kitchen's day, menus; what a
household is told. Views and the API import from here."""

from .common import MealError, yuan
from .kitchen import (
    NO_SHOW_AFTER,
    close_rounds,
    confirm_eligibility,
    counter_sale,
    mark_no_shows,
    serve,
    start_round,
    undo_counter_sale,
)
from .menus import add_dish, copy_week, create_menu, publish, publish_due, remove_dish
from .orders import (
    MAX_QUANTITY,
    SOLD_OUT_SECONDS,
    OrderResult,
    Quote,
    Round,
    address_of,
    cancel_order,
    change_order,
    forget_sold_out,
    place_order,
    quote,
    set_address,
    subsidy_band,
)

__all__ = [
    "MAX_QUANTITY",
    "NO_SHOW_AFTER",
    "SOLD_OUT_SECONDS",
    "MealError",
    "OrderResult",
    "Quote",
    "Round",
    "add_dish",
    "address_of",
    "cancel_order",
    "change_order",
    "close_rounds",
    "confirm_eligibility",
    "copy_week",
    "counter_sale",
    "create_menu",
    "forget_sold_out",
    "mark_no_shows",
    "place_order",
    "publish",
    "publish_due",
    "quote",
    "remove_dish",
    "serve",
    "set_address",
    "start_round",
    "subsidy_band",
    "undo_counter_sale",
    "yuan",
]
