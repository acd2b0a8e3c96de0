"""Rooms pages: booking through the form (once and weekly, a taken date skipped), errors in
the user's language, my bookings (calendar file, cancel), the door poster's check-in, the
staff's queue, board, space form, closures, organizations, figures and feeds; scope."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client

from doorstep.rooms import selectors, services
from doorstep.rooms.models import Blackout, Booking, Space
from tests.factories import client_for, make_center, make_staff

from .conftest import NOW, THURSDAY, booked, local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday_nine():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def form(**kw):
    base = {
        "day": THURSDAY.isoformat(),
        "starts": "14:00",
        "ends": "15:00",
        "title": "直播",
        "attendees": "5",
    }
    base.update(kw)
    return base


def test_a_company_books_weekly_and_a_taken_date_is_skipped(tower):
    services.book(
        by=tower["staff"],
        space_id=tower["studio"].pk,
        title="讲座",
        as_staff=True,
        now=NOW,
        starts_at=local(THURSDAY + timedelta(days=7), 14),
        ends_at=local(THURSDAY + timedelta(days=7), 15),
    )
    c = client_for(tower["company_user"])
    page = c.get(f"/rooms/spaces/{tower['studio'].pk}/?date={THURSDAY}")
    assert page.status_code == 200 and "某科技公司" in page.content.decode()
    r = c.post(
        f"/rooms/spaces/{tower['studio'].pk}/",
        form(**{"for": tower["company"].pk, "repeat": "1", "until": "2026-12-31"}),
        follow=True,
    )
    text = r.content.decode()
    assert "已跳过：12-17" in text
    made = Booking.objects.filter(organization=tower["company"]).order_by("starts_at")
    assert [b.starts_at for b in made] == [
        local(THURSDAY + timedelta(days=d), 14) for d in (0, 14, 21)
    ]
    assert {b.status for b in made} == {"pending"}


def test_the_same_form_posted_twice_books_once(tower):
    c = client_for(tower["resident"])
    data = form(key="k-123")
    c.post(f"/rooms/spaces/{tower['meeting'].pk}/", data)
    c.post(f"/rooms/spaces/{tower['meeting'].pk}/", data)
    assert Booking.objects.filter(user=tower["resident"]).count() == 1


@pytest.mark.parametrize(
    "lang,expected", [("zh-hans", "该场地这个时段已被预订"), ("en", "This time is already taken")]
)
def test_a_refusal_is_a_message_in_the_users_language(tower, lang, expected):
    booked(tower, "staff", "meeting", (14, 15), title="x", as_staff=True)
    r = client_for(tower["resident"], lang).post(f"/rooms/spaces/{tower['meeting'].pk}/", form())
    assert r.status_code == 200 and expected in r.content.decode()
    bad = client_for(tower["resident"], lang).post(
        f"/rooms/spaces/{tower['meeting'].pk}/", form(starts="25:99", day="x")
    )
    assert bad.status_code == 200 and Booking.objects.count() == 1


def test_the_public_grid_never_shows_who_booked(tower):
    booked(tower, "resident", "meeting", (14, 15), title="张家私事")
    text = Client().get(f"/rooms/spaces/{tower['meeting'].pk}/?date={THURSDAY}").content.decode()
    assert "张家私事" not in text and "居民甲" not in text and "已占用" in text


def test_my_bookings_calendar_and_cancel(tower):
    b = booked(tower, "resident", "meeting", (14, 15))
    c = client_for(tower["resident"])
    assert "读书会" in c.get("/rooms/mine/").content.decode()
    cal = c.get(f"/rooms/mine/{b.pk}.ics")
    assert cal["Content-Type"].startswith("text/calendar")
    body = cal.content.decode()
    assert "DTSTART:20261210T060000Z" in body and f"UID:booking-{b.pk}@doorstep" in body
    assert client_for(tower["company_user"]).get(f"/rooms/mine/{b.pk}.ics").status_code == 404
    c.post(f"/rooms/mine/{b.pk}/cancel")
    assert Booking.objects.get(pk=b.pk).status == "cancelled"


def test_the_door_poster_checks_the_booker_in(tower):
    b = booked(tower, "resident", "meeting", (14, 15))
    poster = client_for(tower["staff"]).get(f"/staff/rooms/spaces/{tower['meeting'].pk}/poster")
    assert poster.status_code == 200 and "<svg" in poster.content.decode()
    door = f"/rooms/door/{tower['meeting'].door_code}/"
    assert Client().post(door).status_code == 302  # sign in first
    with mock.patch("django.utils.timezone.now", return_value=local(THURSDAY, 13, 50)):
        r = client_for(tower["resident"]).post(door)
    assert r.status_code == 200 and "已签到" in r.content.decode()
    assert Booking.objects.get(pk=b.pk).status == "checked_in"
    assert Client().get("/rooms/door/nope/").status_code == 404


def test_staff_queue_board_and_scope(tower, regions):
    b = booked(
        tower, "company_user", "studio", (14, 15), title="直播", organization_id=tower["company"].pk
    )
    staff = client_for(tower["staff"])
    assert "某科技公司" in staff.get("/staff/rooms/queue/").content.decode()
    staff.post("/staff/rooms/queue/", {"booking": b.pk, "decision": "refuse"})
    assert Booking.objects.get(pk=b.pk).status == "pending"  # a refusal needs a reason
    staff.post("/staff/rooms/queue/", {"booking": b.pk, "decision": "approve"})
    assert Booking.objects.get(pk=b.pk).status == "confirmed"
    board = staff.get(f"/staff/rooms/board/{tower['center'].pk}/?date={THURSDAY}").content.decode()
    assert "直播" in board and "某科技公司" in board
    with mock.patch("django.utils.timezone.now", return_value=local(THURSDAY, 14, 5)):
        staff.post(
            f"/staff/rooms/board/{tower['center'].pk}/?date={THURSDAY}",
            {"booking": b.pk, "action": "check_in"},
        )
    assert Booking.objects.get(pk=b.pk).status == "checked_in"
    other = client_for(make_staff(center=make_center("古北市民中心")))
    assert other.get(f"/staff/rooms/board/{tower['center'].pk}/").status_code == 404
    assert other.get(f"/staff/rooms/spaces/{tower['studio'].pk}/").status_code == 404
    assert "直播" not in other.get("/staff/rooms/queue/").content.decode()


def test_staff_add_a_space_edit_close_it_and_see_bad_input(tower):
    staff = client_for(tower["staff"])
    data = {
        "name": "多功能厅",
        "kind": "activity_room",
        "capacity": "40",
        "opens": "09:00",
        "closes": "20:00",
        "slot_minutes": "30",
        "min_minutes": "30",
        "max_minutes": "120",
        "horizon_days": "14",
        "buffer_minutes": "10",
        "decide_within_hours": "24",
        "checkin_opens_minutes": "15",
        "release_after_minutes": "15",
        "cancel_until_hours": "2",
        "no_show_limit": "3",
        "approval": "instant",
        "equipment": ["projector", "piano"],
        "for_residents": "on",
        "active": "on",
        "person_hours_week": "4",
    }
    r = staff.post(f"/staff/rooms/spaces/new?center={tower['center'].pk}", data)
    assert r.status_code == 302
    space = Space.objects.get(name="多功能厅")
    assert (
        space.equipment == ["projector", "piano"]
        and space.person_hours_week == 4
        and space.for_companies is False
    )
    bad = staff.post(f"/staff/rooms/spaces/{space.pk}/", {**data, "capacity": "0"})
    assert bad.status_code == 200 and "容纳人数" in bad.content.decode()
    assert Space.objects.get(pk=space.pk).capacity == 40
    services.book(
        by=tower["resident"],
        space_id=space.pk,
        title="合唱",
        now=NOW,
        starts_at=local(THURSDAY, 10),
        ends_at=local(THURSDAY, 11),
    )
    staff.post(
        f"/staff/rooms/spaces/{space.pk}/",
        {
            "action": "blackout",
            "from_day": str(THURSDAY),
            "from_time": "08:00",
            "to_day": str(THURSDAY),
            "to_time": "12:00",
            "reason": "地板维修",
        },
    )
    assert Blackout.objects.get(space=space).reason == "地板维修"
    assert Booking.objects.get(space=space).status == "cancelled"
    assert "feeds/" in staff.get(f"/staff/rooms/spaces/{space.pk}/").content.decode()


def test_free_busy_feed_is_signed_and_shows_no_one(tower):
    from django.core import signing

    booked(tower, "resident", "meeting", (14, 15), title="张家私事")
    token = signing.dumps(tower["meeting"].pk, salt="rooms.freebusy")
    body = Client().get(f"/rooms/feeds/{token}.ics").content.decode()
    assert (
        "BEGIN:VFREEBUSY" in body
        and "FREEBUSY;FBTYPE=BUSY:20261210T060000Z/20261210T070000Z" in body
    )
    assert "张家" not in body
    assert Client().get(f"/rooms/feeds/{tower['meeting'].pk}.ics").status_code == 404


def test_organizations_register_confirm_and_join(tower):
    c = client_for(tower["resident"])
    c.post(
        "/rooms/organizations/",
        {
            "action": "create",
            "name": "滨江读书会",
            "kind": "residents_team",
            "center": tower["center"].pk,
        },
    )
    from doorstep.accounts.models import Organization

    org = Organization.objects.get(name="滨江读书会")
    assert org.status == "pending"
    client_for(tower["staff"]).post(
        "/staff/rooms/organizations/", {"organization": org.pk, "decision": "confirm"}
    )
    assert Organization.objects.get(pk=org.pk).status == "confirmed"
    j = client_for(tower["company_user"]).post(
        "/rooms/organizations/", {"action": "join", "code": org.invite_code.lower()}
    )
    assert j.status_code == 302 and org.memberships.count() == 2
    page = c.get("/rooms/organizations/").content.decode()
    assert org.invite_code in page and "公司职员" in page


def test_figures_utilisation_no_shows_kinds_and_peak(tower):
    meeting = tower["meeting"]  # 08:00-21:00 inside the center's 08:00-21:00: 13 hours a day
    services.book(
        by=tower["resident"],
        space_id=meeting.pk,
        title="a",
        now=NOW,
        starts_at=local(THURSDAY, 9),
        ends_at=local(THURSDAY, 11),
    )
    b = services.book(
        by=tower["resident"],
        space_id=meeting.pk,
        title="b",
        now=NOW,
        starts_at=local(THURSDAY, 14),
        ends_at=local(THURSDAY, 15),
    ).booking
    services.book(
        by=tower["staff"],
        space_id=meeting.pk,
        title="c",
        as_staff=True,
        now=NOW,
        starts_at=local(THURSDAY, 16),
        ends_at=local(THURSDAY, 17),
    )
    services.check_in(by=tower["resident"], booking_id=b.pk, now=local(THURSDAY, 14))
    services.release_no_shows(local(THURSDAY, 12))
    services.add_blackout(
        by=tower["staff"],
        space_id=meeting.pk,
        starts_at=local(THURSDAY, 19),
        ends_at=local(THURSDAY, 21),
        reason="维修",
        now=NOW,
    )
    rows, peak = selectors.figures([meeting], THURSDAY, THURSDAY, now=local(THURSDAY, 22))
    (f,) = rows
    assert f.bookable_hours == 11  # 13 hours less the 2-hour closure
    assert f.booked_hours == 4 and f.used_hours == 1
    assert (f.no_shows, f.ended) == (1, 2)
    assert f.by_kind == {"resident": 3, "staff": 1}
    assert peak[9] == peak[10] == peak[14] == peak[16] == 1 and peak[12] == 0
    booked(
        tower, "company_user", "studio", (9, 12), title="直播", organization_id=tower["company"].pk
    )
    (studio,), _peak = selectors.figures([tower["studio"]], THURSDAY, THURSDAY, now=NOW)
    assert studio.by_kind == {"company": 3}
    csv = client_for(tower["staff"]).get(
        f"/staff/rooms/figures/?from={THURSDAY}&to={THURSDAY}&format=csv"
    )
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("center,space,bookable_hours") and len(lines) == 3


def test_staff_book_for_the_center_from_the_page_and_residents_cannot(tower):
    url = f"/rooms/spaces/{tower['studio'].pk}/"
    r = client_for(tower["resident"]).post(url, form(as_staff="on"))
    assert "您不能预订这个场地" in r.content.decode() and not Booking.objects.exists()
    r = client_for(tower["staff"]).get(url)
    assert "以中心名义预订" in r.content.decode()
    client_for(tower["staff"]).post(url, form(as_staff="on", starts="20:00", ends="23:00"))
    assert not Booking.objects.exists()  # staff too are held to the hours
    client_for(tower["staff"]).post(url, form(as_staff="on"))
    (b,) = Booking.objects.all()
    assert (b.kind, b.status) == ("staff", "confirmed")
