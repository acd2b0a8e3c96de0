"""Where people live, as a population grid (docs/city.md): what the 15-minute coverage counts.
No registry ships population data: a real grid is imported; the demo's is synthetic and says so."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Cell(models.Model):
    lat = models.FloatField(_("latitude (WGS84)"))
    lng = models.FloatField(_("longitude (WGS84)"))
    population = models.PositiveIntegerField(_("population"))
    district = models.ForeignKey("centers.Region", on_delete=models.CASCADE, related_name="+")
    synthetic = models.BooleanField(default=False)
    source = models.CharField(_("source"), max_length=200)

    class Meta:
        indexes = [models.Index(fields=["district"])]

    def __str__(self) -> str:
        return f"{self.lat:.4f},{self.lng:.4f}: {self.population}"
