from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from doorstep.visits import services
from doorstep.visits.models import Visit
from doorstep.visits.services import VisitError
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_tally_page_counts_groups_and_undoes_the_last_tap(client, place):
    c = place["center"]
    client.force_login(place["staff"])
    url = reverse("visits:tally", args=[c.pk])
    page = client.get(url)
    assert page.status_code == 200
    for group in ("elderly", "elderly", "rider"):
        r = client.post(url, {"group": group}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200
    body = r.content.decode()
    assert 'id="tally-panel"' in body and "<html" not in body  # the htmx fragment
    assert Visit.objects.filter(center=c, channel="tally").count() == 3
    assert Visit.objects.filter(center=c, group="elderly").count() == 2
    last = Visit.objects.filter(channel="tally").latest("pk")
    assert f'value="{last.pk}"' in body
    undo = client.post(reverse("visits:tally_undo", args=[c.pk]), {"visit": last.pk})
    assert undo.status_code == 200
    assert not Visit.objects.filter(pk=last.pk).exists()
    bad = client.post(url, {"group": "unknown"})
    assert bad.status_code == 400
    assert Visit.objects.filter(center=c).count() == 2


def test_tally_is_scope_checked(client, place):
    outsider = make_staff(center=place["other"])
    client.force_login(outsider)
    assert client.get(reverse("visits:tally", args=[place["center"].pk])).status_code == 404
    assert (
        client.post(reverse("visits:tally", args=[place["center"].pk]), {"group": "adult"})
    ).status_code == 404
    client.force_login(place["resident"])
    r = client.get(reverse("visits:tally", args=[place["center"].pk]))
    assert r.status_code == 302 and "staff" in r["Location"]
    assert not Visit.objects.exists()


def test_undo_only_own_tap_within_a_minute(place):
    c, staff, now = place["center"], place["staff"], place["now"]
    tap = services.tally(center_id=c.pk, staff=staff, group="child", now=now)
    colleague = make_staff(center=c)
    with pytest.raises(VisitError):
        services.undo_tally(visit_id=tap.pk, staff=colleague, now=now)
    with pytest.raises(VisitError) as err:
        services.undo_tally(visit_id=tap.pk, staff=staff, now=now + timedelta(seconds=61))
    assert err.value.code == "undo_expired"
    services.undo_tally(visit_id=tap.pk, staff=staff, now=now + timedelta(seconds=30))
    assert not Visit.objects.exists()


def test_tally_api(client, place):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {place['staff_token']}"}
    c = place["center"]
    r = client.post(
        f"/api/v1/centers/{c.pk}/tally", {"group": "rider"}, content_type="application/json", **auth
    )
    assert r.status_code == 201
    assert r.json()["by_group"]["rider"] == 1 and r.json()["by_channel"] == {"tally": 1}
    resident = {"HTTP_AUTHORIZATION": f"Bearer {place['token']}"}
    r = client.post(
        f"/api/v1/centers/{c.pk}/tally",
        {"group": "rider"},
        content_type="application/json",
        **resident,
    )
    assert r.status_code == 404
    today = client.get(f"/api/v1/centers/{c.pk}/visits/today", **auth)
    assert today.json()["day"] == timezone.localdate().isoformat()


def test_staff_hub_poster_and_door_screen(client, place):
    c = place["center"]
    client.force_login(place["staff"])
    hub = client.get(reverse("visits:staff_home")).content.decode()
    assert c.name in hub and place["other"].name not in hub
    poster = client.get(reverse("visits:poster", args=[c.pk]))
    assert poster.status_code == 200
    assert poster["Content-Type"].startswith("image/svg+xml")
    svg = poster.content.decode()
    assert 'width="210mm"' in svg and c.name in svg and place["code"] in svg
    assert '<svg x="30" y="76" width="150" height="150"' in svg
    door = client.get(reverse("visits:door", args=[c.pk])).content.decode()
    assert f"k={place['code']}" in door and 'http-equiv="refresh"' in door
    assert client.get(reverse("visits:poster", args=[place["other"].pk])).status_code == 404


def test_undo_is_taken_out_of_the_rollups_at_once(place):
    """A deletion leaves no updated_at, so the undo recomputes its center-day itself."""
    from doorstep.figures.models import CenterDay
    from doorstep.figures.services import refresh_figures

    c, staff, now = place["center"], place["staff"], place["now"]
    services.tally(center_id=c.pk, staff=staff, group="child", now=now)
    tap = services.tally(center_id=c.pk, staff=staff, group="elderly", now=now)
    refresh_figures()
    day = timezone.localdate(now)
    assert CenterDay.objects.get(center=c, day=day).visits == 2
    services.undo_tally(visit_id=tap.pk, staff=staff, now=now + timedelta(seconds=10))
    row = CenterDay.objects.get(center=c, day=day)
    assert row.visits == 1 and row.g_elderly == 0 and row.g_child == 1
