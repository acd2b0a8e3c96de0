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
settings.LIMITS_KEY_PREFIX = sys.argv[1]
# The same instant as the test's process (under libfaketime each process's clock starts anew).
now = float(sys.argv[2])
time.time = lambda: now
from doorstep.core import limits
print(limits.peek(limits.Limit("test.shared", "198.51.100.7", 3)).count)
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


SHARED = limits.Limit("test.shared", "198.51.100.7", 3)


@pytest.mark.django_db(transaction=True)
def test_another_worker_and_a_restarted_one_see_the_same_count(settings, tmp_path):
    for _ in range(2):
        assert not limits.hit(SHARED)[0].exceeded
    assert count_in_another_process(tmp_path, settings.LIMITS_KEY_PREFIX) == 2
    assert not limits.hit(SHARED)[0].exceeded  # the third
    assert limits.hit(SHARED)[0].exceeded  # the fourth
    assert count_in_another_process(tmp_path / "later", settings.LIMITS_KEY_PREFIX) == 4
    other = limits.Limit("test.shared", "198.51.100.8", 3)
    assert limits.peek(other).count == 0  # another network


@pytest.mark.django_db(transaction=True)
def test_hits_at_the_same_moment_are_each_counted():
    store = caches[limits.CACHE]
    race = limits.Limit("test.race", "k", 1000)
    name, end = race.window(time.time())
    store.set(name, 0, 3600)

    def naive(barrier):
        """What the one-statement count prevents: read, then write the sum."""
        value = store.get(name)
        barrier.wait()
        store.set(name, value + 1, 3600)

    assert failures(run_at_once(naive, [()] * RACERS)) == []
    assert store.get(name) < RACERS  # hits were lost
    store.delete(name)

    def counted(barrier):
        barrier.wait()
        return limits.hit(race)[0].count

    outcomes = run_at_once(counted, [()] * RACERS)
    assert failures(outcomes) == []
    assert limits.peek(race).count == RACERS
    assert sorted(outcomes) == list(range(1, RACERS + 1))


@pytest.mark.django_db
def test_one_call_counts_several_limits_and_windows_turn(monkeypatch):
    a = limits.Limit("test.many", "a", 2, seconds=60)
    b = limits.Limit("test.many", "b", 5, seconds=60)
    clock = [1_800_000_000.0]  # the start of a minute
    monkeypatch.setattr(limits.time, "time", lambda: clock[0])
    assert [u.count for u in limits.hit(a, b)] == [1, 1]
    assert [u.count for u in limits.hit(a, b)] == [2, 2]
    third_a, third_b = limits.hit(a, b)
    assert third_a.exceeded and not third_b.exceeded and third_a.retry_after == 60
    clock[0] += 59
    assert limits.hit(a)[0].retry_after == 1
    clock[0] += 1  # the next window
    assert [u.count for u in limits.hit(a, b)] == [1, 1]
    assert limits.peek(a).count == 1


@pytest.mark.django_db
def test_finished_windows_are_pruned():
    store = caches[limits.CACHE]
    if not isinstance(store, limits.LimitsDatabaseCache):
        # Redis expires the keys itself (EXPIREAT at the window's end).
        name, end = limits.Limit("test.prune", "k", 1).window(time.time())
        limits.hit(limits.Limit("test.prune", "k", 1))
        client = store._cache.get_client()
        assert abs(client.expiretime(store.make_and_validate_key(name)) - end) <= 1
        return
    store.set("gone", 1, -1)
    limits.hit(limits.Limit("test.prune", "k", 1))
    assert limits.prune_counters() == 1
    assert all(e > timezone.now() for e in LimitCounter.objects.values_list("expires", flat=True))
