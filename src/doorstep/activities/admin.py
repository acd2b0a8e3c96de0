"""Django admin for activities: mostly a read-only window for support.

Writes that matter (places, cancellations, draws, check-ins) go through the services from the
staff back office (/staff/), which keep the counters and the waiting list right; so here the
counters, outcomes and lottery fields are read-only, and the lottery's secret seed is only
shown once the draw has revealed it. Staff who are not superusers see only their centers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from doorstep.accounts.models import User, mask_phone
from doorstep.accounts.scopes import managed_centers
from doorstep.core.admin import AuditedAdmin

from .models import Activity, CheckIn, NoShowPolicy, Registration, Series


class ScopedAdmin(AuditedAdmin):
    center_path = "center"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        user = request.user
        if isinstance(user, User) and not user.is_superuser:
            qs = qs.filter(**{f"{self.center_path}__in": managed_centers(user)})
        return qs


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    list_display = ("title", "center", "starts_at", "status", "allocation", "taken", "capacity")
    list_filter = ("status", "allocation", "category", "audience")
    search_fields = ("title", "center__name")
    date_hierarchy = "starts_at"
    list_select_related = ("center",)
    raw_id_fields = ("center", "series")
    exclude = ("lottery_seed",)
    readonly_fields = (
        "status",
        "allocation",
        "capacity",
        "taken",
        "walk_ins",
        "cancel_reason",
        "lottery_commitment",
        "revealed_seed",
        "drawn_at",
        "no_shows_marked_at",
        "local_share_percent",
        "first_timer_share_percent",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("lottery seed"))
    def revealed_seed(self, obj: Activity) -> str:
        return obj.lottery_seed if obj.drawn_at else ""


@admin.register(Series)
class SeriesAdmin(ScopedAdmin):
    list_display = ("title", "center", "weekday", "start_time", "first_date", "last_date")
    search_fields = ("title", "center__name")
    list_select_related = ("center",)
    raw_id_fields = ("center",)


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    center_path = "activity__center"
    list_display = ("public_id", "activity", "person", "status", "masked_phone", "created_at")
    list_filter = ("status",)
    search_fields = ("public_id", "party", "person__name", "activity__title")
    list_select_related = ("activity", "person", "account")
    raw_id_fields = ("activity", "person", "account")

    @admin.display(description=_("mobile number"), ordering="account__phone")
    def masked_phone(self, obj: Registration) -> str:
        return mask_phone(obj.account.phone)


@admin.register(NoShowPolicy)
class NoShowPolicyAdmin(ScopedAdmin):
    list_display = ("center", "threshold", "window_days", "block_days", "lower_lottery_tier")
    list_select_related = ("center",)
    raw_id_fields = ("center",)


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    center_path = "activity__center"
    list_display = ("at", "result", "activity", "registration", "staff")
    list_filter = ("result",)
    list_select_related = ("activity", "registration", "staff")
    raw_id_fields = ("activity", "registration", "staff")
