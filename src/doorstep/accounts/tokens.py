"""Bearer tokens: issued, revoked, and verified without a database read on the hot path.

Only a token's SHA-256 is stored. `user_for_token()` reads the token and its user once, then
keeps the answer in this process for `TOKEN_CACHE_SECONDS` (default 30): a rush of requests
with one token costs no statement for authentication. Revocation takes effect at once in the
process that revokes (revoking, deleting a token or saving its user drops the entry here) and
within `TOKEN_CACHE_SECONDS` in every other process: that is the stated bound for signing
out elsewhere or disabling an account.

`last_used_at` is kept to the minute and written in batches: each process notes the tokens
it saw and writes them all in one UPDATE at most once a minute (`TOKEN_TOUCH_INTERVAL`).
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from doorstep.core.db import concrete_columns, instances

from .models import ApiToken, User

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 128
MAX_CACHED = 20_000  # verified tokens per process before lapsed ones are dropped


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _Seen:
    """This process's verified tokens and the uses not yet written (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users: dict[str, tuple[float, User]] = {}  # hash -> (valid until, user)
        self.written: dict[str, datetime] = {}  # hash -> last_used_at as stored
        self.pending: set[str] = set()
        self.flushed_at: datetime | None = None

    def clear(self) -> None:
        with self.lock:
            self.users.clear()
            self.written.clear()
            self.pending.clear()
            self.flushed_at = None

    def prune(self) -> None:
        """Drop lapsed entries (called with the lock held when the cache grows large)."""
        now = time.monotonic()
        for h in [h for h, (until, _u) in self.users.items() if until <= now]:
            del self.users[h]
        for h in [h for h in self.written if h not in self.users and h not in self.pending]:
            del self.written[h]

    def forget_user(self, user_id: int) -> None:
        with self.lock:
            for h in [h for h, (_t, u) in self.users.items() if u.pk == user_id]:
                del self.users[h]

    def forget(self, h: str) -> None:
        with self.lock:
            self.users.pop(h, None)
            self.pending.discard(h)


_seen = _Seen()


def clear_cache() -> None:
    """Forget every verified token of this process (tests; after a key rotation)."""
    _seen.clear()


def issue_token(user: User) -> str:
    """A new bearer token for `user`; only its SHA-256 is kept, so this is the one chance."""
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=token_hash(token))
    return token


def revoke_token(token: str) -> bool:
    h = token_hash(token)
    _seen.forget(h)
    deleted, _details = ApiToken.objects.filter(key_hash=h).delete()
    return deleted > 0


def user_for_token(token: str, *, now: datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None.

    From this process's cache when it verified the token less than TOKEN_CACHE_SECONDS ago
    (no statement); otherwise one statement (PostgreSQL: the look-up with the touch of
    `last_used_at` in the same round trip). Unknown tokens are never cached.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = now or timezone.now()
    h = token_hash(token)
    ttl = settings.TOKEN_CACHE_SECONDS
    with _seen.lock:
        hit = _seen.users.get(h)
        if hit is not None and hit[0] > time.monotonic():
            written = _seen.written.get(h)
            if written is None or now - written >= TOKEN_TOUCH_INTERVAL:
                _seen.pending.add(h)
            user = copy.copy(hit[1])
        else:
            user = None
    if user is not None:
        _flush_if_due(now)
        return user
    user = _read(h, now)
    if user is None:
        return None
    if ttl > 0:
        with _seen.lock:
            _seen.users[h] = (time.monotonic() + ttl, copy.copy(user))
            _seen.written[h] = now
            if len(_seen.users) > MAX_CACHED:
                _seen.prune()
    return user


def _read(h: str, now: datetime) -> User | None:
    if connection.vendor == "postgresql":
        params = {"hash": h, "now": now, "stale": now - TOKEN_TOUCH_INTERVAL}
        found = instances(User, _token_sql(), params)
        user = found[0][0] if found else None
        return user if user is not None and user.is_active else None
    row = ApiToken.objects.select_related("user").filter(key_hash=h).first()
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def _flush_if_due(now: datetime) -> None:
    """Write the noted uses, all in one statement, at most once a TOKEN_TOUCH_INTERVAL."""
    with _seen.lock:
        if not _seen.pending:
            return
        if _seen.flushed_at is not None and now - _seen.flushed_at < TOKEN_TOUCH_INTERVAL:
            return
        hashes = sorted(_seen.pending)
        _seen.pending.clear()
        _seen.flushed_at = now
        for h in hashes:
            _seen.written[h] = now
    ApiToken.objects.filter(key_hash__in=hashes).update(last_used_at=now)


_token_sql_cache: list[str] = []


def _token_sql() -> str:
    if not _token_sql_cache:
        columns = concrete_columns(User, "u")
        _token_sql_cache.append(
            "WITH t AS MATERIALIZED ("  # noqa: S608 (column names from the model)
            f"  SELECT {columns}, tok.id AS token_id, tok.last_used_at AS token_used_at"
            "  FROM accounts_apitoken tok JOIN accounts_user u ON u.id = tok.user_id"
            "  WHERE tok.key_hash = %(hash)s),"
            " touch AS ("
            "  UPDATE accounts_apitoken SET last_used_at = %(now)s FROM t"
            "  WHERE accounts_apitoken.id = t.token_id AND t.is_active"
            "    AND (t.token_used_at IS NULL OR t.token_used_at <= %(stale)s))"
            " SELECT * FROM t"
        )
    return _token_sql_cache[0]


def _user_saved(sender: type, instance: User, **kwargs: object) -> None:
    _seen.forget_user(instance.pk)


def _token_deleted(sender: type, instance: ApiToken, **kwargs: object) -> None:
    _seen.forget(instance.key_hash)


def connect_signals() -> None:
    """Saving a user (disabled, renamed, language changed) or deleting a token (signed out,
    revoked in the admin) drops this process's cached answer (AccountsConfig.ready)."""
    post_save.connect(_user_saved, sender=User, dispatch_uid="tokens.user_saved")
    post_delete.connect(_user_saved, sender=User, dispatch_uid="tokens.user_deleted")
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="tokens.token_deleted")
