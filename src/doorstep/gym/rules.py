"""The alert rules, as pure functions over one session's recent readings (docs/gym.md).

Times are the band's measurement times in seconds. A kind of alert already open for the
session is never raised again until staff acknowledge it (`Track.open`); "too high" needs the
rate above the upper zone for more than `high_seconds` in a row (at or above the maximum it
is raised at once); "sudden" is a change of `sudden_bpm` within `sudden_seconds`; "no signal"
is checked on the monitor's clock, not on a reading.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    limit_bpm: int
    upper_bpm: int
    high_seconds: int = 10
    low_bpm: int = 45
    sudden_bpm: int = 35
    sudden_seconds: int = 5
    no_signal_seconds: int = 15
    battery_low: int = 15


@dataclass
class Track:
    limits: Limits
    last_ts: float | None = None
    last_bpm: int | None = None
    above_since: float | None = None
    recent: deque = field(default_factory=lambda: deque(maxlen=64))
    open: set[str] = field(default_factory=set)
    # For the tile: the last few rates, for the trend.
    trend: deque = field(default_factory=lambda: deque(maxlen=10))

    def zone(self) -> str:
        bpm = self.last_bpm
        if bpm is None:
            return "none"
        if bpm >= self.limits.limit_bpm:
            return "max"
        if bpm >= self.limits.upper_bpm:
            return "upper"
        if bpm < self.limits.low_bpm:
            return "low"
        return "work" if bpm >= self.limits.limit_bpm * 0.6 else "rest"

    def direction(self) -> str:
        if len(self.trend) < 4:
            return "steady"
        half = len(self.trend) // 2
        first = sum(list(self.trend)[:half]) / half
        second = sum(list(self.trend)[half:]) / (len(self.trend) - half)
        if second - first >= 4:
            return "up"
        if first - second >= 4:
            return "down"
        return "steady"


def limits_for(age: int | None, *, max_bpm: int | None, upper_share: float, **rules: int) -> Limits:
    """220 − age as the maximum unless staff set one (a doctor's advice); the upper zone
    starts at the gym's share of it. Without an age, 220 − 70 (the gym is for people over 60)."""
    limit = max_bpm or (220 - (age if age is not None else 70))
    return Limits(limit_bpm=limit, upper_bpm=int(limit * upper_share), **rules)


def _raise(track: Track, kind: str, out: list[tuple[str, int | None]], value: int | None) -> None:
    if kind not in track.open:
        track.open.add(kind)
        out.append((kind, value))


def on_reading(
    track: Track, ts: float, bpm: int, *, battery: int | None = None, button: bool = False
) -> list[tuple[str, int | None]]:
    """The alerts this reading raises (kind, value)."""
    lim = track.limits
    out: list[tuple[str, int | None]] = []
    if button:
        _raise(track, "button", out, bpm)
    # Sudden change against any reading in the window.
    for then, old in track.recent:
        if ts - then <= lim.sudden_seconds and abs(bpm - old) >= lim.sudden_bpm:
            _raise(track, "sudden", out, bpm)
            break
    if bpm >= lim.limit_bpm:
        _raise(track, "high", out, bpm)
    if bpm >= lim.upper_bpm:
        if track.above_since is None:
            track.above_since = ts
        elif ts - track.above_since > lim.high_seconds:
            _raise(track, "high", out, bpm)
    else:
        track.above_since = None
    if bpm < lim.low_bpm:
        _raise(track, "low", out, bpm)
    if battery is not None and battery < lim.battery_low:
        _raise(track, "battery", out, battery)
    track.recent.append((ts, bpm))
    while track.recent and ts - track.recent[0][0] > lim.sudden_seconds:
        track.recent.popleft()
    track.last_ts, track.last_bpm = ts, bpm
    track.trend.append(bpm)
    return out


def on_clock(track: Track, now: float, started: float) -> list[tuple[str, int | None]]:
    """Alerts due on the monitor's clock: no reading for `no_signal_seconds` in a session
    (counted from the session's start when the band never spoke)."""
    out: list[tuple[str, int | None]] = []
    last = track.last_ts if track.last_ts is not None else started
    if now - last > track.limits.no_signal_seconds:
        _raise(track, "no_signal", out, None)
    return out
