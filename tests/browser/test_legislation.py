"""A resident reads a draft law on a phone, comments on one paragraph and follows the opinion;
staff compile it. Every page is checked with axe-core, in Chinese and in large text."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.legislation import services
from doorstep.legislation.models import Opinion
from tests.browser.conftest import assert_accessible
from tests.factories import make_account, make_center, make_staff
from tests.legislation.conftest import SNIPPET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    point = services.designate_contact_point(by=None, center_id=center.pk)
    staff = make_staff(center=center)
    now = timezone.now()
    draft = services.import_draft(
        by=staff,
        contact_point_id=point.pk,
        title="示例社区服务法（草案）",
        text=SNIPPET,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=20),
        synthetic=True,
    )
    services.change_draft_status(by=staff, draft_id=draft.pk, to="open")
    return {"draft": draft, "staff": staff, "resident": make_account(name="王芳")}


def sign_in(page, live_server, user, lang="en"):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": lang, "url": live_server.url},
        ]
    )


def test_resident_comments_on_a_paragraph_and_follows_it(live_server, page, world):
    draft = world["draft"]
    sign_in(page, live_server, world["resident"])
    page.goto(f"{live_server.url}/legislation/")
    assert_accessible(page)
    page.get_by_role("link", name=draft.title).click()
    page.wait_for_url(re.compile(rf"/legislation/drafts/{draft.pk}/$"))
    assert "Synthetic example" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Comment on 第二条第二款").first.click()
    page.wait_for_url(re.compile(r"/opinion\?paragraph="))
    assert page.get_by_role("radio", name="第二款").is_checked()
    assert_accessible(page)
    page.get_by_label("Your opinion, in your own words").fill("<b>建议</b>")
    page.get_by_role("button", name="Send my opinion").click()
    assert "HTML tags are not accepted" in page.get_by_role("alert").inner_text()
    page.get_by_label("Your opinion, in your own words").fill("建议把助餐服务写进来。")
    page.get_by_role("button", name="Send my opinion").click()
    page.wait_for_url(re.compile(r"/me/opinions/$"))
    main = page.locator("main").inner_text()
    assert "第二条第二款" in main and "Heard by the contact point" in main
    assert_accessible(page)

    services.change_draft_status(by=world["staff"], draft_id=draft.pk, to="closed")
    services.set_status(
        by=world["staff"],
        draft_id=draft.pk,
        opinion_ids=[Opinion.objects.get().pk],
        to="submitted",
    )
    page.reload()
    assert "Submitted to the legislature" in page.locator("main").inner_text()


def test_staff_compile_page_and_funnel_in_chinese_and_large_text(live_server, page, world):
    draft = world["draft"]
    for text in ("建议增加社区养老服务设施。", "建议增加社区的养老服务设施"):
        services.give_opinion(
            author=make_account(name="居民"),
            draft_id=draft.pk,
            article_id=draft.articles.get(number=12).pk,
            text=text,
        )
    sign_in(page, live_server, world["staff"], lang="zh-hans")
    page.goto(f"{live_server.url}/staff/legislation/drafts/{draft.pk}/compile")
    assert "内容相近" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="归为一类").first.click()
    page.wait_for_url(re.compile(r"/compile$"))
    assert "第1组：2条意见" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="大字").click()
    page.goto(f"{live_server.url}/legislation/funnel/")
    assert page.locator("html").get_attribute("class") == "large-text"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert_accessible(page)
