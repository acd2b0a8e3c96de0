"""The monitor between the broker and the board (docs/gym.md, "The path of a reading").

`Monitor.handle()` takes one MQTT message: topic `doorstep/<center>/hr/<band>`, payload JSON
`{"band", "ts", "bpm", "rr"?, "battery"?, "button"?}` (ts in seconds since the epoch). It
ignores and counts what it cannot trust (bad JSON, an unknown band, a band published under
another center's topic or another band's, absurd values, a timestamp not after the band's last
or too far from now); for a band in a session it keeps the reading in memory, runs the rules
and writes an alert at once (one INSERT, committed before the board can see it). `tick()`
runs about once a second: the no-signal rule, the readings and tiles written in bulk,
sessions started or ended at the desk picked up, acknowledgements learnt, escalation.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import rules
from .models import Alert, Band, Ignored, Live, Reading, Session
from .services import escalate_due, limits_of, settings_for

TOPIC_PREFIX = "doorstep/"
MAX_SKEW = 120.0  # seconds a band's clock may be off from ours
BPM_RANGE = (25, 240)


@dataclass
class Active:
    session: Session
    track: rules.Track
    started: float


class Monitor:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.by_band: dict[str, Active] = {}
        self.known_bands: dict[str, int] = {}  # band id → center id
        self.ignored: Counter[str] = Counter()  # since the last flush
        self.ignored_total: Counter[str] = Counter()
        self.handled = 0
        self.pending_readings: list[Reading] = []
        self.alerts_raised = 0
        self.last_refresh = 0.0
        self.last_tiles = 0.0

    # ---- sessions -------------------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> None:
        """Pick up bands, sessions started or ended at the desk, and acknowledgements."""
        now = now or timezone.now()
        self.known_bands = dict(
            Band.objects.filter(active=True).values_list("band_id", "center_id")
        )
        live = {
            s.band.band_id: s
            for s in Session.objects.filter(ended_at__isnull=True).select_related(
                "band", "member__person"
            )
        }
        for band_id in list(self.by_band):
            if band_id not in live or self.by_band[band_id].session.pk != live[band_id].pk:
                del self.by_band[band_id]
        for band_id, session in live.items():
            if band_id not in self.by_band:
                limits = limits_of(session.member, settings_for(session.center_id), now)
                limits = rules.Limits(
                    **{
                        **limits.__dict__,
                        "limit_bpm": session.limit_bpm,
                        "upper_bpm": session.upper_bpm,
                    }
                )
                self.by_band[band_id] = Active(
                    session, rules.Track(limits), session.started_at.timestamp()
                )
        open_kinds: dict[int, set[str]] = {}
        for session_id, kind in Alert.objects.filter(
            acknowledged_at__isnull=True, session__ended_at__isnull=True
        ).values_list("session_id", "kind"):
            open_kinds.setdefault(session_id, set()).add(kind)
        for active in self.by_band.values():
            active.track.open = open_kinds.get(active.session.pk, set())

    # ---- messages -------------------------------------------------------------------------

    def _ignore(self, reason: str) -> None:
        self.ignored[reason] += 1
        self.ignored_total[reason] += 1

    def handle(self, topic: str, payload: bytes, received: float | None = None) -> list[Alert]:
        received = self.clock() if received is None else received
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != "doorstep" or parts[2] != "hr":
            self._ignore("bad_topic")
            return []
        try:
            data = json.loads(payload)
            band, ts, bpm = str(data["band"]), float(data["ts"]), data["bpm"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            self._ignore("bad_json")
            return []
        if band != parts[3]:
            self._ignore("band_mismatch")
            return []
        center = self.known_bands.get(band)
        if center is None:
            self._ignore("unknown_band")
            return []
        if str(center) != parts[1]:
            self._ignore("wrong_center")
            return []
        if (
            not isinstance(bpm, int)
            or isinstance(bpm, bool)
            or not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]
        ):
            self._ignore("absurd_value")
            return []
        battery = data.get("battery")
        if battery is not None and (not isinstance(battery, int) or not 0 <= battery <= 100):
            self._ignore("absurd_value")
            return []
        if not math.isfinite(ts) or abs(ts - received) > MAX_SKEW:
            self._ignore("bad_time")
            return []
        active = self.by_band.get(band)
        if active is None:
            self._ignore("no_session")
            return []
        if active.track.last_ts is not None and ts <= active.track.last_ts:
            self._ignore("replayed")
            return []
        if ts < active.started:
            self._ignore("before_session")
            return []
        self.handled += 1
        raised = rules.on_reading(
            active.track, ts, bpm, battery=battery, button=bool(data.get("button"))
        )
        at = datetime.fromtimestamp(ts, tz=UTC)
        self.pending_readings.append(
            Reading(session=active.session, at=at, bpm=bpm, battery=battery)
        )
        return [a for a in (self._alert(active, kind, value, at) for kind, value in raised) if a]

    def _alert(
        self, active: Active, kind: str, value: int | None, measured: datetime
    ) -> Alert | None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    session=active.session,
                    center_id=active.session.center_id,
                    kind=kind,
                    value=value,
                    measured_at=measured,
                    raised_at=datetime.fromtimestamp(self.clock(), tz=UTC),
                )
                from doorstep.core import audit

                audit.record(
                    actor=None,
                    action="gym.alert",
                    obj=alert,
                    center_id=alert.center_id,
                    label=alert.get_kind_display(),
                )
        except IntegrityError:
            return None  # one of this kind is open already (another monitor raised it)
        self.alerts_raised += 1
        return alert

    # ---- the clock ------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        stamp = datetime.fromtimestamp(now, tz=UTC)
        if now - self.last_refresh >= 2:
            self.refresh(stamp)
            self.last_refresh = now
        for active in self.by_band.values():
            for kind, value in rules.on_clock(active.track, now, active.started):
                self._alert(active, kind, value, stamp)
        self.flush(stamp, tiles=now - self.last_tiles >= 1)
        if now - self.last_tiles >= 1:
            self.last_tiles = now
        escalate_due(stamp)

    def flush(self, stamp: datetime, *, tiles: bool = True) -> None:
        if self.pending_readings:
            Reading.objects.bulk_create(self.pending_readings, batch_size=2000)
            self.pending_readings = []
        self._count_ignored(stamp)
        if not tiles:
            return
        rows = []
        for active in self.by_band.values():
            t = active.track
            rows.append(
                Live(
                    session=active.session,
                    bpm=t.last_bpm,
                    zone=t.zone(),
                    trend=t.direction(),
                    measured_at=datetime.fromtimestamp(t.last_ts, tz=UTC) if t.last_ts else None,
                    written_at=stamp,
                )
            )
        if rows:
            Live.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["session"],
                update_fields=["bpm", "zone", "trend", "measured_at", "written_at"],
            )

    def _count_ignored(self, stamp: datetime) -> None:
        if self.ignored:
            hour = stamp.replace(minute=0, second=0, microsecond=0)
            for reason, n in self.ignored.items():
                row, _ = Ignored.objects.get_or_create(hour=hour, reason=reason)
                Ignored.objects.filter(pk=row.pk).update(count=row.count + n)
            self.ignored.clear()
