from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from doorstep.volunteers import services
from tests.factories import make_account, make_center, make_staff


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


MON = date(2026, 12, 7)
SAT = date(2026, 12, 12)
NOW = local(MON, 9)


def volunteer(name: str, *, skills=("explainer",), party_member=False):
    user = make_account(name=name)
    services.save_profile(user=user, skills=skills, party_member=party_member, now=NOW)
    return user


def make_hall() -> dict:
    """黄浦区党建服务中心 with its staff, an explainer opportunity (cleared after training)
    with a Saturday 09:00–12:00 shift of 3 places, and a cleared volunteer."""
    center = make_center("黄浦区党建服务中心", district="黄浦区", level="district")
    staff = make_staff(center=center)
    opp = services.create_opportunity(
        by=staff,
        center_id=center.pk,
        role="explainer",
        title="党建展厅讲解",
        title_en="Exhibition explainer",
        now=NOW,
    )
    (shift,) = services.add_shifts(
        by=staff,
        opportunity_id=opp.pk,
        starts_at=local(SAT, 9),
        ends_at=local(SAT, 12),
        places=3,
        now=NOW,
    )
    vol = volunteer("志愿者甲")
    services.clear(by=staff, user_id=vol.pk, center_id=center.pk, role="explainer", now=NOW)
    return {"center": center, "staff": staff, "opp": opp, "shift": shift, "vol": vol}


@pytest.fixture
def hall(regions):
    return make_hall()


def cleared(hall, name: str):
    user = volunteer(name)
    services.clear(
        by=hall["staff"], user_id=user.pk, center_id=hall["center"].pk, role="explainer", now=NOW
    )
    return user


__all__ = ["timedelta"]
