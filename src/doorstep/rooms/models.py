"""Bookable spaces of a center, their bookings and blackouts (docs/rooms.md).

Every booking, and every activity held in a space, is one `Booking` row that occupies
`[starts_at, blocked_until)` (the end plus the space's buffer) while it is pending, confirmed
or checked in. The database refuses two such rows of one space that overlap: an exclusion
constraint over `tstzrange` on PostgreSQL, a trigger on SQLite (migration 0002), besides the
service's check under the space's row lock.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MEETING_ROOM = "meeting_room", _("Meeting room")
    LECTURE_HALL = "lecture_hall", _("Lecture hall")
    READING_SPACE = "reading_space", _("Reading space")
    STUDIO = "studio", _("Studio")
    SPORTS_COURT = "sports_court", _("Sports court")
    ACTIVITY_ROOM = "activity_room", _("Activity room")
    OTHER = "other", _("Other")


class Equipment(models.TextChoices):
    PROJECTOR = "projector", _("Projector")
    MICROPHONE = "microphone", _("Microphone")
    LIVESTREAM = "livestream", _("Live-streaming kit")
    PIANO = "piano", _("Piano")
    KITCHEN = "kitchen", _("Kitchen")
    WHITEBOARD = "whiteboard", _("Whiteboard")
    SOUND = "sound", _("Sound system")


EQUIPMENT_BITS = {code: 1 << i for i, code in enumerate(Equipment.values)}


def equipment_mask(codes: Any) -> int:
    mask = 0
    for code in codes or ():
        mask |= EQUIPMENT_BITS.get(code, 0)
    return mask


class Approval(models.TextChoices):
    INSTANT = "instant", _("Confirmed at once")
    STAFF = "staff", _("Staff approve each booking")


class Source(models.TextChoices):
    ARTICLE = "article", _("The newspaper article")
    SYNTHETIC = "synthetic", _("Synthetic example")
    MANUAL = "manual", _("Entered by staff")


def new_door_code() -> str:
    return secrets.token_urlsafe(12)


class Space(models.Model):
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    capacity = models.PositiveIntegerField(_("capacity (people)"), default=10)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    equipment = models.JSONField(_("equipment"), default=list, blank=True)
    # The same as bits (EQUIPMENT_BITS), kept by save(): the free-slot search filters on it in
    # SQL on both databases.
    equipment_bits = models.PositiveIntegerField(default=0, editable=False)
    step_free = models.BooleanField(_("step-free access"), default=False)
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    description = models.TextField(_("description"), blank=True)
    # Re-encoded on upload (no EXIF, core/photos.py), served by a view.
    photo = models.FileField(_("photo"), upload_to="spaces/", blank=True)
    photo_type = models.CharField(max_length=20, blank=True)
    # The space's own daily window (minutes from midnight), always inside the center's
    # opening hours of that date (weekly hours and date exceptions).
    opens_minute = models.PositiveSmallIntegerField(_("bookable from (minute of day)"), default=480)
    closes_minute = models.PositiveSmallIntegerField(
        _("bookable until (minute of day)"), default=1260
    )
    slot_minutes = models.PositiveSmallIntegerField(_("booking step (minutes)"), default=30)
    min_minutes = models.PositiveSmallIntegerField(_("shortest booking (minutes)"), default=30)
    max_minutes = models.PositiveSmallIntegerField(_("longest booking (minutes)"), default=240)
    horizon_days = models.PositiveSmallIntegerField(_("bookable up to (days ahead)"), default=30)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after each booking (minutes)"), default=0
    )
    for_residents = models.BooleanField(_("residents may book"), default=True)
    for_groups = models.BooleanField(_("registered groups may book"), default=True)
    for_companies = models.BooleanField(_("companies may book"), default=False)
    approval = models.CharField(
        _("approval"), max_length=10, choices=Approval.choices, default=Approval.INSTANT
    )
    decide_within_hours = models.PositiveSmallIntegerField(
        _("a request lapses unless decided within (hours)"), default=48
    )
    checkin_opens_minutes = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before the start)"), default=15
    )
    release_after_minutes = models.PositiveSmallIntegerField(
        _("released when nobody checks in (minutes after the start)"), default=15
    )
    cancel_until_hours = models.PositiveSmallIntegerField(
        _("bookers may cancel until (hours before)"), default=2
    )
    person_hours_week = models.PositiveSmallIntegerField(
        _("hours per person per week"), null=True, blank=True
    )
    person_hours_month = models.PositiveSmallIntegerField(
        _("hours per person per month"), null=True, blank=True
    )
    org_hours_week = models.PositiveSmallIntegerField(
        _("hours per organization per week"), null=True, blank=True
    )
    org_hours_month = models.PositiveSmallIntegerField(
        _("hours per organization per month"), null=True, blank=True
    )
    no_show_limit = models.PositiveSmallIntegerField(
        _("no-shows in 60 days before booking is paused (0: never)"), default=3
    )
    door_code = models.CharField(max_length=32, default=new_door_code, unique=True)
    active = models.BooleanField(_("open for booking"), default=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)
    # Hours, rules or equipment made up for the demo (the space itself may be real).
    synthetic_details = models.BooleanField(default=False, editable=False)
    external_key = models.CharField(max_length=80, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["center_id", "name"]
        verbose_name = _("space")
        verbose_name_plural = _("spaces")
        indexes = [models.Index(fields=["center", "active"]), models.Index(fields=["capacity"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    opens_minute__lt=models.F("closes_minute"), closes_minute__lte=1440
                )
                & models.Q(min_minutes__gte=1, max_minutes__gte=models.F("min_minutes"))
                & models.Q(slot_minutes__gte=5),
                name="space_rules_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.equipment_bits = equipment_mask(self.equipment)
        fields = kwargs.get("update_fields")
        if fields is not None and "equipment" in fields:
            kwargs["update_fields"] = {*fields, "equipment_bits"}
        super().save(*args, **kwargs)

    @property
    def local_name(self) -> str:
        from django.utils.translation import get_language

        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def equipment_labels(self) -> list[str]:
        return [str(Equipment(c).label) for c in self.equipment if c in Equipment.values]

    @property
    def equipment_text(self) -> str:
        """The equipment as a list in the page's language (、 between Chinese items)."""
        from django.utils.translation import get_language

        sep = ", " if (get_language() or "").startswith("en") else "、"
        return sep.join(self.equipment_labels())


class BookingKind(models.TextChoices):
    RESIDENT = "resident", _("A resident")
    ORGANIZATION = "organization", _("A group or company")
    STAFF = "staff", _("Center staff")
    ACTIVITY = "activity", _("An activity")


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused")
    LAPSED = "lapsed", _("Lapsed (not decided in time)")
    NO_SHOW = "no_show", _("Released (nobody checked in)")


# A booking in one of these states occupies its space; the database rule covers only them.
HOLDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)
HOLDING_SQL = "('pending','confirmed','checked_in')"


class BookingSeries(models.Model):
    """A recurring booking: one date a week or every two weeks until a date."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="series")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    every_weeks = models.PositiveSmallIntegerField(default=1)
    until = models.DateField()
    skipped = models.JSONField(default=list, blank=True)  # [{"date", "code", "message"}]
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"series {self.pk} of space {self.space_id}"


class Booking(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()  # ends_at + the space's buffer
    status = models.CharField(max_length=12, choices=BookingStatus.choices)
    kind = models.CharField(max_length=12, choices=BookingKind.choices)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
    )
    title = models.CharField(_("what for"), max_length=120)
    attendees = models.PositiveIntegerField(_("people expected"), default=1)
    # A public event (an activity, or a booker who says so) shows its title on the
    # availability grid; any other booking shows only "busy".
    public = models.BooleanField(_("public event"), default=False)
    series = models.ForeignKey(
        BookingSeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    decide_by = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)  # refusal or cancellation
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)
    ics_sequence = models.PositiveIntegerField(default=0)
    synthetic = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(fields=["space", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["status", "decide_by"]),
            models.Index(fields=["user", "starts_at"]),
            models.Index(fields=["organization", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at"))
                & models.Q(blocked_until__gte=models.F("ends_at")),
                name="booking_times_ordered",
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="booking_idempotency_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.space_id} {self.starts_at:%Y-%m-%d %H:%M} {self.title}"

    @property
    def holds(self) -> bool:
        return self.status in HOLDING


class Blackout(models.Model):
    """Time a space cannot be booked (maintenance, a district event), with its reason."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="blackouts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["space", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="blackout_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.reason
