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
