"""Where sign-in codes go: a pluggable sender named by the `SMS_SENDER` setting.

A real SMS gateway implements `send_code`; `ConsoleSender` is for development and
`MemorySender` for tests. Senders are the only place a code exists in clear.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import mask_phone

DEV_CODES_KEY = "accounts:dev_codes"
DEV_CODES_KEEP = 20
DEV_CODES_TTL = 600


class SendError(Exception):
    """The sender could not hand the message over (gateway down, number refused)."""


class Sender(Protocol):
    def send_code(self, *, phone: str, code: str, text: str) -> None: ...


@dataclass(frozen=True)
class SentCode:
    phone: str
    code: str
    text: str
    sent_at: datetime


class ConsoleSender:
    """Development: print the message; with DEBUG on, also keep it for the /dev/codes page."""

    def send_code(self, *, phone: str, code: str, text: str) -> None:
        print(f"[doorstep sms] to {mask_phone(phone)}: {text}", file=sys.stderr, flush=True)
        if settings.DEBUG:
            remember_dev_code(phone=phone, code=code)


class MemorySender:
    """Tests: collect messages in a list shared by all instances."""

    outbox: ClassVar[list[SentCode]] = []

    def send_code(self, *, phone: str, code: str, text: str) -> None:
        self.outbox.append(SentCode(phone=phone, code=code, text=text, sent_at=timezone.now()))


def get_sender() -> Sender:
    return import_string(settings.SMS_SENDER)()


def remember_dev_code(*, phone: str, code: str) -> None:
    """The last code per phone, newest first, for a developer who has no phone to hand."""
    entries = [e for e in cache.get(DEV_CODES_KEY, []) if e["phone"] != phone]
    entries.insert(0, {"phone": phone, "code": code, "sent_at": timezone.now()})
    cache.set(DEV_CODES_KEY, entries[:DEV_CODES_KEEP], DEV_CODES_TTL)


def dev_codes() -> list[dict]:
    return [
        {"phone_masked": mask_phone(e["phone"]), "code": e["code"], "sent_at": e["sent_at"]}
        for e in cache.get(DEV_CODES_KEY, [])
    ]
