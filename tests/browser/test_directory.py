import re

import pytest

from tests.browser.conftest import assert_accessible
from tests.factories import make_center

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def centers(regions):
    gubei = make_center(
        "长宁区虹桥街道社区党群服务中心",
        subdistrict="虹桥街道",
        aliases=["古北市民中心"],
        themes=["deliberation"],
        facilities=["canteen", "reading_room", "gov_service_terminal"],
        hours="daily 08:30-20:30",
        hours_source="synthetic",
        source="article",
        source_detail="《党群服务中心：走得进 坐得下 还想来》 密码1：初心践地",
        facts=[{"zh": "每月服务量达6000余人次", "en": "Serves over 6,000 people a month"}],
    )
    make_center("徐汇滨江党群服务中心", district="徐汇区", level="riverside", hours="24h")
    return gubei


def test_search_gubei_and_open_the_center_page(live_server, page, centers):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert_accessible(page)

    page.get_by_role("searchbox").fill("古北")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/centers/\?q="))
    results = page.locator("ol.results > li")
    assert results.count() == 1
    assert "古北市民中心" in results.first.inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="长宁区虹桥街道社区党群服务中心").click()
    page.wait_for_url(re.compile(rf"/centers/{centers.pk}/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "长宁区虹桥街道社区党群服务中心"
    body = page.locator("main").inner_text()
    assert "每月服务量达6000余人次" in body
    assert "密码1：初心践地" in body
    assert_accessible(page)


def test_keyboard_only_search(live_server, page, centers):
    page.goto(live_server.url + "/")
    # Tab from the top: the skip link comes first and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.locator("#q").focus()
    page.keyboard.type("gubei")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=gubei"))
    assert page.locator("ol.results > li").count() == 1


def test_large_text_and_english(live_server, page, centers):
    page.goto(live_server.url + f"/centers/{centers.pk}/")
    before = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    page.locator("form[action='/settings/text-size'] button").click()
    page.wait_for_load_state()
    after = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert after >= before * 1.3
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Serves over 6,000 people a month" in page.locator("main").inner_text()
    assert_accessible(page)


def test_map_view_draws_outlines_and_markers(live_server, page, centers):
    # A center whose door is known is a marker; the others (at their district's point, as
    # the fixture's are) colour their district instead of a pin at its centroid.
    make_center(
        "徐汇区示例站", district="徐汇区", lat=31.18, lng=121.44, location_precision="exact"
    )
    page.goto(live_server.url + "/centers/?view=map")
    page.wait_for_selector("#map path.leaflet-interactive")
    assert page.locator("#map path.leaflet-interactive").count() >= 16  # district outlines
    assert page.locator("#map .leaflet-marker-icon").count() == 1
    filled = page.locator('#map path.leaflet-interactive[fill-opacity="0.18"]')
    assert filled.count() == 2  # 长宁区 and 徐汇区 hold the two centers without a door
    assert_accessible(page)
