from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.activities import tickets
from doorstep.activities.checkin import check_in
from doorstep.activities.services import register
from doorstep.visits.models import Visit
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


def test_an_accepted_activity_check_in_is_a_visit_once(regions):
    # Tomorrow at 10:00 local time, and the door scans at 09:30 that day: the same local day
    # whatever hour the suite runs at (a start "now + 2 h" falls on the next day after 22:00).
    local_now = timezone.localtime()
    starts_at = (local_now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    now = starts_at - timedelta(minutes=30)
    center = make_center("康健街道社区党群服务中心", district="徐汇区")
    activity = make_activity(
        center,
        audience="everyone",
        starts_at=starts_at,
        registration_closes_at=starts_at - timedelta(hours=1),
        now=local_now,
    )
    a = make_account()
    reg = register(
        account=a, activity_id=activity.pk, person_ids=[a.people.first().pk], now=local_now
    )
    token = tickets.token_for(reg.registrations[0])
    staff = make_staff(center=center)
    assert check_in(token=token, nonce="visit-n1-0000", staff=staff, now=now).ok
    check_in(token=token, nonce="visit-n1-0000", staff=staff, now=now)  # the same scan again
    check_in(token=token, nonce="visit-n2-0000", staff=staff, now=now)  # already checked in
    check_in(token="garbage", nonce="visit-n3-0000", staff=staff, now=now)
    visit = Visit.objects.get()
    assert visit.channel == "activity" and visit.user == a and visit.center == center
    assert visit.activity_checkin.nonce == "visit-n1-0000"
    assert visit.group == "adult" and visit.recorded_by == staff
