"""Text search over the directory, answered from memory.

A text query has to look at every center: "党群服务站" or the initials "dqfwz" match nine in
ten of them, and even "古北" must test every name, because a substring test cannot use an
ordinary index (pg_trgm cannot help a two-character query either). In SQL that is 10–50 ms of
database time per query on 12,600 centers (bench/HISTORY.md, "Text search"). The same
tests over numpy string arrays take about a millisecond each, so each worker process keeps the
directory's search keys in memory and answers text queries itself:

- the index holds, per center, the five normalised keys `sql.text_match()` tests, the name's
  length and id (the tie-breakers), and the static filters (district, subdistrict, themes,
  facilities, level);
- it belongs to one directory version (`cache.directory_version()`, bumped in the same
  transaction as every change) and is rebuilt, once per process, when the version moves: no
  worker answers from an index older than the last committed change;
- the rules and the rank are exactly `sql.text_match()`'s (first matching tier wins, then the
  shorter name, then the id); `tests/centers/test_textindex.py` compares the two on random
  queries on both databases.

Questions that also ask for "open now" or a point keep the SQL path: their filters narrow the
rows first, and open-now depends on the minute.
"""

from __future__ import annotations

import bisect
import logging
import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .models import Center
from .search import ParsedQuery, rank_tiers
from .vocab import FACILITY_BITS, THEME_BITS, mask

KEYS = ("search_name", "search_text", "name_pinyin", "name_initials", "place_pinyin")
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]


@dataclass(frozen=True)
class Index:
    version: int
    ids: Ints
    # Position of each center in (name length, id) order: the tie-breaker after the rank.
    tie: Ints
    keys: dict[str, NDArray[np.str_]]
    # Each key of all centers joined by newlines, and where each center's part starts: a
    # plain str.find() over it is the fastest test when few centers match.
    blobs: dict[str, str]
    starts: dict[str, list[int]]
    district: NDArray[np.str_]
    subdistrict: NDArray[np.str_]
    theme_mask: Ints
    facility_mask: Ints
    level: NDArray[np.str_]

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])


def build(version: int) -> Index:
    rows = list(
        Center.objects.order_by("id").values_list(
            "id",
            "name",
            *KEYS,
            "district_id",
            "subdistrict_id",
            "theme_mask",
            "facility_mask",
            "level",
        )
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    name_len = np.array([len(r[1]) for r in rows], dtype=np.int64)
    # lexsort sorts by the last key first: name length, then id.
    order = np.lexsort((ids, name_len))
    tie = np.empty(len(rows), dtype=np.int64)
    tie[order] = np.arange(len(rows), dtype=np.int64)
    values = {k: [r[2 + i] or "" for r in rows] for i, k in enumerate(KEYS)}
    keys = {k: _strings(v) for k, v in values.items()}
    starts: dict[str, list[int]] = {}
    for k, v in values.items():
        pos, at = 0, []
        for text in v:
            at.append(pos)
            pos += len(text) + 1
        starts[k] = at
    return Index(
        version=version,
        ids=ids,
        tie=tie,
        keys=keys,
        # Keys never hold a newline (search.compact() drops whitespace), so no match spans
        # two centers.
        blobs={k: "\n".join(v) for k, v in values.items()},
        starts=starts,
        district=_strings([r[7] or "" for r in rows]),
        subdistrict=_strings([r[8] or "" for r in rows]),
        theme_mask=np.array([r[9] for r in rows], dtype=np.int64),
        facility_mask=np.array([r[10] for r in rows], dtype=np.int64),
        level=_strings([r[11] or "" for r in rows]),
    )


def _strings(values: list[str]) -> NDArray[np.str_]:
    # A fixed-width unicode array: numpy's string functions loop over it in C.
    return np.array(values, dtype=np.str_) if values else np.array([], dtype="<U1")


_lock = threading.Lock()
_current: list[Index] = []


def index_for(version: int) -> Index:
    """This process's index at `version`, built when the directory has moved since."""
    current = _current[0] if _current else None
    if current is not None and current.version == version:
        return current
    with _lock:
        current = _current[0] if _current else None
        if current is None or current.version != version:
            current = build(version)
            _current[:] = [current]
        return current


def forget() -> None:
    """Drop this process's index (tests that change centers without bumping the version)."""
    with _lock:
        _current.clear()


# Past this many matching centers the scan of the joined keys stops and numpy tests every
# center's key instead (a broad query: "党群服务站" matches nine in ten).
BLOB_HITS_MAX = 1000
# Every this many hits the scan projects the total from the density so far and gives up early.
BLOB_PROBE = 50


def _blob_hits(ix: Index, key: str, value: str) -> list[int] | None:
    """Positions of the centers whose key contains `value`, or None when there are many."""
    blob, starts = ix.blobs[key], ix.starts[key]
    found: list[int] = []
    last = len(starts) - 1
    first = at = blob.find(value)
    while at != -1:
        row = bisect.bisect_right(starts, at) - 1
        found.append(row)
        if row == last:
            break
        if len(found) % BLOB_PROBE == 0:
            # At the density seen since the first hit (hits cluster: a district's centers
            # are neighbours), would the whole blob hold more than BLOB_HITS_MAX?
            if len(found) * len(blob) > BLOB_HITS_MAX * (at - first + 1):
                return None
        if len(found) > BLOB_HITS_MAX:
            return None
        at = blob.find(value, starts[row + 1])
    return found


def _contains(ix: Index, key: str, rows: Ints, value: str) -> Bools:
    """Which of `rows` (ascending, distinct positions) have `value` in their key."""
    n = rows.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    column = ix.keys[key]
    if n * 8 < ix.size:
        return np.strings.find(column[rows], value) >= 0
    hits = _blob_hits(ix, key, value)
    if hits is None:
        every = np.strings.find(column, value) >= 0
    else:
        every = np.zeros(ix.size, dtype=np.bool_)
        every[hits] = True
    return every if n == ix.size else every[rows]


def _all_tokens(ix: Index, rows: Ints, tokens: tuple[str, ...]) -> Bools:
    ok = np.ones(rows.shape[0], dtype=np.bool_)
    for tok in tokens:
        sub = rows[ok]
        hit = _contains(ix, "search_name", sub, tok) | _contains(ix, "search_text", sub, tok)
        ok[np.flatnonzero(ok)[~hit]] = False
    return ok


ALL_WORDS = ("*", "*")  # the all-words tier's key in the tables below


def search(
    pq: ParsedQuery,
    *,
    version: int,
    district_code: str | None = None,
    subdistrict_code: str | None = None,
    themes: list[str] | None = None,
    facilities: list[str] | None = None,
    levels: list[str] | None = None,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(total, ids of the page) for a text query with optional static filters.

    1. The static filters pick the rows to test.
    2. Each match test runs once over them; a center matches when any test passes.
    3. Ranks: a center's rank is the score of the first tier it passes (sql.text_match()'s
       order, which is not score order: "name contains" comes before "full pinyin"). The
       page needs only the best `offset + limit`, so scores are settled from the highest
       down and the work stops once the page is full; each tier tests only the centers that
       passed the plain substring test it refines (`|t|` only where `t` was found).
    """
    ix = index_for(version)
    keep = np.ones(ix.size, dtype=np.bool_)
    if district_code:
        keep &= ix.district == district_code
    if subdistrict_code:
        keep &= ix.subdistrict == subdistrict_code
    if themes:
        keep &= (ix.theme_mask & mask(themes, THEME_BITS)) != 0
    if facilities:
        m = mask(facilities, FACILITY_BITS)
        keep &= (ix.facility_mask & m) == m
    if levels:
        keep &= np.isin(ix.level, np.array(levels, dtype=np.str_))
    rows = np.flatnonzero(keep)

    tiers, tests = rank_tiers(pq)
    multi = len(pq.tokens) > 1
    found: dict[tuple[str, str], Bools] = {}
    hit = np.zeros(rows.shape[0], dtype=np.bool_)
    for key, value in tests:
        found[(key, value)] = _contains(ix, key, rows, value)
        hit |= found[(key, value)]
    if multi:
        todo = np.flatnonzero(~hit)
        found[ALL_WORDS] = _all_tokens(ix, rows, pq.tokens)
        hit[todo] |= found[ALL_WORDS][todo]
    rows = rows[hit]
    total = int(rows.shape[0])
    if offset >= total:
        return total, []
    passed: dict[tuple[str, str], Bools] = {k: v[hit] for k, v in found.items()}

    def tier_mask(key: str, value: str) -> Bools:
        got = passed.get((key, value))
        if got is None:
            # Only where the plain substring was found (t for |t| and |t, |t for |t|).
            core = value.strip("|")
            parent = passed.get((key, core))
            if parent is None and value.endswith("|"):
                parent = passed.get((key, value[:-1]))
            if parent is None:
                parent = tier_mask(key, core) if core != value else None
            got = np.zeros(total, dtype=np.bool_)
            where = np.arange(total) if parent is None else np.flatnonzero(parent)
            got[where] = _contains(ix, key, rows[where], value)
            passed[(key, value)] = got
        return got

    order = [*tiers, (*ALL_WORDS, 40)] if multi else tiers
    rank = np.zeros(total, dtype=np.int64)
    settled = 0
    for score in sorted({s for _k, _v, s in order}, reverse=True):
        # A center has this score when it passes a tier with it and no tier before that.
        before = np.zeros(total, dtype=np.bool_)
        for key, value, s in order:
            if s == score:
                group = tier_mask(key, value) & ~before & (rank == 0)
                rank[group] = score
                settled += int(group.sum())
                break
            before |= tier_mask(key, value)
        if settled >= offset + limit:
            break
    # Rows not settled rank below every settled one (their tiers score lower): their order
    # among themselves is not needed for this page.
    chosen = np.flatnonzero(rank > 0)
    page = chosen[np.lexsort((ix.tie[rows[chosen]], -rank[chosen]))][offset : offset + limit]
    return total, [int(i) for i in ix.ids[rows[page]]]


def warm_up() -> None:
    """Build the index before the first request (a served process calls it at start).

    Nothing happens when the database is not ready yet (before `migrate`): the first text
    question then builds it.
    """
    from django.db import DatabaseError, connection

    from .cache import directory_version

    try:
        index_for(directory_version())
    except DatabaseError:
        pass
    except Exception:  # a warm-up never stops a server from starting
        logging.getLogger(__name__).warning("text index warm-up failed", exc_info=True)
    finally:
        # The server's request threads open their own connections (not inside a
        # transaction: a test calls this in one).
        if not connection.in_atomic_block:
            connection.close()
