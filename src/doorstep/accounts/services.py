"""Resident sign-in with a mobile number and a one-time code, API tokens, households.

Codes: 6 digits from `secrets`, stored only as an HMAC keyed from SECRET_KEY, valid for five
minutes, five wrong tries each, spent on first use. Requests are limited per phone (one a
minute, five an hour) and per IP (twenty an hour), counted from the PhoneCode rows themselves
so the limits hold across processes; concurrent requests for one phone or IP queue on a lock.
"""

from __future__ import annotations

import enum
import math
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doorstep.centers.models import Region
from doorstep.core import limits
from doorstep.core.errors import DoorstepError
from doorstep.core.keys import signing_keys

from .models import Person, PhoneCode, User
from .senders import SendError, get_sender
from .signals import person_in_use

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PHONE_MIN_INTERVAL = timedelta(seconds=60)
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20
# Wrong codes from one IP across all phones, so nobody can spread guesses over many numbers.
IP_FAILURES_PER_HOUR = 30
HOUR = timedelta(hours=1)
# Codes outlive the hourly limits by a day, for looking into abuse; then they go.
CODE_RETENTION = timedelta(days=1)
MAX_PEOPLE = 10
NAME_MAX_LENGTH = 40
MIN_BIRTH_YEAR = 1900

PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014]")
# Control, format (bidi overrides, zero-width), surrogate, private-use and line separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_ALLOWED_FORMAT = {"\u200d"}  # zero-width joiner: part of many emoji


class AccountError(DoorstepError):
    """Sign-in, token and household failures, each with a stable code."""

    STATUSES = {
        "rate_limited": 429,
        "too_many_attempts": 429,
        "account_disabled": 403,
        "csrf_failed": 403,
        "not_found": 404,
        "household_full": 409,
        "phone_taken": 409,
        "person_exists": 409,
        "person_has_registrations": 409,
        "person_has_history": 409,
        "cannot_remove_holder": 409,
        "send_failed": 503,
        "bad_code": 404,
        "last_manager": 409,
        "organization_not_confirmed": 409,
        "may_not_book": 403,
    }

    def __init__(self, message: object, *, code: str, **extra: object) -> None:
        super().__init__(message, code=code, status=self.STATUSES.get(code, 400), **extra)


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


# Phone numbers ------------------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678', '0086 13812345678', '13812345678' -> '+8613812345678'."""
    text = unicodedata.normalize("NFKC", raw or "")[:40]
    text = _PHONE_SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if not PHONE_RE.fullmatch(text):
        raise AccountError(
            _("Please enter a mainland China mobile number: 11 digits starting with 1."),
            code="invalid_phone",
        )
    return f"+86{text}"


# Codes --------------------------------------------------------------------------------------


def _code_hash(phone: str, code: str, secret: str | None = None) -> str:
    return salted_hmac(
        "doorstep.accounts.PhoneCode", f"{phone}:{code}", secret=secret, algorithm="sha256"
    ).hexdigest()


def _code_matches(stored: str, phone: str, code: str) -> bool:
    """A code sent before a key rotation still matches (SECRET_KEY_FALLBACKS)."""
    return any(
        constant_time_compare(stored, _code_hash(phone, code, key)) for key in signing_keys()
    )


def _lock(key: str) -> None:
    """Queue concurrent writers for one key until the transaction ends.

    SQLite already runs one writer at a time (IMMEDIATE transactions); PostgreSQL needs an
    advisory lock, because the rows being counted may not exist yet.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _rate_limited(retry_after: int) -> AccountError:
    if retry_after <= 90:
        message = ngettext(
            "Too many codes requested. Please try again in %(seconds)d second.",
            "Too many codes requested. Please try again in %(seconds)d seconds.",
            retry_after,
        ) % {"seconds": retry_after}
    else:
        minutes = math.ceil(retry_after / 60)
        message = ngettext(
            "Too many codes requested. Please try again in %(minutes)d minute.",
            "Too many codes requested. Please try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    return AccountError(message, code="rate_limited", retry_after=retry_after)


def _check_code_limits(*, phone: str, ip: str | None, now: datetime) -> None:
    waits: list[timedelta] = []
    recent = list(
        PhoneCode.objects.filter(phone=phone, created_at__gt=now - HOUR)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:PHONE_PER_HOUR]
    )
    if recent and now - recent[0] < PHONE_MIN_INTERVAL:
        waits.append(recent[0] + PHONE_MIN_INTERVAL - now)
    if len(recent) >= PHONE_PER_HOUR:
        waits.append(recent[-1] + HOUR - now)
    if ip:
        from_ip = list(
            PhoneCode.objects.filter(ip=ip, created_at__gt=now - HOUR)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:IP_PER_HOUR]
        )
        if len(from_ip) >= IP_PER_HOUR:
            waits.append(from_ip[-1] + HOUR - now)
    if waits:
        raise _rate_limited(_seconds(max(waits)))


def request_code(*, phone: str, ip: str | None, now: datetime | None = None) -> PhoneCode:
    """Make and send a sign-in code for `phone`; the code itself is never stored."""
    phone = normalize_phone(phone)
    now = now or timezone.now()
    ip = limits.network_of(ip)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        if ip:
            _lock(f"accounts:code:ip:{ip}")
        _lock(f"accounts:code:phone:{phone}")
        _check_code_limits(phone=phone, ip=ip, now=now)
        record = PhoneCode.objects.create(
            phone=phone,
            code_hash=_code_hash(phone, code),
            ip=ip or None,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    text = _(
        "[doorstep] Your sign-in code is %(code)s. It expires in %(minutes)d minutes. "
        "Never tell it to anyone, not even staff."
    ) % {"code": code, "minutes": CODE_TTL.seconds // 60}
    try:
        get_sender().send_code(phone=phone, code=code, text=text)
    except SendError as exc:
        # The row stays and counts towards the limits: a failing gateway is no way around them.
        raise AccountError(
            _("The text message could not be sent. Please try again later."), code="send_failed"
        ) from exc
    return record


def purge_codes(*, now: datetime | None = None, keep: timedelta = CODE_RETENTION) -> int:
    """Delete sign-in codes (and the IPs kept with them) once the limits no longer need them."""
    now = now or timezone.now()
    deleted, _details = PhoneCode.objects.filter(created_at__lt=now - keep).delete()
    return deleted


def _failures(ip: str) -> limits.Limit:
    return limits.Limit("accounts.verify-failures", ip, IP_FAILURES_PER_HOUR)


def _count_failure(ip: str | None) -> None:
    if ip:
        limits.hit(_failures(ip))


def verify_code(*, phone: str, code: str, ip: str | None, now: datetime | None = None) -> User:
    """Sign in with the newest unused code sent to `phone`; first sign-in creates the account."""
    phone = normalize_phone(phone)
    now = now or timezone.now()
    code = unicodedata.normalize("NFKC", code or "").strip()[:20]
    ip = limits.network_of(ip)
    if ip:
        failures = limits.peek(_failures(ip))
        if failures.count >= failures.limit:
            raise AccountError(
                _("Too many wrong codes from this network. Please try again later."),
                code="rate_limited",
                retry_after=failures.retry_after,
            )
    failure: AccountError | None = None
    user: User | None = None
    # Failures are raised after the block: a wrong attempt must be counted, not rolled back.
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if record is None or record.expires_at <= now:
            failure = AccountError(
                _("This code has expired or has already been used. Please ask for a new one."),
                code="code_expired",
            )
        elif record.attempts >= MAX_ATTEMPTS:
            failure = AccountError(
                _("Too many wrong codes. Please ask for a new one."), code="too_many_attempts"
            )
        elif not _code_matches(record.code_hash, phone, code):
            record.attempts += 1
            record.save(update_fields=["attempts"])
            _count_failure(ip)
            failure = AccountError(
                _("That code is not right. Please check the latest text message."),
                code="wrong_code",
                attempts_left=MAX_ATTEMPTS - record.attempts,
            )
        else:
            # Signing in spends every pending code for this number, not just this one.
            PhoneCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
            user = _resident_for_phone(phone, now)
            if not user.is_active:
                failure = AccountError(
                    _("This account has been disabled. Please contact your service center."),
                    code="account_disabled",
                )
    if failure is not None:
        raise failure
    assert user is not None
    return user


def _resident_for_phone(phone: str, now: datetime) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = User(phone=phone, date_joined=now)
        user.set_unusable_password()
        user.save()
        # The holder's name is asked for on the account page after the first sign-in.
        Person.objects.create(account=user, name="", is_account_holder=True)
    User.objects.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
    return user


# Households ---------------------------------------------------------------------------------


def clean_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise AccountError(_("Please enter a name."), code="invalid_name")
    if len(name) > NAME_MAX_LENGTH:
        raise AccountError(
            _("A name can be at most %(max)d characters long.") % {"max": NAME_MAX_LENGTH},
            code="invalid_name",
        )
    if any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES and ch not in _ALLOWED_FORMAT
        for ch in name
    ):
        raise AccountError(
            _("A name cannot contain control characters or line breaks."), code="invalid_name"
        )
    return name


def clean_birth_year(value: int | None) -> int | None:
    if value is None:
        return None
    this_year = timezone.localdate().year
    if isinstance(value, bool) or not MIN_BIRTH_YEAR <= value <= this_year:
        raise AccountError(
            _("Please enter a birth year between %(first)d and %(last)d.")
            % {"first": MIN_BIRTH_YEAR, "last": this_year},
            code="invalid_birth_year",
        )
    return value


def _person_not_found() -> AccountError:
    return AccountError(_("No such person in your household."), code="not_found")


def _lock_household(account: User) -> None:
    User.objects.select_for_update().filter(pk=account.pk).values_list("pk").first()


def _check_unique_name(*, account: User, name: str, exclude_pk: int | None = None) -> None:
    others = Person.objects.filter(account=account, name=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise AccountError(
            _("%(name)s is already in your household.") % {"name": name}, code="person_exists"
        )


def add_person(*, account: User, name: str, birth_year: int | None = None) -> Person:
    """Add a household member (usually a child) that the account can register for."""
    name = clean_name(name)
    birth_year = clean_birth_year(birth_year)
    with transaction.atomic():
        _lock_household(account)
        if Person.objects.filter(account=account).count() >= MAX_PEOPLE:
            raise AccountError(
                _("A household can have at most %(max)d people.") % {"max": MAX_PEOPLE},
                code="household_full",
            )
        _check_unique_name(account=account, name=name)
        return Person.objects.create(account=account, name=name, birth_year=birth_year)


def update_person(
    *,
    account: User,
    person_id: int,
    name: str | _Keep = KEEP,
    birth_year: int | None | _Keep = KEEP,
) -> Person:
    """Change a member's name or birth year; the holder's name is also the account's name."""
    with transaction.atomic():
        _lock_household(account)
        person = Person.objects.filter(account=account, pk=person_id).first()
        if person is None:
            raise _person_not_found()
        if not isinstance(name, _Keep):
            person.name = clean_name(name)
            _check_unique_name(account=account, name=person.name, exclude_pk=person.pk)
            if person.is_account_holder:
                User.objects.filter(pk=account.pk).update(display_name=person.name)
                account.display_name = person.name
        if not isinstance(birth_year, _Keep):
            person.birth_year = clean_birth_year(birth_year)
        person.save(update_fields=["name", "birth_year"])
    return person


def remove_person(*, account: User, person_id: int) -> None:
    with transaction.atomic():
        _lock_household(account)
        person = Person.objects.filter(account=account, pk=person_id).first()
        if person is None:
            raise _person_not_found()
        if person.is_account_holder:
            raise AccountError(
                _("The account holder cannot be removed from the household."),
                code="cannot_remove_holder",
            )
        if person_in_use(person):
            raise AccountError(
                _(
                    "%(name)s is registered for an activity. Cancel the registration first, "
                    "then remove them."
                )
                % {"name": person.name},
                code="person_has_registrations",
            )
        try:
            with transaction.atomic():
                person.delete()
        except (ProtectedError, IntegrityError):
            # Past registrations keep the person on the centers' records (attendance rolls).
            raise AccountError(
                _(
                    "%(name)s has taken part in activities, so the centers' records still "
                    "need them. They cannot be removed for now."
                )
                % {"name": person.name},
                code="person_has_history",
            ) from None


def set_profile(
    *, account: User, display_name: str, home_subdistrict_code: str | None = None
) -> User:
    """Name the account (also its holder on rosters) and optionally its home subdistrict."""
    name = clean_name(display_name)
    region: Region | None = None
    if home_subdistrict_code:
        region = Region.objects.filter(
            pk=home_subdistrict_code, level=Region.RegionLevel.SUBDISTRICT
        ).first()
        if region is None:
            raise AccountError(
                _("Please choose a subdistrict or town from the list."),
                code="invalid_subdistrict",
            )
    with transaction.atomic():
        account.display_name = name
        account.home_subdistrict = region
        account.save(update_fields=["display_name", "home_subdistrict"])
        Person.objects.filter(account=account, is_account_holder=True).update(name=name)
    return account


# The desk (代办) ------------------------------------------------------------------------------


def desk_household(*, by: User, center_id: int, phone: str) -> User | None:
    """The household with exactly this mobile number, for staff serving its holder at the
    desk (the resident gives the whole number; there is no partial search)."""
    from .scopes import can_manage

    if not can_manage(by, center_id):
        raise AccountError(_("No such center."), code="not_found")
    return User.objects.filter(phone=normalize_phone(phone), is_active=True).first()


@transaction.atomic
def create_desk_household(
    *,
    by: User,
    center_id: int,
    name: str,
    phone: str = "",
    members: Sequence[tuple[str, int | None]] = (),
) -> User:
    """A household for someone without a smartphone: the holder's name, an optional mobile
    number (for notices by SMS, and to sign in later), its members. No ID numbers."""
    from doorstep.core import audit

    from .scopes import can_manage

    if not can_manage(by, center_id):
        raise AccountError(_("No such center."), code="not_found")
    name = clean_name(name)
    normalized = normalize_phone(phone) if phone.strip() else None
    if normalized and User.objects.filter(phone=normalized).exists():
        raise AccountError(
            _("This number already has a household: find it by the number."), code="phone_taken"
        )
    user = User(phone=normalized, display_name=name, desk_center_id=center_id)
    user.set_unusable_password()
    user.save()
    Person.objects.create(account=user, name=name, is_account_holder=True)
    for member_name, year in members:
        add_person(account=user, name=member_name, birth_year=year)
    audit.record(
        actor=by,
        action="household.desk_create",
        obj=user,
        label=str(user),
        center_id=center_id,
        changes={"members": 1 + len(members), "phone": bool(normalized)},
    )
    return user


# Raise when the user agreement or privacy notice changes: everyone is asked again.
TERMS_VERSION = "2026-12"


def record_consent(
    user: User, *, version: str = TERMS_VERSION, now: datetime | None = None
) -> bool:
    """Record that `user` agreed to this version of the terms; False when already recorded."""
    if user.terms_version == version:
        return False
    user.terms_accepted_at = now or timezone.now()
    user.terms_version = version
    user.save(update_fields=["terms_accepted_at", "terms_version"])
    return True
