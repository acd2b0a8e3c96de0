"""Group commit (core/commits.py): items that arrive together share one transaction; each is
answered only once its rows are committed; an item that fails is decided alone and costs the
others nothing but a rollback."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from doorstep.core.commits import CommitGroup
from doorstep.core.models import LimitCounter

pytestmark = pytest.mark.django_db(transaction=True)


def _write(key: str) -> str:
    LimitCounter.objects.create(cache_key=key, value=1, expires=timezone.now() + timedelta(days=1))
    return key


def _seen_by_another_connection(key: str) -> bool:
    """Read on a fresh thread (its own connection): true only for committed rows."""
    found: list[bool] = []

    def look() -> None:
        try:
            found.append(LimitCounter.objects.filter(cache_key=key).exists())
        finally:
            connection.close()

    t = threading.Thread(target=look)
    t.start()
    t.join(10)
    return found == [True]


def held(group: CommitGroup, n: int, jobs):
    """Start `n` threads while the group looks busy (they queue), then let them run as one
    batch. Returns each thread's outcome and whether its row was committed when it was
    answered."""
    with group._lock:
        group._leading = True  # as if a batch were being written: arrivals wait
    outcomes: list = [None] * n
    committed: list = [None] * n

    def run(i: int) -> None:
        try:
            work, alone = jobs(i)
            outcomes[i] = group.run(work, alone)
            committed[i] = _seen_by_another_connection(f"k{i}")
        except BaseException as exc:  # noqa: BLE001 - the test reads every outcome
            outcomes[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(group._waiting) < n and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(group._waiting) == n
    with group._lock:  # the busy batch ends: the first waiting leads the rest
        first = group._waiting[0]
        first.state = "lead"
        first.ready.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return outcomes, committed


def test_items_that_arrive_together_share_one_commit_and_answer_after_it():
    group: CommitGroup[str] = CommitGroup("test")
    outcomes, committed = held(group, 8, lambda i: (lambda: _write(f"k{i}"), lambda: f"alone {i}"))
    assert outcomes == [f"k{i}" for i in range(8)]
    assert committed == [True] * 8  # nobody was answered before the commit
    assert (group.batches, group.grouped, group.alone) == (1, 8, 0)
    assert not group._leading and not group._waiting


def test_a_failing_item_is_decided_alone_and_the_others_commit_without_it():
    group: CommitGroup[str] = CommitGroup("test")

    def jobs(i: int):
        def work() -> str:
            _write(f"k{i}")
            if i in (2, 5):
                raise ValueError("refused after writing")
            return f"k{i}"

        def alone() -> str:
            # The exact answer, decided on its own; its batch's rows were rolled back.
            assert not LimitCounter.objects.filter(cache_key=f"k{i}").exists()
            return f"alone {i}"

        return work, alone

    outcomes, _ = held(group, 7, jobs)
    assert outcomes == ["k0", "k1", "alone 2", "k3", "k4", "alone 5", "k6"]
    assert sorted(LimitCounter.objects.values_list("cache_key", flat=True)) == [
        "k0",
        "k1",
        "k3",
        "k4",
        "k6",
    ]
    assert (group.batches, group.grouped, group.alone) == (1, 5, 2)


def test_alone_runs_alone_raises_its_own_answer():
    group: CommitGroup[str] = CommitGroup("test")

    def jobs(i: int):
        def alone() -> str:
            raise KeyError(f"exact reason {i}")

        return (lambda: (_ for _ in ()).throw(ValueError("x")), alone)

    outcomes, _ = held(group, 3, jobs)
    assert [type(o) for o in outcomes] == [KeyError] * 3
    assert group.batches == 0 and group.alone == 3


def test_batches_are_capped_and_the_next_waiting_thread_leads_the_rest():
    group: CommitGroup[str] = CommitGroup("test", max_size=3)
    outcomes, committed = held(group, 7, lambda i: (lambda: _write(f"k{i}"), lambda: "alone"))
    assert outcomes == [f"k{i}" for i in range(7)]
    assert committed == [True] * 7
    assert (group.batches, group.grouped) == (3, 7)  # 3 + 3 + 1


def test_inside_a_transaction_an_item_runs_alone_at_once(django_db_blocker):
    group: CommitGroup[str] = CommitGroup("test")
    from django.db import transaction

    with transaction.atomic():
        assert group.run(lambda: "grouped", lambda: "alone") == "alone"
    assert group.batches == 0


def test_off_by_setting(monkeypatch):
    monkeypatch.setenv("DOORSTEP_GROUP_COMMIT", "0")
    group: CommitGroup[str] = CommitGroup("test")
    assert group.run(lambda: "grouped", lambda: "alone") == "alone"
    monkeypatch.setenv("DOORSTEP_GROUP_COMMIT", "1")
    assert group.run(lambda: _write("solo"), lambda: "alone") == "solo"
    assert (group.batches, group.grouped) == (1, 1)
