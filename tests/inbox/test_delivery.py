"""The outbox: one notice per person and event, in the person's language, deliveries only
after commit, quiet hours for SMS, retries then a visible failure; the language a person
chooses is remembered on the account."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.inbox import selectors, services
from doorstep.inbox.models import Delivery, Notice
from doorstep.inbox.senders import MemoryNoticeSender
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    base = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    return base + timedelta(days=day_offset)


def render(params):
    # "Cancelled" is translated in the activities catalogue: the text shows which language
    # the notice was written in.
    return services.Message(title=f"{_('Cancelled')} {params['n']}", url="/x/")


def test_each_recipient_reads_it_in_their_language_once():
    zh, en = make_account(name="甲"), make_account(name="乙", language="en")
    for _round in range(2):  # the event written twice (a retry, a second worker)
        n = services.notify_each(
            [(zh.pk, {"n": 1}), (en.pk, {"n": 2})],
            subject="activity:1",
            kind="k",
            event="reg:1:cancelled",
            render=render,
        )
    assert n == 0  # the second time added nothing
    notices = {x.user_id: x for x in Notice.objects.all()}
    assert len(notices) == 2
    assert notices[zh.pk].title == "已取消 1" and notices[zh.pk].language == "zh-hans"
    assert notices[en.pk].title == "Cancelled 2" and notices[en.pk].language == "en"


def test_nothing_is_written_or_sent_on_rollback(memory_sender, django_capture_on_commit_callbacks):
    a = make_account()
    services.set_preference(user=a, by_sms=True, by_email=False, email="")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.notify_each(
                    [(a.pk, {"n": 1})], subject="s", kind="k", event="e:1", render=render
                )
                raise RuntimeError("the change failed")
    assert Notice.objects.count() == 0 and Delivery.objects.count() == 0
    assert memory_sender == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(0, 10), local(0, 10)),  # daytime: at once
        (local(0, 20, 59), local(0, 20, 59)),
        (local(0, 21), local(1, 8)),  # evening: next morning
        (local(0, 23, 30), local(1, 8)),
        (local(0, 3), local(0, 8)),  # small hours: this morning
        (local(0, 8), local(0, 8)),
    ],
)
def test_quiet_hours(at, expected):
    assert services.sms_time(at) == expected


def test_an_offer_ending_in_the_night_is_sent_at_once():
    night = local(0, 22)
    assert services.sms_time(night, urgent_until=local(1, 7)) == night
    assert services.sms_time(night, urgent_until=local(1, 12)) == local(1, 8)


def test_sms_waits_for_morning_email_does_not(memory_sender, django_capture_on_commit_callbacks):
    a = make_account()
    services.set_preference(user=a, by_sms=True, by_email=True, email="a@example.org")
    night = local(0, 22)
    with django_capture_on_commit_callbacks(execute=False):
        services.notify_each(
            [(a.pk, {"n": 1})], subject="s", kind="k", event="e:1", render=render, now=night
        )
    assert services.send_due(now=night) == 1
    assert [m.channel for m in memory_sender] == ["email"]
    assert services.send_due(now=local(1, 7, 59)) == 0
    assert services.send_due(now=local(1, 8)) == 1
    assert [m.channel for m in memory_sender] == ["email", "sms"]
    assert services.send_due(now=local(1, 9)) == 0  # sent once


def test_failures_are_retried_then_shown(settings, memory_sender):
    a = make_account()
    services.set_preference(user=a, by_sms=False, by_email=True, email="a@example.org")
    at = local(0, 10)
    services.notify_each(
        [(a.pk, {"n": 1})],
        subject="s",
        kind="activity_cancelled",
        event="e:1",
        render=render,
        center_id=77,
        now=at,
    )
    settings.NOTICE_SENDER = "tests.inbox.test_delivery.Down"
    clock = at
    for _try in range(4):
        assert services.send_due(now=clock) == 0
        clock += timedelta(hours=1)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 4
    assert "gateway down" in delivery.last_error
    failed = selectors.failed_deliveries([77])
    assert failed["total"] == 1 and failed["by_kind"] == {"activity_cancelled": 1}
    assert selectors.failed_deliveries([78])["total"] == 0
    # The notice itself stays in the inbox: a failing gateway undoes nothing.
    assert Notice.objects.filter(user=a).count() == 1
    settings.NOTICE_SENDER = "doorstep.inbox.senders.MemoryNoticeSender"
    assert services.send_due(now=clock + timedelta(days=1)) == 0  # failed is final
    assert memory_sender == []


class Down(MemoryNoticeSender):
    def send_email(self, *, address, subject, text):
        raise ConnectionError("gateway down")


def test_two_workers_send_once(memory_sender):
    a = make_account()
    services.set_preference(user=a, by_sms=False, by_email=True, email="a@example.org")
    at = local(0, 10)
    services.notify_each(
        [(a.pk, {"n": 1})], subject="s", kind="k", event="e:1", render=render, now=at
    )
    assert services.send_due(now=at) + services.send_due(now=at) == 1
    assert len(memory_sender) == 1


def test_the_chosen_language_is_remembered(client):
    user = make_account()
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # not a language: kept
    assert User.objects.get(pk=user.pk).language == "en"
