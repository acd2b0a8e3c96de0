"""Short ticket codes (no look-alikes, unique per activity, any case), the QR as a URL, and
check-in by code or from the roster (name, phone tail) under the same nonce rules as a scan."""

import io
from datetime import timedelta

import pytest
import segno
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.activities import tickets
from doorstep.activities.checkin import check_in, check_in_code, check_in_registration
from doorstep.activities.models import CheckIn, Registration
from doorstep.activities.selectors import find_on_roster
from doorstep.activities.services import RegistrationError, register
from tests.factories import make_account, make_activity, make_center, make_staff

LOOK_ALIKES = set("0O1IL")


@given(st.integers(min_value=0, max_value=2**32))
@settings(max_examples=200)
def test_codes_use_no_look_alikes_and_normalise(seed):
    import random

    code = "".join(random.Random(seed).choice(tickets.SHORT_ALPHABET) for _i in range(6))
    assert not LOOK_ALIKES & set(code)
    assert tickets.normalize_short_code(code.lower()) == code
    assert tickets.normalize_short_code(f" {code[:3]}-{code[3:]} ") == code


def test_new_codes_are_from_the_alphabet():
    codes = {tickets.new_short_code() for _i in range(2000)}
    assert all(len(c) == 6 and set(c) <= set(tickets.SHORT_ALPHABET) for c in codes)
    assert not LOOK_ALIKES & set("".join(codes))
    assert len(codes) > 1990  # random, not a counter


@given(st.text(max_size=12))
def test_anything_else_is_not_a_code(text):
    code = tickets.normalize_short_code(text)
    assert code is None or (6 <= len(code) <= 8 and set(code) <= set(tickets.SHORT_ALPHABET))


@pytest.fixture
def door(regions):
    starts_at = (timezone.localtime() + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(
        center, audience="everyone", capacity=40, places_per_household=4, starts_at=starts_at
    )
    return {
        "activity": activity,
        "staff": make_staff(center=center),
        "at": starts_at - timedelta(minutes=20),
    }


def _registered(activity, n):
    regs = []
    for i in range(n):
        a = make_account(name=f"居民{i}")
        regs += register(
            account=a, activity_id=activity.pk, person_ids=[a.people.first().pk]
        ).registrations
    return regs


@pytest.mark.django_db
def test_codes_are_unique_within_an_activity_even_when_the_draw_collides(door, monkeypatch):
    regs = _registered(door["activity"], 30)
    # Force collisions: the first codes drawn repeat, the service must draw again.
    drawn = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"] + [None] * 100)
    real = tickets.new_short_code
    monkeypatch.setattr(tickets, "new_short_code", lambda: next(drawn) or real())
    codes = [tickets.short_code_for(r) for r in regs]
    assert len(set(codes)) == 30
    assert codes[:2] == ["AAAAAA", "BBBBBB"]
    stored = Registration.objects.filter(activity=door["activity"]).values_list(
        "short_code", flat=True
    )
    assert sorted(stored) == sorted(codes)
    # Asking again gives the same code.
    again = Registration.objects.get(pk=regs[0].pk)
    assert tickets.short_code_for(again) == codes[0]


@pytest.mark.django_db
def test_check_in_by_code_in_any_case_once(door):
    (reg,) = _registered(door["activity"], 1)
    code = tickets.short_code_for(reg)
    staff, at, aid = door["staff"], door["at"], door["activity"].pk
    typed = code.lower()[:3] + " " + code.lower()[3:]
    first = check_in_code(activity_id=aid, code=typed, nonce="code-0001", staff=staff, now=at)
    assert first.code == "welcome" and first.registration.pk == reg.pk
    # The same submission again: the same answer, one arrival.
    again = check_in_code(activity_id=aid, code=code, nonce="code-0001", staff=staff, now=at)
    assert again.code == "welcome"
    other = check_in_code(activity_id=aid, code=code, nonce="code-0002", staff=staff, now=at)
    assert other.code == "already_checked_in"
    assert CheckIn.objects.filter(registration=reg, result="welcome").count() == 1
    assert CheckIn.objects.get(nonce="code-0001").method == "code"
    wrong = check_in_code(activity_id=aid, code="ZZZZZZ", nonce="code-0003", staff=staff, now=at)
    assert wrong.code == "not_found"


@pytest.mark.django_db
def test_codes_do_not_open_another_activity_or_center(door):
    (reg,) = _registered(door["activity"], 1)
    code = tickets.short_code_for(reg)
    elsewhere = make_activity(door["activity"].center, audience="everyone")
    miss = check_in_code(
        activity_id=elsewhere.pk, code=code, nonce="code-0004", staff=door["staff"], now=door["at"]
    )
    assert miss.code == "not_found"
    stranger = make_staff(center=make_center("别的中心", district="长宁区"))
    with pytest.raises(RegistrationError):
        check_in_code(activity_id=door["activity"].pk, code=code, nonce="code-0005", staff=stranger)
    assert Registration.objects.get(pk=reg.pk).checked_in_at is None


@pytest.mark.django_db
def test_roster_look_up_by_name_or_phone_tail_then_check_in(door):
    regs = _registered(door["activity"], 3)
    activity = door["activity"]
    by_name = find_on_roster(activity, "居民1")
    assert [r.pk for r in by_name] == [regs[1].pk]
    tail = regs[2].account.phone[-4:]
    assert [r.pk for r in find_on_roster(activity, tail)] == [regs[2].pk]
    assert find_on_roster(activity, "") == []
    result = check_in_registration(
        activity_id=activity.pk,
        registration_id=regs[1].pk,
        nonce="look-0001",
        staff=door["staff"],
        now=door["at"],
    )
    assert result.code == "welcome"
    assert CheckIn.objects.get(nonce="look-0001").method == "lookup"
    # The nonce is one scan: reused for someone else it is refused.
    with pytest.raises(RegistrationError):
        check_in_registration(
            activity_id=activity.pk,
            registration_id=regs[2].pk,
            nonce="look-0001",
            staff=door["staff"],
            now=door["at"],
        )


@pytest.mark.django_db
def test_the_qr_holds_the_ticket_url_and_the_door_reads_it(door):
    import zxingcpp
    from PIL import Image

    (reg,) = _registered(door["activity"], 1)
    token = tickets.token_for(Registration.objects.select_related("activity").get(pk=reg.pk))
    url = "https://doorstep.example" + tickets.path_for(token)
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6)
    buf.seek(0)
    (decoded,) = [
        d.text
        for d in zxingcpp.read_barcodes(Image.open(buf), formats=zxingcpp.BarcodeFormat.QRCode)
    ]
    assert decoded == url and tickets.token_from_scan(decoded) == token
    result = check_in(token=decoded, nonce="scan-url-01", staff=door["staff"], now=door["at"])
    assert result.code == "welcome"
    assert tickets.token_from_scan(token) == token  # a bare token still works
    assert tickets.token_from_scan("https://other.example/x/t/abc") == (
        "https://other.example/x/t/abc"  # not a ticket URL: left as typed, and will not verify
    )


@pytest.mark.django_db
def test_the_door_page_takes_codes_and_roster_picks(client, door):
    regs = _registered(door["activity"], 2)
    code = tickets.short_code_for(regs[0])
    client.force_login(door["staff"])
    url = f"/staff/activities/{door['activity'].pk}/checkin"
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=door["at"]):
        r = client.post(url, {"token": code.lower(), "nonce": "page-code-01"})
        assert "居民0" in r.content.decode() and "result-welcome" in r.content.decode()
        page = client.get(url, {"find": "居民1"}).content.decode()
        assert "居民1" in page and regs[1].account.phone not in page
        r = client.post(url, {"registration": str(regs[1].pk), "nonce": "page-look-01"})
        assert "result-welcome" in r.content.decode()
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 2
