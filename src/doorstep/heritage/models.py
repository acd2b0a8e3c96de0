"""Red heritage sites (遗址旧址, memorial halls, plaques): places that are not service centers
but that routes and walking Party lessons stop at (docs/heritage.md). Only what a source
states is kept, and the source with it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from doorstep.centers.vocab import Precision


class Kind(models.TextChoices):
    FORMER_SITE = "former_site", _("Former site")
    MEMORIAL = "memorial", _("Memorial hall")
    PLAQUE = "plaque", _("Plaque")


class Source(models.TextChoices):
    ARTICLE = "article", _("The newspaper article")
    IMPORT = "import", _("An imported list")
    SYNTHETIC = "synthetic", _("Synthetic example")


class HeritageSite(models.Model):
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    district = models.ForeignKey(
        "centers.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude (WGS84)"))
    lng = models.FloatField(_("longitude (WGS84)"))
    location_precision = models.CharField(
        _("location precision"), max_length=12, choices=Precision.choices
    )
    location_note = models.CharField(_("where the location came from"), max_length=200, blank=True)
    # Weekly hours in the centers' notation ("tue-sun 09:00-17:00"); empty: not stated.
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    history = models.TextField(_("short history"), max_length=2000, blank=True)
    history_en = models.TextField(_("short history in English"), max_length=3000, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=300)
    external_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district", "name"]
        verbose_name = _("heritage site")
        verbose_name_plural = _("heritage sites")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="site_location_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name

    @property
    def name_lang(self) -> str:
        english = (get_language() or "").startswith("en")
        return "en" if english and self.name_en else "zh-Hans"

    @property
    def precise(self) -> bool:
        return self.location_precision in (Precision.EXACT, Precision.STREET)

    @property
    def is_synthetic(self) -> bool:
        return self.source == Source.SYNTHETIC
