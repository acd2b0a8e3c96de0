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
    # An anonymous check-in in a burst from one network at one center (docs/visits.md,
    # "Abuse"): kept, counted apart, left out of the figures.
    suspect = models.BooleanField(_("suspicious burst"), default=False, db_default=False)
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
            # close_open_visits() scans only the visits still open.
            models.Index(
                fields=["arrived_at"], condition=models.Q(left_at__isnull=True), name="visit_open"
            ),
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


class VisitGuard(models.Model):
    """One row per (center, visitor): until when a further scan there counts as the same visit.

    The check-in takes this row with one upsert (`ON CONFLICT ... DO UPDATE ... WHERE until <=
    now`), so two scans racing each other cannot both count: see docs/visits.md. `visitor` is
    "u<user id>" or "d<device hash>"; nothing else is kept.
    """

    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    visitor = models.CharField(max_length=40)
    until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "visitor"], name="visit_guard_once"),
        ]
        indexes = [models.Index(fields=["until"], name="visit_guard_until")]

    def __str__(self) -> str:
        return f"{self.center_id} {self.visitor} until {self.until:%Y-%m-%d %H:%M}"


class RouteSource(models.TextChoices):
    ARTICLE = "article", _("Newspaper feature")
    STAFF = "staff", _("Center staff")


class Route(models.Model):
    """A walk through several centers (一起打卡): stamps are collected by visiting each stop."""

    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("title in English"), max_length=160, blank=True)
    story = models.TextField(_("story"), blank=True)
    story_en = models.TextField(_("story in English"), blank=True)
    theme = models.CharField(_("theme"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=RouteSource.choices)
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)
    # Article routes are reloaded by this key; staff routes leave it empty.
    external_key = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        constraints = [
            models.UniqueConstraint(
                fields=["external_key"],
                condition=~models.Q(external_key=""),
                name="route_external_key_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RouteStop(models.Model):
    """A stop of a route: a service center or a heritage site (exactly one)."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    site = models.ForeignKey(
        "heritage.HeritageSite", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["route", "order"]
        constraints = [
            models.UniqueConstraint(fields=["route", "order"], name="route_stop_order_once"),
            models.UniqueConstraint(fields=["route", "center"], name="route_stop_center_once"),
            models.UniqueConstraint(fields=["route", "site"], name="route_stop_site_once"),
            models.CheckConstraint(
                condition=models.Q(center__isnull=False, site__isnull=True)
                | models.Q(center__isnull=True, site__isnull=False),
                name="route_stop_center_or_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route_id} #{self.order} {self.center_id or f's{self.site_id}'}"


class SiteStamp(models.Model):
    """A stamp at a heritage site: its poster's rotating code scanned by a signed-in person."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("heritage.HeritageSite", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="one_stamp_per_site")]

    def __str__(self) -> str:
        return f"{self.user_id}@s{self.site_id}"
