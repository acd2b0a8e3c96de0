"""Reads for the account pages and API: one's own account, household and region choices, and
the audit trail a staff member may read."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from doorstep.centers.models import Region
from doorstep.core.models import AuditEntry

from . import scopes
from .models import PhoneCode, StaffRole, User
from .services import PHONE_MIN_INTERVAL, normalize_phone


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


def resend_wait_seconds(phone: str) -> int:
    """Seconds before another code may be sent to this number (0: now), for the countdown."""
    last = (
        PhoneCode.objects.filter(phone=phone)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return 0
    return max(0, math.ceil((last + PHONE_MIN_INTERVAL - timezone.now()).total_seconds()))


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


def audit_trail(
    user: User,
    *,
    action: str = "",
    center_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit entries `user` may read, newest first: those of the centers they manage and
    of the regions their roles cover; city staff and superusers read them all."""
    entries = AuditEntry.objects.order_by("-at", "-pk")
    q = scopes.center_scope_q(user)
    if q is None:
        return entries.none()
    if q != Q():
        codes: set[str] = set()
        for role in user.staff_roles.all():
            if role.scope in (StaffRole.Scope.DISTRICT, StaffRole.Scope.SUBDISTRICT):
                codes.add(str(role.region_id))
                if role.scope == StaffRole.Scope.DISTRICT:
                    codes.update(
                        Region.objects.filter(parent_id=role.region_id).values_list(
                            "code", flat=True
                        )
                    )
        centers = scopes.managed_centers(user).values_list("pk", flat=True)
        entries = entries.filter(Q(center_id__in=centers) | Q(region_code__in=codes))
    if action:
        entries = entries.filter(action__startswith=action)
    if center_id is not None:
        entries = entries.filter(center_id=center_id)
    tz = timezone.get_current_timezone()
    if start is not None:
        entries = entries.filter(at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end is not None:
        entries = entries.filter(
            at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        )
    return entries
