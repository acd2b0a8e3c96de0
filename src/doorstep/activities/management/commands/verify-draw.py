"""doorstep verify-draw (ACTIVITY_ID | --file RECORD.json): recompute a lottery draw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.activities.models import Activity
from doorstep.activities.services import draw_record
from doorstep.activities.verify import verify_record


class Command(BaseCommand):
    help = (
        "Check a lottery: SHA-256(seed) must equal the commitment published before the draw, "
        "and recomputing the documented order from the seed and the public entries must give "
        "the announced result. Reads the record from the database or from the JSON that "
        "GET /api/v1/activities/{id}/draw publishes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("activity_id", nargs="?", type=int)
        parser.add_argument("--file", help="a saved public draw record (JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            try:
                record = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {options['file']}: {exc}") from None
        elif options["activity_id"]:
            activity = (
                Activity.objects.select_related("center").filter(pk=options["activity_id"]).first()
            )
            if activity is None:
                raise CommandError("no such activity")
            record = draw_record(activity)
        else:
            raise CommandError("give an activity id or --file")
        verdict = verify_record(record)
        if not verdict.ok:
            for p in verdict.problems:
                self.stderr.write(f"FAIL: {p}")
            raise CommandError("the draw does not verify")
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: commitment matches; {len(record['chosen'])} parties chosen and "
                f"{len(record['waiting'])} waiting, exactly as recomputed."
            )
        )
