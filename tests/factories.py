"""Small helpers that create data through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from doorstep.centers.services import CenterInput, save_center

_seq = itertools.count(1)


def make_center(name: str, *, district: str = "长宁区", **kw: Any):
    data = CenterInput(
        external_key=kw.pop("external_key", f"test:{next(_seq)}"),
        name=name,
        level=kw.pop("level", "subdistrict"),
        district=district,
        source=kw.pop("source", "manual"),
        **kw,
    )
    center, _outcome = save_center(data=data)
    return center


_phone = itertools.count(13800000000)


def make_account(*, name: str = "居民", children: tuple[tuple[str, int], ...] = (), **kw: Any):
    """A resident account with its holder and optional children (name, birth year)."""
    from doorstep.accounts.models import Person, User

    user = User.objects.create(phone=f"+86{next(_phone)}", display_name=name, **kw)
    Person.objects.create(account=user, name=name, is_account_holder=True, birth_year=1985)
    for child, year in children:
        Person.objects.create(account=user, name=child, birth_year=year)
    return user


def make_staff(*, scope: str = "center", center=None, region=None, username: str | None = None):
    from doorstep.accounts.models import StaffRole, User

    user = User.objects.create(username=username or f"staff{next(_seq)}", is_staff=True)
    StaffRole.objects.create(user=user, scope=scope, center=center, region=region)
    return user


def make_activity(center, **kw: Any):
    """A published activity starting in a week, with registration open now."""
    from datetime import timedelta

    from django.utils import timezone

    from doorstep.activities.models import Activity
    from doorstep.activities.services import publish

    now = kw.pop("now", None) or timezone.now()
    starts = kw.pop("starts_at", now + timedelta(days=7))
    fields = {
        "title": "象棋课",
        "category": "chess",
        "audience": "children_with_parent",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1, minutes=30),
        "capacity": 30,
        "registration_opens_at": now - timedelta(hours=1),
        "registration_closes_at": starts - timedelta(hours=2),
    }
    fields.update(kw)
    publish_it = fields.pop("publish", True)
    activity = Activity.objects.create(center=center, **fields)
    if publish_it:
        activity = publish(activity_id=activity.pk)
    return activity


def client_for(user: Any, lang: str = "zh-hans"):  # noqa: ANN201
    """A test client in `lang`, signed in as `user` (None: anonymous)."""
    from django.test import Client

    c = Client()
    c.cookies["django_language"] = lang
    if user is not None:
        c.force_login(user)
    return c
