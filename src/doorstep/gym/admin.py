from django.contrib import admin

from doorstep.core.admin import AuditedAdmin

from .models import Band, Settings


@admin.register(Band)
class BandAdmin(AuditedAdmin):
    list_display = ("label", "band_id", "center", "active")
    list_filter = ("active",)
    raw_id_fields = ("center",)
    search_fields = ("label", "band_id")


@admin.register(Settings)
class SettingsAdmin(AuditedAdmin):
    list_display = ("center", "upper_share", "high_seconds", "escalate_seconds", "duty_manager")
    raw_id_fields = ("center", "duty_manager")
