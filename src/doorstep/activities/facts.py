"""An activity's facts for registration, cached in each worker and guarded by its version.

A rush sends thousands of registrations for one activity a second; reading the activity (its
window, capacity, rules, its center's no-show policy and name) for each would be one
statement per request for facts that change a few times a day. Each process keeps them for
`FACTS_SECONDS` instead. They can never let a stale activity say yes:

- the writing statement re-checks `Activity.version` (raised by every save: a staff edit,
  publishing, cancelling, the draw) and the status; on a mismatch the registration reads
  the facts again and is decided on them (services.register);
- the cached `taken` is only used to say "full" sooner, never to give a place. A place freed
  in another process is offered to newcomers here at most FACTS_SECONDS later (the waiting
  list, if there is one, gets it at once, from the database).
- the center's no-show policy and name are at most FACTS_SECONDS old.
"""

from __future__ import annotations

import copy
import threading
import time

from doorstep.core.db import concrete_columns, instances

from .models import Activity

FACTS_SECONDS = 2.0

_lock = threading.Lock()
_cache: dict[int, tuple[float, Activity]] = {}
_sql: list[str] = []


_EXTRA = ("policy_threshold", "policy_window_days", "policy_block_days", "center_name")


def _read(activity_id: int) -> Activity | None:
    """The activity with its center's no-show policy (`policy_threshold`,
    `policy_window_days`, `policy_block_days`; None without a policy) and its center's name
    (`center_name`): one statement."""
    if not _sql:
        _sql.append(
            f"SELECT {concrete_columns(Activity, 'a')}, "  # noqa: S608 (columns from the model)
            "p.threshold, p.window_days, p.block_days, c.name "
            "FROM activities_activity a "
            "JOIN centers_center c ON c.id = a.center_id "
            "LEFT JOIN activities_noshowpolicy p ON p.center_id = a.center_id "
            "WHERE a.id = %s"
        )
    found = instances(Activity, _sql[0], [activity_id], extra=len(_EXTRA))
    if not found:
        return None
    activity, extra = found[0]
    for name, value in zip(_EXTRA, extra, strict=True):
        setattr(activity, name, value)
    return activity


def for_registration(activity_id: int, *, fresh: bool = False) -> Activity | None:
    """This worker's copy of the activity's facts (read when older than FACTS_SECONDS, or
    when `fresh`). Each call gets its own copy. Unknown activities are not cached."""
    now = time.monotonic()
    if not fresh:
        hit = _cache.get(activity_id)
        if hit is not None and now - hit[0] < FACTS_SECONDS:
            return copy.copy(hit[1])
    activity = _read(activity_id)
    if activity is None:
        _cache.pop(activity_id, None)
        return None
    with _lock:
        _cache[activity_id] = (now, activity)
        if len(_cache) > 10_000:  # many activities seen: keep the newest half
            for key, _v in sorted(_cache.items(), key=lambda kv: kv[1][0])[:5_000]:
                _cache.pop(key, None)
    return copy.copy(activity)


def note_full(activity_id: int, version: int) -> None:
    """The writing statement found no place: this worker says "full" from its copy until
    the copy lapses (FACTS_SECONDS after it was read), without a statement."""
    with _lock:
        hit = _cache.get(activity_id)
        if hit is not None and hit[1].version == version:
            hit[1].taken = hit[1].capacity


def forget(activity_id: int | None = None) -> None:
    """Drop this worker's copy of one activity (or all): the next registration reads it."""
    with _lock:
        if activity_id is None:
            _cache.clear()
        else:
            _cache.pop(activity_id, None)
