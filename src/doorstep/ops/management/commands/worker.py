"""doorstep worker [--once] [--interval SECONDS]: the timed work of every app, on time."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from doorstep.activities.services import run_due_work
from doorstep.cases.services import run_due_work as run_due_request_work
from doorstep.core.limits import prune_counters
from doorstep.figures.services import apply_retention, refresh_figures
from doorstep.gym.services import run_due_work as run_due_gym_work
from doorstep.inbox.services import send_due
from doorstep.meals.services import close_rounds, mark_no_shows, publish_due
from doorstep.rooms.services import forget_past, lapse_due, release_no_shows, remind_due
from doorstep.screen.services import refresh as refresh_screens
from doorstep.visits.services import run_due_work as run_due_visit_work
from doorstep.volunteers.services import run_due_work as run_due_volunteer_work


class Command(BaseCommand):
    help = (
        "Run due work in a loop: lottery draws whose window closed, expired waiting-list "
        "offers, reminders, no-shows after activities, visits left open, meal delivery "
        "rounds short of their minimum at the cut-off, meals never collected, room requests "
        "nobody decided, booking reminders, bookings nobody checked into, who booked a room "
        "180 days on, requests coming due (a reminder) or overdue (escalated once), requests "
        "resolved and not reopened in time, callers' contacts 180 days after closing, "
        "volunteers' shifts left open (closed at their end, estimated) and no-shows, gym alerts "
        "nobody acknowledged (escalated), gym readings a day after their session, the "
        "figures' rollups, finished rate-limit windows, the SMS and email of "
        "notices (with retries), the big screens' snapshots. Every step is idempotent; "
        "pages do the same work when they read a stale activity, so correctness never "
        "depends on this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=10.0)

    def handle(self, *args: Any, **options: Any) -> None:
        stop = False

        def on_signal(signum: int, frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while True:
            done = run_due_work() | run_due_visit_work()
            done["meal_orders_to_pickup"] = close_rounds()
            done["meal_no_shows"] = mark_no_shows()
            done["menus_published"] = publish_due()
            done["bookings_lapsed"] = lapse_due()
            done["bookings_released"] = release_no_shows()
            done["bookings_reminded"] = remind_due()
            done["bookings_forgotten"] = forget_past()
            done |= run_due_request_work()
            done |= run_due_volunteer_work()
            done |= run_due_gym_work()
            # After visits are closed, so their estimated leaving times are rolled up too.
            done["figures"] = refresh_figures().pairs
            done["visit_months_dropped"] = apply_retention()
            # The big screens' snapshots, from the rollups just refreshed (not counted: every pass).
            refresh_screens()
            done["limit_windows_pruned"] = prune_counters()
            # Last: the notices the steps above wrote go out in the same pass.
            done["notices_sent"] = send_due()
            if any(done.values()) or options["once"]:
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in done.items()))
            if options["once"] or stop:
                return
            # A long-running process must not keep a broken or stale connection.
            close_old_connections()
            slept = 0.0
            while slept < options["interval"] and not stop:
                time.sleep(0.2)
                slept += 0.2
            if stop:
                return
