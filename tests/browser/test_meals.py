"""A daughter orders lunch delivered to her 80-year-old father, in large text on a phone; the
kitchen sees it on the production sheet; the deliverer marks it delivered on a phone; the
service ledger shows one delivered meal. Chinese pages, axe-clean."""

import re

import pytest
from django.test import Client

from doorstep.accounts.models import Person
from doorstep.meals import services
from doorstep.meals.models import Order
from doorstep.visits.models import ServiceRecord
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_staff
from tests.meals.conftest import make_kitchen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def as_user(page, live_server, user, *, large: bool = False) -> None:
    page.context.clear_cookies()
    cookies = [{"name": "sessionid", "value": session_of(user), "url": live_server.url}]
    if large:
        cookies.append({"name": "doorstep_text", "value": "large", "url": live_server.url})
    page.context.add_cookies(cookies)


def test_lunch_for_father_from_order_to_the_ledger(live_server, page, regions):
    kitchen = make_kitchen()
    daughter = make_account(name="王芳")
    Person.objects.create(account=daughter, name="王老伯", birth_year=kitchen["day"].year - 80)
    services.set_address(account=daughter, estate="汇站小区", detail="5号楼301")
    center = kitchen["center"]

    as_user(page, live_server, daughter, large=True)
    page.goto(f"{live_server.url}/centers/{center.pk}/")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.get_by_role("link", name="查看菜单并订餐").click()
    page.wait_for_url(re.compile(rf"/centers/{center.pk}/meals/$"))
    assert_accessible(page)
    page.get_by_role("link", name="预订这一餐").first.click()
    page.wait_for_url(re.compile(r"/meals/menus/\d+/order$"))
    page.get_by_role("radio", name=re.compile("王老伯")).check()
    page.get_by_label("一荤两素一汤的份数").fill("1")
    page.get_by_role("radio", name="老年助餐（补贴价）").check()
    page.get_by_role("radio", name="送餐上门").check()
    page.get_by_role("button", name="查看价格").click()
    review = page.get_by_role("status")
    # 15 yuan, less the 5-yuan band for 80 and over, plus 3 yuan of delivery.
    assert "13.00" in review.inner_text()
    assert "汇站小区 已有 1 单" in review.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="确认订餐").click()
    page.wait_for_url(re.compile(r"/meals/mine/$"))
    assert "王老伯" in page.locator("main").inner_text()
    assert_accessible(page)
    (order,) = Order.objects.all()
    assert (order.person.name, order.mode, order.due_fen) == ("王老伯", "delivery", 1300)

    # The kitchen: the order is on the production sheet.
    staff = make_staff(center=center)
    as_user(page, live_server, staff)
    page.goto(f"{live_server.url}/staff/meals/")
    page.get_by_role("link", name="备餐单").first.click()
    row = page.get_by_role("row", name=re.compile("一荤两素一汤"))
    assert row.get_by_role("cell").all_inner_texts()[-2:] == ["1", "1"]  # delivery 1, total 1
    assert_accessible(page)

    # The deliverer, on a phone: the round, then "delivered", paid in cash.
    page.goto(f"{live_server.url}/staff/meals/")
    page.get_by_role("link", name="送餐路线").first.click()
    assert "汇站小区 (1)" in page.locator("main").inner_text()
    assert "王＊" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_label("付款方式").select_option("cash")
    page.get_by_role("button", name="已送达").click()
    page.wait_for_url(re.compile(r"/staff/meals/menus/\d+/rounds$"))
    assert "已标记：已送达。" in page.get_by_role("status").inner_text()
    order.refresh_from_db()
    assert (order.status, order.paid_with) == ("delivered", "cash")

    # The ledger: one meal delivered home.
    assert list(ServiceRecord.objects.values_list("service", "count")) == [("meal_delivery", 1)]
    page.goto(f"{live_server.url}/staff/visits/centers/{center.pk}/services")
    assert "送餐上门" in page.locator("main").inner_text()
