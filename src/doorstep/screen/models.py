"""The big screen's rollup: one row per district and one for the city, rewritten by the worker.

A screen reads its row by primary key (one small query per refresh, whatever the city's size);
the worker computes every row from the figures' rollups and a few indexed counts of today's
rows (services.refresh). `data` holds only counts, shares, center positions and the titles of
public topics: no person, no phone, no staff link (docs/screen.md).
"""

from __future__ import annotations

from django.db import models

CITY = "310000"


class Snapshot(models.Model):
    scope = models.CharField(max_length=12, primary_key=True)  # CITY or a district's code
    computed_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.scope} at {self.computed_at:%H:%M:%S}"
