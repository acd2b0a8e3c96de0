"""Notify residents: one bulk insert into the inbox, delivery by other channels after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .models import Notice


def notify(
    user_ids: Iterable[int], *, subject: str, kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """Put one notice in each user's inbox (each user once); return how many were written."""
    ids = sorted(set(user_ids))
    Notice.objects.bulk_create(
        [
            Notice(user_id=uid, subject=subject, kind=kind, title=title, body=body, url=url)
            for uid in ids
        ]
    )
    transaction.on_commit(lambda: _deliver(ids, title=title, body=body, url=url))
    return len(ids)


def _deliver(user_ids: list[int], *, title: str, body: str, url: str) -> None:
    """Email/SMS delivery for users who asked for it (filled in by the inbox work)."""
