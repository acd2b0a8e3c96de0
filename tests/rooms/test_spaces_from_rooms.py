"""Activities whose room was free text get a space, and their time is held in it."""

from datetime import timedelta

import pytest

from doorstep.activities.models import Activity
from doorstep.activities.rooms import spaces_from_rooms
from doorstep.rooms import services
from doorstep.rooms.models import Space
from doorstep.rooms.services import RoomError
from tests.factories import make_activity

from .conftest import NOW, THURSDAY, local

pytestmark = pytest.mark.django_db


def test_rooms_become_spaces_and_overlaps_are_reported_not_forced(tower):
    c = tower["center"]
    at = local(THURSDAY, 14)
    a = make_activity(c, room="一楼活动室", starts_at=at, capacity=30, now=NOW)
    b = make_activity(
        c, room=" 一楼活动室 ", starts_at=at + timedelta(hours=3), capacity=40, now=NOW
    )
    clash = make_activity(c, room="一楼活动室", starts_at=at + timedelta(minutes=30), now=NOW)
    other = make_activity(c, room="三楼教室", starts_at=at, now=NOW)
    done = spaces_from_rooms()
    assert (done.spaces, done.held, done.clashes) == (2, 3, [clash.pk])
    room = Space.objects.get(center=c, name="一楼活动室")
    assert room.capacity == 40 and not room.for_residents and room.source == "manual"
    assert {x.pk for x in Activity.objects.filter(space=room)} == {a.pk, b.pk}
    assert Activity.objects.get(pk=other.pk).space.name == "三楼教室"
    assert Activity.objects.get(pk=clash.pk).space is None
    with pytest.raises(RoomError) as e:
        services.book(
            by=tower["staff"],
            space_id=room.pk,
            title="x",
            as_staff=True,
            now=NOW,
            starts_at=at + timedelta(minutes=15),
            ends_at=at + timedelta(hours=1),
        )
    assert e.value.code == "slot_taken"
    again = spaces_from_rooms()
    assert (again.spaces, again.held, again.clashes) == (0, 0, [clash.pk])


def test_staff_only_spaces_are_not_offered_in_public(tower, client):
    from doorstep.rooms.selectors import free_slots, public_spaces

    make_activity(tower["center"], room="一楼活动室", starts_at=local(THURSDAY, 9), now=NOW)
    spaces_from_rooms()
    found = free_slots(day=THURSDAY, minutes=60, center_id=tower["center"].pk, now=NOW)
    assert {f.space.name for f in found} == {"青年驿家", "会议室"}
    assert "一楼活动室" not in {s.name for s in public_spaces(tower["center"].pk)}
    page = client.get(f"/centers/{tower['center'].pk}/").content.decode()
    assert "会议室" in page and "一楼活动室" not in page


def test_a_deleted_activity_gives_its_space_back(tower):
    make_activity(tower["center"], room="一楼活动室", starts_at=local(THURSDAY, 9), now=NOW)
    spaces_from_rooms()
    activity = Activity.objects.get(room="一楼活动室")
    hold = activity.space_booking
    activity.delete()
    hold.refresh_from_db()
    assert hold.status == "cancelled"
