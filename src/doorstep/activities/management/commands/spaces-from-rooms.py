"""doorstep spaces-from-rooms: give activities whose room is free text a bookable space."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.activities.rooms import spaces_from_rooms


class Command(BaseCommand):
    help = (
        "Make a bookable space of each room name activities use (staff-only until staff open "
        "it) and hold each activity's time in it. Overlapping activities in one room keep "
        "their text and are listed. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = spaces_from_rooms()
        self.stdout.write(
            f"spaces: {done.spaces} new, activities held: {done.held}, "
            f"overlapping (kept as text): {len(done.clashes)} {done.clashes[:20]}"
        )
