"""Activities, their registrations (places, waiting list, lottery) and door check-ins.

`Activity.taken` counts the places held (confirmed + offered). It only ever changes in the
same transaction as the registration it accounts for, under a guarded UPDATE, so it can never
pass `capacity` (see docs/concurrency.md); a CHECK constraint is the last guard.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    HERITAGE_CRAFT = "heritage_craft", _("Heritage craft")
    PICTURE_BOOKS = "picture_books", _("Picture books")
    POETRY = "poetry", _("Poetry reading")
    CHESS = "chess", _("Chess")
    PAINTING = "painting", _("Painting")
    DANCE = "dance", _("Dance")
    LECTURE = "lecture", _("Lecture")
    EXHIBITION = "exhibition", _("Exhibition")
    DRAMA = "drama", _("Drama")
    HEALTH = "health", _("Health")
    FITNESS = "fitness", _("Fitness")
    LEGAL_ADVICE = "legal_advice", _("Legal and policy advice")
    PARTY_LESSON = "party_lesson", _("Party lesson")
    OTHER = "other", _("Other")


class Audience(models.TextChoices):
    CHILDREN_WITH_PARENT = "children_with_parent", _("Children with a parent")
    TEENAGERS = "teenagers", _("Teenagers")
    ELDERLY = "elderly", _("Elderly")
    OFFICE_WORKERS = "office_workers", _("Office workers")
    RIDERS = "riders", _("Riders and couriers")
    EVERYONE = "everyone", _("Everyone")


class Allocation(models.TextChoices):
    FIRST_COME = "first_come", _("First come, first served")
    LOTTERY = "lottery", _("Lottery")


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class Series(models.Model):
    """A weekly repeating activity; its sessions are ordinary Activity rows."""

    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="series")
    title = models.CharField(_("title"), max_length=120)
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # Monday = 0
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    first_date = models.DateField(_("first date"))
    last_date = models.DateField(_("last date"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("weekly series")
        verbose_name_plural = _("weekly series")

    def __str__(self) -> str:
        return self.title


class Activity(models.Model):
    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, related_name="activities"
    )
    series = models.ForeignKey(
        Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    room = models.CharField(_("room"), max_length=60, blank=True)
    # The bookable space it is held in (rooms): its time there is a booking row, so an
    # activity and a booking can never overlap in one space (docs/rooms.md).
    space = models.ForeignKey(
        "rooms.Space",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("space"),
    )
    space_booking = models.OneToOneField(
        "rooms.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="activity",
    )
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(
        _("title in English (optional)"),
        max_length=160,
        blank=True,
        help_text=_("Shown on English pages, for residents who read no Chinese."),
    )
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    audience = models.CharField(_("audience"), max_length=24, choices=Audience.choices)
    age_min = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    taken = models.PositiveIntegerField(default=0, editable=False)
    walk_ins = models.PositiveIntegerField(default=0, editable=False)
    is_free = models.BooleanField(_("free of charge"), default=True)
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    cancel_deadline = models.DateTimeField(_("residents may cancel until"), null=True, blank=True)
    allocation = models.CharField(
        _("how places are given"),
        max_length=12,
        choices=Allocation.choices,
        default=Allocation.FIRST_COME,
    )
    places_per_household = models.PositiveSmallIntegerField(_("places per household"), default=2)
    weekly_limit_per_person = models.PositiveSmallIntegerField(
        _("active registrations per person per week"), null=True, blank=True
    )
    waitlist_enabled = models.BooleanField(_("waiting list"), default=True)
    offer_hours = models.PositiveSmallIntegerField(
        _("hours to accept a freed place"),
        null=True,
        blank=True,
        help_text=_("Empty: the next person on the waiting list gets the place at once."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    # Lottery (commit-reveal): the commitment is public from the start, the seed after the draw.
    lottery_commitment = models.CharField(max_length=64, blank=True)
    lottery_seed = models.CharField(max_length=64, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    local_share_percent = models.PositiveSmallIntegerField(
        _("share reserved for residents of the subdistrict (%)"), default=0
    )
    first_timer_share_percent = models.PositiveSmallIntegerField(
        _("share reserved for first-timers (%)"), default=0
    )
    no_shows_marked_at = models.DateTimeField(null=True, blank=True)
    # Reminders to everyone with a place: the day before (24 hours ahead) and some hours
    # before; the worker marks each as sent.
    remind_day_before = models.BooleanField(_("remind the day before"), default=True)
    remind_hours_before = models.PositiveSmallIntegerField(
        _("remind this many hours before (0: no)"), default=2
    )
    reminded_day_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_hours_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The calendar files' SEQUENCE: raised when the time, the place or the status changes.
    ics_sequence = models.PositiveIntegerField(default=0, editable=False)
    # Raised by every save() (a staff edit, publishing, cancelling, the draw), in the same
    # transaction: registration checks it in its writing statement, so facts a worker cached
    # (activities/facts.py) can never let a stale activity say yes.
    version = models.PositiveIntegerField(default=0, editable=False)
    # Generated for the demo (`doorstep load-demo`), not a real event: every page says so.
    synthetic = models.BooleanField(_("synthetic example"), default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["center", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["status", "registration_closes_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(taken__lte=models.F("capacity")), name="activity_not_overbooked"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(registration_closes_at__gt=models.F("registration_opens_at")),
                name="activity_window_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    local_share_percent__lte=100, first_timer_share_percent__lte=100
                ),
                name="activity_shares_are_percentages",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.version = (self.version or 0) + 1
        fields = kwargs.get("update_fields")
        if fields is not None:
            kwargs["update_fields"] = {*fields, "version"}
        super().save(*args, **kwargs)

    @property
    def local_title(self) -> str:
        """The title for the page's language: the English one on English pages, if given."""
        from django.utils.translation import get_language

        if self.title_en and (get_language() or "").startswith("en"):
            return self.title_en
        return self.title


class RegistrationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied (lottery)")
    CONFIRMED = "confirmed", _("Confirmed")
    OFFERED = "offered", _("Place offered")
    WAITLISTED = "waitlisted", _("On the waiting list")
    NOT_SELECTED = "not_selected", _("Not drawn")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


ACTIVE_STATUSES = (
    RegistrationStatus.APPLIED,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.WAITLISTED,
)
HOLDS_PLACE = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)
# The waiting line: draw rank for a lottery, arrival (id) for first come.
WAITLIST_ORDER = (models.F("queue_rank").asc(nulls_last=True), "id")


class Registration(models.Model):
    """One person's claim on one activity: a place, a waiting-list spot or a lottery entry."""

    # Pseudonymous, unguessable id: shown in the lottery's public list and in tickets.
    public_id = models.CharField(max_length=24, unique=True)
    # No single-column indexes on the three keys: the (activity, status, queue_rank),
    # (account, status) and (person, status) indexes below start with them and serve the same
    # look-ups, so each new registration writes three index entries fewer.
    # No foreign-key constraint on the activity in the database: its check at commit takes a
    # KEY SHARE lock on the activity row, the one every registration of a rush updates, and
    # the two locks together cost PostgreSQL a multixact per registration. The registration's
    # statement writes only the id of the row it has just updated or re-checked; deleting an
    # activity deletes its registrations through the ORM (CASCADE), as before.
    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        related_name="registrations",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    account = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    status = models.CharField(max_length=14, choices=RegistrationStatus.choices)
    # Registrations made together (a parent and a child) share a party: the public id of the
    # first. The lottery draws parties, so a child is never drawn without its parent.
    party = models.CharField(max_length=24, blank=True)
    # Order on the waiting list: the registration's arrival sequence (first come) or its draw
    # rank (lottery). Lower goes first.
    queue_rank = models.BigIntegerField(null=True, blank=True)
    priority_tier = models.CharField(max_length=40, blank=True)
    # What the lottery decided ("chosen"/"waiting"), kept as drawn even if the status later
    # changes (cancellation, promotion), so the published draw can always be re-checked.
    draw_outcome = models.CharField(max_length=8, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # A code to read aloud or type at the door (tickets.SHORT_ALPHABET, no look-alikes);
    # unique within the activity, given when the ticket is first shown or printed.
    short_code = models.CharField(max_length=8, blank=True, default="")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Which of its household's places (1 … places_per_household) an active registration holds,
    # unique per activity and account: PostgreSQL's registration statement takes the lowest
    # free ones, so two requests of one household at once collide here instead of both
    # passing the limit. Empty where the household lock did that work (SQLite, older rows).
    household_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "person"],
                condition=models.Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name="one_active_registration_per_person",
            ),
            models.UniqueConstraint(
                fields=["activity", "account", "household_slot"],
                condition=models.Q(status__in=[s.value for s in ACTIVE_STATUSES]),
                name="one_household_slot",
            ),
            models.UniqueConstraint(
                fields=["activity", "short_code"],
                condition=~models.Q(short_code=""),
                name="short_code_unique_per_activity",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "status", "queue_rank"]),
            models.Index(fields=["account", "status"]),
            models.Index(fields=["person", "status"]),
            # "Is anyone waiting?", asked by every first-come registration: read from an index
            # holding only those waiting, not from the leaf page of the index above that every
            # new registration of the activity writes (docs/performance.md).
            models.Index(
                fields=["activity"],
                condition=models.Q(status="waitlisted"),
                name="waiting_in_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"


class RegistrationRequest(models.Model):
    """A client's Idempotency-Key: a retried request returns the first answer, never a 2nd place."""

    # The (account, key) unique index serves look-ups by account: no index of its own.
    account = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=80)
    # No constraint in the database, as Registration.activity (the hot row's lock).
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    registration_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return self.key


class CheckIn(models.Model):
    """Each scan at the door, kept for the audit; the nonce makes a repeated scan harmless."""

    nonce = models.CharField(max_length=64, unique=True)
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, null=True, blank=True, related_name="checkins"
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, null=True, blank=True, related_name="checkins"
    )
    result = models.CharField(max_length=20)
    # How the door found the ticket: its QR, its short code, or the roster (name/phone).
    method = models.CharField(max_length=8, default="scan")
    staff = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.nonce} {self.result}"


class ActivityMessage(models.Model):
    """A message from staff to everyone registered ("bring scissors"), sent as notices."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="messages")
    text = models.CharField(_("message"), max_length=300)
    by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("message to registrants")
        verbose_name_plural = _("messages to registrants")

    def __str__(self) -> str:
        return self.text


class NoShowPolicy(models.Model):
    """Per center: N no-shows within a window block first-come registration or lower priority."""

    center = models.OneToOneField(
        "centers.Center", on_delete=models.CASCADE, related_name="no_show_policy"
    )
    threshold = models.PositiveSmallIntegerField(_("no-shows that trigger the policy"), default=2)
    window_days = models.PositiveSmallIntegerField(_("counted over (days)"), default=90)
    block_days = models.PositiveSmallIntegerField(
        _("first-come registration blocked for (days)"), default=14
    )
    lower_lottery_tier = models.BooleanField(_("draw last in lotteries"), default=True)

    def __str__(self) -> str:
        return f"{self.center}: {self.threshold} in {self.window_days} days"
