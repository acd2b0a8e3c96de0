"""The big screen: every figure it shows, read against data built by hand, and nothing personal.

Pinned to Wednesday 2026-12-09 15:00 local: 长宁 has two visits today (one still in the
center), an activity with 8 of 10 places taken, two meals served at the counter and one
delivered, an open request overdue since Monday, and a hot topic; 徐汇 has one visit.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.accounts.models import Person
from doorstep.cases import services as cases
from doorstep.centers.models import Center
from doorstep.deliberation.models import Support, Topic
from doorstep.figures.services import refresh_figures
from doorstep.meals.models import Canteen, CounterSale, Menu, Order
from doorstep.screen import services
from doorstep.screen.models import CITY, Snapshot
from doorstep.visits.models import Visit
from tests.cases.conftest import make_scene
from tests.factories import make_account, make_activity, make_center

DAY = datetime(2026, 12, 9).date()  # a Wednesday
CHANGNING, XUHUI, JINGAN = "310105", "310104", "310106"
RESIDENT_PHONE = "13812345678"
RESIDENT_NAME = "王阿姨甲"


def local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


NOW = local(DAY, 15)


@pytest.fixture
def city(regions):
    changning = make_center(
        "新华路街道党群服务中心",
        district="长宁区",
        lat=31.2085,
        lng=121.4237,
        location_precision="exact",
    )
    xuhui = make_center("徐家汇街道社区党群服务中心", district="徐汇区")
    resident = make_account(name=RESIDENT_NAME)
    resident.phone = f"+86{RESIDENT_PHONE}"
    resident.save(update_fields=["phone"])
    for center, hour, left in [(changning, 9, True), (changning, 14, False), (xuhui, 10, True)]:
        arrived = local(DAY, hour)
        Visit.objects.create(
            center=center,
            user=resident,
            channel="qr",
            arrived_at=arrived,
            day=DAY,
            left_at=arrived + timedelta(hours=1) if left else None,
        )
    refresh_figures(now=NOW)
    act = make_activity(
        changning, title="亲子围棋课", capacity=10, starts_at=local(DAY, 18), now=NOW
    )
    type(act).objects.filter(pk=act.pk).update(taken=8)
    canteen = Canteen.objects.create(center=changning, name="长宁食堂", source="synthetic")
    menu = Menu.objects.create(
        canteen=canteen,
        day=DAY,
        service="lunch",
        serves_at=local(DAY, 11),
        cut_off_at=local(DAY, 9),
        published=True,
    )
    person = Person.objects.get(account=resident)
    for status in ("collected", "delivered", "placed", "cancelled"):
        Order.objects.create(
            public_id=f"T{status}",
            menu=menu,
            account=resident,
            person=person,
            group="resident",
            mode="delivery" if status == "delivered" else "pickup",
            status=status,
            list_fen=1500,
            due_fen=1500,
            created_at=local(DAY, 8),
            updated_at=local(DAY, 8),
            address="汇站小区3号楼" if status == "placed" else "",
        )
    CounterSale.objects.create(canteen=canteen, group="resident", at=local(DAY, 12), day=DAY)
    return {"changning": changning, "xuhui": xuhui, "resident": resident, "activity": act}


@pytest.fixture
def requests_and_topics(city):
    scene = make_scene()  # 苏河湾, 静安区: a policy type answered by the center in 4 working hours
    cases.submit(
        user=scene["resident"],
        center_id=scene["center"].pk,
        type_code="policy_advice",
        description="请问小微企业的租金补贴怎么申请",
        now=local(DAY - timedelta(days=2), 10),  # Monday 10:00: due Monday 14:00
    )
    topic = Topic.objects.create(
        center=city["changning"],
        title="楼道里加装扶手",
        description="老人上下楼不方便",
        category="elderly_care",
        status="accepted",
        last_activity_at=NOW - timedelta(hours=1),
    )
    Support.objects.create(topic=topic, user=city["resident"], created_at=NOW - timedelta(hours=1))
    return scene


@pytest.fixture
def at_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def test_every_figure_of_a_district_and_the_city(city, requests_and_topics, at_now) -> None:
    assert services.refresh(NOW) == 17  # the city and its 16 districts
    changning = Snapshot.objects.get(scope=CHANGNING).data
    assert changning["visits_today"] == 2
    assert changning["visits_by_hour"][9] == 1 and changning["visits_by_hour"][14] == 1
    assert sum(changning["visits_by_hour"]) == 2
    assert changning["in_centers_now"] == 1
    assert changning["activities"] == {"count": 1, "places": 10, "taken": 8}
    assert changning["meals"] == {"ordered": 3, "served": 2, "delivered": 1}
    assert changning["requests"] == {"open": 0, "overdue": 0}
    assert [t["title"] for t in changning["topics"]] == ["楼道里加装扶手"]
    assert changning["topics"][0]["supports"] == 1
    assert [c[0] for c in changning["centers"]] == [city["changning"].pk]
    assert changning["centers"][0][3] == 2
    xuhui = Snapshot.objects.get(scope=XUHUI).data
    assert xuhui["visits_today"] == 1 and xuhui["centers"] == []  # a coarse spot is not drawn

    jingan = Snapshot.objects.get(scope=JINGAN).data
    assert jingan["requests"] == {"open": 1, "overdue": 1}
    assert jingan["meals"] == {"ordered": 0, "served": 0, "delivered": 0}

    c = Snapshot.objects.get(scope=CITY).data
    assert c["visits_today"] == 3
    assert c["in_centers_now"] == 1
    assert c["activities"] == {"count": 1, "places": 10, "taken": 8}
    assert c["meals"] == {"ordered": 3, "served": 2, "delivered": 1}
    assert c["requests"] == {"open": 1, "overdue": 1}
    assert c["areas"][CHANGNING]["visits_today"] == 2
    assert c["areas"][XUHUI]["visits_today"] == 1
    assert c["areas"][CHANGNING]["fill"] == 0.8
    assert c["areas"][XUHUI]["fill"] is None
    assert c["coverage"] is None  # no population grid: no coverage figure, not a zero


def test_the_page_shows_each_figure_and_nothing_personal(city, requests_and_topics, at_now) -> None:
    services.refresh(NOW)
    client = Client()
    for path, figures in [
        (
            f"/screen/{CHANGNING}/",
            {
                "visits_today": "2",
                "in_centers_now": "1",
                "meals.served": "2",
                "meals.delivered": "1",
                "activities.fill": "80%",
                "activities.count": "1",
            },
        ),
        (
            "/screen/",
            {
                "visits_today": "3",
                "requests.open": "1",
                "requests.overdue": "1",
                "meals.ordered": "3",
                "coverage.share": "—",
            },
        ),
    ]:
        html = client.get(path).content.decode()
        for key, value in figures.items():
            assert re.search(rf'data-figure="{re.escape(key)}">{re.escape(value)}<', html), (
                path,
                key,
            )
        assert "楼道里加装扶手" in html
        _nothing_personal(html, city)
        assert '<html lang="zh-Hans">' in html
        assert "/staff" not in html and "<nav" not in html and "<a " not in html
        assert "http-equiv" not in html.lower()
        assert "csrfmiddlewaretoken" not in html  # no form at all
        data = client.get(path + "data.json").json()
        _nothing_personal(json.dumps(data, ensure_ascii=False), city)


def _nothing_personal(text: str, city: dict) -> None:
    assert RESIDENT_PHONE not in text and RESIDENT_PHONE[-4:] not in text
    assert RESIDENT_NAME not in text
    assert "汇站小区" not in text  # an address from an order
    assert "请问小微企业" not in text  # a request's text
    assert city["resident"].display_name not in text


def test_english_screen_is_english(city, at_now) -> None:
    services.refresh(NOW)
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get("/screen/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Visits today" in html and "Shanghai" in html
    assert "今日" not in html and "上海市" not in html.split("<script")[0].split("screen-data")[0]


def test_the_stream_sends_the_snapshot_and_json_agrees(city, at_now) -> None:
    services.refresh(NOW)
    client = Client()
    response = client.get(f"/screen/{CHANGNING}/events")
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 2000\n\n"
    frame = next(chunks).decode()
    assert frame.startswith("data: ")
    sent = json.loads(frame[6:])
    assert sent["visits_today"] == 2 and sent["scope"] == CHANGNING
    assert client.get(f"/screen/{CHANGNING}/data.json").json()["visits_today"] == 2
    response.close()


def test_a_stale_snapshot_is_recomputed_by_the_page(city) -> None:
    with mock.patch("django.utils.timezone.now", return_value=NOW - timedelta(minutes=10)):
        services.refresh(NOW - timedelta(minutes=10))
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        data = Client().get("/screen/data.json").json()
    assert data["computed_at"] == NOW.isoformat()
    assert data["age_seconds"] == 0


def test_bad_scopes_are_clear_pages(city) -> None:
    client = Client()
    for path in ("/screen/999999/", "/screen/310105001/", "/screen/x/data.json", "/screen/../"):
        r = client.get(path)
        assert r.status_code == 404, path
    r = client.get("/screen/?view=nope&figure=<script>&cycle=abc")
    assert r.status_code == 200
    assert "<script>&" not in r.content.decode()


def test_coverage_on_the_screen_needs_a_grid_and_a_located_center(city, at_now) -> None:
    from doorstep.city.models import Cell

    # Every center placed at its district's point only: no figure (not 0 %).
    Center.objects.update(location_precision="district")
    huangpu_cell = {"district_id": "310101", "synthetic": True, "source": "synthetic"}
    Cell.objects.create(lat=31.2085, lng=121.4237, population=100, **huangpu_cell)
    services.refresh(NOW)
    assert Snapshot.objects.get(scope=CITY).data["coverage"] is None
    # A located center beside the cell: every resident of the grid is within the walk.
    make_center(
        "新华路街道党群服务中心",
        district="长宁区",
        lat=31.2085,
        lng=121.4237,
        location_precision="exact",
    )
    services.refresh(NOW + timedelta(hours=1))
    data = Snapshot.objects.get(scope=CITY).data
    assert data["coverage"]["share"] == 1.0 and data["synthetic"] is True
    assert data["areas"]["310101"]["coverage"] == 1.0  # the map colours the district by it
    # Recomputed at most hourly: more people far away change nothing for the next hour.
    Cell.objects.create(lat=31.40, lng=121.60, population=100, **huangpu_cell)
    services.refresh(NOW + timedelta(hours=1, minutes=30))
    assert Snapshot.objects.get(scope=CITY).data["coverage"]["share"] == 1.0
    services.refresh(NOW + timedelta(hours=2, minutes=1))
    assert Snapshot.objects.get(scope=CITY).data["coverage"]["share"] == 0.5
