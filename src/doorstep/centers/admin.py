from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from doorstep.core.admin import AuditedAdmin

from .cache import bump_directory_version
from .models import Center, OpeningException, OpeningHours, Region
from .services import refresh_derived
from .vocab import Facility, Theme


class CenterForm(forms.ModelForm):
    themes = forms.MultipleChoiceField(
        label=_("themes"),
        choices=Theme.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    facilities = forms.MultipleChoiceField(
        label=_("facilities"),
        choices=Facility.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Center
        fields = [
            "name",
            "aliases",
            "kind",
            "level",
            "district",
            "subdistrict",
            "themes",
            "facilities",
            "address",
            "lat",
            "lng",
            "location_precision",
            "location_source",
            "phone",
            "description",
            "description_en",
            "facts",
            "floor_area_m2",
            "opened_on",
            "hours_note",
            "hours_source",
            "source",
            "source_detail",
            "external_key",
        ]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class OpeningExceptionInline(admin.TabularInline):
    model = OpeningException
    extra = 0


class BumpsDirectoryVersion(AuditedAdmin):
    """Edits in the admin change what the directory answers: drop its cached answers."""

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        bump_directory_version()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        bump_directory_version()

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        super().delete_queryset(request, queryset)
        bump_directory_version()


@admin.register(Center)
class CenterAdmin(BumpsDirectoryVersion):
    form = CenterForm
    list_display = ["name", "district", "subdistrict", "level", "kind", "source"]
    list_filter = ["source", "level", "kind", "district"]
    search_fields = ["name", "search_name", "name_pinyin", "address"]
    raw_id_fields = ["district", "subdistrict"]
    inlines = [OpeningHoursInline, OpeningExceptionInline]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # Staff edits keep the search keys and filter masks in step with the fields.
        refresh_derived(obj)
        super().save_model(request, obj, form, change)


@admin.register(Region)
class RegionAdmin(BumpsDirectoryVersion):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "pinyin"]
    exclude = ["outline"]
