"""`inbox_unread` for the site header: the signed-in person's unread notices.

Lazy: the count query runs only on pages whose template actually shows it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def inbox(request: HttpRequest) -> dict[str, Any]:
    from .services import unread_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(user))}
