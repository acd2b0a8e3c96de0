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
    now = timezone.now()
    center = make_center("康健街道社区党群服务中心", district="徐汇区")
    activity = make_activity(
        center,
        audience="everyone",
        starts_at=now + timedelta(hours=2),
        registration_closes_at=now + timedelta(hours=1),
    )
    a = make_account()
    reg = register(account=a, activity_id=activity.pk, person_ids=[a.people.first().pk])
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
