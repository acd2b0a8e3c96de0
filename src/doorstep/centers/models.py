from django.db import models
from django.utils.translation import gettext_lazy as _

from .vocab import (
    FACILITY_BITS,
    THEME_BITS,
    Facility,
    Kind,
    Level,
    NameKind,
    Precision,
    Source,
    Theme,
    display_name,
)


class Region(models.Model):
    """Shanghai -> district (区) -> subdistrict/town (街道/镇/乡), keyed by official code."""

    class RegionLevel(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        SUBDISTRICT = "subdistrict", _("Subdistrict / town")

    code = models.CharField(_("official code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("name in English"), max_length=96, blank=True)
    level = models.CharField(_("level"), max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    pinyin = models.CharField(max_length=160, blank=True)
    # A representative point inside the region (WGS84), used when a center's own location is
    # unknown. Districts get one from their outline; subdistricts inherit their district's.
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    # Simplified outline as GeoJSON geometry text (districts only).
    outline = models.TextField(blank=True)
    source = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return self.name


class Center(models.Model):
    name = models.CharField(_("name"), max_length=120)
    # The station's own name where several share one (杨浦滨江党群服务站 has stations named
    # 人人屋站, 电站辅机厂站, …): shown with the name wherever a center is listed or picked.
    branch = models.CharField(_("station's own name"), max_length=60, blank=True)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    name_en_kind = models.CharField(
        _("kind of English name"), max_length=12, choices=NameKind.choices, blank=True
    )
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.CENTER)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    district = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="district_centers",
        limit_choices_to={"level": "district"},
        verbose_name=_("district"),
    )
    subdistrict = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="subdistrict_centers",
        null=True,
        blank=True,
        limit_choices_to={"level": "subdistrict"},
        verbose_name=_("subdistrict"),
    )
    themes = models.JSONField(_("themes"), default=list, blank=True)
    facilities = models.JSONField(_("facilities"), default=list, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude (WGS84)"))
    lng = models.FloatField(_("longitude (WGS84)"))
    location_precision = models.CharField(
        _("location precision"), max_length=12, choices=Precision.choices
    )
    location_source = models.CharField(_("where the location came from"), max_length=200)
    phone = models.CharField(_("public phone"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    # Facts as stated by the source, each {"zh": ..., "en": ...}: figures such as daily visits.
    facts = models.JSONField(_("facts"), default=list, blank=True)
    floor_area_m2 = models.PositiveIntegerField(_("floor area (m²)"), null=True, blank=True)
    opened_on = models.DateField(_("opening date"), null=True, blank=True)
    hours_note = models.CharField(_("note on opening hours"), max_length=200, blank=True)
    hours_source = models.CharField(
        _("where the opening hours came from"),
        max_length=12,
        choices=Source.choices,
        blank=True,
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)
    # Stable key from the source (article slug, import code) so re-imports update in place.
    external_key = models.CharField(max_length=120, unique=True)

    # Derived index fields, recomputed by services.refresh_derived() on every write.
    theme_mask = models.BigIntegerField(default=0, editable=False)
    facility_mask = models.BigIntegerField(default=0, editable=False)
    search_name = models.TextField(default="", editable=False)
    search_text = models.TextField(default="", editable=False)
    name_pinyin = models.TextField(default="", editable=False)
    name_initials = models.TextField(default="", editable=False)
    place_pinyin = models.TextField(default="", editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("service center")
        verbose_name_plural = _("service centers")
        indexes = [
            models.Index(fields=["lat", "lng"]),
            models.Index(fields=["district", "level"]),
            models.Index(fields=["subdistrict"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="center_location_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name people can tell apart: 杨浦滨江党群服务站（电站辅机厂站）."""
        return display_name(self.name, self.branch)

    @property
    def local_name(self) -> str:
        """The name for the page's language: English where one is known on English pages."""
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.display_name

    @property
    def display_name_en(self) -> str:
        """The English name where one is known, else the Chinese display name."""
        return self.name_en or self.display_name

    @property
    def precise(self) -> bool:
        return self.location_precision in (Precision.EXACT, Precision.STREET)

    @property
    def is_synthetic(self) -> bool:
        return self.source == Source.SYNTHETIC

    def theme_labels(self) -> list[tuple[str, str]]:
        return [(c, str(Theme(c).label)) for c in self.themes if c in THEME_BITS]

    def facility_labels(self) -> list[tuple[str, str]]:
        return [(c, str(Facility(c).label)) for c in self.facilities if c in FACILITY_BITS]


class OpeningHours(models.Model):
    """One opening interval on a weekday, in minutes from that day's midnight.

    close_minute may pass 1440 for an interval that runs past midnight (20:00-02:00 is
    1200-1560); 0-1440 every day means open 24 hours.
    """

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField()  # Monday = 0
    open_minute = models.PositiveSmallIntegerField()
    close_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["weekday", "open_minute"]
        # Leads with the center, so the open-now EXISTS probe is a covering index lookup per
        # center (a weekday-first index made SQLite walk every interval of that weekday).
        indexes = [
            models.Index(
                fields=["center", "weekday", "open_minute", "close_minute"],
                name="centers_hours_center_week_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6, open_minute__lt=1440)
                & models.Q(close_minute__gt=models.F("open_minute"), close_minute__lte=2880),
                name="hours_interval_valid",
            ),
        ]

    def __str__(self) -> str:
        from .hours import WEEKDAY_CODES, format_minute

        return (
            f"{WEEKDAY_CODES[self.weekday]} "
            f"{format_minute(self.open_minute)}-{format_minute(self.close_minute)}"
        )


class OpeningException(models.Model):
    """A date whose hours differ from the weekly pattern (closed on a holiday, short day)."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    closed = models.BooleanField(default=True)
    open_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    close_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["center", "date"], name="one_exception_per_day"),
            models.CheckConstraint(
                condition=models.Q(closed=True)
                | models.Q(
                    open_minute__isnull=False,
                    close_minute__isnull=False,
                    open_minute__lt=1440,
                    close_minute__gt=models.F("open_minute"),
                    close_minute__lte=2880,
                ),
                name="exception_hours_valid",
            ),
        ]
        indexes = [models.Index(fields=["date", "center"])]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date} closed"
        return f"{self.date} {self.opens_display}-{self.closes_display}"

    @property
    def opens_display(self) -> str:
        from .hours import format_minute

        return "" if self.open_minute is None else format_minute(self.open_minute)

    @property
    def closes_display(self) -> str:
        from .hours import format_minute

        return "" if self.close_minute is None else format_minute(self.close_minute)


class DirectoryVersion(models.Model):
    """One row whose counter every change to the directory bumps (see centers/cache.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"directory version {self.version}"
