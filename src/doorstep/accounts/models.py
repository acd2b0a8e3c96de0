"""Residents (phone sign-in), their households, API tokens and staff scopes.

Privacy: we keep the phone number (needed to send codes) and a name per household member
(needed on a roster); birth year only for children's age limits; never ID numbers.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def mask_phone(phone: str | None) -> str:
    """138****5678: enough for a person to recognise their own number, no more."""
    if not phone:
        return ""
    digits = phone[-11:] if len(phone) >= 11 else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, username: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        user = self.model(username=username or None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username=username, password=password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One account: a resident (signs in with a phone code) or staff (username + password)."""

    phone = models.CharField(_("mobile number"), max_length=20, unique=True, null=True, blank=True)
    username = models.CharField(_("username"), max_length=64, unique=True, null=True, blank=True)
    display_name = models.CharField(_("name"), max_length=40, blank=True)
    home_subdistrict = models.ForeignKey(
        "centers.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": "subdistrict"},
        verbose_name=_("home subdistrict (optional)"),
        help_text=_("Used only to give local residents priority where a center asks for it."),
    )
    # Consent to the user agreement and privacy notice (PIPL): when, and to which version.
    terms_accepted_at = models.DateTimeField(_("agreed to the terms at"), null=True, blank=True)
    terms_version = models.CharField(_("version of the terms agreed to"), max_length=20, blank=True)
    # The language the person last chose on the site: notices and SMS are written in it.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Registered at a center's desk (代办) for someone without a smartphone: the center that
    # holds it. Such a household may have no phone at all; if it has one, signing in online
    # with that number opens the same household.
    desk_center = models.ForeignKey(
        "centers.Center",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("held at the desk of"),
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.username or mask_phone(self.phone) or f"#{self.pk}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Person(models.Model):
    """Someone an account registers for: the account holder or a dependent (a child)."""

    account = models.ForeignKey(User, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(_("name"), max_length=40)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    is_account_holder = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_account_holder", "id"]
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(is_account_holder=True),
                name="one_holder_per_account",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PhoneCode(models.Model):
    """A one-time sign-in code. Only its HMAC is stored, never the code itself."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ip", "created_at"])]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for API clients. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.user}"


class StaffRole(models.Model):
    """What a staff account may manage: one center, a subdistrict, a district or the city."""

    class Scope(models.TextChoices):
        CENTER = "center", _("One center")
        SUBDISTRICT = "subdistrict", _("A subdistrict")
        DISTRICT = "district", _("A district")
        CITY = "city", _("The whole city")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    scope = models.CharField(max_length=12, choices=Scope.choices)
    region = models.ForeignKey(
        "centers.Region", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="center", center__isnull=False, region__isnull=True)
                    | models.Q(
                        scope__in=["subdistrict", "district"],
                        region__isnull=False,
                        center__isnull=True,
                    )
                    | models.Q(scope="city", region__isnull=True, center__isnull=True)
                ),
                name="staff_role_scope_consistent",
            ),
        ]

    def __str__(self) -> str:
        target = self.center or self.region or _("Shanghai")
        return f"{self.user}: {self.get_scope_display()} {target}"


class Organization(models.Model):
    """A group (a residents' team, a volunteer team, a Party branch) or a company that books
    spaces and files requests as itself. A center confirms it before it may act."""

    class Kind(models.TextChoices):
        RESIDENTS_TEAM = "residents_team", _("Residents' team")
        VOLUNTEER_TEAM = "volunteer_team", _("Volunteer team")
        PARTY_BRANCH = "party_branch", _("Party branch")
        COMPANY = "company", _("Company")
        # Handles service requests of the types that name it (a hospital for health
        # certificates, a caterer); its members see only those requests.
        PARTNER = "partner", _("Service partner (a hospital, a caterer…)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the center to confirm")
        CONFIRMED = "confirmed", _("Confirmed")
        REFUSED = "refused", _("Not confirmed")

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    center = models.ForeignKey(
        "centers.Center",
        on_delete=models.CASCADE,
        related_name="organizations",
        verbose_name=_("the center that confirms it"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # Shared by a manager with colleagues, who join with it (a new code makes the old void).
    invite_code = models.CharField(max_length=16, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [models.Index(fields=["center", "status"])]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_manager = models.BooleanField(default=False)
    may_book = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organization_id}"
