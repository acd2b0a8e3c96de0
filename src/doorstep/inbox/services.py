"""Notify residents: one bulk insert into the inbox, delivery by other channels after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core.errors import InvalidInput

from .models import DeliveryPreference, Notice
from .senders import get_notice_sender

log = logging.getLogger(__name__)
SMS_MAX = 140


def notify(
    user_ids: Iterable[int], *, subject: str, kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """Put one notice in each user's inbox (each user once); return how many were written.

    Email and SMS go out after the transaction commits, so a rolled-back change never
    reaches anyone's phone.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    Notice.objects.bulk_create(
        [
            Notice(user_id=uid, subject=subject, kind=kind, title=title, body=body, url=url)
            for uid in ids
        ]
    )
    transaction.on_commit(lambda: _deliver(ids, title=title, body=body, url=url))
    return len(ids)


def _deliver(user_ids: list[int], *, title: str, body: str, url: str) -> None:
    """Email/SMS for those who asked for it; a failing gateway never undoes the inbox notice."""
    prefs = list(
        DeliveryPreference.objects.filter(user_id__in=user_ids, user__is_active=True)
        .filter(Q(by_sms=True) | (Q(by_email=True) & ~Q(email="")))
        .select_related("user")
    )
    if not prefs:
        return
    sender = get_notice_sender()
    text = f"{title}\n{body}".strip()
    if url:
        text = f"{text}\n{url}"
    for pref in prefs:
        try:
            if pref.by_sms and pref.user.phone:
                sms = title if len(title) <= SMS_MAX else title[: SMS_MAX - 1] + "…"
                sender.send_sms(phone=pref.user.phone, text=sms)
            if pref.by_email and pref.email:
                sender.send_email(address=pref.email, subject=title, text=text)
        except Exception:  # a gateway error must not stop the others' messages
            log.exception("notice delivery failed for user %s", pref.user_id)


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (all of them when `notice_ids` is None)."""
    qs = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=list(notice_ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def set_preference(*, user: User, by_sms: bool, by_email: bool, email: str) -> DeliveryPreference:
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("That is not an email address."), code="invalid_email") from None
    if by_email and not email:
        raise InvalidInput(_("Give an email address to get notices by email."), code="no_email")
    if by_sms and not user.phone:
        raise InvalidInput(_("Your account has no mobile number."), code="no_phone")
    pref, _created = DeliveryPreference.objects.update_or_create(
        user=user, defaults={"by_sms": by_sms, "by_email": by_email, "email": email}
    )
    return pref
