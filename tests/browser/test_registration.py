"""A parent signs in with a texted code, registers a child and themselves, shows the QR ticket
and the door scans it."""

import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from doorstep.accounts.senders import MemorySender
from doorstep.activities import tickets
from doorstep.activities.checkin import check_in
from doorstep.activities.models import Registration
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions, settings):
    settings.SMS_SENDER = "doorstep.accounts.senders.MemorySender"
    MemorySender.outbox.clear()
    cache.clear()
    center = make_center(
        "长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道", address="虹桥路1号"
    )
    activity = make_activity(
        center,
        title="亲子象棋课",
        room="三楼活动室",
        capacity=10,
        age_min=5,
        age_max=10,
        starts_at=timezone.now() + timedelta(days=2),
    )
    parent = make_account(name="王芳", children=(("多多", timezone.now().year - 7),))
    yield {"center": center, "activity": activity, "parent": parent}
    MemorySender.outbox.clear()


def sign_in_with_code(page, phone: str) -> None:
    page.get_by_label(re.compile("mobile", re.I)).fill(phone)
    # Consent first (the user agreement and privacy notice, PIPL); no code is sent without it.
    page.get_by_role("checkbox", name=re.compile("I have read and agree")).check()
    page.get_by_role("button", name="Text me a code").click()
    page.wait_for_load_state()
    code = [m for m in MemorySender.outbox if m.phone.endswith(phone)][-1].code
    page.get_by_label(re.compile("code", re.I)).first.fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_parent_registers_child_and_self_and_the_ticket_scans(live_server, page, world):
    activity, parent = world["activity"], world["parent"]
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/activities/")
    page.get_by_role("link", name="亲子象棋课").click()
    page.wait_for_url(re.compile(rf"/activities/{activity.pk}/$"))
    assert "Open: 10 places left" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Sign in to register").click()
    page.wait_for_url(re.compile(r"/account/sign-in\?next="))
    sign_in_with_code(page, parent.phone[-11:])
    page.wait_for_url(re.compile(rf"/activities/{activity.pk}/$"))

    page.get_by_role("checkbox", name="王芳").check()
    page.get_by_role("checkbox", name=re.compile("多多")).check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(rf"/activities/{activity.pk}/$"))
    status = page.get_by_role("status")
    assert "Confirmed: 王芳、多多" in status.inner_text()
    assert "Open: 8 places left" in page.locator("main").inner_text()
    assert_accessible(page)

    page.locator("details.menu > summary").click()  # the main links fold into a menu
    page.get_by_role("link", name="My registrations").first.click()
    page.wait_for_url(re.compile(r"/me/registrations/$"))
    assert page.get_by_role("link", name="Ticket for 多多").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Ticket for 多多").click()
    page.wait_for_url(re.compile(r"/me/registrations/\d+/ticket/$"))
    assert_accessible(page)
    typed = page.locator(".ticket-code code").inner_text().strip()
    child = Registration.objects.select_related("activity").get(
        activity=activity, person__name="多多"
    )
    assert typed == child.short_code and len(typed) == 6

    import zxingcpp
    from PIL import Image

    png = page.locator(".ticket-qr svg").screenshot()
    decoded = [
        b.text
        for b in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]
    assert decoded == [live_server.url + tickets.path_for(tickets.token_for(child))]

    # At the door, on the day: staff scan the code.
    staff = make_staff(center=world["center"])
    result = check_in(token=decoded[0], nonce="door-scan-0001", staff=staff, now=activity.starts_at)
    assert result.code == "welcome"
    assert result.registration.person.name == "多多"
    page.reload()
    assert "Checked in at" in page.locator("main").inner_text()


def test_keyboard_only_registration(live_server, page, world, client):
    """Signed in by session cookie; everything after is done with the keyboard."""
    activity, parent = world["activity"], world["parent"]
    client.force_login(parent)
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
    page.goto(f"{live_server.url}/activities/{activity.pk}/")
    page.get_by_role("checkbox", name=re.compile("多多")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    page.get_by_role("button", name="Register").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/activities/{activity.pk}/$"))
    assert "Confirmed" in page.get_by_role("status").inner_text()
    assert Registration.objects.filter(activity=activity, status="confirmed").count() == 2


def test_lobby_screen_is_readable_and_polls(live_server, page, world):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/centers/{world['center'].pk}/lobby/")
    assert page.locator(".site-header").count() == 0
    assert page.locator(".lobby-day").count() == 7
    assert page.locator(".lobby-today").count() == 1
    title = page.locator("h1")
    assert float(title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 40
    box = page.locator("#lobby-schedule")
    assert box.get_attribute("hx-trigger") == "every 60s"
    # What the poll does, without waiting a minute: fetch the fragment and swap it in.
    page.evaluate("document.querySelector('.lobby-week').remove()")
    url = f"/centers/{world['center'].pk}/lobby/"
    page.evaluate(f"htmx.ajax('GET', '{url}', {{target: '#lobby-schedule', swap: 'innerHTML'}})")
    page.wait_for_selector(".lobby-week")
    assert page.locator(".lobby-day").count() == 7 and page.locator("html").count() == 1
    assert_accessible(page)
