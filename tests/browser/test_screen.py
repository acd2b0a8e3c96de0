"""The big screen in a kiosk browser: the city map coloured by district, the hour chart drawn,
the views cycling, a new visit arriving over the event stream without a reload; axe-clean."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from doorstep.figures.services import refresh_figures
from doorstep.screen import services
from doorstep.visits.models import Visit
from tests.browser.conftest import assert_accessible
from tests.factories import make_center

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def arrive(center, at):
    """A visit still in the center, then the worker's two steps (rollups, screen snapshots)."""
    Visit.objects.create(center=center, channel="qr", arrived_at=at, day=timezone.localdate(at))
    refresh_figures()
    services.refresh()


def test_the_city_screen_updates_itself_and_cycles(live_server, page, regions, daytime):
    center = make_center(
        "新华路街道党群服务中心",
        district="长宁区",
        lat=31.2085,
        lng=121.4237,
        location_precision="exact",
    )
    now = daytime  # 10:00 local today: both visits are today's
    arrive(center, now - timedelta(minutes=5))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/screen/?cycle=8")
    assert page.locator('.tile [data-figure="visits_today"]').inner_text() == "1"
    expect(page.locator("#hour-chart")).to_have_attribute("width", re.compile(r"^[1-9]\d*$"))
    assert_accessible(page)
    # The map view comes round by itself, coloured per district with its figure.
    page.locator("#view-map").wait_for(state="visible", timeout=12_000)
    page.wait_for_selector("#screen-map path", timeout=10_000)
    assert page.locator(".area-label", has_text="长宁区").count() == 1
    assert_accessible(page)
    # A second visit, rolled up by the worker's steps: the figure changes without a reload.
    arrive(center, now - timedelta(minutes=1))
    expect(page.locator('.tile [data-figure="visits_today"]')).to_have_text("2", timeout=10_000)
    assert page.locator('[data-figure="in_centers_now"]').inner_text() == "2"
    page.goto("about:blank")  # the screen leaves: its stream ends at the next heartbeat
