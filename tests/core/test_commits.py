"""Group commit (core/commits.py): items that arrive together share one transaction; each is
answered only once its rows are committed; an item that fails is decided alone and costs the
others nothing but a rollback."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from doorstep.core.commits import CommitGroup
from doorstep.core.models import LimitCounter
from tests.races import in_one_batch

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
    """Run `n` items as one batch; each outcome, and whether its row was committed when the
    item was answered."""
    committed: list = [None] * n

    def call(i: int):
        work, alone = jobs(i)

        def run():
            out = group.run(work, alone)
            committed[i] = _seen_by_another_connection(f"k{i}")
            return out

        return run

    outcomes = in_one_batch(group, [call(i) for i in range(n)])
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
    outcomes, committed = held(
        group, 7, lambda i: (lambda: _write(f"k{i}"), lambda: _write(f"k{i}") + " alone")
    )
    assert outcomes == [f"k{i}" for i in range(6)] + ["k6 alone"]  # 3 + 3, then 1 alone
    assert committed == [True] * 7
    assert (group.batches, group.grouped, group.alone) == (2, 6, 1)


def test_inside_a_transaction_an_item_runs_alone_at_once(django_db_blocker):
    group: CommitGroup[str] = CommitGroup("test")
    from django.db import transaction

    with transaction.atomic():
        assert group.run(lambda: "grouped", lambda: "alone") == "alone"
    assert group.batches == 0


def test_off_by_setting_and_a_batch_of_one_runs_alone(monkeypatch):
    monkeypatch.setenv("DOORSTEP_GROUP_COMMIT", "0")
    group: CommitGroup[str] = CommitGroup("test")
    assert group.run(lambda: "grouped", lambda: "alone") == "alone"
    monkeypatch.setenv("DOORSTEP_GROUP_COMMIT", "1")
    # Nobody else waiting: a batch of one runs alone, as without the group.
    assert group.run(lambda: "grouped", lambda: "alone") == "alone"
    assert (group.batches, group.grouped, group.alone) == (0, 0, 1)
