"""A resident proposes a topic, a neighbour supports and follows it, staff move it twice in the
back office, and the neighbour sees both steps on the timeline and in the inbox."""

import re

import pytest
from django.core.cache import cache

from doorstep.deliberation.models import Topic
from doorstep.inbox.models import Notice
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NOTICE_SENDER = "doorstep.inbox.senders.MemoryNoticeSender"
    cache.clear()
    center = make_center("长宁区古北市民中心", subdistrict="虹桥街道", facilities=["canteen"])
    return {
        "center": center,
        "proposer": make_account(name="李阿姨"),
        "neighbour": make_account(name="王老师"),
        "staff": make_staff(center=center),
    }


def sign_in_as(page, client, live_server, user):
    client.force_login(user)
    page.context.clear_cookies()
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


def test_propose_support_follow_and_two_status_changes(live_server, page, client, world):
    sign_in_as(page, client, live_server, world["proposer"])
    page.goto(f"{live_server.url}/topics/")
    assert_accessible(page)
    page.get_by_role("link", name="Propose a topic").click()
    page.wait_for_url(re.compile(r"/topics/new"))
    assert_accessible(page)
    page.get_by_label("Title").fill("Home delivery of meals")
    page.get_by_label("Description").fill(
        "Some of us cannot walk to the meal point any more <3 & >_<"
    )
    page.get_by_label("Category").select_option("elderly_care")
    # 12,600 centers: a type-ahead over the directory, not a flat list.
    page.get_by_role("combobox", name="Center").fill(world["center"].name[:4])
    page.locator("#t-center-list [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator("#t-center").input_value() == str(world["center"].pk)
    page.get_by_role("button", name="Propose", exact=True).click()
    page.wait_for_url(re.compile(r"/topics/\d+/$"))
    topic = Topic.objects.get()
    assert "Your topic is collected" in page.get_by_role("status").inner_text()
    assert "<3 & >_<" in page.locator(".topic-text").nth(1).inner_text()  # shown as text
    assert_accessible(page)

    sign_in_as(page, client, live_server, world["neighbour"])
    page.goto(f"{live_server.url}/topics/")
    page.get_by_role("link", name="Home delivery of meals").click()
    page.wait_for_url(re.compile(rf"/topics/{topic.pk}/$"))
    page.get_by_role("button", name="Support this topic").click()
    page.get_by_role("button", name="Supported: withdraw").wait_for()
    assert "your support is counted" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Following: stop").wait_for()
    assert page.get_by_role("heading", name="1 support").is_visible()
    assert_accessible(page)

    sign_in_as(page, client, live_server, world["staff"])
    page.goto(f"{live_server.url}/staff/topics/{topic.pk}")
    assert_accessible(page)
    page.get_by_label("Next status").select_option("accepted")
    page.get_by_label("Note for the timeline (optional)").fill("Taken up for the next hearing.")
    page.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("The topic is now: Accepted for deliberation.").wait_for()
    page.get_by_label("Next status").select_option("hearing")
    page.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("The topic is now: Hearing").wait_for()
    assert Topic.objects.get().status == "hearing"

    sign_in_as(page, client, live_server, world["neighbour"])
    page.goto(f"{live_server.url}/topics/{topic.pk}/")
    timeline = page.locator(".timeline").inner_text()
    assert "Accepted for deliberation" in timeline and "Hearing" in timeline
    assert "Taken up for the next hearing." in timeline
    page.get_by_role("link", name="Your inbox").click()
    page.wait_for_url(re.compile(r"/inbox/$"))
    assert "2 unread notices." in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Home delivery of meals.*听证会")).click()
    page.wait_for_url(re.compile(rf"/topics/{topic.pk}/$"))
    assert Notice.objects.filter(user=world["neighbour"], read_at__isnull=True).count() == 1
    assert Notice.objects.filter(user=world["proposer"]).count() == 2


def test_large_text_phone_and_keyboard(live_server, page, client, world):
    from doorstep.deliberation.services import propose

    topic = propose(
        user=world["proposer"],
        title="助餐点延伸送餐上门服务，方便行动不便的老人",
        description="近期天气炎热且多雨，有老人提出行动不便，希望能送餐上门。" * 5,
        category="elderly_care",
        center_id=world["center"].pk,
    )
    sign_in_as(page, client, live_server, world["neighbour"])
    page.context.add_cookies([{"name": "doorstep_text", "value": "large", "url": live_server.url}])
    page.goto(f"{live_server.url}/topics/{topic.pk}/")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert_accessible(page)
    button = page.get_by_role("button", name="Support this topic")
    for _ in range(60):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError("the support button is not reachable with Tab")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Supported: withdraw").wait_for()
    assert topic.supports.filter(user=world["neighbour"]).exists()
