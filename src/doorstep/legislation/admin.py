"""Django admin for the contact point: a read-only window for support.

Drafts, opinions and their statuses change only through the services (staff pages), which
validate the text, keep the status log and tell residents; authors are never shown here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from doorstep.core.admin import AuditedAdmin

from .models import ContactPoint, Draft


@admin.register(ContactPoint)
class ContactPointAdmin(AuditedAdmin):
    list_display = ("name", "center", "designated_on", "designated_by", "source")
    raw_id_fields = ("center",)


@admin.register(Draft)
class DraftAdmin(AuditedAdmin):
    list_display = ("title", "contact_point", "status", "opens_at", "closes_at", "synthetic")
    list_filter = ("status", "synthetic")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
