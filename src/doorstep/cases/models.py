"""Service requests (诉求, "民有所呼、我有所应"): one person's or one company's need, with an
owner at every moment and deadlines in the handler's working hours (docs/cases.md).

A request's timeline is its `Event` rows, written by the service that made each move, with
who and when; the applicant sees the public ones. The service level clock is kept on the
request itself (`clock_minutes` used so far, `clock_since` while it runs), so the staff queue
and the overdue view are one indexed read of `due_at`.

The app is named `cases` so that it never shadows the `requests` HTTP library.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Handler(models.TextChoices):
    CENTER = "center", _("The center")
    PARTNER = "partner", _("A partner organization")
    SUBDISTRICT = "subdistrict", _("The subdistrict")


class Group(models.TextChoices):
    """Open311's `group`: how the catalogue is laid out."""

    PARTY = "party", _("Party affairs")
    BUSINESS = "business", _("Businesses")
    LIVELIHOOD = "livelihood", _("Everyday life")
    FACILITIES = "facilities", _("The center's facilities")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    ARTICLE = "article", _("The newspaper article")
    SYNTHETIC = "synthetic", _("Synthetic example")
    MANUAL = "manual", _("Entered by staff")
    TOPIC = "topic", _("A deliberation topic's outcome")


class Status(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("requests", "Submitted")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_APPLICANT = "waiting_applicant", _("Waiting for the applicant")
    WAITING_PARTNER = "waiting_partner", _("With the partner")
    RESOLVED = "resolved", _("Resolved")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", pgettext_lazy("requests", "Closed")


OPEN = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.IN_PROGRESS,
    Status.WAITING_APPLICANT,
    Status.WAITING_PARTNER,
)
# The service level clock never runs in these; in WAITING_APPLICANT it is paused when the
# type says so (`pause_for_applicant`).
STOPPED = (Status.RESOLVED, Status.DECLINED, Status.CLOSED)


class Via(models.TextChoices):
    WEB = "web", _("The website")
    API = "api", _("The API")
    OPEN311 = "open311", _("An Open311 client")


def _english() -> bool:
    return (get_language() or "").startswith("en")


NAME_MAX = 80
TEXT_MAX = 2000
NOTE_MAX = 1000


class RequestType(models.Model):
    """A kind of request a center takes, with the fields it asks, who handles it and its
    service level. Offered by the whole city (no region, no center), a district or a
    subdistrict (`region`), or one center; a center may switch an inherited type off."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=NAME_MAX)
    name_en = models.CharField(_("name in English"), max_length=NAME_MAX, blank=True)
    description = models.TextField(
        pgettext_lazy("requests", "description"), max_length=TEXT_MAX, blank=True
    )
    description_en = models.TextField(_("description in English"), max_length=TEXT_MAX, blank=True)
    group = models.CharField(
        pgettext_lazy("requests", "group"), max_length=12, choices=Group.choices
    )
    # The form: [{"code", "label", "label_en", "why", "why_en", "kind": text|number|choice|
    # date, "required", "max", "choices": [{"key", "label", "label_en"}]}] (services.types).
    fields = models.JSONField(_("fields asked"), default=list, blank=True)
    handler = models.CharField(_("handled by"), max_length=12, choices=Handler.choices)
    partner = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request_types",
        limit_choices_to={"kind": "partner"},
        verbose_name=_("partner organization"),
    )
    first_response_hours = models.PositiveSmallIntegerField(_("first response within (hours)"))
    resolution_hours = models.PositiveSmallIntegerField(_("resolved within (hours)"))
    pause_for_applicant = models.BooleanField(
        _("the clock stops while waiting for the applicant"), default=True
    )
    reopen_days = models.PositiveSmallIntegerField(_("may be reopened within (days)"), default=7)
    # Working hours of a partner or a subdistrict office (a center works in its own hours).
    office_hours = models.CharField(
        _("office hours"), max_length=120, default="mon-fri 09:00-12:00; mon-fri 13:00-17:00"
    )
    region = models.ForeignKey(
        "centers.Region", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    from_topic = models.ForeignKey(
        "deliberation.Topic", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_detail = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(_("taking requests"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "code"]
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(region__isnull=True) | models.Q(center__isnull=True),
                name="request_type_one_place",
            ),
            models.CheckConstraint(
                condition=~models.Q(handler="partner") | models.Q(partner__isnull=False),
                name="request_type_partner_named",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        return self.name_en if _english() and self.name_en else self.name

    @property
    def local_description(self) -> str:
        return self.description_en if _english() and self.description_en else self.description

    @property
    def name_lang(self) -> str:
        return "en" if _english() and self.name_en else "zh-Hans"

    @property
    def is_synthetic(self) -> bool:
        return self.source == Source.SYNTHETIC


class TypeSetting(models.Model):
    """A center's switch for a type it inherits (off, or back on)."""

    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="settings")
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "type"], name="one_setting_per_center")
        ]

    def __str__(self) -> str:
        return f"{self.type_id}@{self.center_id}: {'on' if self.enabled else 'off'}"


class Holiday(models.Model):
    """A public holiday (the clock of an office stops) or a make-up working day (调休, a
    weekend day that works as a weekday)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=40)
    workday = models.BooleanField(_("make-up working day"), default=False)
    source = models.CharField(_("source"), max_length=200)

    class Meta:
        ordering = ["date"]
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ServiceRequest(models.Model):
    type = models.ForeignKey(RequestType, on_delete=models.PROTECT, related_name="requests")
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    # Copied from the center so the scoped queues read one index.
    district = models.ForeignKey("centers.Region", on_delete=models.PROTECT, related_name="+")
    subdistrict = models.ForeignKey(
        "centers.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applicant = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    # Given by an Open311 client that files for someone else; cleared when the request has
    # been closed for FORGET_AFTER (services.lifecycle.forget_closed).
    contact_name = models.CharField(max_length=40, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    description = models.TextField(max_length=TEXT_MAX)
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.SUBMITTED)
    is_open = models.BooleanField(default=True)
    # Who holds it now: the center (its staff), the partner or the subdistrict; `owner` is
    # the person once someone has accepted it.
    holder = models.CharField(max_length=12, choices=Handler.choices, default=Handler.CENTER)
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_requests",
    )
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.WEB)
    submitted_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    # The deadline that comes next while the clock runs (first response, then resolution);
    # None while paused or stopped. The queue's order and the overdue test.
    due_at = models.DateTimeField(null=True, blank=True)
    clock_minutes = models.PositiveIntegerField(default=0)
    clock_since = models.DateTimeField(null=True, blank=True)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolved_in_time = models.BooleanField(null=True, blank=True)
    resolution = models.TextField(max_length=NOTE_MAX, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=300, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    topic = models.ForeignKey(
        "deliberation.Topic", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        indexes = [
            models.Index(fields=["center", "is_open", "due_at"], name="case_center_queue"),
            models.Index(fields=["subdistrict", "is_open", "due_at"], name="case_sub_queue"),
            models.Index(fields=["district", "is_open", "due_at"], name="case_district_queue"),
            models.Index(fields=["partner", "is_open", "due_at"], name="case_partner_queue"),
            models.Index(fields=["is_open", "due_at"], name="case_city_queue"),
            models.Index(fields=["applicant", "submitted_at"], name="case_mine"),
            models.Index(fields=["submitted_at"], name="case_submitted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="case_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type_id}"

    @property
    def masked_contact(self) -> str:
        from doorstep.accounts.models import mask_phone

        return mask_phone(self.contact_phone)


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("requests", "Submitted")
    ACCEPTED = "accepted", _("Accepted")
    STATUS = "status", _("Status changed")
    HANDED_OVER = "handed_over", _("Handed over to the partner")
    HANDED_BACK = "handed_back", _("Handed back to the center")
    RESOLVED = "resolved", _("Resolved")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", pgettext_lazy("requests", "Closed")
    REOPENED = "reopened", _("Reopened")
    RATED = "rated", _("Rated")
    REMINDED = "reminded", _("Reminder sent")
    ESCALATED = "escalated", _("Escalated to the subdistrict")
    TOPIC = "topic", _("Raised as a deliberation topic")


# Shown to the applicant; the rest only to handlers.
PUBLIC_EVENTS = (
    EventKind.SUBMITTED,
    EventKind.ACCEPTED,
    EventKind.STATUS,
    EventKind.HANDED_OVER,
    EventKind.HANDED_BACK,
    EventKind.RESOLVED,
    EventKind.DECLINED,
    EventKind.CLOSED,
    EventKind.REOPENED,
    EventKind.RATED,
    EventKind.TOPIC,
)


class Event(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=18, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=18, choices=Status.choices, blank=True)
    by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who `by` acted as, so the timeline can say "the center" or "the partner".
    as_holder = models.CharField(max_length=12, choices=Handler.choices, blank=True)
    note = models.TextField(max_length=NOTE_MAX, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.request_id}"


class Message(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The handler's side (center, partner, subdistrict) or the applicant ("").
    as_holder = models.CharField(max_length=12, choices=Handler.choices, blank=True)
    body = models.TextField(max_length=NOTE_MAX, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"])]

    def __str__(self) -> str:
        return f"message {self.pk} on #{self.request_id}"


class Attachment(models.Model):
    """An image (re-encoded, no EXIF) or a PDF without scripts; served by a view that checks
    who may read it, never as a static file."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="requests/")
    name = models.CharField(max_length=100)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name
