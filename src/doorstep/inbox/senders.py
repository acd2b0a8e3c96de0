"""Where notices go besides the inbox: a pluggable sender named by `NOTICE_SENDER`.

A deployment points NOTICE_SENDER at a class with `send_sms` and `send_email` that talks to
its SMS gateway and mail server. `ConsoleNoticeSender` (the default) prints a line per
message with the number masked; `MemoryNoticeSender` collects messages for tests;
`DjangoMailNoticeSender` sends email through Django's mail settings and SMS to the console.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from doorstep.accounts.models import mask_phone

DEFAULT_SENDER = "doorstep.inbox.senders.ConsoleNoticeSender"


class NoticeSender(Protocol):
    def send_sms(self, *, phone: str, text: str) -> None: ...

    def send_email(self, *, address: str, subject: str, text: str) -> None: ...


@dataclass(frozen=True)
class SentNotice:
    channel: str  # "sms" or "email"
    to: str
    subject: str
    text: str


class ConsoleNoticeSender:
    def send_sms(self, *, phone: str, text: str) -> None:
        print(f"[doorstep notice sms] to {mask_phone(phone)}: {text}", file=sys.stderr, flush=True)

    def send_email(self, *, address: str, subject: str, text: str) -> None:
        user, _at, domain = address.partition("@")
        print(f"[doorstep notice email] to {user[:1]}***@{domain}: {subject}", file=sys.stderr)


class DjangoMailNoticeSender(ConsoleNoticeSender):
    def send_email(self, *, address: str, subject: str, text: str) -> None:
        send_mail(subject, text, None, [address])


class MemoryNoticeSender:
    """Tests: every message in one list shared by all instances."""

    outbox: ClassVar[list[SentNotice]] = []

    def send_sms(self, *, phone: str, text: str) -> None:
        self.outbox.append(SentNotice(channel="sms", to=phone, subject="", text=text))

    def send_email(self, *, address: str, subject: str, text: str) -> None:
        self.outbox.append(SentNotice(channel="email", to=address, subject=subject, text=text))


def get_notice_sender() -> NoticeSender:
    return import_string(getattr(settings, "NOTICE_SENDER", DEFAULT_SENDER))()
