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
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
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


TICKET_PATH = "/t/"


def path_for(token: str) -> str:
    """What the QR holds (made absolute by the page): the ticket's own page, so a phone
    camera or WeChat opens it; the door reads the token back out (token_from_scan)."""
    return f"{TICKET_PATH}{token}"


def token_from_scan(text: str) -> str:
    """The token inside a scanned ticket URL (http(s)://any host/t/<token>), or the text
    itself when it is not such a URL (a bare token). The host does not matter: the token's
    signature is what admits."""
    text = (text or "").strip()
    if text.startswith(("http://", "https://")):
        path = urlsplit(text).path
        if path.startswith(TICKET_PATH):
            return path[len(TICKET_PATH) :].strip("/")
    return text


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


# Short codes: read aloud or typed at the door. No 0/O, 1/I/L; typed in any case, with or
# without spaces and dashes. 31 symbols, 6 long: 887 million codes per activity.
SHORT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SHORT_LENGTH = 6


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_ALPHABET) for _i in range(SHORT_LENGTH))


def normalize_short_code(text: str) -> str | None:
    """The code as stored, or None when `text` cannot be one."""
    code = "".join(ch for ch in (text or "").upper() if ch not in " -\t\r\n")
    if not 6 <= len(code) <= 8 or any(ch not in SHORT_ALPHABET for ch in code):
        return None
    return code


def short_code_for(registration: Registration) -> str:
    """The registration's short code, giving it one (unique in its activity) if it has none."""
    if registration.short_code:
        return registration.short_code
    for _attempt in range(10):
        code = new_short_code()
        try:
            with transaction.atomic():
                updated = Registration.objects.filter(pk=registration.pk, short_code="").update(
                    short_code=code
                )
        except IntegrityError:
            continue  # taken in this activity: draw again
        if not updated:  # given one meanwhile (another request)
            code = Registration.objects.values_list("short_code", flat=True).get(pk=registration.pk)
        registration.short_code = code
        return code
    raise RuntimeError("no free short code")  # 10 collisions in 887 million: not happening
