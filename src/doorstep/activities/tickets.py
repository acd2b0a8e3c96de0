"""Ticket tokens: signed, so a door phone can verify one without the database.

A token is `<registration public id>.<activity id>.<YYYYMMDD of the activity>.<signature>`
where the signature is Ed25519 over the rest, in base32 without padding (103 characters), by
a key for that day derived from SECRET_KEY. The day's *public* key is published to the
check-in page, so a door phone verifies tickets while offline and never holds a secret.
Tokens issued before (a 26-character HMAC-SHA256 signature) still verify on the server. The
public id is random (96 bits), so a token cannot be guessed, and any change breaks the
signature. Tokens signed with a key in SECRET_KEY_FALLBACKS still verify, so rotating the key
keeps issued tickets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from doorstep.core.keys import signing_keys

from .models import Registration

HMAC_SIGNATURE_LENGTH = 26


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"doorstep.ticket:" + secret.encode()).digest()


def _sign(body: str, secret: str) -> str:
    mac = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(mac).decode().rstrip("=")


@lru_cache(maxsize=64)
def _day_key(secret: str, day: str) -> Ed25519PrivateKey:
    seed = hmac.new(_key(secret), f"ticket-day:{day}".encode(), hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes | None:
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, binascii.Error):
        return None


def day_public_key(day: date) -> str:
    """The day's verification key (raw Ed25519, base64url): safe to publish."""
    raw = (
        _day_key(settings.SECRET_KEY, f"{day:%Y%m%d}")
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_for(registration: Registration) -> str:
    day = timezone.localtime(registration.activity.starts_at).strftime("%Y%m%d")
    body = f"{registration.public_id}.{registration.activity_id}.{day}"
    return f"{body}.{_b32(_day_key(settings.SECRET_KEY, day).sign(body.encode()))}"


def _signed(body: str, day: str, signature: str) -> bool:
    if len(signature) == HMAC_SIGNATURE_LENGTH:  # issued before the day keys
        return any(hmac.compare_digest(_sign(body, k), signature) for k in signing_keys())
    raw = _unb32(signature)
    if raw is None or len(raw) != 64 or not day.isdigit() or len(day) != 8:
        return False
    for secret in signing_keys():
        try:
            _day_key(secret, day).public_key().verify(raw, body.encode())
        except InvalidSignature:
            continue
        return True
    return False


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
    if len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 4:
        return None
    public_id, activity_id, day, signature = parts
    body = f"{public_id}.{activity_id}.{day}"
    if not _signed(body, day, signature.upper()):
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
