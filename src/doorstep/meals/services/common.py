"""What every part of the meals services shares: the error, money, the canteen staff run."""

from __future__ import annotations

from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core.errors import DoorstepError

from ..models import (
    Canteen,
)


class MealError(DoorstepError):
    """An order that cannot be placed or changed (sold out, past the cut-off, ...)."""


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _managed_canteen(staff: User, canteen_id: int) -> Canteen:
    from doorstep.accounts.scopes import can_manage

    canteen = Canteen.objects.filter(pk=canteen_id).first()
    if canteen is None or not can_manage(staff, canteen.center_id):
        raise MealError(_("No such canteen."), code="not_found", status=404)
    return canteen
