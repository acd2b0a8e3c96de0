"""The poster's rotating code and the device hash (docs/visits.md).

A center's code for a local date is the first 50 bits of HMAC-SHA256(key, "<center>:<date>")
in base32: 10 characters, readable and QR-alphanumeric friendly. The key is derived from
SECRET_KEY, so nobody can compute tomorrow's code from today's, and a code for one center is
worthless at another. Yesterday's code is still accepted for a short grace period after
midnight (VISIT_CODE_GRACE_MINUTES), so a scan at 00:05 of a poster printed that day works.
Codes made with a key in SECRET_KEY_FALLBACKS are accepted too, so rotating the key does not
void the posters already up. A heritage site's poster uses the subject "site-<id>" in place of
the center's id (`site_subject`), so no site's code is ever a center's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

from doorstep.core.keys import signing_keys

CODE_LENGTH = 10
# How far back a code is still recognised, only to tell "expired" from "forged": about two
# months ("last month's poster"); older codes are simply invalid. Kept short because every
# refused scan pays one HMAC per day looked at.
RECOGNISE_DAYS = 62


def _key(purpose: bytes, secret: str | None = None) -> bytes:
    return _derived(purpose, secret or settings.SECRET_KEY)


@lru_cache(maxsize=8)
def _derived(purpose: bytes, secret: str) -> bytes:
    return hashlib.sha256(b"doorstep.visits." + purpose + b":" + secret.encode()).digest()


def site_subject(site_id: int) -> str:
    return f"site-{site_id}"


def code_for(center_id: int | str, day: date, secret: str | None = None) -> str:
    mac = hmac.new(
        _key(b"poster", secret), f"{center_id}:{day.isoformat()}".encode(), hashlib.sha256
    )
    return base64.b32encode(mac.digest()[:10]).decode()[:CODE_LENGTH]


def _is_code_of(center_id: int | str, day: date, code: str) -> bool:
    return any(hmac.compare_digest(code_for(center_id, day, key), code) for key in signing_keys())


def today_code(center_id: int | str, now: datetime | None = None) -> str:
    return code_for(center_id, timezone.localdate(now or timezone.now()))


def grace() -> timedelta:
    return timedelta(minutes=getattr(settings, "VISIT_CODE_GRACE_MINUTES", 120))


def normalise(code: str) -> str:
    return "".join((code or "").split()).upper()[:32]


def code_state(center_id: int | str, code: str, now: datetime) -> str:
    """'valid', 'expired' (a genuine code of an earlier day) or 'invalid' (forged, altered)."""
    code = normalise(code)
    if len(code) != CODE_LENGTH:
        return "invalid"
    local = timezone.localtime(now)
    today = local.date()
    if _is_code_of(center_id, today, code):
        return "valid"
    yesterday = today - timedelta(days=1)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    if _is_code_of(center_id, yesterday, code):
        return "valid" if since_midnight < grace() else "expired"
    # Only reached by bad scans: worth a few hundred HMACs to give the right message.
    for back in range(2, RECOGNISE_DAYS):
        if hmac.compare_digest(code_for(center_id, today - timedelta(days=back)), code):
            return "expired"
    return "invalid"


def device_hash(raw: str) -> str:
    """32 hex characters standing for a device cookie; the cookie itself is never stored."""
    mac = hmac.new(_key(b"device"), (raw or "").encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
