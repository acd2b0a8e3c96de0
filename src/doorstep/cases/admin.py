from django.contrib import admin

from doorstep.core.admin import AuditedAdmin

from .models import Holiday, RequestType, ServiceRequest


@admin.register(RequestType)
class RequestTypeAdmin(AuditedAdmin):
    list_display = ("code", "name", "handler", "first_response_hours", "resolution_hours", "active")
    list_filter = ("handler", "group", "active", "source")
    raw_id_fields = ("region", "center", "partner", "from_topic")


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    """Public holidays and make-up working days: the clock of every request reads them."""

    list_display = ("date", "name", "workday", "source")
    list_filter = ("workday",)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    """Read only: requests move through the services (the lock, the clock, the timeline)."""

    list_display = ("pk", "type", "center", "status", "holder", "due_at", "synthetic")
    list_filter = ("status", "holder", "via", "synthetic")
    raw_id_fields = ("type", "center", "applicant", "organization", "owner", "partner", "topic")
    exclude = ("contact_phone",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
