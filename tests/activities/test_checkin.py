from datetime import timedelta

import pytest
import segno
from django.utils import timezone

from doorstep.activities import tickets
from doorstep.activities.checkin import add_walk_ins, check_in
from doorstep.activities.models import CheckIn
from doorstep.activities.services import RegistrationError, cancel, register
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(regions):
    # Tomorrow at 10:00 local time, and the door scans at 09:30 that day: the same local day
    # whatever hour the suite runs at (a start "now + 3 h" falls on the next day after 21:00).
    local_now = timezone.localtime()
    starts_at = (local_now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    now = starts_at - timedelta(minutes=30)
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(
        center,
        audience="everyone",
        capacity=3,
        starts_at=starts_at,
        registration_closes_at=starts_at - timedelta(hours=1),
    )
    a = make_account()
    reg = register(
        account=a, activity_id=activity.pk, person_ids=[a.people.first().pk], now=local_now
    )
    staff = make_staff(center=center)
    return {
        "now": now,
        "center": center,
        "activity": activity,
        "reg": reg.registrations[0],
        "account": a,
        "staff": staff,
    }


def test_token_is_signed_and_verifies_offline(setup):
    reg = setup["reg"]
    token = tickets.token_for(reg)
    claim = tickets.verify(token)
    assert claim and claim.public_id == reg.public_id and claim.activity_id == reg.activity_id
    body, sig = token.rsplit(".", 1)
    forged = body.replace(reg.public_id, "A" * len(reg.public_id)) + "." + sig
    assert tickets.verify(forged) is None
    assert tickets.verify(body + "." + "A" * len(sig)) is None
    assert tickets.verify("") is None
    assert tickets.verify("x" * 5000) is None


def test_qr_code_round_trips(setup):
    import io

    import zxingcpp
    from PIL import Image

    token = tickets.token_for(setup["reg"])
    buf = io.BytesIO()
    segno.make(token, error="m").save(buf, kind="png", scale=6)
    buf.seek(0)
    decoded = zxingcpp.read_barcodes(Image.open(buf), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [d.text for d in decoded] == [token]


def test_check_in_answers(setup):
    reg, staff, now = setup["reg"], setup["staff"], setup["now"]
    token = tickets.token_for(reg)
    first = check_in(token=token, nonce="scan-n1-0000", staff=staff, now=now)
    assert first.code == "welcome" and first.checked_in_at == now
    # Scanning the same code again (same nonce) is harmless: same answer, one record.
    assert check_in(token=token, nonce="scan-n1-0000", staff=staff, now=now).code == "welcome"
    assert CheckIn.objects.filter(nonce="scan-n1-0000").count() == 1
    # A second scan later says when they came.
    again = check_in(token=token, nonce="scan-n2-0000", staff=staff, now=now + timedelta(minutes=5))
    assert again.code == "already_checked_in" and again.checked_in_at == now
    assert (
        check_in(token="garbage", nonce="scan-n3-0000", staff=staff, now=now).code
        == "invalid_ticket"
    )
    tomorrow = now + timedelta(days=1)
    assert (
        check_in(token=token, nonce="scan-n4-0000", staff=staff, now=tomorrow).code == "wrong_day"
    )


def test_cancelled_ticket_and_other_centers_staff(setup):
    reg, now = setup["reg"], setup["now"]
    cancel(registration_id=reg.pk, by=setup["account"], now=now)
    token = tickets.token_for(reg)
    assert (
        check_in(token=token, nonce="scan-c1-0000", staff=setup["staff"], now=now).code
        == "cancelled"
    )
    other_center = make_center("别的中心", district="徐汇区")
    outsider = make_staff(center=other_center)
    with pytest.raises(RegistrationError) as exc:
        check_in(token=token, nonce="scan-c2-0000", staff=outsider, now=now)
    assert exc.value.code == "forbidden"


def test_walk_ins_only_fill_empty_places(setup):
    activity = add_walk_ins(activity_id=setup["activity"].pk, staff=setup["staff"], count=2)
    assert activity.taken == 3 and activity.walk_ins == 2
    with pytest.raises(RegistrationError) as exc:
        add_walk_ins(activity_id=activity.pk, staff=setup["staff"], count=1)
    assert exc.value.code == "full"


def test_a_nonce_belongs_to_one_scan_and_doors_know_their_activity(setup):
    reg, staff, now = setup["reg"], setup["staff"], setup["now"]
    token = tickets.token_for(reg)
    check_in(token=token, nonce="scan-x1-0000", staff=staff, now=now)
    other_center = make_center("别的中心", district="徐汇区")
    outsider = make_staff(center=other_center)
    # Someone else replaying the nonce learns nothing about that scan.
    with pytest.raises(RegistrationError) as exc:
        check_in(token="garbage", nonce="scan-x1-0000", staff=outsider, now=now)
    assert exc.value.code == "nonce_reused"
    other = make_activity(setup["center"], title="另一个活动", audience="everyone")
    result = check_in(token=token, nonce="scan-x2-0000", staff=staff, activity_id=other.pk, now=now)
    assert result.code == "wrong_activity"
    with pytest.raises(RegistrationError) as exc:
        check_in(token=token, nonce="short", staff=staff, now=now)
    assert exc.value.code == "nonce_required"


@pytest.mark.parametrize(
    ("start", "length", "scan", "expected"),
    [
        # 23:00-01:00: a late arrival after midnight is still welcome.
        ((23, 0), timedelta(hours=2), timedelta(hours=1, minutes=10), "welcome"),
        # Starts at 00:15: arriving at 23:50 the evening before is welcome.
        ((0, 15), timedelta(hours=1), -timedelta(minutes=25), "welcome"),
        # Starts at 00:15: two hours early is the wrong day.
        ((0, 15), timedelta(hours=1), -timedelta(hours=2), "wrong_day"),
        # 23:00-01:00: the next morning is the wrong day.
        ((23, 0), timedelta(hours=2), timedelta(hours=11), "wrong_day"),
    ],
)
def test_the_door_admits_across_midnight_while_the_activity_is_on(
    regions, start, length, scan, expected
):
    local_now = timezone.localtime()
    starts_at = (local_now + timedelta(days=2)).replace(
        hour=start[0], minute=start[1], second=0, microsecond=0
    )
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(
        center,
        audience="everyone",
        starts_at=starts_at,
        ends_at=starts_at + length,
        registration_closes_at=starts_at - timedelta(hours=3),
    )
    a = make_account()
    reg = register(
        account=a, activity_id=activity.pk, person_ids=[a.people.first().pk], now=local_now
    ).registrations[0]
    staff = make_staff(center=center)
    token = tickets.token_for(reg)
    result = check_in(token=token, nonce="scan-mid-0001", staff=staff, now=starts_at + scan)
    assert result.code == expected
