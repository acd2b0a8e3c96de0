"""The suite's one harness for race tests: threads that start together and report back.

Each thread gets its own database connection (closed when it ends) and the same barrier, so
a test can line every thread up at the step whose interleaving it wants to make certain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import close_old_connections, connection


def run_at_once(target: Callable[..., Any], args_list: Sequence[tuple]) -> list[Any]:
    """Run `target(barrier, *args)` once per `args` in `args_list`, each in its own thread.

    Returns each run's outcome in the order of `args_list`: what it returned, or the
    exception it raised (the test decides which exceptions are answers and which are bugs).
    """
    # A racer that fails before the barrier breaks it after 30 s rather than hanging the rest.
    barrier = threading.Barrier(len(args_list), timeout=30)
    outcomes: list[Any] = [None] * len(args_list)

    def wrapped(i: int, args: tuple) -> None:
        try:
            outcomes[i] = target(barrier, *args)
        except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the test
            outcomes[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer is still running after 60 s"
    return outcomes


def failures(outcomes: Sequence[Any], *expected: type[BaseException]) -> list[BaseException]:
    """The outcomes that are exceptions other than the `expected` kinds (answers, not bugs)."""
    return [
        o
        for o in outcomes
        if isinstance(o, BaseException) and not (expected and isinstance(o, expected))
    ]


def in_one_batch(group: Any, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread so that all of them join `group` (a core.commits
    CommitGroup) as one batch, in the order given: the group is made to look busy, the threads
    queue one after another, then the first leads them all. Returns each call's outcome (what
    it returned, or the exception it raised) in order."""
    import time

    with group._lock:
        group._leading = True  # as if a batch were being written: arrivals wait
    outcomes: list[Any] = [None] * len(calls)

    def wrapped(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the test
            outcomes[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(len(calls))]
    joined = 0
    try:
        for i, t in enumerate(threads):
            t.start()
            deadline = time.monotonic() + 10
            while len(group._waiting) <= i and time.monotonic() < deadline:
                time.sleep(0.002)
            joined = len(group._waiting)
    finally:
        with group._lock:  # the busy batch ends: the first waiting leads the rest
            if group._waiting:
                first = group._waiting[0]
                first.state = "lead"
                first.ready.set()
            else:
                group._leading = False
    assert joined == len(calls), "a call did not join the group"
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a call is still running after 60 s"
    return outcomes
