"""A visitor scans the poster's QR (its URL) and checks in and out; the staff counter is
worked by keyboard alone; the route page draws its map. Each page is axe-clean."""

import re

import pytest
from django.test import Client

from doorstep.visits import codes, services
from doorstep.visits.models import Visit
from doorstep.visits.services import RouteInput
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions):
    center = make_center("徐汇区康健街道社区党群服务中心", district="徐汇区")
    second = make_center("徐汇区长桥街道社区党群服务中心", district="徐汇区")
    return {"center": center, "second": second}


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": "en", "url": live_server.url},
        ]
    )


def test_visitor_scans_the_poster_checks_in_and_leaves(live_server, page, world):
    center = world["center"]
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/c/{center.pk}/visit?k={codes.today_code(center.pk)}")
    assert center.name in page.locator("h1").inner_text()
    assert not Visit.objects.exists()
    assert_accessible(page)
    page.get_by_label("Elderly").check()
    page.get_by_role("button", name="Check in").click()
    page.wait_for_load_state()
    assert "Welcome! Your visit is recorded." in page.locator("main").inner_text()
    assert_accessible(page)
    # The same phone scanning again (a reload of the poster) is the same visit.
    page.goto(f"{live_server.url}/c/{center.pk}/visit?k={codes.today_code(center.pk)}")
    assert "already checked in" in page.locator("main").inner_text()
    page.get_by_role("button", name="I'm leaving").click()
    page.wait_for_load_state()
    assert "Thank you for coming" in page.locator("main").inner_text()
    visit = Visit.objects.get()
    assert visit.group == "elderly" and visit.left_at is not None and not visit.left_estimated


def test_an_old_poster_explains_itself(live_server, page, world):
    center = world["center"]
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/c/{center.pk}/visit?k=ABCDEFGHJK")
    alert = page.get_by_role("alert")
    assert "not valid for this center" in alert.inner_text()
    assert page.get_by_role("button", name="Check in").count() == 0
    assert_accessible(page)


def test_counter_tally_by_keyboard(live_server, page, world):
    center = world["center"]
    sign_in(page, live_server, make_staff(center=center))
    page.goto(f"{live_server.url}/staff/visits/centers/{center.pk}/tally")
    assert_accessible(page)
    button = page.get_by_role("button", name=re.compile(r"\+1 Elderly"))
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_text("All visits today: 1").wait_for()
    page.get_by_role("button", name=re.compile(r"\+1 Rider")).focus()
    page.keyboard.press("Enter")
    page.get_by_text("All visits today: 2").wait_for()
    page.get_by_role("button", name=re.compile("Undo the last tap")).focus()
    page.keyboard.press("Enter")
    page.get_by_text("All visits today: 1").wait_for()
    assert list(Visit.objects.values_list("group", flat=True)) == ["elderly"]
    assert "The last tap was undone." in page.get_by_role("status").first.inner_text()
    assert_accessible(page)


def test_route_page_shows_progress_on_a_map(live_server, page, world):
    staff = make_staff(scope="city")
    route = services.create_route(
        staff=staff,
        data=RouteInput(
            title="徐汇红色步行微党课", center_ids=[world["center"].pk, world["second"].pk]
        ),
    )
    walker = make_account(name="小李")
    services.check_in(
        center_id=world["center"].pk, code=codes.today_code(world["center"].pk), user=walker
    )
    sign_in(page, live_server, walker)
    page.goto(f"{live_server.url}/routes/{route.pk}/")
    assert "Your stamps: 1 of 2" in page.locator("main").inner_text()
    page.locator("#route-map .leaflet-interactive").first.wait_for()
    assert page.locator("#route-map path.leaflet-interactive").count() >= 2
    assert_accessible(page)
