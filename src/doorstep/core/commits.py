"""Group commit: writes that arrive at once in one process share one transaction and commit.

A rush of lottery applications is thousands of small, independent INSERTs a second. Each in
its own transaction pays a BEGIN, a COMMIT and a durable WAL flush; together they pay them
once. `CommitGroup.run(work, alone)` is called by each request thread:

- the first thread to arrive when no batch is running becomes the leader: it takes every
  item waiting (itself included, at most `max_size`) and runs their `work` one after another
  in one transaction on its own database connection, then commits (a batch of one runs
  `alone`, as it would without the group: no delay and no cost at a light load; the
  leader keeps the lead while it writes, which is what lets the next batch gather);
- the others wait. Each is answered only after the COMMIT that holds its rows has returned
  (a yes is durable); then the first thread still waiting leads the next batch, so a thread
  never runs more than its own batch. Nobody waits for a timer: a batch is whatever arrived
  while the previous one was being written (no delay at all when the load is light).
- an item whose `work` raises (a refusal, a unique violation from a concurrent request, a
  changed activity) is taken out, the transaction is rolled back and the batch runs again
  without it. That item runs `alone`: in its own transaction, on its own thread, by the
  ordinary path, which gives the exact answer. So a batch never answers from a state it
  did not commit, and a bad request costs the others one rollback, never their answer.

`work` must run its statements without a transaction of its own (`atomic(savepoint=False)`)
and change nothing outside the database before the commit. Callers already inside a
transaction (a test's, a larger service's) run `alone` at once: other threads cannot see
their uncommitted rows. `DOORSTEP_GROUP_COMMIT=0` turns grouping off (every item alone).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db import connection, transaction

T = TypeVar("T")

_WAIT, _LEAD, _DONE, _ALONE = "wait", "lead", "done", "alone"


def enabled() -> bool:
    return os.environ.get("DOORSTEP_GROUP_COMMIT", "1") != "0"


@dataclass(eq=False)
class _Item(Generic[T]):
    work: Callable[[], T]
    state: str = _WAIT
    result: T | None = None
    ready: threading.Event = field(default_factory=threading.Event)


class _Abort(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class CommitGroup(Generic[T]):
    """One group per kind of write and process (module level); thread-safe."""

    def __init__(self, name: str, *, max_size: int = 64) -> None:
        self.name = name
        self.max_size = max_size
        self._lock = threading.Lock()
        self._waiting: list[_Item[T]] = []
        self._leading = False
        # Counters for tests and benchmarks: batches committed and the items in them.
        self.batches = 0
        self.grouped = 0
        self.alone = 0

    def run(self, work: Callable[[], T], alone: Callable[[], T]) -> T:
        """`work`'s result once its batch has committed, or `alone()`'s outcome."""
        if not enabled() or connection.in_atomic_block:
            return alone()
        item: _Item[T] = _Item(work)
        with self._lock:
            self._waiting.append(item)
            if self._leading:
                lead = False
            else:
                self._leading = lead = True
                item.state = _LEAD
        if not lead:
            item.ready.wait()
        if item.state == _LEAD:
            batch = self._take()
            if batch == [item]:
                # Nobody else is waiting: this one runs alone, as it would without the group,
                # and keeps the lead while it writes, so those who arrive meanwhile form the
                # next batch (batches form from the time a write takes, not from a timer).
                with self._lock:
                    self.alone += 1
                try:
                    return alone()
                finally:
                    self._hand_on([])
            try:
                self._write(batch)
            finally:
                self._hand_on(batch)
        if item.state == _DONE:
            return item.result  # type: ignore[return-value]
        with self._lock:
            self.alone += 1
        return alone()

    def _take(self) -> list[_Item[T]]:
        with self._lock:
            batch = self._waiting[: self.max_size]
            del self._waiting[: self.max_size]
        return batch

    def _hand_on(self, batch: list[_Item[T]]) -> None:
        """The batch is settled: the first thread still waiting leads the next one."""
        for item in batch:
            if item.state in (_WAIT, _LEAD):
                item.state = _ALONE  # anything unexpected: its thread decides it alone
        with self._lock:
            if self._waiting:
                nxt = self._waiting[0]
                nxt.state = _LEAD
                nxt.ready.set()
            else:
                self._leading = False
        for item in batch:
            item.ready.set()

    def _write(self, batch: list[_Item[T]]) -> None:
        while batch:
            results: list[T] = []
            try:
                with transaction.atomic():
                    for i, item in enumerate(batch):
                        try:
                            results.append(item.work())
                        except Exception as exc:  # noqa: BLE001 - decided alone, exactly
                            raise _Abort(i) from exc
            except _Abort as abort:
                # Rolled back: the failed item goes alone, the rest run again without it.
                batch[abort.index].state = _ALONE
                batch = batch[: abort.index] + batch[abort.index + 1 :]
                continue
            except Exception:  # noqa: BLE001 - the commit failed: everyone decides alone
                return
            for item, result in zip(batch, results, strict=True):
                item.result, item.state = result, _DONE
            with self._lock:
                self.batches += 1
                self.grouped += len(batch)
            return
