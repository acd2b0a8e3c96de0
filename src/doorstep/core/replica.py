"""Reads that may be a few seconds old go to a streaming replica; everything else to the primary.

Set `DATABASE_REPLICA_URL` (a PostgreSQL hot standby of `DATABASE_URL`) and three kinds of
read may be answered by it: directory searches, figures and the big screen, each marked in
code with `@stale_ok` (a view or an API operation) or `with stale_reads(request):` (a stream).
Everything else reads the primary. A read goes to the primary even inside a stale-tolerant
view when

- the request is not GET/HEAD (it writes, so its reads must see its writes);
- the same browser wrote within `REPLICA_FRESH_SECONDS` (default 5): after any request that
  was not GET/HEAD, `ReplicaMiddleware` sets the `ds_fresh` cookie, so a resident who just
  registered sees their place on the next page even if the replica has not replayed it;
- the code is inside a transaction on the primary (`transaction.atomic()`);
- the replica is down, or lags the primary by more than `REPLICA_MAX_LAG_SECONDS`
  (default 5): each process asks both servers at most once per `REPLICA_CHECK_SECONDS`
  (default 1), so the bound holds within that second; a replica that does not answer is not
  asked again for 5 seconds.

The ORM follows `Router`; hand-written SQL asks `reader()` for its connection.
docs/scaling.md says how to run the replica.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

REPLICA = "replica"
FRESH_COOKIE = "ds_fresh"
SAFE = frozenset({"GET", "HEAD"})
_RETRY_DOWN_SECONDS = 5.0

_stale_ok: contextvars.ContextVar[bool] = contextvars.ContextVar("stale_ok", default=False)


def configured() -> bool:
    return REPLICA in settings.DATABASES


def fresh_seconds() -> float:
    return float(getattr(settings, "REPLICA_FRESH_SECONDS", 5))


def may_be_stale(request: HttpRequest | None) -> bool:
    """Whether this request's reads may come from the replica (before its health)."""
    if request is None:
        return True
    if request.method not in SAFE:
        return False
    until = request.COOKIES.get(FRESH_COOKIE, "")
    try:
        return time.time() >= float(until)
    except ValueError:
        return True


@contextmanager
def stale_reads(request: HttpRequest | None = None) -> Iterator[None]:
    """Within this block, reads may be answered by the replica (see the module's rules)."""
    token = _stale_ok.set(configured() and may_be_stale(request))
    try:
        yield
    finally:
        _stale_ok.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Within this block every read goes to the primary (after this request's own write)."""
    token = _stale_ok.set(False)
    try:
        yield
    finally:
        _stale_ok.reset(token)


def stale_ok(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view or API operation whose reads may be a few seconds old."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with stale_reads(request):
            return view(request, *args, **kwargs)

    return wrapper


class _Health:
    """Per process: is the replica up and close enough? Asked at most once a second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = -1e9
        self._usable = False
        self.lag: float | None = None

    def forget(self) -> None:
        with self._lock:
            self._checked = -1e9

    def usable(self) -> bool:
        now = time.monotonic()
        every = float(getattr(settings, "REPLICA_CHECK_SECONDS", 1))
        if now - self._checked < every:
            return self._usable
        with self._lock:
            if now - self._checked < every:
                return self._usable
            usable, retry = self._check()
            self._usable = usable
            # A replica that does not answer is left alone for a while (no connect per read).
            self._checked = now if usable or retry else now + _RETRY_DOWN_SECONDS - every
            return usable

    def _check(self) -> tuple[bool, bool]:
        max_lag = float(getattr(settings, "REPLICA_MAX_LAG_SECONDS", 5))
        try:
            with connections[DEFAULT_DB_ALIAS].cursor() as cur:
                cur.execute("SELECT pg_current_wal_lsn()::text")
                primary_lsn = cur.fetchone()[0]
        except Exception:  # the primary's own trouble is not the replica's to report
            return False, True
        try:
            with connections[REPLICA].cursor() as cur:
                cur.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, "
                    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
                    [primary_lsn],
                )
                caught_up, age = cur.fetchone()
        except Exception as exc:
            log.warning("replica unavailable, reading the primary: %s", exc)
            _close(REPLICA)
            self.lag = None
            return False, False
        # Caught up with what the primary had written when asked: no lag, however long ago
        # its last transaction was. Otherwise the lag is the age of the last one replayed.
        self.lag = 0.0 if caught_up else (float(age) if age is not None else None)
        return self.lag is not None and self.lag <= max_lag, True


def _close(alias: str) -> None:
    try:
        connections[alias].close()
    except Exception:  # noqa: S110 -- closing a connection that is already gone
        pass


health = _Health()


def read_alias() -> str:
    """The database this read should use, by the module's rules."""
    if not _stale_ok.get() or not configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA if health.usable() else DEFAULT_DB_ALIAS


def reader() -> Any:
    """The connection a hand-written SELECT should use (`with reader().cursor() as cur`)."""
    return connections[read_alias()]


class Router:
    """Django's database router: writes and migrations to the primary, reads by the rules."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: same rows, same ids

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """After a request that may have written, this browser reads the primary for a while."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if configured() and request.method not in SAFE:
            until = time.time() + fresh_seconds()
            response.set_cookie(
                FRESH_COOKIE,
                f"{until:.3f}",
                max_age=int(fresh_seconds()) + 1,
                httponly=True,
                samesite="Lax",
                secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
            )
        return response
