"""Activities whose room is still free text get a bookable space (docs/rooms.md).

`spaces_from_rooms()` makes one `rooms.Space` per center and room name that activities use,
and holds each activity's time in it under the rooms rule, so a booking can no longer take a
room an activity uses. An activity whose time overlaps another's in the same room (two
sessions typed into one room by mistake) keeps its text and is reported, not forced. Run once
after upgrading (`doorstep spaces-from-rooms`); `load-demo` runs it for the demo schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from doorstep.rooms.models import Source, Space
from doorstep.rooms.services import RoomError, hold_for_activity

from .models import Activity, ActivityStatus


@dataclass
class Converted:
    spaces: int = 0
    held: int = 0
    clashes: list[int] = field(default_factory=list)  # activity ids left with text only


@transaction.atomic
def spaces_from_rooms() -> Converted:
    out = Converted()
    now = timezone.now()
    todo = (
        Activity.objects.exclude(room="")
        .filter(space__isnull=True)
        .exclude(status=ActivityStatus.CANCELLED)
        .order_by("center_id", "room", "starts_at", "pk")
    )
    spaces: dict[tuple[int, str], Space] = {}
    for activity in todo:
        name = " ".join(activity.room.split())[:60]
        key = (activity.center_id, name)
        space = spaces.get(key)
        if space is None:
            same = [
                (x.capacity, x.synthetic)
                for x in Activity.objects.filter(center_id=activity.center_id).exclude(room="")
                if " ".join(x.room.split())[:60] == name
            ]
            synthetic = all(flag for _c, flag in same)
            space, made = Space.objects.get_or_create(
                center_id=activity.center_id,
                name=name,
                defaults={
                    "kind": "activity_room",
                    "capacity": max(1, *(c for c, _flag in same)),
                    "source": Source.SYNTHETIC if synthetic else Source.MANUAL,
                    "synthetic_details": synthetic,
                    # Staff-only until staff open it: it was an activity room, not a booking offer.
                    "for_residents": False,
                    "for_groups": False,
                    "opens_minute": 0,
                    "closes_minute": 1440,
                },
            )
            spaces[key] = space
            out.spaces += made
        try:
            with transaction.atomic():
                hold = hold_for_activity(
                    space_id=space.pk,
                    center_id=activity.center_id,
                    starts_at=activity.starts_at,
                    ends_at=activity.ends_at,
                    title=activity.title,
                    now=now,
                )
                Activity.objects.filter(pk=activity.pk).update(space=space, space_booking=hold)
            out.held += 1
        except RoomError:
            out.clashes.append(activity.pk)
    return out
