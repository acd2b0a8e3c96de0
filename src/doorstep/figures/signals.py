"""Deleting an account or a center cascades to its Presence rows without a refresh seeing it:
take them out of PeopleDay first (the other rollups keep such rows until a rebuild)."""

from __future__ import annotations

from typing import Any

from .services import forget_presence, recompute_center_days


def account_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_presence(user_id=instance.pk)


def center_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_presence(center_id=instance.pk)


def records_deleted(sender: Any, pairs: list, **kwargs: Any) -> None:
    """A visit or service record was undone: recompute its center's day now."""
    recompute_center_days(pairs=pairs)
