"""Rate limits on a store every worker shares (docs/security.md).

Counters are django-ratelimit's fixed windows, kept in the "limits" cache: Redis when
REDIS_URL is set, otherwise the database (`LimitsDatabaseCache`, no extra service, the same
table for every process, kept across restarts). Limits are never in a per-process memory
cache: two workers would double every limit and a restart would reset it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection
from django.utils import timezone
from django_ratelimit.core import get_usage

from .models import LimitCounter

CACHE = "limits"


class LimitsDatabaseCache(BaseCache):
    """A cache of integer counters in one table (core.LimitCounter): what django-ratelimit
    needs from a store, each operation one atomic statement.

    Django's DatabaseCache will not do: its `incr` reads, adds and writes in separate
    statements, so two requests at once can both write the same count (django-ratelimit
    refuses it for that reason), and every write also counts the whole table. Here `add` is
    an INSERT that does nothing when the key exists, `incr` an UPDATE ... RETURNING. Windows
    that have ended are pruned by the worker (`prune_counters`).
    """

    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)

    @property
    def _table(self) -> str:
        return connection.ops.quote_name(LimitCounter._meta.db_table)

    def _expiry(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.fromtimestamp(seconds, tz=UTC)

    def _db_time(self, value: datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value FROM {self._table} WHERE cache_key = %s AND expires > %s",  # noqa: S608
                [key, self._db_time(timezone.now())],
            )
            row = cursor.fetchone()
        return default if row is None else int(row[0])

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now, expires = timezone.now(), self._expiry(timeout)
        with connection.cursor() as cursor:
            # A key whose window has passed is taken over as if absent.
            cursor.execute(
                f"INSERT INTO {self._table} (cache_key, value, expires) VALUES (%s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, "
                f"expires = excluded.expires WHERE {self._table}.expires <= %s RETURNING cache_key",
                [key, int(value), self._db_time(expires), self._db_time(now)],
            )
            return cursor.fetchone() is not None

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (cache_key, value, expires) VALUES (%s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, "
                f"expires = excluded.expires",
                [key, int(value), self._db_time(self._expiry(timeout))],
            )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self._table} SET value = value + %s "  # noqa: S608
                f"WHERE cache_key = %s AND expires > %s RETURNING value",
                [delta, key, self._db_time(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return int(row[0])

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(
            LimitCounter.objects.filter(cache_key=key, expires__gt=timezone.now()).update(
                expires=self._expiry(timeout)
            )
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(LimitCounter.objects.filter(cache_key=key).delete()[0])

    def clear(self) -> None:
        LimitCounter.objects.all().delete()

    def prune(self) -> int:
        """Delete the counters whose window has passed."""
        return int(LimitCounter.objects.filter(expires__lte=timezone.now()).delete()[0])


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def _usage(group: str, key: str, rate: str, increment: bool) -> Usage:
    usage = get_usage(
        None, group=group, key=lambda _group, _request: key, rate=rate, increment=increment
    )
    if usage is None:  # RATELIMIT_ENABLE = False
        return Usage(count=0, limit=1, retry_after=0)
    return Usage(
        count=int(usage["count"]),
        limit=int(usage["limit"]),
        retry_after=max(1, int(usage["time_left"])),
    )


def hit(group: str, key: str, rate: str) -> Usage:
    """Count one event for `key` (e.g. an IP network) in `group` at `rate` ("30/h")."""
    return _usage(group, key, rate, increment=True)


def peek(group: str, key: str, rate: str) -> Usage:
    """The count so far, without counting."""
    return _usage(group, key, rate, increment=False)


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
