from django.contrib import admin

from doorstep.core.admin import AuditedAdmin

from .models import Booking, Space


@admin.register(Space)
class SpaceAdmin(AuditedAdmin):
    list_display = ("name", "center", "kind", "capacity", "approval", "active", "source")
    list_filter = ("kind", "approval", "active", "source")
    raw_id_fields = ("center",)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read only: bookings change through the services (the lock, the rule, the notices)."""

    list_display = ("space", "starts_at", "ends_at", "status", "kind")
    list_filter = ("status", "kind")
    raw_id_fields = ("space", "user", "organization", "series", "decided_by", "checked_in_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
