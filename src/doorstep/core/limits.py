"""Rate limits on a store every worker shares (docs/security.md).

A limit is a fixed window: at most `count` events per `seconds` for one key (an IP network,
a device at a center), the window aligned on the clock, so every worker counts in the same
window. Counters live in the "limits" cache: Redis when REDIS_URL is set (`LimitsRedisCache`),
otherwise a table in the database (`LimitsDatabaseCache`: no extra service, kept across
restarts). Never in a per-process memory cache: two workers would double every limit and a
restart would reset it. One call counts any number of limits in one round trip (one upsert,
or one Redis pipeline): on the walk-in check-in, django-ratelimit's add-then-increment per
limit cost three extra round trips and halved the rate (docs/visits.md, "Speed").
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone

from .models import LimitCounter

CACHE = "limits"


class LimitsDatabaseCache(BaseCache):
    """Integer counters in one table (core.LimitCounter), each operation one statement.

    Django's DatabaseCache will not do: its `incr` reads, adds and writes in separate
    statements, so two requests at once can both write the same count, and every write also
    counts the whole table. `hits` is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING for
    all the counters of a call. Windows that have ended are pruned by the worker.
    """

    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)

    @property
    def _table(self) -> str:
        return connection.ops.quote_name(LimitCounter._meta.db_table)

    def _db_time(self, value: datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def hits(self, counters: Sequence[tuple[str, float]]) -> dict[str, int]:
        """Count one event on each (key, window end as a Unix time); the counts after it."""
        keys = [(self.make_and_validate_key(k), k, end) for k, end in counters]
        values = ", ".join(["(%s, 1, %s)"] * len(keys))
        params: list[Any] = []
        for stored, _key, end in keys:
            params += [stored, self._db_time(datetime.fromtimestamp(end, tz=UTC))]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (cache_key, value, expires) VALUES {values} "  # noqa: S608
                f"ON CONFLICT (cache_key) DO UPDATE SET value = {self._table}.value + 1 "
                f"RETURNING cache_key, value",
                params,
            )
            got = dict(cursor.fetchall())
        return {key: int(got[stored]) for stored, key, _end in keys}

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value FROM {self._table} WHERE cache_key = %s AND expires > %s",  # noqa: S608
                [key, self._db_time(timezone.now())],
            )
            row = cursor.fetchone()
        return default if row is None else int(row[0])

    def _expiry(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.fromtimestamp(seconds, tz=UTC)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        LimitCounter.objects.update_or_create(
            cache_key=self.make_and_validate_key(key, version=version),
            defaults={"value": int(value), "expires": self._expiry(timeout)},
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        if self.get(key, version=version) is not None:
            return False
        self.set(key, value, timeout, version)
        return True

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(
            LimitCounter.objects.filter(cache_key=key).update(expires=self._expiry(timeout))
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(LimitCounter.objects.filter(cache_key=key).delete()[0])

    def clear(self) -> None:
        LimitCounter.objects.all().delete()

    def prune(self) -> int:
        """Delete the counters whose window has passed."""
        return int(LimitCounter.objects.filter(expires__lte=timezone.now()).delete()[0])


class LimitsRedisCache(RedisCache):
    """Django's Redis cache with `hits`: INCR and EXPIRE of every counter in one pipeline."""

    def hits(self, counters: Sequence[tuple[str, float]]) -> dict[str, int]:
        stored = [(self.make_and_validate_key(k), k, end) for k, end in counters]
        client = self._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for key, _name, end in stored:
            pipe.incr(key)
            pipe.expireat(key, math.ceil(end), nx=True)
        replies = pipe.execute()
        return {name: int(replies[2 * i]) for i, (_key, name, _end) in enumerate(stored)}


@dataclass(frozen=True)
class Limit:
    """At most `count` events per `seconds` for `key` in `group`."""

    group: str
    key: str
    count: int
    seconds: int = 3600

    def window(self, now: float) -> tuple[str, float]:
        """This window's counter name and its end (a Unix time)."""
        start = now - now % self.seconds
        prefix = getattr(settings, "LIMITS_KEY_PREFIX", "rl")
        return f"{prefix}:{self.group}:{self.key}:{self.seconds}:{int(start)}", start + self.seconds


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def hit(*limits: Limit) -> list[Usage]:
    """Count one event against each limit, all in one round trip to the store."""
    now = time.time()
    windows = [limit.window(now) for limit in limits]
    counts = caches[CACHE].hits(windows)  # type: ignore[attr-defined]
    return [
        Usage(count=counts[name], limit=limit.count, retry_after=max(1, math.ceil(end - now)))
        for limit, (name, end) in zip(limits, windows, strict=True)
    ]


def peek(limit: Limit) -> Usage:
    """The count so far in this window, without counting."""
    now = time.time()
    name, end = limit.window(now)
    count = caches[CACHE].get(name) or 0
    return Usage(count=int(count), limit=limit.count, retry_after=max(1, math.ceil(end - now)))


def prune_counters() -> int:
    """Drop finished windows from the database store; Redis expires them by itself."""
    store = caches[CACHE]
    if isinstance(store, LimitsDatabaseCache):
        return store.prune()
    return 0


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The client's address from a request's META (or a WSGI environ).

    REMOTE_ADDR, unless settings.CLIENT_IP_HEADER names the header a trusted reverse proxy
    sets (e.g. HTTP_X_REAL_IP). Never read X-Forwarded-For by default: clients can forge it.
    """
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        value = str(meta.get(header, "")).split(",")[-1].strip()
        if value:
            return value
    return meta.get("REMOTE_ADDR") or None


def network_of(ip: str | None) -> str | None:
    """The address limits count: an IPv4 address, or the /64 an IPv6 address is in.

    One IPv6 host usually holds a whole /64, so counting single addresses would let it
    rotate past the limits. Anything unparsable counts as no address.
    """
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)
