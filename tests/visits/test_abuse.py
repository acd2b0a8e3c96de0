"""Walk-in check-ins cannot be inflated from home (docs/visits.md, "Abuse").

The audit counted 50 of 50 anonymous check-ins sent from one address with fresh device ids
by someone who once saw the day's poster. Now each anonymous scan counts against its device
and its network at that center: a burst from one network is kept but marked suspect and left
out of the figures, and past the hourly limit the network is refused; a device that scans
again and again is refused too. Signed-in people are not limited this way (they are counted
once per window as themselves).
"""

import pytest
from django.utils import timezone

from doorstep.figures.models import CenterDay
from doorstep.figures.services import rebuild_figures
from doorstep.visits.models import Visit
from doorstep.visits.services import VisitError, check_in
from tests.wsgi_call import wsgi_call

pytestmark = pytest.mark.django_db

HOME = "203.0.113.9"


def scan(client, center, code, device, ip=HOME, **headers):
    return client.post(
        f"/api/v1/centers/{center.pk}/visits",
        {"k": code, "device": device},
        content_type="application/json",
        REMOTE_ADDR=ip,
        **headers,
    )


def test_fifty_fresh_devices_from_one_address(client, place, settings):
    center, code = place["center"], place["code"]
    answers = [scan(client, center, code, f"fresh-device-{i:04d}-abcdef") for i in range(50)]
    assert [a.status_code for a in answers] == [201] * 50  # under the network's limit of 60
    stored = Visit.objects.filter(center=center).order_by("pk")
    flags = [v.suspect for v in stored]
    assert flags == [False] * settings.VISIT_SUSPECT_PER_HOUR + [True] * (
        50 - settings.VISIT_SUSPECT_PER_HOUR
    )
    # The figures count the ten and show the forty apart.
    rebuild_figures()
    day = CenterDay.objects.get(center=center)
    assert (day.visits, day.suspect) == (10, 40)
    client.force_login(place["staff"])
    today = {"from": timezone.localdate().isoformat(), "to": timezone.localdate().isoformat()}
    page = client.get(f"/staff/figures/center/{center.pk}/", today).content.decode()
    assert "已剔除：可疑集中打卡" in page and '<a href="#how-anonymous">40</a>' in page
    assert "仍然无法证明的" in page  # what the protection cannot prove, said on the page
    figures = client.get("/api/v1/figures", {"center": center.pk, **today}).json()
    assert (figures["visits"], figures["suspect_visits"]) == (10, 40)
    client.logout()
    # Up to the limit, then refused with a clear answer; another network is unaffected.
    for i in range(50, settings.VISIT_NETWORK_PER_HOUR):
        assert scan(client, center, code, f"fresh-device-{i:04d}-abcdef").status_code == 201
    refused = scan(client, center, code, "fresh-device-9999-abcdef")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited" and body["retry_after"] > 0
    assert refused["Retry-After"] == str(body["retry_after"])
    assert Visit.objects.filter(center=center).count() == settings.VISIT_NETWORK_PER_HOUR
    elsewhere = scan(client, center, code, "another-home-device-abc", ip="198.51.100.20")
    assert elsewhere.status_code == 201 and not Visit.objects.get(pk=elsewhere.json()["id"]).suspect


def test_the_network_limit_is_per_center(client, place, settings):
    settings.VISIT_NETWORK_PER_HOUR = 3
    center, other = place["center"], place["other"]
    from doorstep.visits import codes

    for i in range(3):
        assert scan(client, center, place["code"], f"device-a-{i:04d}-abcdef").status_code == 201
    assert scan(client, center, place["code"], "device-a-9999-abcdef").status_code == 429
    other_code = codes.today_code(other.pk)
    assert scan(client, other, other_code, "device-b-0000-abcdef").status_code == 201


def test_one_device_scanning_again_and_again_is_refused(client, place, settings):
    center, code = place["center"], place["code"]
    device = "the-same-phone-0123456789"
    first = scan(client, center, code, device)
    assert first.status_code == 201
    for _ in range(settings.VISIT_DEVICE_PER_HOUR - 1):
        assert scan(client, center, code, device).status_code == 200  # the same visit
    again = scan(client, center, code, device, ip="198.51.100.30")  # even from elsewhere
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"
    assert Visit.objects.count() == 1


def test_signed_in_people_are_not_limited_by_their_network(client, place, settings):
    settings.VISIT_NETWORK_PER_HOUR = 1
    settings.VISIT_SUSPECT_PER_HOUR = 0
    center, code = place["center"], place["code"]
    assert scan(client, center, code, "one-anonymous-phone-abc").status_code == 201
    assert scan(client, center, code, "two-anonymous-phone-abc").status_code == 429
    signed_in = scan(client, center, code, "", HTTP_AUTHORIZATION=f"Bearer {place['token']}")
    assert signed_in.status_code == 201
    visit = Visit.objects.get(pk=signed_in.json()["id"])
    assert visit.user == place["resident"] and not visit.suspect


def test_the_served_application_counts_the_network_too(place, settings):
    """Through doorstep.wsgi, as make run serves it (the token API middleware list)."""
    from doorstep import wsgi

    settings.VISIT_NETWORK_PER_HOUR = 2
    center, code = place["center"], place["code"]
    path = f"/api/v1/centers/{center.pk}/visits"
    statuses = [
        wsgi_call(wsgi.application, path, {"k": code, "device": f"lean-device-{i}-abcdef"})[0]
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_the_scan_page_says_why_it_refuses(client, place, settings):
    settings.VISIT_NETWORK_PER_HOUR = 0
    center, code = place["center"], place["code"]
    r = client.post(f"/c/{center.pk}/visit", {"k": code}, REMOTE_ADDR=HOME)
    assert r.status_code == 429
    assert "这个网络" in r.content.decode()
    assert not Visit.objects.exists()


def test_the_service_refuses_without_the_http_layer(place, settings):
    from doorstep.visits.codes import device_hash

    settings.VISIT_NETWORK_PER_HOUR = 1
    center, code = place["center"], place["code"]
    check_in(center_id=center.pk, code=code, device=device_hash("a" * 20), ip=HOME)
    with pytest.raises(VisitError) as refused:
        check_in(center_id=center.pk, code=code, device=device_hash("b" * 20), ip=HOME)
    assert refused.value.code == "rate_limited" and refused.value.status == 429
