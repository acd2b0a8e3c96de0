"""The record of every visit (打卡) and every service delivered at a center.

Rows here are the facts; figures (the `figures` app) are rollups computed from them.
`day` is the local (TIME_ZONE) date of `arrived_at` / `at`, stored so per-day rollups and
range scans use a plain index. A visit's identity for return rates is the signed-in user;
anonymous visitors carry only `device` (a keyed hash of a random cookie, never personal data)
and are counted, not followed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .vocab import Channel, Group, Service, ServiceSource


class Visit(models.Model):
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="visits")
    user = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    device = models.CharField(_("device (pseudonymous)"), max_length=32, blank=True, default="")
    group = models.CharField(_("group"), max_length=10, choices=Group.choices, default="unknown")
    channel = models.CharField(_("recorded by"), max_length=10, choices=Channel.choices)
    arrived_at = models.DateTimeField(_("arrived at"))
    day = models.DateField(_("day"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    left_estimated = models.BooleanField(_("leaving time estimated"), default=False)
    activity_checkin = models.OneToOneField(
        "activities.CheckIn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit",
    )
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    synthetic = models.BooleanField(default=False)
    # Rollups refresh the (center, day) pairs whose rows changed since their watermark.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["center", "day"], name="visit_center_day"),
            models.Index(fields=["user", "arrived_at"], name="visit_user_time"),
            models.Index(fields=["device", "center", "arrived_at"], name="visit_device_time"),
            models.Index(fields=["day"], name="visit_day"),
            models.Index(fields=["updated_at"], name="visit_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_at__isnull=True)
                | models.Q(left_at__gte=models.F("arrived_at")),
                name="visit_leaves_after_arriving",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.arrived_at:%Y-%m-%d %H:%M} {self.group}"


class ServiceRecord(models.Model):
    """A service delivered: one row may count many (a batch of 30 meals is one entry)."""

    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, related_name="service_records"
    )
    service = models.CharField(_("service"), max_length=32, choices=Service.choices)
    at = models.DateTimeField(_("time"))
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("count"), default=1)
    resident = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=ServiceSource.choices)
    # Re-importing the same CSV tally changes nothing: (center, day, service, import_key).
    import_key = models.CharField(max_length=64, blank=True, default="")
    synthetic = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        indexes = [
            models.Index(fields=["center", "day"], name="service_center_day"),
            models.Index(fields=["day"], name="service_day"),
            models.Index(fields=["updated_at"], name="service_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=1), name="service_count_positive"),
            models.UniqueConstraint(
                fields=["center", "day", "service", "import_key"],
                condition=~models.Q(import_key=""),
                name="service_import_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.day} {self.service} x{self.count}"
