"""Online payment for meal orders: a pluggable provider named by the `PAYMENT_PROVIDER`
setting (a dotted class path), as sign-in codes go through `SMS_SENDER`. None is shipped:
without one, residents pay at pickup or on delivery and the pages say so.

A provider is a class with two methods:

- `checkout_url(order, return_url) -> str`: where the resident pays the order's `due_fen`;
- `verify(request) -> tuple[str, int] | None`: the provider's notice of a payment, checked
  (its signature, its source): the order's `public_id` and the amount paid in fen, or None
  when the notice is not genuine.

A genuine notice for the full amount marks the order paid online (once; audited).
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .models import Order


class PaymentProvider(Protocol):
    def checkout_url(self, order: Order, return_url: str) -> str: ...

    def verify(self, request: HttpRequest) -> tuple[str, int] | None: ...


def provider() -> PaymentProvider | None:
    path = getattr(settings, "PAYMENT_PROVIDER", "")
    return import_string(path)() if path else None
