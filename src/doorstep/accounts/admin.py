"""Admin for accounts: phone numbers appear masked; code and token hashes never appear."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from doorstep.core.admin import AuditedAdmin

from .models import ApiToken, Organization, Person, PhoneCode, StaffRole, User, mask_phone


class StaffCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username",)


class AccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PersonInline(admin.TabularInline):
    model = Person
    extra = 0
    fields = ("name", "birth_year", "is_account_holder")


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0
    fields = ("scope", "region", "center")
    raw_id_fields = ("region", "center")


class MaskedPhoneMixin:
    @admin.display(description=_("mobile number"), ordering="phone")
    def phone_masked(self, obj: User | PhoneCode) -> str:
        return mask_phone(obj.phone)


@admin.register(User)
class AccountAdmin(MaskedPhoneMixin, AuditedAdmin, UserAdmin):
    form = AccountChangeForm
    add_form = StaffCreationForm
    list_display = ("phone_masked", "username", "display_name", "is_staff", "date_joined")
    list_display_links = ("phone_masked", "username")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "display_name", "phone")
    ordering = ("-date_joined",)
    readonly_fields = ("phone_masked", "last_login", "date_joined")
    raw_id_fields = ("home_subdistrict",)
    inlines = [PersonInline, StaffRoleInline]
    fieldsets = (
        (None, {"fields": ("username", "password", "phone_masked", "display_name")}),
        (_("Home"), {"fields": ("home_subdistrict",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request: HttpRequest, obj: User | None = None) -> list:
        # The add form only sets a username and password; household and roles come after.
        return self.inlines if obj is not None else []


@admin.register(StaffRole)
class StaffRoleAdmin(AuditedAdmin):
    list_display = ("user", "scope", "region", "center", "created_at")
    list_filter = ("scope",)
    raw_id_fields = ("user", "region", "center")


class ReadOnlyAdmin(AuditedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PhoneCode)
class PhoneCodeAdmin(MaskedPhoneMixin, ReadOnlyAdmin):
    list_display = ("phone_masked", "created_at", "expires_at", "attempts", "used_at")
    fields = ("phone_masked", "ip", "created_at", "expires_at", "attempts", "used_at")
    readonly_fields = fields
    date_hierarchy = "created_at"


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens can be looked at and revoked (deleted) here, never read."""

    list_display = ("user", "created_at", "last_used_at")
    fields = ("user", "created_at", "last_used_at")
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    fields = ("account", "name", "birth_year", "is_account_holder")
    list_display = ("name", "birth_year", "is_account_holder", "account")
    search_fields = ("name",)
    raw_id_fields = ("account",)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "center", "status")
    list_filter = ("kind", "status")
    raw_id_fields = ("center", "decided_by", "created_by")
