"""The red heritage map and a walking lesson's page on a phone: the vector map draws its
places (sites and centers) and the lesson's route, the lists say the same, axe-clean; a
participant stamps a site by its poster on the way."""

import io
from unittest import mock

import pytest
from PIL import Image

from doorstep.heritage.models import HeritageSite
from doorstep.visits.services import RouteInput, create_route
from doorstep.volunteers import services
from tests.browser.conftest import assert_accessible
from tests.browser.test_rooms import as_user
from tests.factories import make_account, make_activity, make_center, make_staff
from tests.volunteers.conftest import MON, NOW, SAT, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_lesson_and_a_site_stamp(live_server, page, regions):
    center = make_center(
        "黄浦区党建服务中心",
        district="黄浦区",
        level="district",
        themes=["red_heritage"],
        lat=31.2185,
        lng=121.4737,
        location_precision="exact",
        location_source="测试",
    )
    staff = make_staff(center=center)
    site = HeritageSite.objects.create(
        name="又新印刷所旧址",
        kind="former_site",
        district=center.district,
        lat=31.2170,
        lng=121.4720,
        location_precision="street",
        source="import",
        source_detail="测试名录",
        external_key="t:youxin",
    )
    route = create_route(
        staff=staff, data=RouteInput(title="红色一平方公里", stops=[str(center.pk), f"s{site.pk}"])
    )
    activity = make_activity(center, title="行走党课", now=NOW, starts_at=local(SAT, 14))
    lesson = services.make_lesson(
        by=staff,
        activity_id=activity.pk,
        route_id=route.pk,
        guide_id=None,
        notes={2: "又新印刷所的故事"},
    )
    walker = make_account(name="走读者")
    with mock.patch("django.utils.timezone.now", return_value=local(MON, 10)):
        as_user(page, live_server, walker)
        page.goto(f"{live_server.url}/heritage/")
        page.wait_for_selector("#heritage-map .leaflet-interactive")
        assert page.locator("#heritage-map .leaflet-interactive").count() >= 2
        assert page.get_by_role("link", name="行走党课").is_visible()
        assert_accessible(page)
        page.get_by_role("link", name="行走党课").click()
        page.wait_for_url(f"**/heritage/lessons/{lesson.pk}/")
        page.wait_for_selector("#route-map .leaflet-interactive")
        assert page.get_by_text("又新印刷所的故事").is_visible()
        assert "沿途打卡：0 / 2" in page.locator("main").inner_text()
        assert_accessible(page)

        # The site's poster, printed by staff, read by the walker's phone on the way.
        as_user(page, live_server, staff)
        page.goto(f"{live_server.url}/staff/visits/sites/{site.pk}/poster")
        import zxingcpp

        png = page.locator("svg.qr").screenshot()
        (url,) = [
            b.text
            for b in zxingcpp.read_barcodes(
                Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
            )
        ]
        as_user(page, live_server, walker)
        page.goto(url)
        page.get_by_role("button", name="在此打卡").click()
        assert "打卡成功" in page.get_by_role("status").inner_text()
        assert_accessible(page)
        page.goto(f"{live_server.url}/heritage/lessons/{lesson.pk}/")
        assert "沿途打卡：1 / 2" in page.locator("main").inner_text()
