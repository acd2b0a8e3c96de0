from django.contrib import admin

from doorstep.core.admin import AuditedAdmin

from .models import Opportunity, PointRule, WalkingLesson


@admin.register(PointRule)
class PointRuleAdmin(AuditedAdmin):
    """Points for an approved hour per district (no row: 1)."""

    list_display = ("district", "points_per_hour")
    raw_id_fields = ("district",)


@admin.register(Opportunity)
class OpportunityAdmin(AuditedAdmin):
    list_display = ("title", "center", "role", "site", "source")
    list_filter = ("role", "source")
    raw_id_fields = ("center", "site")


@admin.register(WalkingLesson)
class WalkingLessonAdmin(AuditedAdmin):
    list_display = ("activity", "route", "guide")
    raw_id_fields = ("activity", "route", "guide", "created_by")
