from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from doorstep.visits import codes, services
from doorstep.visits.models import Visit, VisitGuard
from doorstep.visits.services import VisitError
from tests.visits.conftest import DEVICE

pytestmark = pytest.mark.django_db


def post(client, center_id, body, **extra):
    return client.post(
        f"/api/v1/centers/{center_id}/visits", body, content_type="application/json", **extra
    )


def test_api_check_in_counts_once_in_the_window(client, place):
    c = place["center"]
    first = post(client, c.pk, {"k": place["code"], "device": DEVICE})
    assert first.status_code == 201, first.json()
    assert first.json()["counted"] is True
    again = post(client, c.pk, {"k": place["code"], "device": DEVICE})
    assert again.status_code == 200
    assert again.json()["counted"] is False
    assert again.json()["id"] == first.json()["id"]
    other_phone = post(client, c.pk, {"k": place["code"], "device": DEVICE + "x"})
    assert other_phone.status_code == 201
    assert Visit.objects.filter(center=c).count() == 2
    v = Visit.objects.get(pk=first.json()["id"])
    assert v.user is None and len(v.device) == 32 and DEVICE not in v.device
    assert v.channel == "qr" and v.day == timezone.localdate(v.arrived_at)


def test_forged_and_expired_codes_are_refused_with_clear_messages(client, place):
    c = place["center"]
    forged = post(client, c.pk, {"k": "ABCDEFGHIJ", "device": DEVICE})
    assert forged.status_code == 400
    assert forged.json()["code"] == "code_invalid"
    assert "无效" in forged.json()["message"]
    old = codes.code_for(c.pk, timezone.localdate() - timedelta(days=31))
    expired = post(client, c.pk, {"k": old, "device": DEVICE})
    assert expired.status_code == 400
    assert expired.json()["code"] == "code_expired"
    other_center = post(client, place["other"].pk, {"k": place["code"], "device": DEVICE})
    assert other_center.json()["code"] == "code_invalid"
    assert not Visit.objects.exists()
    assert not VisitGuard.objects.exists()


def test_unknown_center_missing_device_and_bad_token(client, place):
    ghost = 999999
    r = post(client, ghost, {"k": codes.today_code(ghost), "device": DEVICE})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = post(client, place["center"].pk, {"k": place["code"]})
    assert r.status_code == 400 and r.json()["code"] == "no_visitor"
    r = post(
        client,
        place["center"].pk,
        {"k": place["code"]},
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )
    assert r.status_code == 401
    r = post(client, place["center"].pk, {"k": place["code"], "device": DEVICE, "group": "cat"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_group"
    assert not Visit.objects.exists()


def test_signed_in_resident_is_linked_and_deduplicated(client, place):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {place['token']}"}
    c = place["center"]
    assert post(client, c.pk, {"k": place["code"], "group": "elderly"}, **auth).status_code == 201
    # Another device, same account: still the same person, counted once.
    again = post(client, c.pk, {"k": place["code"], "device": DEVICE}, **auth)
    assert again.status_code == 200
    v = Visit.objects.get()
    assert v.user == place["resident"] and v.device == "" and v.group == "elderly"


@override_settings(VISIT_DEDUPE_MINUTES=30)
def test_window_is_configurable_and_a_later_scan_counts_again(place):
    # 10:00 local time today: 31 minutes later is still the same day whatever the hour.
    c = place["center"]
    now = timezone.localtime(place["now"]).replace(hour=10, minute=0, second=0, microsecond=0)
    code = codes.today_code(c.pk, now)
    device = codes.device_hash(DEVICE)
    assert services.check_in(center_id=c.pk, code=code, device=device, now=now).counted
    later = now + timedelta(minutes=29)
    assert not services.check_in(center_id=c.pk, code=code, device=device, now=later).counted
    much_later = now + timedelta(minutes=31)
    assert services.check_in(center_id=c.pk, code=code, device=device, now=much_later).counted
    assert Visit.objects.count() == 2


def test_yesterdays_code_after_midnight_is_kind_then_refused(place):
    c = place["center"]
    midnight = timezone.localtime(place["now"]).replace(hour=0, minute=20)
    yesterday = codes.code_for(c.pk, midnight.date() - timedelta(days=1))
    device = codes.device_hash(DEVICE)
    assert services.check_in(center_id=c.pk, code=yesterday, device=device, now=midnight).counted
    with pytest.raises(VisitError) as err:
        services.check_in(
            center_id=c.pk, code=yesterday, device=device, now=midnight + timedelta(hours=3)
        )
    assert err.value.code == "code_expired"


def test_scan_page_needs_a_tap_then_records_and_offers_leaving(client, place):
    c = place["center"]
    url = reverse("visits:scan", args=[c.pk]) + f"?k={place['code']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "ds_device" in page.cookies
    assert not Visit.objects.exists()  # a GET (a link preview) records nothing
    assert c.name in page.content.decode()
    done = client.post(reverse("visits:scan", args=[c.pk]), {"k": place["code"], "group": "adult"})
    assert done.status_code == 200
    visit = Visit.objects.get()
    assert visit.group == "adult"
    assert reverse("visits:leave", args=[visit.pk]) in done.content.decode()
    again = client.post(reverse("visits:scan", args=[c.pk]), {"k": place["code"]})
    assert again.status_code == 200
    assert Visit.objects.count() == 1
    # A reload of the poster page shows the visit, not a second button.
    assert reverse("visits:leave", args=[visit.pk]) in client.get(url).content.decode()
    left = client.post(reverse("visits:leave", args=[visit.pk]))
    assert left.status_code == 200
    visit.refresh_from_db()
    assert visit.left_at is not None and not visit.left_estimated


def test_scan_page_explains_a_bad_code(client, place):
    c = place["center"]
    page = client.get(reverse("visits:scan", args=[c.pk]) + "?k=<script>x")
    assert page.status_code == 400
    body = page.content.decode()
    assert "<script>x" not in body
    assert "二维码对本阵地无效" in body
    posted = client.post(reverse("visits:scan", args=[c.pk]), {"k": "WRONGWRONG"})
    assert posted.status_code == 400
    assert not Visit.objects.exists()
    assert client.get(reverse("visits:scan", args=[987654]) + "?k=x").status_code == 404


def test_someone_else_cannot_close_my_visit(client, place):
    c = place["center"]
    r = post(client, c.pk, {"k": place["code"], "device": DEVICE})
    vid = r.json()["id"]
    stranger = client.post(
        f"/api/v1/visits/{vid}/checkout", {"device": DEVICE + "z"}, content_type="application/json"
    )
    assert stranger.status_code == 404
    mine = client.post(
        f"/api/v1/visits/{vid}/checkout", {"device": DEVICE}, content_type="application/json"
    )
    assert mine.status_code == 200 and mine.json()["left_at"] is not None
    assert client.post(reverse("visits:leave", args=[vid])).status_code == 404  # no cookie


def test_check_in_takes_few_statements(client, place, django_assert_max_num_queries):
    c = place["center"]
    post(client, c.pk, {"k": place["code"], "device": DEVICE + "warm"})  # cache the center
    # The anonymous limits (core/limits.py): the device's counter, new (one INSERT), and the
    # network's, counted once already (INSERT, UPDATE); then begin, guard upsert, insert,
    # release (one statement on PostgreSQL).
    with django_assert_max_num_queries(7):
        r = post(client, c.pk, {"k": place["code"], "device": DEVICE})
    assert r.status_code == 201
