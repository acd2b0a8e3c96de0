from django.contrib import admin

from .models import Canteen, Dish, Menu, MenuItem, SubsidyBand


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    extra = 0


@admin.register(Canteen)
class CanteenAdmin(admin.ModelAdmin):
    list_display = ("name", "center", "kind", "delivers", "source")
    list_filter = ("kind", "delivers", "source")
    filter_horizontal = ("caterer_accounts",)


@admin.register(Menu)
class MenuAdmin(admin.ModelAdmin):
    list_display = ("canteen", "day", "service", "cut_off_at", "published")
    list_filter = ("service", "published")
    inlines = [MenuItemInline]


@admin.register(Dish)
class DishAdmin(admin.ModelAdmin):
    list_display = ("name", "canteen", "is_set")


@admin.register(SubsidyBand)
class SubsidyBandAdmin(admin.ModelAdmin):
    list_display = ("district", "age_min", "age_max", "amount_fen", "effective_from", "source")
    list_filter = ("source",)
