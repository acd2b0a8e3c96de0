"""Ticket tokens: signed, so a door phone can verify one without the database.

A token is `<registration public id>.<activity id>.<YYYYMMDD of the activity>.<signature>`
where the signature is the first 16 bytes of HMAC-SHA256 over the rest, keyed by a key
derived from SECRET_KEY, in base32 (QR alphanumeric-friendly). The public id is random
(96 bits), so a token cannot be guessed, and any change breaks the signature. Tokens signed
with a key in SECRET_KEY_FALLBACKS still verify, so rotating the key keeps issued tickets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

from doorstep.core.keys import signing_keys

from .models import Registration


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"doorstep.ticket:" + secret.encode()).digest()


def _sign(body: str, secret: str) -> str:
    mac = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(mac).decode().rstrip("=")


def token_for(registration: Registration) -> str:
    day = timezone.localtime(registration.activity.starts_at).strftime("%Y%m%d")
    body = f"{registration.public_id}.{registration.activity_id}.{day}"
    return f"{body}.{_sign(body, settings.SECRET_KEY)}"


@dataclass(frozen=True)
class TicketClaim:
    public_id: str
    activity_id: int
    day: date


def verify(token: str) -> TicketClaim | None:
    """The claim inside a genuine token, or None for a forged, altered or malformed one."""
    # Typed codes arrive in groups of four, sometimes over several lines: ignore spacing.
    token = "".join((token or "").split())
    if len(token) > 120:
        return None
    parts = token.split(".")
    if len(parts) != 4:
        return None
    public_id, activity_id, day, signature = parts
    body = f"{public_id}.{activity_id}.{day}"
    signature = signature.upper()
    if not any(hmac.compare_digest(_sign(body, k), signature) for k in signing_keys()):
        return None
    try:
        return TicketClaim(
            public_id=public_id,
            activity_id=int(activity_id),
            day=date(int(day[:4]), int(day[4:6]), int(day[6:8])),
        )
    except ValueError:
        return None
