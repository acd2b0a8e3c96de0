"""Notify residents: notices in the inbox, and SMS/email by their choice from an outbox.

`notify_each()` writes one notice per (person, event) in the caller's transaction, each in
the recipient's language, and the deliveries their preferences ask for. After the commit the
first few are sent at once; the worker sends the rest and retries failures. A rolled-back
change therefore never reaches anyone, an event written twice (a retry, two workers) is one
notice, and a failing gateway never undoes anything (docs/notices.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core.errors import InvalidInput

from .models import Delivery, DeliveryPreference, Notice
from .senders import get_notice_sender

log = logging.getLogger(__name__)
SMS_MAX = 140
CHUNK = 500
# Deliveries sent right after the commit; more (an activity cancelled for hundreds) are left
# to the worker, so a staff action never waits for an SMS gateway.
SEND_AT_ONCE = 20
# Wait before each retry of a failed send; after the last one the delivery has failed.
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
QUIET_START, QUIET_END = time(21, 0), time(8, 0)


@dataclass(frozen=True)
class Message:
    title: str
    body: str = ""
    url: str = ""


Render = Callable[[Mapping[str, Any]], Message]


def notify(
    user_ids: Iterable[int], *, subject: str, kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """One notice with the same text for each user (topics, opinions); see notify_each."""
    message = Message(title=title, body=body, url=url)
    return notify_each(
        [(uid, {}) for uid in user_ids],
        subject=subject,
        kind=kind,
        event="",
        render=lambda _params: message,
    )


def notify_each(
    recipients: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    subject: str,
    kind: str,
    event: str,
    render: Render,
    center_id: int | None = None,
    urgent_until: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Write one notice per recipient (user id, parameters for `render`), each rendered in
    the recipient's language, and queue the SMS/email they asked for. `event` (e.g.
    "reg:12:confirmed") makes it once per person: writing the same event again adds nothing.
    An SMS waits for the end of quiet hours (21:00–08:00) unless `urgent_until` (an offer's
    deadline) would pass first. Returns how many notices were new."""
    now = now or timezone.now()
    by_user: dict[int, Mapping[str, Any]] = {}
    for uid, params in recipients:
        by_user.setdefault(uid, params)
    if not by_user:
        return 0
    languages = dict(
        User.objects.filter(pk__in=by_user, is_active=True).values_list("pk", "language")
    )
    notices = []
    for uid, params in by_user.items():
        if uid not in languages:
            continue
        language = languages[uid] or settings.LANGUAGE_CODE
        with translation.override(language):
            message = render(params)
        notices.append(
            Notice(
                user_id=uid,
                subject=subject,
                kind=kind,
                title=str(message.title)[:200],
                body=str(message.body),
                url=message.url[:300],
                event_key=event[:120],
                center_id=center_id,
                language=language,
            )
        )
    if event:
        # Once per person and event: whoever wrote it first, the others add nothing.
        done = set(
            Notice.objects.filter(user_id__in=languages, event_key=event[:120]).values_list(
                "user_id", flat=True
            )
        )
        notices = [n for n in notices if n.user_id not in done]
    for start in range(0, len(notices), CHUNK):
        Notice.objects.bulk_create(notices[start : start + CHUNK], ignore_conflicts=bool(event))
    written = _queue_deliveries(notices, event=event, urgent_until=urgent_until, now=now)
    if written:
        transaction.on_commit(lambda: send_due(limit=SEND_AT_ONCE, only=written))
    return len(notices)


def _queue_deliveries(
    notices: list[Notice], *, event: str, urgent_until: datetime | None, now: datetime
) -> list[int]:
    users = {n.user_id for n in notices}
    if not users:
        return []
    prefs = {
        p.user_id: p
        for p in DeliveryPreference.objects.filter(user_id__in=users).filter(
            Q(by_sms=True) | (Q(by_email=True) & ~Q(email=""))
        )
    }
    if not prefs:
        return []
    if event:
        # Ids of the notices as stored (bulk_create gives none back when conflicts are ignored).
        stored = Notice.objects.filter(user_id__in=prefs, event_key=event[:120])
    else:
        stored = Notice.objects.filter(pk__in=[n.pk for n in notices if n.user_id in prefs])
    sms_at = sms_time(now, urgent_until)
    rows = []
    for notice_id, user_id in stored.values_list("pk", "user_id"):
        pref = prefs[user_id]
        if pref.by_sms:
            rows.append(Delivery(notice_id=notice_id, channel="sms", not_before=sms_at))
        if pref.by_email and pref.email:
            rows.append(Delivery(notice_id=notice_id, channel="email", not_before=now))
    for start in range(0, len(rows), CHUNK):
        Delivery.objects.bulk_create(rows[start : start + CHUNK], ignore_conflicts=True)
    return sorted({r.notice_id for r in rows})


def sms_time(now: datetime, urgent_until: datetime | None = None) -> datetime:
    """When an SMS may go: now, or at 08:00 after quiet hours, unless waiting that long would
    let an offer's deadline pass."""
    local = timezone.localtime(now)
    if QUIET_END <= local.time() < QUIET_START:
        return now
    end_day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    end = timezone.make_aware(datetime.combine(end_day, QUIET_END))
    if urgent_until is not None and urgent_until <= end:
        return now
    return end


def send_due(
    *, limit: int = 500, only: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Send deliveries whose time has come (`only`: of these notices); returns how many went.

    Each is claimed by moving its `not_before` forward before sending, so two workers never
    send one twice; a failure is retried after RETRY_AFTER, then marked failed."""
    now = now or timezone.now()
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, not_before__lte=now)
    if only is not None:
        due = due.filter(notice_id__in=list(only))
    sender = get_notice_sender()
    sent = 0
    for delivery_id in list(due.order_by("not_before", "pk").values_list("pk", flat=True)[:limit]):
        claimed = Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.PENDING, not_before__lte=now
        ).update(not_before=now + RETRY_AFTER[0], attempts=F("attempts") + 1)
        if not claimed:
            continue  # another process has it
        delivery = Delivery.objects.select_related("notice__user").get(pk=delivery_id)
        try:
            _send(sender, delivery)
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried, then shown
            log.warning("notice delivery %s failed: %s", delivery.pk, exc)
            _failed(delivery, str(exc) or exc.__class__.__name__, now)
        else:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    return sent


def _send(sender: Any, delivery: Delivery) -> None:
    notice = delivery.notice
    user = notice.user
    if delivery.channel == Delivery.Channel.SMS:
        if not user.phone:
            raise ValueError("no mobile number")
        text = notice.title if len(notice.title) <= SMS_MAX else notice.title[: SMS_MAX - 1] + "…"
        sender.send_sms(phone=user.phone, text=text)
        return
    pref = DeliveryPreference.objects.filter(user=user).first()
    if pref is None or not pref.email:
        raise ValueError("no email address")
    text = f"{notice.title}\n{notice.body}".strip()
    if notice.url:
        text = f"{text}\n{notice.url}"
    sender.send_email(address=pref.email, subject=notice.title, text=text)


def _failed(delivery: Delivery, error: str, now: datetime) -> None:
    tries = delivery.attempts  # already counted by the claim
    if tries <= len(RETRY_AFTER):
        Delivery.objects.filter(pk=delivery.pk).update(
            not_before=now + RETRY_AFTER[tries - 1], last_error=error[:200]
        )
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, last_error=error[:200]
        )


def failed_deliveries(center_ids: Iterable[int]) -> dict[str, Any]:
    """What finally failed to reach people about these centers, newest first."""
    failed = (
        Delivery.objects.filter(
            status=Delivery.Status.FAILED, notice__center_id__in=list(center_ids)
        )
        .select_related("notice__user")
        .order_by("-notice__created_at")
    )
    by_kind: dict[str, int] = defaultdict(int)
    for kind in failed.values_list("notice__kind", flat=True):
        by_kind[kind] += 1
    return {"items": list(failed[:200]), "by_kind": dict(by_kind), "total": failed.count()}


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
