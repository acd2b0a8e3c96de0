from django.contrib import admin

from doorstep.core.admin import AuditedAdmin

from .models import HeritageSite


@admin.register(HeritageSite)
class HeritageSiteAdmin(AuditedAdmin):
    list_display = ("name", "kind", "district", "location_precision", "source")
    list_filter = ("kind", "source", "district")
    search_fields = ("name", "address")
