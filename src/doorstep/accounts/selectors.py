"""Reads for the account pages and API: one's own account, household and region choices."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils import timezone

from doorstep.centers.models import Region

from .models import PhoneCode, User
from .services import normalize_phone


def account_overview(user: User) -> User:
    """The account with its home subdistrict and household in two queries."""
    return (
        User.objects.select_related("home_subdistrict").prefetch_related("people").get(pk=user.pk)
    )


def has_pending_code(raw_phone: str) -> bool:
    """Whether a code sent to this number can still be used."""
    phone = normalize_phone(raw_phone)
    return PhoneCode.objects.filter(
        phone=phone, used_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def subdistrict_choices() -> list[dict]:
    """Districts with their subdistricts and towns, for the home subdistrict select."""
    groups = cache.get("accounts:subdistrict_choices")
    if groups is None:
        districts: dict[str, dict[str, Any]] = {
            r.code: {"code": r.code, "name": r.name, "name_en": r.name_en, "subdistricts": []}
            for r in Region.objects.filter(level=Region.RegionLevel.DISTRICT).order_by("code")
        }
        for r in Region.objects.filter(level=Region.RegionLevel.SUBDISTRICT).order_by("code"):
            if r.parent_id in districts:
                districts[r.parent_id]["subdistricts"].append(
                    {"code": r.code, "name": r.name, "name_en": r.name_en}
                )
        groups = [d for d in districts.values() if d["subdistricts"]]
        cache.set("accounts:subdistrict_choices", groups, 300)
    return groups
