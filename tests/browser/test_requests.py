"""A canteen company asks 苏河湾 for health certificates for 12 staff on a phone; the center
accepts and hands it to its partner hospital; the hospital schedules the check-ups and
resolves it; the company reads the timeline and rates it. Chinese pages, axe-clean."""

from unittest import mock

import pytest

from doorstep.cases.models import ServiceRequest
from tests.browser.conftest import assert_accessible
from tests.browser.test_rooms import as_user
from tests.cases.conftest import MON, local, make_scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _form(page, action: str):
    return page.locator(f"form:has(input[name=do][value={action}])")


def test_health_certificates_for_twelve_staff_through_center_and_hospital(
    live_server, page, regions
):
    scene = make_scene()
    center = scene["center"]
    with mock.patch("django.utils.timezone.now", return_value=local(MON, 10)):
        # The company files it, as the company.
        as_user(page, live_server, scene["manager"])
        page.goto(f"{live_server.url}/centers/{center.pk}/")
        page.get_by_role("link", name="健康证办理").click()
        assert page.get_by_text("为什么问：医院据此预留体检名额").is_visible()
        assert_accessible(page)
        page.get_by_label("公司名称").fill("河畔餐饮有限公司")
        page.get_by_label("需要办证的员工人数").fill("12")
        page.get_by_label("你需要什么帮助？").fill("新门店 12 名员工需要办理健康证")
        page.get_by_label("提交身份").select_option(label="河畔餐饮有限公司")
        page.get_by_role("button", name="提交诉求").click()
        page.wait_for_url("**/requests/*/")
        assert page.get_by_text("首次答复截止").is_visible()
        req = ServiceRequest.objects.get()
        assert req.organization == scene["company"] and req.answers["employees"] == 12

        # The center's staff accept it and hand it to the hospital.
        as_user(page, live_server, scene["staff"])
        page.goto(f"{live_server.url}/requests/handle/")
        page.get_by_role("link", name=f"#{req.pk} 健康证办理").click()
        _form(page, "accept").get_by_role("button", name="受理").click()
        hand = _form(page, "hand_over")
        hand.get_by_role("textbox").fill("12人，请安排本周体检")
        hand.get_by_role("button", name="移交给合作医院").click()
        assert page.get_by_text("由合作方办理：合作医院").is_visible()

        # The hospital schedules and resolves, on its own pages (not the back office).
        as_user(page, live_server, scene["nurse"])
        page.goto(f"{live_server.url}/requests/handle/")
        page.get_by_role("link", name=f"#{req.pk} 健康证办理").click()
        assert_accessible(page)
        accept = _form(page, "accept")
        accept.get_by_role("textbox").fill("已安排12月9日上午9:00在医院体检")
        accept.get_by_role("button", name="受理").click()
        done = _form(page, "resolve")
        done.get_by_role("textbox").fill("12人已体检，健康证3个工作日后到中心领取")
        done.get_by_role("button", name="办结").click()
        assert page.get_by_text("已办结").first.is_visible()

        # The company sees every hand-over on its timeline, and rates it.
        as_user(page, live_server, scene["manager"])
        page.goto(f"{live_server.url}/requests/{req.pk}/")
        timeline = page.locator(".timeline")
        for step in (
            "已提交",
            "已受理",
            "移交合作方",
            "已安排12月9日上午9:00在医院体检",
            "12人已体检",
        ):
            assert timeline.get_by_text(step).first.is_visible(), step
        assert_accessible(page)
        page.get_by_label("5", exact=True).check()
        page.get_by_label("评价（选填）").fill("很方便")
        page.get_by_role("button", name="评价", exact=True).click()
        assert page.get_by_text("感谢你的评价").is_visible()
    req.refresh_from_db()
    assert (req.status, req.rating, req.owner) == ("resolved", 5, scene["nurse"])
