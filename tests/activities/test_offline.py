"""Offline door: tickets verify with the day's public key alone; a queue of offline scans is
applied once however often it is sent, and what changed meanwhile comes back as a conflict."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from doorstep.activities import services, tickets
from doorstep.activities.checkin import apply_offline
from doorstep.activities.models import CheckIn, Registration
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(regions):
    starts_at = (timezone.localtime() + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, audience="everyone", capacity=10, starts_at=starts_at)
    regs = []
    for i in range(3):
        a = make_account(name=f"居民{i}")
        (reg,) = services.register(
            account=a, activity_id=activity.pk, person_ids=[a.people.first().pk]
        ).registrations
        regs.append(Registration.objects.select_related("activity").get(pk=reg.pk))
    return {
        "activity": activity,
        "regs": regs,
        "staff": make_staff(center=center),
        "at": starts_at - timedelta(minutes=15),
    }


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_public_day_key_alone_verifies_a_ticket(door):
    reg = door["regs"][0]
    token = tickets.token_for(reg)
    body, signature = token.rsplit(".", 1)
    day = timezone.localdate(reg.activity.starts_at)
    key = Ed25519PublicKey.from_public_bytes(_unb64(tickets.day_public_key(day)))
    raw = base64.b32decode(signature + "=" * (-len(signature) % 8))
    key.verify(raw, body.encode())  # what the phone does, with no secret
    with pytest.raises(InvalidSignature):
        key.verify(raw, body.replace(reg.public_id, "x" * len(reg.public_id)).encode())
    other_day = Ed25519PublicKey.from_public_bytes(
        _unb64(tickets.day_public_key(day + timedelta(days=1)))
    )
    with pytest.raises(InvalidSignature):
        other_day.verify(raw, body.encode())
    assert tickets.verify(token).public_id == reg.public_id


def test_tickets_issued_before_the_day_keys_still_verify(door):
    reg = door["regs"][0]
    day = timezone.localtime(reg.activity.starts_at).strftime("%Y%m%d")
    body = f"{reg.public_id}.{reg.activity_id}.{day}"
    key = hashlib.sha256(b"doorstep.ticket:" + settings.SECRET_KEY.encode()).digest()
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    legacy = f"{body}.{base64.b32encode(mac).decode().rstrip('=')}"
    assert tickets.verify(legacy).public_id == reg.public_id
    assert tickets.verify(legacy[:-1] + ("A" if legacy[-1] != "A" else "B")) is None


def test_a_queue_sent_twice_makes_one_arrival_each(door):
    scans = [
        {"token": tickets.token_for(r), "nonce": f"offline-{i:04d}", "at": door["at"].isoformat()}
        for i, r in enumerate(door["regs"])
    ]
    now = door["at"] + timedelta(minutes=10)
    first = apply_offline(
        activity_id=door["activity"].pk, staff=door["staff"], scans=scans, now=now
    )
    again = apply_offline(
        activity_id=door["activity"].pk, staff=door["staff"], scans=scans, now=now
    )
    assert [o.code for o in first] == ["welcome"] * 3 == [o.code for o in again]
    assert not any(o.conflict for o in first + again)
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 3
    assert CheckIn.objects.filter(result="welcome").count() == 3
    # The arrival is when the phone scanned, not when it synced.
    assert Registration.objects.get(pk=door["regs"][0].pk).checked_in_at == door["at"]
    assert set(CheckIn.objects.values_list("method", flat=True)) == {"offline"}


def test_cancelled_meanwhile_and_another_door_are_conflicts(door):
    cancelled, elsewhere, fine = door["regs"]
    services.cancel(
        registration_id=cancelled.pk, by=door["staff"], reason="家中有事", as_staff=True
    )
    from doorstep.activities.checkin import check_in

    other_door = make_staff(center=door["activity"].center)
    check_in(
        token=tickets.token_for(elsewhere), nonce="door-two-01", staff=other_door, now=door["at"]
    )
    scans = [
        {"token": tickets.token_for(r), "nonce": f"offline-{i:04d}", "at": door["at"].isoformat()}
        for i, r in enumerate((cancelled, elsewhere, fine))
    ]
    out = apply_offline(
        activity_id=door["activity"].pk,
        staff=door["staff"],
        scans=scans,
        now=door["at"] + timedelta(minutes=5),
    )
    assert [(o.code, o.conflict) for o in out] == [
        ("cancelled", True),
        ("already_checked_in", True),
        ("welcome", False),
    ]
    assert out[0].person == "居民0"


def test_offline_times_are_kept_within_a_day_and_not_ahead(door):
    reg = door["regs"][0]
    now = door["at"]
    scans = [{"token": tickets.token_for(reg), "nonce": "offline-late", "at": "2000-01-01T00:00Z"}]
    (out,) = apply_offline(
        activity_id=door["activity"].pk, staff=door["staff"], scans=scans, now=now
    )
    # A scan claiming to be from long ago counts as a day ago: outside the activity's day.
    assert out.code == "wrong_day" and out.conflict
    bad = [{"token": "x", "nonce": "offline-bad1", "at": "soon"}]
    (out,) = apply_offline(activity_id=door["activity"].pk, staff=door["staff"], scans=bad, now=now)
    assert out.code == "invalid_ticket"


def test_the_sync_endpoint(client, door):
    client.force_login(door["staff"])
    url = f"/staff/activities/{door['activity'].pk}/checkin/sync"
    scans = [{"token": tickets.token_for(door["regs"][0]), "nonce": "offline-http-1"}]
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=door["at"]):
        r = client.post(url, {"scans": scans}, content_type="application/json")
    assert r.status_code == 200
    body = r.json()
    assert body["results"][0]["code"] == "welcome" and body["counts"]["checked_in"] == 1
    r = client.post(url, "not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    r = client.post(url, {"scans": "nope"}, content_type="application/json")
    assert r.status_code == 400
    client.force_login(make_staff(center=make_center("别的中心", district="徐汇区")))
    assert client.post(url, {"scans": scans}, content_type="application/json").status_code == 404
