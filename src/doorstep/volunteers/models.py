"""Volunteers (docs/volunteers.md): an opt-in profile, opportunities at a center with
shifts, clearance for a role, sign-ups with the registration engine's guarantees, swaps,
hours from the poster's scans approved by staff, points by a district's rule, certificates
anyone can verify.

Least personal data: skills, languages, areas and times a person offers; Party membership
only if they choose to say it (for 党员志愿者 opportunities, never asked elsewhere).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _english() -> bool:
    return (get_language() or "").startswith("en")


class Role(models.TextChoices):
    EXPLAINER = "explainer", _("Explainer")
    GUIDE = "guide", _("Guide in the venue")
    READING = "reading", _("Reading companion")
    TUTORING = "tutoring", _("Tutoring")
    IT_HELP = "it_help", _("Help with phones and computers")
    COMPANIONSHIP = "companionship", _("Company for elderly people")
    MEAL_DELIVERY = "meal_delivery", _("Meal delivery")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    MANDARIN = "zh", _("Mandarin")
    SHANGHAINESE = "wuu", _("Shanghainese")
    ENGLISH = "en", _("English")
    SIGN = "csl", _("Chinese Sign Language")


class Source(models.TextChoices):
    ARTICLE = "article", _("The newspaper article")
    SYNTHETIC = "synthetic", _("Synthetic example")
    MANUAL = "manual", _("Entered by staff")


class Profile(models.Model):
    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    skills = models.JSONField(_("what I can do"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    areas = models.JSONField(_("districts where I can help"), default=list, blank=True)
    availability = models.CharField(_("when I can help"), max_length=200, blank=True)
    # Said only if the person chooses to: used for Party-member opportunities, nowhere else.
    party_member = models.BooleanField(_("I am a Party member (optional)"), default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"volunteer {self.user_id}"


class Opportunity(models.Model):
    # The center that runs it (its staff manage it); `site` when the volunteers serve at a
    # heritage site (explaining a former site, say).
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "heritage.HeritageSite", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    title = models.CharField(_("title"), max_length=80)
    title_en = models.CharField(_("title in English"), max_length=120, blank=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    skills = models.JSONField(_("skills wanted"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    needs_clearance = models.BooleanField(
        _("staff clear each volunteer after training"), default=True
    )
    party_members_only = models.BooleanField(_("for Party-member volunteers"), default=False)
    # Cancel a shift up to this many hours before it starts (later: tell the center).
    cancel_hours = models.PositiveSmallIntegerField(default=24)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["center", "title"]
        verbose_name = _("volunteer opportunity")
        verbose_name_plural = _("volunteer opportunities")

    def __str__(self) -> str:
        return self.title

    @property
    def local_title(self) -> str:
        return self.title_en if _english() and self.title_en else self.title

    @property
    def title_lang(self) -> str:
        return "en" if _english() and self.title_en else "zh-Hans"


class Clearance(models.Model):
    """Staff cleared this person for this role at this center (trained)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    cleared_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    cleared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "center", "role"], name="one_clearance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}@{self.center_id}"


class Shift(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    places = models.PositiveSmallIntegerField(_("places"))
    # Shifts made together as a weekly series share it.
    series = models.CharField(max_length=32, blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(places__gte=1), name="shift_has_places"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.starts_at:%Y-%m-%d %H:%M}"


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


class Approval(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")


class Signup(models.Model):
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=SignupStatus.choices)
    created_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    # The check-out was not scanned: the shift's end was taken (the worker closes it).
    estimated = models.BooleanField(default=False)
    proposed_minutes = models.PositiveIntegerField(null=True, blank=True)
    approval = models.CharField(max_length=8, choices=Approval.choices, blank=True)
    approved_minutes = models.PositiveIntegerField(null=True, blank=True)
    adjust_reason = models.CharField(max_length=200, blank=True)
    approved_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    points = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["shift", "created_at", "id"]
        indexes = [models.Index(fields=["user", "approval"]), models.Index(fields=["approval"])]
        constraints = [
            # One live sign-up per person and shift: the idempotency of signing up.
            models.UniqueConstraint(
                fields=["shift", "user"],
                condition=models.Q(status__in=["confirmed", "waitlisted"]),
                name="one_live_signup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.shift_id} {self.status}"


class Swap(models.Model):
    """A volunteer offers their place on a shift; another volunteer cleared for the role
    takes it (the place moves from one to the other in one transaction)."""

    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="swaps")
    taken_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    open = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    taken_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"swap of {self.signup_id}"


class PointRule(models.Model):
    """Points for an approved hour in a district (no row: 1 point an hour)."""

    district = models.OneToOneField("centers.Region", on_delete=models.CASCADE, related_name="+")
    points_per_hour = models.DecimalField(max_digits=5, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.district_id}: {self.points_per_hour}/h"


class Certificate(models.Model):
    """A certificate of service for a year; its code carries an HMAC of what it states, so
    a code cannot be made up, and the public page shows what was certified."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40)
    minutes = models.PositiveIntegerField()
    points = models.DecimalField(max_digits=9, decimal_places=2)
    shifts = models.PositiveIntegerField()
    code = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.code


class WalkingLesson(models.Model):
    """A walking Party lesson (行走党课): an activity (registration as for any activity) that
    follows a route, with a volunteer explainer as its guide and what to tell at each stop."""

    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.CASCADE, related_name="walking_lesson"
    )
    route = models.ForeignKey("visits.Route", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # {"<stop order>": "what the guide tells there"}
    notes = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lesson {self.activity_id}"
