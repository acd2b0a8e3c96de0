"""A center's staff open their figures: charts drawn from local Chart.js, tables beside them,
the period picker, an export link, on a phone, in large text, axe-clean."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.figures.services import refresh_figures
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_center, make_staff
from tests.figures.conftest import add_service, add_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    today = timezone.localdate()
    resident = make_account(name="王芳")
    for k in range(1, 8):
        add_visit(center, today - timedelta(days=k), user=resident, stay=40, group="elderly")
        add_visit(center, today - timedelta(days=k), hour=19, group="rider", synthetic=True)
    add_service(center, today - timedelta(days=2), "canteen_meal", count=12)
    refresh_figures()
    staff = make_staff(center=center)
    client = Client()
    client.force_login(staff)
    return {"center": center, "session": client.cookies["sessionid"].value}


def open_dashboard(live_server, page, world, *, large: bool = False) -> None:
    cookies = [
        {"name": "sessionid", "value": world["session"], "url": live_server.url},
        {"name": "django_language", "value": "en", "url": live_server.url},
    ]
    page.context.add_cookies(cookies)
    page.goto(f"{live_server.url}/staff/figures/")
    page.get_by_role("link", name="长宁区虹桥街道社区党群服务中心").click()
    page.wait_for_url(re.compile(rf"/staff/figures/center/{world['center'].pk}/"))
    if large:
        page.get_by_role("button", name="Large text").click()
        page.wait_for_load_state()


def test_staff_read_their_figures(live_server, page, world):
    open_dashboard(live_server, page, world)
    main = page.locator("main")
    assert "Synthetic data" in main.inner_text()
    # Chart.js drew on the canvases (a drawn chart registers itself on the canvas).
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-hour'))")
    drawn = page.evaluate(
        "() => ['day','hour','weekday','group','service']"
        ".filter(id => Chart.getChart(document.getElementById('chart-' + id))).length"
    )
    assert drawn == 5
    # The table alternative for the hour chart opens from the keyboard.
    summary = page.locator("#h-hour ~ details summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("#h-hour ~ details table").is_visible()
    assert "Visits by weekday" in main.inner_text()
    assert_accessible(page)
    # A narrower period through the picker.
    end = timezone.localdate() - timedelta(days=1)
    page.get_by_label("From").fill((end - timedelta(days=2)).isoformat())
    page.get_by_label("To").fill(end.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    key = page.locator("dl.key-figures").inner_text()
    assert re.search(r"Visits \(person-times\)\s*6", key), key
    href = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert f"from={(end - timedelta(days=2)).isoformat()}" in href


def test_large_text_dashboard_is_accessible(live_server, page, world):
    open_dashboard(live_server, page, world, large=True)
    assert page.locator("html.large-text").count() == 1
    assert_accessible(page)
