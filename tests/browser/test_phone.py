"""Phone first (#11): 375×812, normal and large text, Chinese and English, on the pages a
resident or a door volunteer opens: no sideways scroll, the first result above the fold, touch
targets of 44 px, no serious axe violations; and dark mode at night."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.activities import services
from doorstep.activities.models import Registration
from tests.browser.conftest import WATCH_CSP, assert_accessible
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def world(regions):
    now = timezone.now()
    center = make_center(
        "杨浦滨江党群服务站",
        branch="电站辅机厂站",
        district="杨浦区",
        name_en="Yangpu Riverside Station (Power Plant Auxiliary Works)",
        address="杨浦滨江南段某路1号",
        phone="021-12345678",
        themes=["better_life", "red_heritage"],
        facilities=["restroom", "drinking_water", "open_24h"],
        hours="24h",
        lat=31.2503,
        lng=121.5302,
        location_precision="exact",
    )
    for i in range(6):  # a results page with more than one screen of cards
        make_center(f"杨浦区示例党群服务站{i}", district="杨浦区", hours="mon-fri 09:00-17:00")
    activity = make_activity(
        center,
        title="滨江亲子绘本课",
        title_en="Riverside picture-book class",
        audience="everyone",
        starts_at=now + timedelta(hours=30),
        registration_opens_at=now - timedelta(hours=1),
        now=now - timedelta(hours=1),
    )
    resident = make_account(name="王芳")
    (reg,) = services.register(
        account=resident, activity_id=activity.pk, person_ids=[resident.people.first().pk]
    ).registrations
    staff = make_staff(center=center)
    return {
        "center": center,
        "activity": activity,
        "registration": Registration.objects.get(pk=reg.pk),
        "resident": resident,
        "staff": staff,
    }


def _session(live_server, user) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# What sticks out, for the failure message: the innermost elements past the right edge.
WIDE = """
() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const out = (e) => e.getBoundingClientRect().right > edge;
  return [...document.querySelectorAll('body *')]
    .filter(e => out(e) && e.getBoundingClientRect().width > 0 && ![...e.children].some(out))
    .slice(0, 5)
    .map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
      + Math.round(e.getBoundingClientRect().width));
}
"""

# Controls that are not words inside a sentence (WCAG 2.5.8 exempts those): each must offer
# at least 44 × 44 px, or 44 px of height across a full-width row.
SMALL_TARGETS = """
() => {
  const sel = 'a.button, button, select, summary,'
    + ' input:not([type=hidden]):not([type=checkbox]):not([type=radio]), label.check, .chip,'
    + ' .site-nav a, .pager a, .view-switch a, .leaflet-control a, .tags a, .districts a,'
    + ' .themes a';
  const bad = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (el.closest('[hidden], .visually-hidden, .leaflet-control-attribution')) continue;
    if (r.height >= 43.5 && r.width >= 43.5) continue;
    const what = (el.textContent || el.name || el.tagName).trim().slice(0, 30);
    bad.push(what + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return bad;
}
"""


def _pages(world):
    c, a, r = world["center"], world["activity"], world["registration"]
    return [
        ("home", "/", None),
        ("results", f"/centers/?lat={c.lat}&lng={c.lng}&radius_m=5000&open_now=1", None),
        ("map", "/centers/?view=map", None),
        ("center", f"/centers/{c.pk}/", None),
        ("activities", "/activities/", None),
        ("activity", f"/activities/{a.pk}/", None),
        ("ticket", f"/me/registrations/{r.pk}/ticket/", "resident"),
        ("check-in", f"/staff/activities/{a.pk}/checkin", "staff"),
    ]


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_fits_a_phone(live_server, browser, world, lang, large):
    context = browser.new_context(viewport=PHONE, locale="en-US" if lang == "en" else "zh-CN")
    context.add_init_script(WATCH_CSP)
    cookies = [{"name": "django_language", "value": lang, "url": live_server.url}]
    if large:
        cookies.append({"name": "doorstep_text", "value": "large", "url": live_server.url})
    context.add_cookies(cookies)
    errors: list[str] = []
    try:
        for name, path, who in _pages(world):
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            if who:
                context.add_cookies([_session(live_server, world[who])])
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            where = f"{name} ({lang}, {'large' if large else 'normal'})"
            assert page.locator("html").get_attribute("lang") == (
                "en" if lang == "en" else "zh-Hans"
            )
            if large:
                assert "large-text" in (page.locator("html").get_attribute("class") or ""), where
            assert page.evaluate(OVERFLOW) <= 0, f"{where} scrolls sideways: {page.evaluate(WIDE)}"
            assert page.evaluate(SMALL_TARGETS) == [], f"{where}: targets under 44 px"
            if name == "results":
                first = page.locator("ol.results > li").first.bounding_box()
                assert first is not None and first["y"] < PHONE["height"], (where, first)
            if name == "home":
                box = page.locator("#q").bounding_box()
                assert box is not None and box["y"] + box["height"] < PHONE["height"], where
            if name == "center":
                # Open-now, address, navigation and the next activities on the first screens.
                nav = page.locator(".nav-links a").first.bounding_box()
                assert nav is not None and nav["y"] < PHONE["height"], where
                assert page.locator(".center-next .act-item").count() == 1
                nxt = page.locator("#next-activities").bounding_box()
                assert nxt is not None and nxt["y"] < PHONE["height"] * (2 if large else 1.5), where
            assert_accessible(page)
            if who:
                context.clear_cookies()
                context.add_cookies(cookies)
            page.close()
    finally:
        context.close()
    assert errors == []


def test_dark_mode_at_night(live_server, browser, world, tmp_path):
    from PIL import Image

    context = browser.new_context(viewport=PHONE, color_scheme="dark", locale="zh-CN")
    page = context.new_page()
    try:
        for path in ("/", f"/centers/{world['center'].pk}/", "/activities/"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            shot = tmp_path / "dark.png"
            page.screenshot(path=str(shot))
            img = Image.open(shot).convert("L")
            # Most of the screen is dark: the mean grey level of the page is low.
            pixels = list(img.getdata())
            mean = sum(pixels) / len(pixels)
            assert mean < 80, (path, mean)
            bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert bg == "rgb(18, 18, 18)", (path, bg)
            assert_accessible(page)
    finally:
        context.close()
