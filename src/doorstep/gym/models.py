"""The elderly gym's heart-rate monitor (docs/gym.md): bands handed out at the desk for a
session, readings that arrive over MQTT and live only for the session and a day, alerts that
stay until staff acknowledge them, and a summary per session that the member can see and
delete."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Band(models.Model):
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    # What the band (or the gym's gateway) publishes as its id; the label is printed on it.
    band_id = models.CharField(_("band id"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=20)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "label"], name="one_label_per_center")
        ]

    def __str__(self) -> str:
        return self.label


class Settings(models.Model):
    """A gym's rules (one row per center; defaults below when there is none)."""

    center = models.OneToOneField("centers.Center", on_delete=models.CASCADE, related_name="+")
    upper_share = models.DecimalField(
        _("upper zone from (share of the maximum)"), max_digits=3, decimal_places=2, default=0.85
    )
    high_seconds = models.PositiveSmallIntegerField(_("too high for (seconds)"), default=10)
    low_bpm = models.PositiveSmallIntegerField(_("too low below (bpm)"), default=45)
    sudden_bpm = models.PositiveSmallIntegerField(_("sudden change of (bpm)"), default=35)
    sudden_seconds = models.PositiveSmallIntegerField(_("within (seconds)"), default=5)
    no_signal_seconds = models.PositiveSmallIntegerField(_("no signal for (seconds)"), default=15)
    battery_low = models.PositiveSmallIntegerField(_("battery low below (%)"), default=15)
    escalate_seconds = models.PositiveSmallIntegerField(
        _("escalate an alert nobody acknowledged after (seconds)"), default=60
    )
    duty_manager = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"gym settings of {self.center_id}"


class Member(models.Model):
    """A household member who uses the gym: the nickname the coach sees, and a limit set by
    staff on a doctor's advice (else 220 − age). Consent is recorded before the first session."""

    person = models.OneToOneField("accounts.Person", on_delete=models.CASCADE, related_name="+")
    nickname = models.CharField(_("name on the board"), max_length=20)
    max_bpm = models.PositiveSmallIntegerField(
        _("maximum heart rate (doctor's advice)"), null=True, blank=True
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.nickname


class Session(models.Model):
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    band = models.ForeignKey(Band, on_delete=models.PROTECT, related_name="sessions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    limit_bpm = models.PositiveSmallIntegerField()  # the maximum in force for this session
    upper_bpm = models.PositiveSmallIntegerField()  # where the upper zone starts
    # The summary that stays (the readings do not).
    readings = models.PositiveIntegerField(default=0)
    avg_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    peak_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    zone_seconds = models.JSONField(default=dict, blank=True)  # {"rest": s, "work": s, "upper": s}
    synthetic = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["band"],
                condition=models.Q(ended_at__isnull=True),
                name="one_session_per_band",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(ended_at__isnull=True),
                name="one_session_per_member",
            ),
        ]
        indexes = [models.Index(fields=["center", "ended_at"])]

    def __str__(self) -> str:
        return f"session {self.pk}"

    @property
    def minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)


class Reading(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    bpm = models.PositiveSmallIntegerField()
    battery = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["session", "at"])]

    def __str__(self) -> str:
        return f"{self.bpm} at {self.at}"


class AlertKind(models.TextChoices):
    HIGH = "high", _("Heart rate too high")
    LOW = "low", _("Heart rate too low")
    SUDDEN = "sudden", _("Sudden change")
    NO_SIGNAL = "no_signal", _("No signal")
    BATTERY = "battery", _("Battery low")
    BUTTON = "button", _("Alarm button pressed")


class Alert(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="alerts")
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    value = models.PositiveSmallIntegerField(null=True, blank=True)
    # The reading's time (what the band measured), and when the monitor raised it.
    measured_at = models.DateTimeField()
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("what was done"), max_length=300, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["center", "acknowledged_at", "raised_at"])]
        constraints = [
            # At most one open alert of a kind per session: no duplicates while one is open.
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="one_open_alert_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.session_id}"


class Ignored(models.Model):
    """Messages the monitor ignored, counted per reason and hour (never their content)."""

    hour = models.DateTimeField()
    reason = models.CharField(max_length=20)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "reason"], name="one_count_per_hour")
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.hour}: {self.count}"


class Live(models.Model):
    """A session's tile as the monitor last wrote it (about once a second): what the board
    shows; gone with the session."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, primary_key=True, related_name="live"
    )
    bpm = models.PositiveSmallIntegerField(null=True)
    zone = models.CharField(max_length=8, default="none")
    trend = models.CharField(max_length=8, default="steady")
    measured_at = models.DateTimeField(null=True)
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"live {self.session_id}"
