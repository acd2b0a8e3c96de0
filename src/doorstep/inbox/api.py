"""Inbox API: my notices, newest first, and marking them read."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from doorstep.accounts.auth import account_auth, caller
from doorstep.accounts.models import User

from . import services
from .models import Notice

router = Router(tags=["inbox"])


class NoticeOut(Schema):
    id: int
    subject: str
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NoticeList(Schema):
    unread: int
    items: list[NoticeOut]


class ReadIn(Schema):
    ids: list[int] | None = None


class ReadOut(Schema):
    marked: int


def _user(request: HttpRequest) -> User:
    return caller(request)


@router.get("/me/notices", auth=account_auth, response=NoticeList)
def my_notices(request: HttpRequest, limit: int = 50, offset: int = 0) -> dict:
    user = _user(request)
    limit = max(1, min(limit, 100))
    offset = max(0, offset)
    items = list(Notice.objects.filter(user=user)[offset : offset + limit])
    return {"unread": services.unread_count(user), "items": items}


@router.post("/me/notices/read", auth=account_auth, response=ReadOut)
def mark_read(request: HttpRequest, body: ReadIn) -> dict:
    """Mark the listed notices read, or all of them when `ids` is left out."""
    return {"marked": services.mark_read(user=_user(request), notice_ids=body.ids)}
