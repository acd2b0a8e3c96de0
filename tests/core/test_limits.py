"""Rate-limit counters live in one store every worker shares (core/limits.py).

They used to live in each process's memory, so two workers doubled every limit and a restart
reset them. Now they are in the database (or Redis with REDIS_URL; CI runs the suite both
ways): a second cache connection, as another worker or a restarted one would open, sees the
same counts, and hits that arrive together are each counted.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from doorstep.core import limits
from doorstep.core.models import LimitCounter
from tests.races import failures, run_at_once

RACERS = 16


PEEK = """
import django, sys, time
django.setup()
from django.conf import settings
settings.RATELIMIT_CACHE_PREFIX = sys.argv[1]
# The same instant as the test's process (under libfaketime each process's clock starts anew).
now = float(sys.argv[2])
time.time = lambda: now
from doorstep.core import limits
print(limits.peek("test.shared", "198.51.100.7", "3/h").count)
"""


def count_in_another_process(tmp_path, prefix: str) -> int:
    """What a separate worker process, on the same database (or Redis), counts."""
    env = {k: v for k, v in os.environ.items() if k != "DATA_DIR"}
    env["DJANGO_SETTINGS_MODULE"] = "doorstep.settings"
    env["DATA_DIR"] = str(tmp_path)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        (tmp_path / "doorstep.sqlite3").symlink_to(Path(db["NAME"]).resolve())
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    out = subprocess.run(
        [sys.executable, "-c", PEEK, prefix, repr(time.time())],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


@pytest.mark.django_db(transaction=True)
def test_another_worker_and_a_restarted_one_see_the_same_count(settings, tmp_path):
    rate = "3/h"
    for _ in range(2):
        assert not limits.hit("test.shared", "198.51.100.7", rate).exceeded
    assert count_in_another_process(tmp_path, settings.RATELIMIT_CACHE_PREFIX) == 2
    assert not limits.hit("test.shared", "198.51.100.7", rate).exceeded  # the third
    assert limits.hit("test.shared", "198.51.100.7", rate).exceeded  # the fourth
    assert count_in_another_process(tmp_path / "later", settings.RATELIMIT_CACHE_PREFIX) == 4
    assert limits.peek("test.shared", "198.51.100.8", rate).count == 0  # another network


@pytest.mark.django_db(transaction=True)
def test_hits_at_the_same_moment_are_each_counted():
    store = caches[limits.CACHE]
    store.add("race", 0, 60)

    def naive(barrier):
        """What the atomic increment prevents: read, then write the sum."""
        value = store.get("race")
        barrier.wait()
        store.set("race", value + 1, 60)

    assert failures(run_at_once(naive, [()] * RACERS)) == []
    assert store.get("race") < RACERS  # hits were lost

    store.set("race", 0, 60)

    def atomic(barrier):
        barrier.wait()
        return store.incr("race")

    outcomes = run_at_once(atomic, [()] * RACERS)
    assert failures(outcomes) == []
    assert store.get("race") == RACERS
    assert sorted(outcomes) == list(range(1, RACERS + 1))


@pytest.mark.django_db
def test_a_window_that_has_ended_starts_again_and_is_pruned():
    store = caches[limits.CACHE]
    assert store.add("w", 5, 60) and not store.add("w", 1, 60)
    assert store.incr("w") == 6
    assert store.add("old", 9, -1)  # already expired
    assert store.get("old") is None
    with pytest.raises(ValueError, match="not found"):
        store.incr("old")
    assert store.add("old", 1, 60) and store.get("old") == 1  # taken over as if absent
    if isinstance(store, limits.LimitsDatabaseCache):
        store.add("gone", 1, -1)
        assert limits.prune_counters() == 1
        assert set(LimitCounter.objects.values_list("expires", flat=True)) and all(
            e > timezone.now() for e in LimitCounter.objects.values_list("expires", flat=True)
        )
