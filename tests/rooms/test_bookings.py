"""Booking rules: hours, lengths, horizon, who may book, buffers, quotas, approval and lapse,
check-in and release, cancellation, blackouts, series, activities in spaces."""

from datetime import timedelta

import pytest

from doorstep.accounts.organizations import decide_organization
from doorstep.activities.services import (
    ActivityInput,
    RegistrationError,
    cancel_activity,
    create_activity,
    update_activity,
)
from doorstep.centers.models import OpeningException
from doorstep.inbox.models import Notice
from doorstep.rooms import services
from doorstep.rooms.models import Booking, BookingStatus
from doorstep.rooms.services import RoomError
from tests.factories import make_account, make_staff

from .conftest import NOW, THURSDAY, local, span

pytestmark = pytest.mark.django_db


def book(t, who="resident", space="meeting", **kw):
    args = {"title": "读书会", "now": NOW, **kw}
    return services.book(by=t[who], space_id=t[space].pk, **args)


def code_of(fn, *a, **kw) -> str:
    with pytest.raises(RoomError) as e:
        fn(*a, **kw)
    return e.value.code


def test_a_resident_books_at_once_and_is_told(tower):
    result = book(tower, **span(THURSDAY, 14, 16))
    b = result.booking
    assert b.status == BookingStatus.CONFIRMED and b.kind == "resident"
    assert b.blocked_until == local(THURSDAY, 16, 15)  # the meeting room's 15-minute buffer
    notice = Notice.objects.get(user=tower["resident"])
    assert "会议室" in notice.title and "2026-12-10 14:00–16:00" in notice.title


@pytest.mark.parametrize(
    "times,code",
    [
        (span(THURSDAY, 7, 9), "outside_hours"),  # the center opens at 08:00
        (span(THURSDAY, 20, 22), "outside_hours"),
        (span(THURSDAY, 14, 19), "too_long"),  # 240 minutes at most
        (span(THURSDAY, 14, 14, 0, 20), "too_short"),
        (span(THURSDAY, 14, 15, 10, 10), "off_slot"),
        (span(THURSDAY + timedelta(days=40), 14, 15), "beyond_horizon"),
        ({"starts_at": local(THURSDAY, 14), "ends_at": local(THURSDAY, 13)}, "invalid"),
        (span(THURSDAY - timedelta(days=4), 14, 15), "in_past"),
    ],
)
def test_rules_refuse_with_stable_codes(tower, times, code):
    assert code_of(book, tower, **times) == code
    assert not Booking.objects.exists()


def test_a_closed_date_is_outside_hours(tower):
    OpeningException.objects.create(center=tower["center"], date=THURSDAY, closed=True)
    assert code_of(book, tower, **span(THURSDAY, 14, 15)) == "outside_hours"


def test_overlaps_and_buffers_are_refused(tower):
    book(tower, **span(THURSDAY, 14, 16))
    other = make_account(name="居民乙")
    tower["other"] = other
    assert code_of(book, tower, "other", **span(THURSDAY, 15, 17)) == "slot_taken"
    # Inside the 15-minute buffer after 16:00
    assert code_of(book, tower, "other", **span(THURSDAY, 16, 17)) == "slot_taken"
    assert book(tower, "other", **span(THURSDAY, 16, 17, 30, 30)).booking.status == "confirmed"
    # Before: ends 13:30, its buffer runs to 13:45, clear of 14:00
    assert book(tower, "other", **span(THURSDAY, 12, 13, 30, 30)).booking.pk


def test_the_database_refuses_an_overlap_the_service_did_not_check(tower):
    from django.db import IntegrityError, transaction

    b = book(tower, **span(THURSDAY, 14, 16)).booking
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            space=b.space,
            starts_at=local(THURSDAY, 15),
            ends_at=local(THURSDAY, 17),
            blocked_until=local(THURSDAY, 17),
            status="pending",
            kind="staff",
            title="x",
            created_at=NOW,
            updated_at=NOW,
        )
    # A cancelled row does not hold the space; making it hold again is refused too.
    c = Booking.objects.create(
        space=b.space,
        starts_at=local(THURSDAY, 15),
        ends_at=local(THURSDAY, 17),
        blocked_until=local(THURSDAY, 17),
        status="cancelled",
        kind="staff",
        title="x",
        created_at=NOW,
        updated_at=NOW,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=c.pk).update(status="confirmed")


def test_who_may_book(tower):
    # Residents may not book 青年驿家; the company may, for itself
    assert code_of(book, tower, space="studio", **span(THURSDAY, 14, 16)) == "not_allowed"
    r = book(
        tower,
        "company_user",
        "studio",
        organization_id=tower["company"].pk,
        **span(THURSDAY, 14, 16),
    )
    assert r.booking.organization == tower["company"] and r.booking.kind == "organization"
    # An unconfirmed organization may not
    tower["company"].status = "pending"
    tower["company"].save()
    with pytest.raises(Exception) as e:
        book(
            tower,
            "company_user",
            "studio",
            organization_id=tower["company"].pk,
            **span(THURSDAY, 17, 18),
        )
    assert e.value.code == "organization_not_confirmed"


def test_staff_of_another_center_cannot_confirm_an_organization_or_approve(tower, regions):
    from doorstep.accounts.services import AccountError
    from tests.factories import make_center

    elsewhere = make_staff(center=make_center("古北市民中心"))
    with pytest.raises(AccountError):
        decide_organization(by=elsewhere, organization_id=tower["company"].pk, confirm=True)
    b = book(
        tower,
        "company_user",
        "studio",
        organization_id=tower["company"].pk,
        **span(THURSDAY, 14, 16),
    ).booking
    assert (
        code_of(services.decide, by=elsewhere, booking_id=b.pk, approve=True, now=NOW)
        == "not_found"
    )
    assert Booking.objects.get(pk=b.pk).status == "pending"


def test_approval_refusal_and_lapse(tower):
    org = tower["company"].pk
    a = book(tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 9, 10)).booking
    b = book(tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 10, 11)).booking
    c = book(tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 11, 12)).booking
    assert a.status == "pending" and a.decide_by == NOW + timedelta(hours=48)
    # The pending request holds the slot
    assert (
        code_of(
            services.book,
            by=tower["staff"],
            space_id=tower["studio"].pk,
            title="x",
            now=NOW,
            as_staff=True,
            **span(THURSDAY, 9, 10),
        )
        == "slot_taken"
    )
    services.decide(by=tower["staff"], booking_id=a.pk, approve=True, now=NOW)
    assert (
        code_of(services.decide, by=tower["staff"], booking_id=b.pk, approve=False, now=NOW)
        == "reason_required"
    )
    services.decide(by=tower["staff"], booking_id=b.pk, approve=False, reason="设备检修", now=NOW)
    assert services.lapse_due(NOW + timedelta(hours=47)) == 0
    assert services.lapse_due(NOW + timedelta(hours=48)) == 1
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "confirmed", b.pk: "refused", c.pk: "lapsed"}
    titles = list(Notice.objects.filter(user=tower["company_user"]).values_list("title", flat=True))
    assert any("已批准" in t for t in titles) and any("未获批准" in t for t in titles)
    assert any("已失效" in t for t in titles)
    # Refused and lapsed time is free again
    assert (
        services.book(
            by=tower["staff"],
            space_id=tower["studio"].pk,
            title="x",
            now=NOW,
            as_staff=True,
            **span(THURSDAY, 11, 12),
        ).booking.status
        == "confirmed"
    )


def test_check_in_window_by_door_code_and_release(tower):
    b = book(tower, **span(THURSDAY, 14, 16)).booking
    other = book(tower, **span(THURSDAY, 17, 18)).booking
    door = tower["meeting"].door_code
    assert (
        code_of(
            services.check_in_at_door,
            by=tower["resident"],
            door_code=door,
            now=local(THURSDAY, 13, 40),
        )
        == "no_booking_now"
    )
    assert (
        code_of(
            services.check_in, by=tower["resident"], booking_id=b.pk, now=local(THURSDAY, 13, 40)
        )
        == "too_early"
    )
    done = services.check_in_at_door(
        by=tower["resident"], door_code=door, now=local(THURSDAY, 13, 50)
    )
    assert done.pk == b.pk and done.status == "checked_in"
    stranger = make_account(name="路人")
    assert (
        code_of(services.check_in_at_door, by=stranger, door_code=door, now=local(THURSDAY, 17))
        == "no_booking_now"
    )
    # Nobody checks into 17:00: released at 17:15, a no-show, the time bookable at once
    assert services.release_no_shows(local(THURSDAY, 17, 14)) == 0
    assert services.release_no_shows(local(THURSDAY, 17, 15)) == 1
    other.refresh_from_db()
    assert other.status == "no_show"
    assert (
        code_of(
            services.check_in,
            by=tower["resident"],
            booking_id=other.pk,
            now=local(THURSDAY, 17, 16),
        )
        == "not_active"
    )
    again = services.book(
        by=stranger,
        space_id=tower["meeting"].pk,
        title="临时",
        now=local(THURSDAY, 17, 15),
        **span(THURSDAY, 17, 18, 30, 0),
    )
    assert again.booking.status == "confirmed"


def test_no_shows_pause_booking_at_the_center(tower):
    tower["meeting"].no_show_limit = 2
    tower["meeting"].save()
    for h in (9, 11):
        book(tower, **span(THURSDAY, h, h + 1))
    services.release_no_shows(local(THURSDAY, 13))
    assert code_of(book, tower, **span(THURSDAY, 15, 16)) == "too_many_no_shows"


def test_quotas_per_person_and_organization_per_week_and_month(tower):
    meeting = tower["meeting"]
    meeting.person_hours_week = 3
    meeting.save()
    book(tower, **span(THURSDAY, 9, 11))
    assert code_of(book, tower, **span(THURSDAY, 14, 16)) == "quota_exceeded"
    book(tower, **span(THURSDAY, 14, 15))  # 3 hours in all
    # Next week is a new week
    book(tower, **span(THURSDAY + timedelta(days=7), 9, 12))
    studio = tower["studio"]
    studio.org_hours_month, studio.approval = 4, "instant"
    studio.save()
    org = tower["company"].pk
    book(tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 9, 12))
    colleague = make_account(name="同事")
    tower["company"].memberships.create(user=colleague)
    tower["colleague"] = colleague
    assert (
        code_of(book, tower, "colleague", "studio", organization_id=org, **span(THURSDAY, 14, 16))
        == "quota_exceeded"
    )
    # January is another month
    assert book(
        tower,
        "colleague",
        "studio",
        organization_id=org,
        **span(THURSDAY + timedelta(days=22), 14, 16),
    ).booking.pk


def test_cancel_until_deadline_staff_any_time_with_reason(tower):
    b = book(tower, **span(THURSDAY, 14, 16)).booking
    late = local(THURSDAY, 12, 30)  # 2 hours' deadline: 12:00
    assert (
        code_of(services.cancel, by=tower["resident"], booking_id=b.pk, now=late)
        == "too_late_to_cancel"
    )
    assert (
        code_of(services.cancel, by=tower["staff"], booking_id=b.pk, as_staff=True, now=late)
        == "reason_required"
    )
    services.cancel(by=tower["staff"], booking_id=b.pk, as_staff=True, reason="停电", now=late)
    b.refresh_from_db()
    assert b.status == "cancelled" and b.reason == "停电"
    assert Notice.objects.filter(user=tower["resident"], title__contains="取消").exists()
    c = book(tower, **span(THURSDAY, 17, 18)).booking
    services.cancel(by=tower["resident"], booking_id=c.pk, now=NOW)
    from doorstep.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="booking.cancel").count() == 2


def test_blackout_cancels_with_notice_or_keeps(tower):
    a = book(tower, **span(THURSDAY, 9, 10)).booking
    b = book(tower, **span(THURSDAY, 14, 15)).booking
    result = services.add_blackout(
        by=tower["staff"],
        space_id=tower["meeting"].pk,
        starts_at=local(THURSDAY, 8),
        ends_at=local(THURSDAY, 12),
        reason="设备维修",
        now=NOW,
    )
    assert [x.pk for x in result.cancelled] == [a.pk]
    kept = services.add_blackout(
        by=tower["staff"],
        space_id=tower["meeting"].pk,
        starts_at=local(THURSDAY, 13),
        ends_at=local(THURSDAY, 18),
        reason="区里活动",
        keep_bookings=True,
        now=NOW,
    )
    assert [x.pk for x in kept.kept] == [b.pk]
    assert dict(Booking.objects.values_list("pk", "status")) == {
        a.pk: "cancelled",
        b.pk: "confirmed",
    }
    assert code_of(book, tower, **span(THURSDAY, 10, 11)) == "blackout"
    assert "设备维修" in Notice.objects.filter(user=tower["resident"]).latest("pk").body


def test_series_skip_and_refuse(tower):
    studio, org = tower["studio"], tower["company"].pk
    # A lecture (staff) on the third Thursday
    services.book(
        by=tower["staff"],
        space_id=studio.pk,
        title="讲座",
        as_staff=True,
        now=NOW,
        **span(THURSDAY + timedelta(days=14), 19, 20),
    )
    args = dict(
        by=tower["company_user"],
        space_id=studio.pk,
        title="直播",
        organization_id=org,
        until=THURSDAY + timedelta(days=21),
        now=NOW,
        **span(THURSDAY, 19, 20, 0, 30),
    )
    with pytest.raises(RoomError) as e:
        services.book_series(on_conflict="refuse", **args)
    assert e.value.code == "series_conflicts"
    assert [c["date"] for c in e.value.extra["conflicts"]] == ["2026-12-24"]
    assert Booking.objects.filter(kind="organization").count() == 0
    result = services.book_series(on_conflict="skip", idempotency_key="k1", **args)
    assert [s.day.isoformat() for s in result.skipped] == ["2026-12-24"]
    assert [b.starts_at for b in result.bookings] == [
        local(THURSDAY + timedelta(days=7 * i), 19) for i in (0, 1, 3)
    ]
    again = services.book_series(on_conflict="skip", idempotency_key="k1", **args)
    assert again.replayed and len(again.bookings) == 3
    fortnightly = services.book_series(
        by=tower["staff"],
        space_id=tower["meeting"].pk,
        title="例会",
        as_staff=True,
        every_weeks=2,
        until=THURSDAY + timedelta(days=28),
        now=NOW,
        **span(THURSDAY, 9, 10),
    )
    assert len(fortnightly.bookings) == 3


def test_idempotent_retry_and_reuse(tower):
    r1 = book(tower, idempotency_key="abc", **span(THURSDAY, 14, 16))
    r2 = book(tower, idempotency_key="abc", **span(THURSDAY, 14, 16))
    assert r2.replayed and r2.booking.pk == r1.booking.pk
    assert (
        code_of(book, tower, idempotency_key="abc", **span(THURSDAY, 17, 18))
        == "idempotency_key_reused"
    )


def _lecture(t, day, h1, h2, space="studio"):
    return ActivityInput(
        title="水岸讲堂讲座",
        category="lecture",
        audience="everyone",
        starts_at=local(day, h1),
        ends_at=local(day, h2),
        capacity=80,
        registration_opens_at=NOW,
        registration_closes_at=local(day, h1 - 1),
        space_id=t[space].pk,
    )


def test_an_activity_holds_its_space_under_the_same_rule(tower):
    activity = create_activity(
        center_id=tower["center"].pk,
        by=tower["staff"],
        data=_lecture(tower, THURSDAY, 14, 16),
        now=NOW,
    )
    assert activity.room == "青年驿家" and activity.space_booking.status == "confirmed"
    org = tower["company"].pk
    assert (
        code_of(
            book, tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 15, 16)
        )
        == "slot_taken"
    )
    b = book(tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 17, 18)).booking
    # Moving the activity onto the booking is refused; moving it elsewhere frees its old time
    with pytest.raises(RegistrationError) as e:
        update_activity(
            activity_id=activity.pk,
            by=tower["staff"],
            data=_lecture(tower, THURSDAY, 17, 18),
            now=NOW,
        )
    assert e.value.code == "slot_taken"
    update_activity(
        activity_id=activity.pk, by=tower["staff"], data=_lecture(tower, THURSDAY, 9, 11), now=NOW
    )
    assert book(
        tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 14, 15)
    ).booking.pk
    cancel_activity(activity_id=activity.pk, by=tower["staff"], reason="讲师生病", now=NOW)
    assert book(
        tower, "company_user", "studio", organization_id=org, **span(THURSDAY, 9, 10)
    ).booking.pk
    assert b.pk
    # A second activity may not take a space already held
    with pytest.raises(RegistrationError):
        create_activity(
            center_id=tower["center"].pk,
            by=tower["staff"],
            data=_lecture(tower, THURSDAY, 17, 18),
            now=NOW,
        )


def test_a_reminder_two_hours_before_once_and_a_notice_when_the_booker_cancels(tower):
    b = book(tower, **span(THURSDAY, 14, 16)).booking
    c = book(tower, **span(THURSDAY, 17, 18)).booking
    assert services.remind_due(local(THURSDAY, 11, 59)) == 0
    assert services.remind_due(local(THURSDAY, 12)) == 1
    assert services.remind_due(local(THURSDAY, 12, 30)) == 0
    reminder = Notice.objects.filter(user=tower["resident"], title__startswith="提醒").get()
    assert "15分钟" in reminder.body and "14:00" in reminder.title
    services.cancel(by=tower["resident"], booking_id=c.pk, now=NOW)
    assert Notice.objects.filter(user=tower["resident"], title__startswith="预订已取消").exists()
    assert Booking.objects.get(pk=b.pk).reminded_at == local(THURSDAY, 12)


def test_near_me_finds_rooms_within_the_radius_only(tower, regions):
    from doorstep.centers.models import Center
    from doorstep.rooms.selectors import free_slots

    where = Center.objects.filter(pk=tower["center"].pk)
    where.update(lat=31.2400, lng=121.4900, location_precision="exact")
    ask = dict(day=THURSDAY, minutes=60, from_minute=14 * 60, to_minute=17 * 60, now=NOW)
    near = free_slots(lat=31.2410, lng=121.4910, radius_m=1000, **ask)
    assert {f.space.name for f in near} == {"会议室", "青年驿家"}
    assert all(100 < f.distance_m < 200 for f in near)
    assert free_slots(lat=31.3000, lng=121.4900, radius_m=1000, **ask) == []
    where.update(location_precision="district")
    assert free_slots(lat=31.2410, lng=121.4910, radius_m=1000, **ask) == []


def test_who_booked_is_forgotten_180_days_after_the_booking(tower):
    from datetime import timedelta as td

    b = book(tower, **span(THURSDAY, 14, 16)).booking
    assert services.forget_past(local(THURSDAY, 16) + td(days=179)) == 0
    assert services.forget_past(local(THURSDAY, 16) + td(days=181)) == 1
    b.refresh_from_db()
    assert (b.user_id, b.title, b.status, b.kind) == (None, "", "confirmed", "resident")
    assert services.forget_past(local(THURSDAY, 16) + td(days=182)) == 0
