"""The door on a phone: staff check people in by camera (a QR fed through Chromium's fake
camera, read by the ZXing decoder the page serves itself) and by the short code; a parent
whose child wins a lottery finds the notice in the inbox."""

import io
from datetime import timedelta

import pytest
import segno
from django.test import Client
from django.utils import timezone
from PIL import Image

from doorstep.activities import services, tickets
from doorstep.activities.models import CheckIn, Registration
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, WATCH_CSP, assert_accessible
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_cookies(live_server, user) -> list[dict]:
    client = Client()
    client.force_login(user)
    return [
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": "en", "url": live_server.url},
    ]


def y4m_of(text: str, path) -> None:
    """A few frames of a QR code as raw video (YUV4MPEG2, 4:2:0) for Chromium's fake camera."""
    qr = io.BytesIO()
    segno.make(text, error="m").save(qr, kind="png", scale=8, border=4)
    qr.seek(0)
    frame = Image.new("RGB", (640, 480), "white")
    code = Image.open(qr).convert("RGB")
    code.thumbnail((440, 440))
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    u = u.resize((320, 240))
    v = v.resize((320, 240))
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _frame in range(10):
            out.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())


@pytest.fixture
def door(regions):
    now = timezone.now()
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    # Starting in half an hour: the door admits its tickets now, whatever the local day.
    activity = make_activity(
        center,
        title="剪纸课",
        audience="everyone",
        starts_at=now + timedelta(minutes=30),
        registration_opens_at=now - timedelta(hours=3),
        registration_closes_at=now - timedelta(hours=1),
        now=now - timedelta(hours=3),
    )
    people = {}
    for name in ("李阿姨", "张伯伯"):
        a = make_account(name=name)
        (reg,) = services.register(
            account=a,
            activity_id=activity.pk,
            person_ids=[a.people.first().pk],
            now=now - timedelta(hours=2),
        ).registrations
        people[name] = Registration.objects.select_related("activity").get(pk=reg.pk)
    return {"activity": activity, "people": people, "staff": make_staff(center=center)}


def test_staff_check_in_by_camera_and_by_short_code(live_server, browser, door, tmp_path):
    camera_reg = door["people"]["李阿姨"]
    video = tmp_path / "ticket.y4m"
    y4m_of(live_server.url + tickets.path_for(tickets.token_for(camera_reg)), video)
    typed_reg = door["people"]["张伯伯"]
    code = tickets.short_code_for(typed_reg)
    args = CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A Chromium of its own (a fake camera playing the ticket), from the session's Playwright.
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
    try:
        context = camera_browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        context.grant_permissions(["camera"], origin=live_server.url)
        context.add_init_script(WATCH_CSP)
        context.add_cookies(session_cookies(live_server, door["staff"]))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/staff/activities/{door['activity'].pk}/checkin")
        assert_accessible(page)
        page.get_by_role("button", name="Scan with the camera").click()
        panel = page.locator("#checkin-result")
        panel.locator(".result-person", has_text="李阿姨").wait_for(timeout=20000)
        assert "result-welcome" in panel.get_attribute("class")
        page.get_by_role("button", name="Stop the camera").click()

        field = page.get_by_label("Ticket code (6 letters and digits), or scan")
        field.fill(code.lower())
        field.press("Enter")
        panel.locator(".result-person", has_text="张伯伯").wait_for()
        assert "Welcome!" in panel.inner_text()
        violations = page.evaluate("window.__cspViolations")
    finally:
        camera_browser.close()
    assert errors == [] and violations == []
    assert CheckIn.objects.get(registration=camera_reg, result="welcome").method == "scan"
    assert CheckIn.objects.get(registration=typed_reg, result="welcome").method == "code"
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 2


def test_a_parent_whose_child_wins_the_lottery_sees_the_notice(live_server, page, regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    activity = make_activity(
        center, title="Chess for kids", capacity=2, allocation="lottery", audience="everyone"
    )
    parent = make_account(name="Wang Fang", language="en", children=(("Duoduo", 2018),))
    services.register(
        account=parent, activity_id=activity.pk, person_ids=[p.pk for p in parent.people.all()]
    )
    assert services.draw(activity_id=activity.pk, now=activity.registration_closes_at)
    page.context.add_cookies(session_cookies(live_server, parent))
    page.goto(f"{live_server.url}/activities/")
    menu = page.locator("details.menu > summary")
    assert int(menu.locator(".badge").inner_text()) >= 1  # unread, seen with the menu closed
    menu.click()
    inbox = page.get_by_role("link", name="Inbox")
    assert "unread" in inbox.inner_text()
    inbox.click()
    notice = page.get_by_text("Drawn: Wang Fang, Duoduo have a place in Chess for kids")
    notice.wait_for()
    assert f"/api/v1/activities/{activity.pk}/draw" in page.locator("main").inner_text()
    assert_accessible(page)


def test_the_door_keeps_working_offline_and_syncs_once(live_server, page, door, regions):
    # A third registrant, so three different tickets are scanned while offline.
    a = make_account(name="王老师")
    (reg,) = services.register(
        account=a,
        activity_id=door["activity"].pk,
        person_ids=[a.people.first().pk],
        now=door["activity"].registration_opens_at + timedelta(minutes=1),
    ).registrations
    regs = [
        *door["people"].values(),
        Registration.objects.select_related("activity").get(pk=reg.pk),
    ]
    page.context.add_cookies(session_cookies(live_server, door["staff"]))
    page.goto(f"{live_server.url}/staff/activities/{door['activity'].pk}/checkin")
    # The service worker takes the page; one more load keeps a copy of it and its scripts.
    # Polled from here: wait_for_function compiles its predicate inside the page, which the
    # page's CSP (no 'unsafe-eval') refuses whenever the first check is not already true.
    controlled = "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)"
    for _ in range(100):
        if page.evaluate(controlled):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(controlled), "the service worker never took the page"
    page.reload()
    page.context.set_offline(True)
    # The Wi-Fi drops and the phone reloads the page: it still opens, from the kept copy.
    page.reload()
    page.get_by_role("heading", name="Check-in").wait_for()
    field = page.get_by_label("Ticket code (6 letters and digits), or scan")
    panel = page.locator("#checkin-result")
    for n, r in enumerate(regs, start=1):
        field.fill(live_server.url + tickets.path_for(tickets.token_for(r)))
        field.press("Enter")
        # Each scan's own effect (the panel may still show the previous "Recorded offline").
        page.get_by_text(f"Waiting to be sent: {n}").wait_for()
        panel.locator(".result-message", has_text="Recorded offline").wait_for()
        assert "result-offline" in panel.get_attribute("class")
    # A forged ticket is refused on the phone, and the same ticket twice is one scan.
    token = tickets.token_for(regs[0])
    # One character inside the signature (the last ones may carry only padding bits).
    i = len(token) - 5
    field.fill(token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :])
    field.press("Enter")
    panel.locator(".result-message", has_text="Not a valid ticket").wait_for()
    field.fill(token)
    field.press("Enter")
    panel.locator(".result-message", has_text="Already recorded offline").wait_for()
    page.get_by_text("Waiting to be sent: 3").wait_for()
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 0
    assert_accessible(page)

    page.context.set_offline(False)
    page.get_by_text("Waiting to be sent:").wait_for(state="hidden", timeout=20000)
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 3
    assert CheckIn.objects.filter(result="welcome", method="offline").count() == 3
    assert page.locator("[data-count=checked_in]").inner_text() == "3"
