"""Recompute a published lottery record and compare it with what was announced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .lottery import Entry, allocate, commitment_for


@dataclass
class Verdict:
    ok: bool
    problems: list[str] = field(default_factory=list)


def verify_record(record: dict[str, Any]) -> Verdict:
    problems: list[str] = []
    seed = record.get("seed")
    if not seed:
        return Verdict(ok=False, problems=["the draw has not happened: no seed revealed yet"])
    if commitment_for(seed) != record.get("commitment"):
        problems.append("SHA-256(seed) does not match the commitment published before the draw")
    try:
        entries = [
            Entry(
                party=str(e["party"]),
                size=int(e["size"]),
                local=bool(e["local"]),
                first_timer=bool(e["first_timer"]),
                penalised=bool(e["penalised"]),
            )
            for e in record["entries"]
        ]
        out = allocate(
            seed,
            entries,
            capacity=int(record["capacity"]),
            local_percent=int(record.get("local_share_percent", 0)),
            first_timer_percent=int(record.get("first_timer_share_percent", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return Verdict(ok=False, problems=[f"the record is malformed: {exc!r}"])
    if sorted(e.party for e in out.chosen) != sorted(record.get("chosen", [])):
        problems.append("the chosen parties differ from a recomputation")
    if [e.party for e in out.waiting] != list(record.get("waiting", [])):
        problems.append("the waiting list order differs from a recomputation")
    return Verdict(ok=not problems, problems=problems)
