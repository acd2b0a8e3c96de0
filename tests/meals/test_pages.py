"""Meals pages: a daughter orders her father's lunch (the price told before it is placed),
cancels, the kitchen's sheet, the counter and the deliverer's round; errors as messages."""

import io
from unittest import mock

import pytest
from django.urls import reverse

from doorstep.accounts.models import Person
from doorstep.meals import services
from doorstep.meals.models import Order
from doorstep.visits.models import ServiceRecord
from tests.factories import make_account, make_center, make_staff
from tests.meals.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(kitchen):
    daughter = make_account(name="王芳")
    father = Person.objects.create(
        account=daughter, name="王老伯", birth_year=kitchen["day"].year - 80
    )
    services.set_address(account=daughter, estate="汇站小区", detail="5号楼301")
    return daughter, father


def at_nine(kitchen):
    return mock.patch("django.utils.timezone.now", return_value=kitchen["before"])


def fathers_lunch(kitchen, family, **kw):
    """The father's lunch, ordered by his daughter at 09:00 (one set meal)."""
    daughter, father = family
    with at_nine(kitchen):
        return services.place_order(
            account=daughter,
            menu_id=kitchen["menu"].pk,
            person_id=father.pk,
            lines=[(kitchen["set"].pk, 1)],
            **kw,
        ).order


def test_the_center_page_links_its_menus_and_the_menus_show_prices(client, kitchen):
    center = kitchen["center"]
    page = client.get(reverse("centers:detail", args=[center.pk])).content.decode()
    assert reverse("meals:center", args=[center.pk]) in page
    with at_nine(kitchen):
        menus = client.get(reverse("meals:center", args=[center.pk])).content.decode()
    assert "一荤两素一汤" in menus and "15.00" in menus and "还剩 3 份" in menus
    assert reverse("meals:order", args=[kitchen["menu"].pk]) in menus


def test_a_daughter_orders_her_fathers_lunch_after_seeing_the_price(client, kitchen, family):
    daughter, father = family
    client.force_login(daughter)
    url = reverse("meals:order", args=[kitchen["menu"].pk])
    form = {
        "key": "form-1",
        "person": father.pk,
        f"q{kitchen['set'].pk}": "1",
        f"q{kitchen['soup'].pk}": "",  # left empty: none
        "group": "elderly",
        "mode": "delivery",
    }
    with at_nine(kitchen):
        review = client.post(url, form | {"step": "review"})
        assert review.status_code == 200
        text = review.content.decode()
        assert "13.00" in text  # 15 less 5 of subsidy plus 3 of delivery
        assert "汇站小区 已有 1 单" in text  # the round's minimum, told before ordering
        assert not Order.objects.exists()
        placed = client.post(url, form | {"step": "confirm"})
        again = client.post(url, form | {"step": "confirm"})  # a double tap: one order
    assert placed.status_code == 302 and again.status_code == 302
    (order,) = Order.objects.all()
    assert (order.person_id, order.due_fen, order.mode) == (father.pk, 1300, "delivery")
    mine = client.get(reverse("meals:mine")).content.decode()
    assert "王老伯" in mine and "13.00" in mine
    with at_nine(kitchen):
        client.post(reverse("meals:cancel", args=[order.pk]))
    assert Order.objects.get().status == "cancelled"


def test_a_refused_order_is_a_message_in_chinese_and_stores_nothing(client, kitchen, family):
    daughter, father = family
    client.force_login(daughter)
    url = reverse("meals:order", args=[kitchen["menu"].pk])
    form = {"key": "k", "person": father.pk, f"q{kitchen['set'].pk}": "1", "step": "confirm"}
    with mock.patch("django.utils.timezone.now", return_value=kitchen["menu"].cut_off_at):
        resp = client.post(url, form)
    assert resp.status_code == 400
    assert "这一餐已于 09:30 截止订餐。" in resp.content.decode()
    resp = client.post(url, form | {f"q{kitchen['set'].pk}": "many"})
    assert resp.status_code == 400 and "请填写每道菜的份数。" in resp.content.decode()
    assert not Order.objects.exists()


def test_kitchen_sheet_counter_and_round(client, kitchen, family):
    daughter, father = family
    neighbour = make_account(name="李阿姨")
    fathers_lunch(kitchen, family, group="elderly", mode="delivery")
    with at_nine(kitchen):
        services.place_order(
            account=neighbour,
            menu_id=kitchen["menu"].pk,
            person_id=neighbour.people.get().pk,
            lines=[(kitchen["set"].pk, 1), (kitchen["soup"].pk, 2)],
        )
    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    menu = kitchen["menu"]
    with at_nine(kitchen):
        sheet = client.get(reverse("meals:staff_sheet", args=[menu.pk])).content.decode()
    assert "2 单，其中老年助餐价 1 单" in sheet
    assert 'hx-trigger="every 30s"' in sheet  # updates itself until the cut-off
    rounds = client.get(reverse("meals:staff_rounds", args=[menu.pk])).content.decode()
    assert "汇站小区 (1)" in rounds and "王＊" in rounds and "5号楼301" in rounds
    assert daughter.phone not in rounds and daughter.masked_phone in rounds
    order = Order.objects.get(mode="delivery")
    resp = client.post(
        reverse("meals:staff_serve", args=[order.pk]),
        {"outcome": "delivered", "paid_with": "cash", "back": "rounds"},
    )
    assert resp.status_code == 302 and resp.url == reverse("meals:staff_rounds", args=[menu.pk])
    assert list(ServiceRecord.objects.values_list("service", "count")) == [("meal_delivery", 1)]
    counter = client.get(reverse("meals:staff_counter", args=[menu.pk])).content.decode()
    assert "李＊" in counter


def test_staff_of_another_center_see_nothing(client, kitchen):

    other = make_staff(center=make_center("东明路街道社区党群服务中心", district="浦东新区"))
    client.force_login(other)
    assert client.get(reverse("meals:staff_sheet", args=[kitchen["menu"].pk])).status_code == 404
    assert client.get(reverse("meals:staff_rounds", args=[kitchen["menu"].pk])).status_code == 404


def test_an_order_at_the_desk_for_a_household_without_a_phone(client, kitchen):
    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    desk = reverse("meals:staff_desk", args=[kitchen["menu"].pk])
    made = client.post(
        reverse("meals:staff_desk_household", args=[kitchen["menu"].pk]),
        {"name": "陈丽琴", "member-name": "陈老伯", "member-year": str(kitchen["day"].year - 82)},
    )
    assert made.status_code == 302
    household_id = made.url.split("household=")[1]
    grandpa = Person.objects.get(name="陈老伯")
    form = {
        "household": household_id,
        "key": "desk-1",
        "person": grandpa.pk,
        f"q{kitchen['set'].pk}": "1",
        "group": "elderly",
        "mode": "pickup",
    }
    with at_nine(kitchen):
        assert client.get(desk, {"household": household_id}).status_code == 200
        done = client.post(desk, form)
        again = client.post(desk, form)  # the same form twice: one order
    assert done.status_code == 302 and again.status_code == 302
    (order,) = Order.objects.all()
    assert (order.person_id, order.due_fen, order.placed_by_id) == (grandpa.pk, 1000, staff.pk)
    from doorstep.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="meal_order.desk").count() == 1
    # An online household only with the whole number the resident gave; never a bare id.
    online = make_account(name="网上用户")
    with at_nine(kitchen):
        assert client.post(desk, form | {"household": online.pk, "key": "x"}).status_code == 404
        found = client.get(desk, {"phone": online.phone[-11:]})
    assert "网上用户" in found.content.decode()


def test_copy_last_week_publish_and_the_workers_publishing_time(client, kitchen):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from doorstep.meals.models import Menu

    menu = kitchen["menu"]
    staff = make_staff(center=kitchen["center"])
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    # Move the fixture's menu into last week, with a publishing time.
    shift = (monday - timedelta(days=7)) - menu.day
    Menu.objects.filter(pk=menu.pk).update(
        day=menu.day + shift,
        serves_at=menu.serves_at + shift,
        cut_off_at=menu.cut_off_at + shift,
        publish_at=menu.serves_at + shift - timedelta(days=1),
    )
    assert services.copy_week(canteen_id=kitchen["canteen"].pk, staff=staff, monday=monday) == 1
    assert services.copy_week(canteen_id=kitchen["canteen"].pk, staff=staff, monday=monday) == 0
    copy = Menu.objects.exclude(pk=menu.pk).get()
    assert copy.day == menu.day + shift + timedelta(days=7) and not copy.published
    assert [(i.dish_id, i.price_fen, i.portions, i.taken) for i in copy.items.all()] == [
        (kitchen["set"].dish_id, 1500, 3, 0),
        (kitchen["soup"].dish_id, 300, None, 0),
    ]
    # Not yet on the residents' page; the worker publishes it at its time.
    with mock.patch("django.utils.timezone.now", return_value=copy.publish_at):
        call_command("worker", "--once")
    copy.refresh_from_db()
    assert copy.published
    client.force_login(staff)
    page = client.get(reverse("meals:staff_week", args=[kitchen["canteen"].pk]))
    assert page.status_code == 200 and "一荤两素一汤" in page.content.decode()


def test_the_counter_confirms_an_age_once(client, kitchen, family):
    from doorstep.core.models import AuditEntry
    from doorstep.meals.models import Eligibility

    daughter, father = family
    placed = fathers_lunch(kitchen, family, group="elderly")
    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    counter = reverse("meals:staff_counter", args=[kitchen["menu"].pk])
    assert f"已核验：{father.birth_year} 年出生（一次）" in client.get(counter).content.decode()
    for _ in range(2):
        client.post(reverse("meals:staff_confirm_age", args=[placed.pk]))
    assert Eligibility.objects.filter(person=father).count() == 1
    assert AuditEntry.objects.filter(action="meal_eligibility.confirm").count() == 1
    assert "年龄已在窗口核验" in client.get(counter).content.decode()


def test_a_change_from_my_meals(client, kitchen, family):
    daughter, father = family
    placed = fathers_lunch(kitchen, family)
    client.force_login(daughter)
    with at_nine(kitchen):
        mine = client.get(reverse("meals:mine")).content.decode()
        url = reverse("meals:order", args=[kitchen["menu"].pk])
        assert f"{url}?change={placed.pk}" in mine
        form = client.get(url, {"change": placed.pk}).content.decode()
        assert "修改订单" in form and "王老伯" in form
        done = client.post(
            url,
            {
                "change": placed.pk,
                "key": "k",
                f"q{kitchen['set'].pk}": "",
                f"q{kitchen['soup'].pk}": "2",
                "group": "standard",
                "mode": "pickup",
                "step": "confirm",
            },
        )
    assert done.status_code == 302
    (order,) = Order.objects.all()
    assert (order.pk, order.due_fen) == (placed.pk, 600)


def test_staff_make_a_menu_and_its_dishes(client, kitchen):
    from doorstep.meals.models import Menu, MenuItem

    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    week = reverse("meals:staff_week", args=[kitchen["canteen"].pk])
    day = kitchen["day"].isoformat()
    made = client.post(week, {"action": "new", "day": day, "service": "dinner", "serves": "17:30"})
    assert made.status_code == 302
    menu = Menu.objects.get(service="dinner")
    assert (menu.published, menu.cut_off_at) == (False, local(kitchen["day"], 16, 0))
    assert made.url == reverse("meals:staff_menu", args=[menu.pk])
    again = client.post(week, {"action": "new", "day": day, "service": "dinner", "serves": "17:30"})
    assert again.status_code == 302 and Menu.objects.filter(service="dinner").count() == 1
    edit = reverse("meals:staff_menu", args=[menu.pk])
    resp = client.post(
        edit,
        {
            "name": "清蒸鱼套餐",
            "is_set": "1",
            "price": "16.5",
            "rider_price": "12",
            "portions": "40",
            "tags": ["low_salt", "soft"],
            "allergens": "鱼",
        },
    )
    assert resp.status_code == 302
    item = MenuItem.objects.get(menu=menu)
    assert (item.price_fen, item.rider_price_fen, item.staff_price_fen, item.portions) == (
        1650,
        1200,
        None,
        40,
    )
    assert item.dish.tags == ["low_salt", "soft"] and item.dish.is_set
    bad = client.post(edit, {"name": "汤", "price": "abc"})
    assert bad.status_code == 400 and "请按元填写价格" in bad.content.decode()
    bad = client.post(edit, {"name": "汤", "price": "1", "tags": ["spicy"]})
    assert bad.status_code == 400
    client.post(edit, {"action": "remove", "item": item.pk})
    assert not MenuItem.objects.filter(menu=menu).exists()
    other = make_staff(center=make_center("东明路街道社区党群服务中心", district="浦东新区"))
    client.force_login(other)
    assert client.get(edit).status_code == 404
    assert client.post(week, {"action": "new", "day": day, "service": "lunch"}).status_code == 404


def test_a_caterers_account_runs_the_kitchen_of_its_meal_points_only(client, kitchen, family):
    from doorstep.accounts.models import User

    daughter, father = family
    placed = fathers_lunch(kitchen, family, mode="delivery")
    caterer = User.objects.create(username="caterer1")
    client.force_login(caterer)
    menu = kitchen["menu"]
    assert client.get(reverse("meals:staff_sheet", args=[menu.pk])).status_code == 302  # not yet
    kitchen["canteen"].caterer_accounts.add(caterer)
    assert client.get(reverse("meals:staff_home")).status_code == 200
    assert client.get(reverse("meals:staff_sheet", args=[menu.pk])).status_code == 200
    assert client.get(reverse("meals:staff_rounds", args=[menu.pk])).status_code == 200
    client.post(
        reverse("meals:staff_serve", args=[placed.pk]), {"outcome": "delivered", "back": "rounds"}
    )
    assert Order.objects.get(pk=placed.pk).status == "delivered"
    # Nothing else of the back office: not the menus, the desk, or another center's canteen.
    assert client.get(reverse("meals:staff_week", args=[kitchen["canteen"].pk])).status_code == 302
    assert client.get(reverse("meals:staff_desk", args=[menu.pk])).status_code == 302
    from doorstep.meals.models import Canteen, Menu

    other = Canteen.objects.create(
        center=make_center("东明路街道社区党群服务中心", district="浦东新区"),
        name="别处",
        source="manual",
    )
    elsewhere = Menu.objects.create(
        canteen=other,
        day=kitchen["day"],
        service="lunch",
        serves_at=menu.serves_at,
        cut_off_at=menu.cut_off_at,
        published=True,
    )
    assert client.get(reverse("meals:staff_sheet", args=[elsewhere.pk])).status_code == 404


def test_walk_in_meals_tapped_at_the_counter_and_the_round_sets_off(client, kitchen, family):
    from doorstep.inbox.models import Notice
    from doorstep.meals import selectors
    from doorstep.visits.models import ServiceRecord

    daughter, father = family
    fathers_lunch(kitchen, family, mode="delivery")
    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    tally = reverse("meals:staff_tally", args=[kitchen["menu"].pk])
    for group in ("elderly", "elderly", "rider"):
        client.post(tally, {"group": group})
    client.post(tally, {"undo": "1"})  # the rider tap was a slip
    assert client.post(tally, {"group": "vip"}).status_code == 302
    assert ServiceRecord.objects.filter(service="canteen_meal").count() == 2
    counter = client.get(reverse("meals:staff_counter", args=[kitchen["menu"].pk])).content
    assert "今天已计：2。" in counter.decode()
    from django.utils import timezone

    today = timezone.localdate()
    rows = selectors.monthly_report(staff, today.replace(day=1), today)
    assert sum(r["walk_in"] for r in rows) == 2

    set_off = reverse("meals:staff_set_off", args=[kitchen["menu"].pk])
    client.post(set_off, {"estate": "汇站小区"})
    client.post(set_off, {"estate": "汇站小区"})  # told once
    assert Notice.objects.filter(user=daughter, kind="meal_on_the_way").count() == 1


def test_a_dish_photo_is_re_encoded_and_served_and_a_fake_refused(
    client, kitchen, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.deliberation.conftest import image_bytes

    settings.MEDIA_ROOT = tmp_path
    staff = make_staff(center=kitchen["center"])
    client.force_login(staff)
    edit = reverse("meals:staff_menu", args=[kitchen["menu"].pk])
    dish = kitchen["set"].dish
    photo = SimpleUploadedFile("p.jpg", image_bytes(exif_gps=True), content_type="image/jpeg")
    assert (
        client.post(edit, {"action": "photo", "dish": dish.pk, "photo": photo}).status_code == 302
    )
    dish.refresh_from_db()
    assert dish.photo and dish.photo_type == "image/jpeg"
    served = client.get(reverse("meals:dish_photo", args=[dish.pk]))
    body = b"".join(served.streaming_content)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(body)) as img:
        assert not img.getexif()  # no camera, no GPS
    with at_nine(kitchen):
        menus = client.get(reverse("meals:center", args=[kitchen["center"].pk])).content.decode()
    assert reverse("meals:dish_photo", args=[dish.pk]) in menus
    fake = SimpleUploadedFile("x.jpg", b"<?php echo 1; ?>" * 10, content_type="image/jpeg")
    refused = client.post(edit, {"action": "photo", "dish": dish.pk, "photo": fake})
    assert refused.status_code == 400
    assert "无法识别该文件为照片" in refused.content.decode()
    assert (
        client.get(reverse("meals:dish_photo", args=[kitchen["soup"].dish_id])).status_code == 404
    )
