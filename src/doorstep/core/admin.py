"""Admin pieces every app uses: audited changes, and the audit trail itself, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import BaseModelForm
from django.http import HttpRequest

from . import audit
from .models import AuditEntry


def form_changes(form: BaseModelForm) -> dict[str, dict[str, Any]]:
    """Before and after of what the form changed (never a password or its hash)."""
    names = [n for n in form.changed_data if "password" not in n]
    return audit.diff(
        {n: form.initial.get(n) for n in names}, {n: form.cleaned_data.get(n) for n in names}
    )


def _record(request: HttpRequest, obj: models.Model, verb: str, changes: dict) -> None:
    center_id, region_code = audit.scope_of(obj)
    audit.record(
        actor=request.user,
        action=f"admin.{obj._meta.model_name}.{verb}",
        obj=obj,
        center_id=center_id,
        region_code=region_code,
        changes=changes,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every change made in the admin (its inlines too) is an audit entry, written in the
    admin's own transaction: role changes, account permissions, centers, activities."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changes = form_changes(form)
        super().save_model(request, obj, form, change)
        _record(request, obj, "update" if change else "create", changes)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        _record(request, obj, "delete", {"was": str(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                _record(request, obj, "delete", {"was": str(obj)})
            super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        planned = []
        for inline_form in formset.forms:
            if not hasattr(inline_form, "cleaned_data"):
                continue
            if formset.can_delete and formset._should_delete_form(inline_form):
                if inline_form.instance.pk is not None:
                    _record(
                        request, inline_form.instance, "delete", {"was": str(inline_form.instance)}
                    )
            elif inline_form.has_changed():
                verb = "create" if inline_form.instance.pk is None else "update"
                planned.append((inline_form, verb, form_changes(inline_form)))
        super().save_formset(request, form, formset, change)
        for inline_form, verb, changes in planned:
            _record(request, inline_form.instance, verb, changes)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The trail can be read here; nobody can add, change or delete an entry."""

    list_display = ("at", "actor_label", "action", "object_label", "center_id", "region_code", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_label", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
