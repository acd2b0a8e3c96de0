"""The meals API: menus, a quote before ordering, orders with Idempotency-Key, errors as
{"code", "message"}, the delivery address masked."""

import json
from unittest import mock

import pytest

from doorstep.accounts.models import Person
from doorstep.accounts.tokens import issue_token
from doorstep.meals.models import Order
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def daughter(kitchen):
    account = make_account(name="王芳")
    father = Person.objects.create(
        account=account, name="王老伯", birth_year=kitchen["day"].year - 80
    )
    return {"account": account, "father": father, "auth": f"Bearer {issue_token(account)}"}


def post(client, path, body, auth, **headers):
    return client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
        **headers,
    )


def at_nine(kitchen):
    return mock.patch("django.utils.timezone.now", return_value=kitchen["before"])


def test_menus_show_each_groups_price_and_the_portions_left(client, kitchen):
    resp = client.get(
        "/api/v1/meals/menus",
        {"center_id": kitchen["center"].pk, "day": kitchen["day"].isoformat()},
    )
    assert resp.status_code == 200
    (menu,) = resp.json()
    assert menu["service"] == "lunch" and menu["delivers"] is True
    by_dish = {i["dish"]: i for i in menu["items"]}
    assert by_dish["一荤两素一汤"]["prices_fen"] == {"standard": 1500, "rider": 1000, "staff": 1200}
    assert by_dish["一荤两素一汤"]["portions_left"] == 3
    assert by_dish["番茄蛋汤"]["portions_left"] is None


def test_a_daughter_orders_her_fathers_lunch_delivered(client, kitchen, daughter):
    body = {
        "menu_id": kitchen["menu"].pk,
        "person_id": daughter["father"].pk,
        "lines": [{"item_id": kitchen["set"].pk, "quantity": 1}],
        "group": "elderly",
        "mode": "delivery",
    }
    with at_nine(kitchen):
        resp = client.put(
            "/api/v1/meals/me/address",
            data=json.dumps({"estate": "汇站小区", "detail": "5号楼301室"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=daughter["auth"],
        )
        assert resp.json() == {"estate": "汇站小区", "detail_masked": "5号*****"}
        quote = post(client, "/api/v1/meals/quote", body, daughter["auth"])
        assert quote.status_code == 200, quote.content
        q = quote.json()
        assert (q["list_fen"], q["subsidy_fen"], q["delivery_fee_fen"], q["due_fen"]) == (
            1500,
            500,
            300,
            1300,
        )
        # Told before ordering: the estate has not yet the orders a delivery round needs.
        assert q["round"] == {"estate": "汇站小区", "orders": 1, "minimum": 3, "confirmed": False}
        assert not Order.objects.exists()  # a quote writes nothing
        first = post(
            client, "/api/v1/meals/orders", body, daughter["auth"], HTTP_IDEMPOTENCY_KEY="a1"
        )
        again = post(
            client, "/api/v1/meals/orders", body, daughter["auth"], HTTP_IDEMPOTENCY_KEY="a1"
        )
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["replayed"] is True
    assert first.json()["order"]["id"] == again.json()["order"]["id"]
    order = first.json()["order"]
    assert (order["person_name"], order["due_fen"], order["status"]) == ("王老伯", 1300, "placed")
    mine = client.get("/api/v1/meals/me/orders", HTTP_AUTHORIZATION=daughter["auth"]).json()
    assert [o["id"] for o in mine] == [order["id"]]
    with at_nine(kitchen):
        gone = client.delete(
            f"/api/v1/meals/orders/{order['id']}", HTTP_AUTHORIZATION=daughter["auth"]
        )
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"lines": [{"item_id": 2**62, "quantity": 1}]}, "not_on_menu", 400),
        ({"group": "vip"}, "invalid_group", 400),
        ({"mode": "drone"}, "invalid_mode", 400),
        ({"menu_id": 2**62}, "not_found", 404),
        ({"person_id": 2**63}, "invalid_parameter", 422),
        ({"lines": [{"item_id": 1, "quantity": 0}]}, "invalid_parameter", 422),
    ],
)
def test_bad_orders_are_clear_errors(client, kitchen, daughter, change, code, status):
    body = {
        "menu_id": kitchen["menu"].pk,
        "person_id": daughter["father"].pk,
        "lines": [{"item_id": kitchen["set"].pk, "quantity": 1}],
        **change,
    }
    with at_nine(kitchen):
        resp = post(client, "/api/v1/meals/orders", body, daughter["auth"])
    assert resp.status_code == status, resp.content
    assert resp.json()["code"] == code and resp.json()["message"]
    assert not Order.objects.exists()


def test_after_the_cut_off_in_chinese(client, kitchen, daughter):
    body = {
        "menu_id": kitchen["menu"].pk,
        "person_id": daughter["father"].pk,
        "lines": [{"item_id": kitchen["set"].pk, "quantity": 1}],
    }
    with mock.patch("django.utils.timezone.now", return_value=kitchen["menu"].cut_off_at):
        resp = post(client, "/api/v1/meals/orders", body, daughter["auth"])
    assert resp.status_code == 400
    assert resp.json() == {"code": "past_cut_off", "message": "这一餐已于 09:30 截止订餐。"}


def test_ordering_needs_a_signed_in_household(client, kitchen):
    resp = client.post("/api/v1/meals/orders", data="{}", content_type="application/json")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"


def test_canteens_near_me_nearest_first_and_a_coarse_location_last(client, kitchen):
    from doorstep.centers.models import Center
    from doorstep.meals.models import Canteen, Menu, MenuItem
    from tests.factories import make_center

    near = kitchen["center"]
    Center.objects.filter(pk=near.pk).update(lat=31.1950, lng=121.4370, location_precision="exact")
    far = make_center("东明路街道社区党群服务中心", district="浦东新区")
    Center.objects.filter(pk=far.pk).update(lat=31.1500, lng=121.5000, location_precision="exact")
    coarse = make_center("黄浦区示例党群服务中心", district="黄浦区")  # at its district's point
    for center in (far, coarse):
        canteen = Canteen.objects.create(center=center, name=f"{center.name}食堂", source="manual")
        menu = Menu.objects.create(
            canteen=canteen,
            day=kitchen["day"],
            service="lunch",
            serves_at=kitchen["menu"].serves_at,
            cut_off_at=kitchen["menu"].cut_off_at,
            published=True,
        )
        MenuItem.objects.create(menu=menu, dish=kitchen["set"].dish, price_fen=1200)
    resp = client.get(
        "/api/v1/meals/near", {"lat": 31.1960, "lng": 121.4380, "day": kitchen["day"].isoformat()}
    )
    assert resp.status_code == 200
    places = resp.json()
    assert [p["center_id"] for p in places] == [near.pk, far.pk, coarse.pk]
    assert places[0]["distance_m"] < 200 and places[0]["walking_minutes"] >= 1
    assert places[2]["distance_m"] is None  # never a distance from a district's point
    assert places[0]["menus"][0]["items"][0]["dish"] == "一荤两素一汤"
    bad = client.get("/api/v1/meals/near", {"lat": 91, "lng": 0})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_parameter"
    with at_nine(kitchen):
        page = client.get("/meals/", {"lat": "31.1960", "lng": "121.4380"}).content.decode()
    assert page.index("徐家汇街道社区党群服务中心") < page.index("东明路街道社区党群服务中心")
    assert "步行约" in page
