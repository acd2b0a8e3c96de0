"""Synthetic readings (`doorstep gym-simulate`): a session's curve of warm-up, exercise and
rest, small noise, rare dropouts, and forced anomalies. Labelled synthetic wherever stored."""

from __future__ import annotations

import math
import random
import time
from typing import Any

from django.db import transaction
from django.utils import timezone


def reading(
    band_id: str, second: int, phase: float, rng: random.Random, anomaly: str | None
) -> dict[str, Any] | None:
    if anomaly == "dropout" or (anomaly is None and rng.random() < 0.002):
        return None
    cycle = (second / 600.0 + phase) % 1.0  # ten-minute cycles
    if cycle < 0.2:
        base = 75 + 40 * cycle / 0.2  # warm-up
    elif cycle < 0.7:
        base = 115 + 8 * math.sin(second / 30.0)  # exercise
    else:
        base = 115 - 40 * (cycle - 0.7) / 0.3  # rest
    bpm = int(base + rng.gauss(0, 2))
    payload: dict[str, Any] = {
        "band": band_id,
        "ts": round(time.time(), 3),
        "bpm": bpm,
        "battery": 80,
    }
    if anomaly == "high":
        payload["bpm"] = 185
    elif anomaly == "low":
        payload["bpm"] = 38
    elif anomaly == "sudden":
        payload["bpm"] = bpm + 50
    elif anomaly == "button":
        payload["button"] = True
    elif anomaly == "battery":
        payload["battery"] = 5
    return payload


@transaction.atomic
def ensure_sessions(center_id: int, n: int) -> list[tuple[str, str]]:
    """n synthetic bands at the center, each with a synthetic member in a session."""
    from doorstep.accounts.models import Person, User

    from .models import Band, Member, Session
    from .services import CONSENT_VERSION, limits_of, settings_for

    out = []
    now = timezone.now()
    holder, _ = User.objects.get_or_create(
        username=f"gym-synthetic-{center_id}", defaults={"display_name": "合成示例"}
    )
    for i in range(1, n + 1):
        band, _ = Band.objects.get_or_create(
            band_id=f"sim-{center_id}-{i:04d}",
            defaults={"center_id": center_id, "label": f"S{i:03d}"},
        )
        person, _ = Person.objects.get_or_create(
            account=holder, name=f"示例{i:03d}", defaults={"birth_year": 1955}
        )
        member, _ = Member.objects.get_or_create(
            person=person,
            defaults={
                "nickname": f"示例{i:03d}",
                "consent_at": now,
                "consent_version": CONSENT_VERSION,
            },
        )
        if not Session.objects.filter(band=band, ended_at__isnull=True).exists():
            Session.objects.filter(member=member, ended_at__isnull=True).update(ended_at=now)
            limits = limits_of(member, settings_for(center_id), now)
            Session.objects.create(
                center_id=center_id,
                band=band,
                member=member,
                started_at=now,
                limit_bpm=limits.limit_bpm,
                upper_bpm=limits.upper_bpm,
                synthetic=True,
            )
        out.append((band.band_id, band.label))
    return out
