"""Answers of the directory API, cached until the directory changes or the minute turns.

The directory changes rarely (an import, an edit in the back office) and residents ask the
same questions over and over (古北, "open now near me", a district's elderly centers), so a
search's whole JSON answer is kept in the cache under a key made of

- the directory's version: one row that every change bumps in the same transaction as the
  change (services, imports, synth, regions, and signals for edits made in the Django admin),
  read with one primary-key lookup per request, so no worker ever serves an answer older than
  the last committed change;
- the minute, because "open now" is decided to the minute;
- the normalised filters and the language.

`DIRECTORY_CACHE_SECONDS = 0` turns it off (the benchmark measures both ways).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone, translation

from doorstep.core.replica import reader

from .models import DirectoryVersion

_TABLE = DirectoryVersion._meta.db_table


def directory_version() -> int:
    # From the same server as the rows it keys (a replica's version matches its rows).
    with reader().cursor() as cur:
        cur.execute(f"SELECT version FROM {_TABLE} WHERE id = 1")  # noqa: S608 (constant)
        row = cur.fetchone()
    return int(row[0]) if row else 0


def bump_directory_version() -> None:
    """Call inside the transaction that changes centers, hours, exceptions or regions.

    The new version is a fresh random number, not the old one plus one. A version that a
    rolled-back transaction held is then never handed out again, so a process that saw it
    (the writer itself, or a test whose transaction is rolled back) cannot take a later
    committed state with the same number for the one it cached: answers and the in-memory
    text index (textindex.py) are only ever compared for equality with it.
    """
    with transaction.atomic(), connection.cursor() as cur:
        current = directory_version()
        new = current
        while new in (current, 0):
            new = secrets.randbits(62)
        cur.execute(f"UPDATE {_TABLE} SET version = %s WHERE id = 1", [new])  # noqa: S608
        if cur.rowcount == 0:
            DirectoryVersion.objects.get_or_create(id=1, defaults={"version": new})


def cache_seconds() -> int:
    return int(getattr(settings, "DIRECTORY_CACHE_SECONDS", 90))


def cached_json(kind: str, params: dict[str, Any], build: Callable[[int | None], Any]) -> bytes:
    """The JSON bytes of build()'s answer, from the cache when this exact question was answered
    at this version in this minute. build() gets the version read here (None when the cache is
    off), so it need not read it again."""
    ttl = cache_seconds()
    if ttl <= 0:
        return _dumps(build(None))
    minute = timezone.localtime().strftime("%Y%m%d%H%M")
    raw = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
    version = directory_version()
    key = f"dir:{kind}:{version}:{minute}:{translation.get_language()}:{digest}"
    body = cache.get(key)
    if body is None:
        body = _dumps(build(version))
        cache.set(key, body, ttl)
    return body


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
