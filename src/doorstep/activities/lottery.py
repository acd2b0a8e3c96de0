"""The verifiable lottery: commit-reveal with a documented, recomputable order.

When registration opens, the activity publishes `commitment = SHA-256(seed)` (the seed is 64
hex characters, kept secret). After the window closes the draw reveals the seed. Anyone can
then check `SHA-256(seed) == commitment` and recompute the order from the public list of
entries (pseudonymous party ids and their tier flags):

1. Each party's key is `SHA-256("<seed>:<party id>")` as lower-case hex; parties are sorted by
   key (ties are impossible in practice; then by party id).
2. Parties whose members were penalised for no-shows go after all others, in key order.
3. Places reserved for local residents (`floor(capacity * local% / 100)`) go first, to local
   parties in order; then places reserved for first-timers go to first-timer parties not yet
   chosen; then the remaining places go to everyone else in order. A party is chosen only if
   all its members fit in the places left; otherwise it stays in line for the waiting list.
4. Everyone not chosen forms the waiting list, in the same order as step 1-2.

`doorstep verify-draw` recomputes this from the published data.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment_for(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def party_key(seed: str, party: str) -> str:
    return hashlib.sha256(f"{seed}:{party}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    party: str
    size: int = 1
    local: bool = False
    first_timer: bool = False
    penalised: bool = False


@dataclass(frozen=True)
class Outcome:
    chosen: list[Entry]
    waiting: list[Entry]
    order: list[Entry]


def draw_order(seed: str, entries: list[Entry]) -> list[Entry]:
    ranked = sorted(entries, key=lambda e: (party_key(seed, e.party), e.party))
    return [e for e in ranked if not e.penalised] + [e for e in ranked if e.penalised]


def allocate(
    seed: str,
    entries: list[Entry],
    *,
    capacity: int,
    local_percent: int = 0,
    first_timer_percent: int = 0,
) -> Outcome:
    order = draw_order(seed, entries)
    chosen: list[Entry] = []
    chosen_parties: set[str] = set()
    left = capacity

    def take(pool: list[Entry], places: int) -> None:
        nonlocal left
        for e in pool:
            if places <= 0 or left <= 0:
                break
            if e.party in chosen_parties or e.size > min(places, left):
                continue
            chosen.append(e)
            chosen_parties.add(e.party)
            places -= e.size
            left -= e.size

    take([e for e in order if e.local and not e.penalised], capacity * local_percent // 100)
    take(
        [e for e in order if e.first_timer and not e.penalised],
        capacity * first_timer_percent // 100,
    )
    take(order, capacity)
    waiting = [e for e in order if e.party not in chosen_parties]
    return Outcome(chosen=chosen, waiting=waiting, order=order)
