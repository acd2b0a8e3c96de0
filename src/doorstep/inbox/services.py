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
from django.db import connection, transaction
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
    recipients: Iterable[tuple[int, Mapping[str, Any]] | tuple[int, Mapping[str, Any], str]],
    *,
    subject: str,
    kind: str,
    event: str,
    render: Render,
    center_id: int | None = None,
    urgent_until: datetime | None = None,
    now: datetime | None = None,
    languages: Mapping[int, str] | None = None,
    fresh: bool = False,
) -> int:
    """Write one notice per recipient (user id, parameters for `render`, and optionally its
    own event key), each rendered in the recipient's language, and queue the SMS/email they
    asked for. The event key (e.g. "a12:confirmed:40") makes it once per person: writing the
    same event again adds nothing. An SMS waits for the end of quiet hours (21:00–08:00)
    unless `urgent_until` (an offer's deadline) would pass first. Returns how many notices
    were new. A fixed number of statements, whatever the number of recipients.

    `languages` (user id → language) saves reading the accounts when the caller has them;
    `fresh` says no notice can exist yet for these keys (they name rows made in this
    transaction), which saves the look-up of earlier notices."""
    now = now or timezone.now()
    wanted: dict[int, tuple[Mapping[str, Any], str]] = {}
    for item in recipients:
        uid, params = item[0], item[1]
        key = (item[2] if len(item) > 2 else event)[:120]  # type: ignore[misc]
        wanted.setdefault(uid, (params, key))
    if not wanted:
        return 0
    if languages is None or not set(wanted) <= set(languages):
        languages = dict(
            User.objects.filter(pk__in=wanted, is_active=True).values_list("pk", "language")
        )
    keys = {key for _params, key in wanted.values() if key}
    done: set[tuple[int, str]] = set()
    if keys and not fresh:
        # Once per person and event: whoever wrote it first, the others add nothing.
        done = set(
            Notice.objects.filter(user_id__in=languages, event_key__in=keys).values_list(
                "user_id", "event_key"
            )
        )
    # Rendered one language at a time: switching the active language per person costs more
    # than the rendering.
    by_language: dict[str, list[int]] = defaultdict(list)
    for uid, (_params, key) in wanted.items():
        if uid in languages and not (key and (uid, key) in done):
            by_language[languages[uid] or settings.LANGUAGE_CODE].append(uid)
    notices = []
    for language, uids in by_language.items():
        with translation.override(language):
            for uid in uids:
                params, key = wanted[uid]
                notices.append(
                    _rendered(
                        render(params),
                        user_id=uid,
                        subject=subject,
                        kind=kind,
                        key=key,
                        center_id=center_id,
                        language=language,
                    )
                )
    if fresh and len(notices) == 1 and connection.vendor == "postgresql":
        # The registration's path: the notice and its deliveries in one statement.
        written = _write_one_postgres(notices[0], urgent_until=urgent_until, now=now)
        if written:
            transaction.on_commit(lambda: send_due(limit=SEND_AT_ONCE, only=written))
        return 1
    for start in range(0, len(notices), CHUNK):
        Notice.objects.bulk_create(notices[start : start + CHUNK], ignore_conflicts=bool(keys))
    written = _queue_deliveries(notices, keyed=bool(keys), urgent_until=urgent_until, now=now)
    if written:
        transaction.on_commit(lambda: send_due(limit=SEND_AT_ONCE, only=written))
    return len(notices)


def _rendered(
    message: Message,
    *,
    user_id: int,
    subject: str,
    kind: str,
    key: str,
    center_id: int | None,
    language: str,
    title_max: int | None = 200,
) -> Notice:
    return Notice(
        user_id=user_id,
        subject=subject,
        kind=kind,
        title=str(message.title)[:title_max],
        body=str(message.body),
        url=message.url[:300],
        event_key=key,
        center_id=center_id,
        language=language,
    )


# Stands for the names in a planned notice's title until the statement fills them in: a word
# between U+2060 word joiners, which nobody types (people's names refuse format characters).
NAMES = "\u2060names\u2060"


@dataclass
class PlannedNotice:
    """A notice rendered before the rows it is about exist (the registration's statement
    writes it with them, PostgreSQL only): `{first}` in its url and event key stands for the
    id of the first row written with status `for_status`, and NAMES in its title for the
    names the statement read, joined with `separator`."""

    notice: Notice
    for_status: str
    sms_at: datetime
    separator: str

    def params(self) -> dict[str, Any]:
        n = self.notice
        return {
            "n_user": n.user_id,
            "n_subject": n.subject,
            "n_kind": n.kind,
            "n_title": n.title,
            "n_body": n.body,
            "n_url": n.url,
            "n_key": n.event_key,
            "n_center": n.center_id,
            "n_language": n.language,
            "n_status": self.for_status,
            "n_sms_at": self.sms_at,
            "n_names": NAMES,
            "n_sep": self.separator,
        }


def plan_notice(
    render: Render,
    params: Mapping[str, Any],
    *,
    user_id: int,
    language: str | None,
    subject: str,
    kind: str,
    key: str,
    center_id: int | None,
    for_status: str,
    now: datetime,
    urgent_until: datetime | None = None,
) -> PlannedNotice:
    """The notice notify_each() would write for one recipient, rendered in their language;
    `params["names"]` is [NAMES], filled in by the statement (the title is cut to its length
    there, after the names)."""
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        notice = _rendered(
            render(params),
            user_id=user_id,
            subject=subject,
            kind=kind,
            key=key[:120],
            center_id=center_id,
            language=language,
            title_max=None,
        )
        separator = _(", ")
    return PlannedNotice(
        notice=notice,
        for_status=for_status,
        sms_at=sms_time(now, urgent_until),
        separator=separator,
    )


def _deliveries_cte(name: str, *, notice: str, prefix: str) -> str:
    """The CTE that queues one notice's SMS/email deliveries as its reader asked: `notice`
    is the CTE that returned the notice's id; parameters `{prefix}user`, `now`, `sms_at`."""
    return f"""
{name} AS (
  INSERT INTO inbox_delivery (notice_id, channel, status, not_before, attempts, sent_at,
    last_error)
  SELECT {notice}.id, ch.channel, 'pending',
    CASE ch.channel WHEN 'sms' THEN %({prefix}sms_at)s ELSE %({prefix}now)s END, 0, NULL, ''
  FROM {notice}, inbox_deliverypreference p, (VALUES ('sms'), ('email')) AS ch(channel)
  WHERE p.user_id = %({prefix}user)s AND ((ch.channel = 'sms' AND p.by_sms)
    OR (ch.channel = 'email' AND p.by_email AND p.email <> ''))
  RETURNING notice_id)"""  # noqa: S608 (names from this module)


# Appended to a statement whose CTE `ins` returns (id, status) and `people` (name, ord): the
# planned notice, written only if rows with its status were, with the people's names in its
# title, and its deliveries (`n_*` parameters, `n_now`).
PG_PLANNED_NOTICE = """,
note AS (
  INSERT INTO inbox_notice (user_id, subject, kind, title, body, url, created_at, read_at,
    event_key, center_id, language)
  SELECT %(n_user)s, %(n_subject)s, %(n_kind)s,
    left(replace(%(n_title)s::varchar, %(n_names)s::varchar,
      (SELECT string_agg(name, %(n_sep)s::varchar ORDER BY ord) FROM people)), 200),
    %(n_body)s,
    replace(%(n_url)s::varchar, '{first}', f.id::text), %(n_now)s, NULL,
    replace(%(n_key)s::varchar, '{first}', f.id::text), %(n_center)s, %(n_language)s
  FROM (SELECT min(id) AS id FROM ins WHERE status = %(n_status)s HAVING count(*) > 0) AS f
  RETURNING id),
""" + _deliveries_cte("deliv", notice="note", prefix="n_")  # noqa: S608


def planned_written(notice_id: int | None, deliveries: int) -> bool:
    """After a statement with PG_PLANNED_NOTICE: send its deliveries once it commits."""
    if notice_id is None:
        return False
    if deliveries:
        transaction.on_commit(lambda: send_due(limit=SEND_AT_ONCE, only=[notice_id]))
    return True


_PG_ONE_NOTICE = """
WITH n AS (
  INSERT INTO inbox_notice (user_id, subject, kind, title, body, url, created_at, read_at,
    event_key, center_id, language)
  VALUES (%(user)s, %(subject)s, %(kind)s, %(title)s, %(body)s, %(url)s, %(now)s, NULL,
    %(key)s, %(center)s, %(language)s)
  RETURNING id),"""
_PG_ONE = "".join(  # noqa: S608 (constant fragments)
    [
        _PG_ONE_NOTICE,
        _deliveries_cte("d", notice="n", prefix=""),
        "\nSELECT n.id, (SELECT count(*) FROM d) FROM n",
    ]
)


def _write_one_postgres(
    notice: Notice, *, urgent_until: datetime | None, now: datetime
) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_ONE,
            {
                "user": notice.user_id,
                "subject": notice.subject,
                "kind": notice.kind,
                "title": notice.title,
                "body": notice.body,
                "url": notice.url,
                "now": now,
                "key": notice.event_key,
                "center": notice.center_id,
                "language": notice.language,
                "sms_at": sms_time(now, urgent_until),
            },
        )
        notice_id, deliveries = cursor.fetchone()
    notice.pk = notice_id
    return [notice_id] if deliveries else []


def _queue_deliveries(
    notices: list[Notice], *, keyed: bool, urgent_until: datetime | None, now: datetime
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
    if keyed:
        # Ids of the notices as stored (bulk_create gives none back when conflicts are ignored).
        pairs = {(n.user_id, n.event_key) for n in notices if n.user_id in prefs}
        stored = [
            (pk, uid)
            for pk, uid, key in Notice.objects.filter(
                user_id__in=prefs, event_key__in={k for _u, k in pairs}
            ).values_list("pk", "user_id", "event_key")
            if (uid, key) in pairs
        ]
    else:
        stored = [(n.pk, n.user_id) for n in notices if n.user_id in prefs]
    sms_at = sms_time(now, urgent_until)
    rows = []
    for notice_id, user_id in stored:
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


BATCH = 100


def send_due(
    *, limit: int = 500, only: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Send deliveries whose time has come (`only`: of these notices); returns how many went.

    A batch is claimed in one short transaction (its rows locked, skipping rows another
    worker holds, and moved to the first retry time with the attempt counted), then sent;
    the sent ones are marked in one statement. Two workers never send one delivery twice;
    a failure is retried after RETRY_AFTER, then marked failed."""
    now = now or timezone.now()
    sender = get_notice_sender()
    sent = 0
    while limit > 0:
        batch = _claim(min(BATCH, limit), only, now)
        if not batch:
            break
        limit -= len(batch)
        emails = dict(
            DeliveryPreference.objects.filter(
                user_id__in={d.notice.user_id for d in batch if d.channel == "email"}
            ).values_list("user_id", "email")
        )
        done = []
        for delivery in batch:
            try:
                _send(sender, delivery, emails)
            except Exception as exc:  # noqa: BLE001 - any gateway failure is retried, then shown
                log.warning("notice delivery %s failed: %s", delivery.pk, exc)
                _failed(delivery, str(exc) or exc.__class__.__name__, now)
            else:
                done.append(delivery.pk)
        if done:
            Delivery.objects.filter(pk__in=done).update(
                status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += len(done)
    return sent


def _claim(n: int, only: Iterable[int] | None, now: datetime) -> list[Delivery]:
    with transaction.atomic():
        due = Delivery.objects.filter(status=Delivery.Status.PENDING, not_before__lte=now)
        if only is not None:
            due = due.filter(notice_id__in=list(only))
        # PostgreSQL locks the batch and skips rows another worker holds; SQLite's write
        # transaction already admits one worker at a time.
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("not_before", "pk")
            .values_list("pk", flat=True)[:n]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(
            not_before=now + RETRY_AFTER[0], attempts=F("attempts") + 1
        )
    return list(Delivery.objects.filter(pk__in=ids).select_related("notice__user").order_by("pk"))


def _send(sender: Any, delivery: Delivery, emails: Mapping[int, str]) -> None:
    notice = delivery.notice
    user = notice.user
    if delivery.channel == Delivery.Channel.SMS:
        if not user.phone:
            raise ValueError("no mobile number")
        text = notice.title if len(notice.title) <= SMS_MAX else notice.title[: SMS_MAX - 1] + "…"
        sender.send_sms(phone=user.phone, text=text)
        return
    address = emails.get(user.pk, "")
    if not address:
        raise ValueError("no email address")
    text = f"{notice.title}\n{notice.body}".strip()
    if notice.url:
        text = f"{text}\n{notice.url}"
    sender.send_email(address=address, subject=notice.title, text=text)


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
