"""A resident offers to explain exhibitions at 黄浦区党建服务中心, is cleared by staff, signs
up for a Saturday shift, checks in and out with the center's volunteer poster; staff approve
the hours; the volunteer downloads the certificate and its code verifies on the public page.
Chinese pages on a phone, axe-clean."""

import io
from unittest import mock

import pytest
from PIL import Image

from doorstep.volunteers import services
from doorstep.volunteers.models import Certificate, Signup
from tests.browser.conftest import assert_accessible
from tests.browser.test_rooms import as_user
from tests.factories import make_account, make_center, make_staff
from tests.volunteers.conftest import MON, NOW, SAT, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _poster_url(page, live_server, center) -> str:
    import zxingcpp

    page.goto(f"{live_server.url}/staff/volunteers/poster/{center.pk}")
    png = page.locator(".poster svg").screenshot()
    (url,) = [
        b.text
        for b in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]
    return url


def test_explainer_volunteers_is_cleared_works_a_saturday_and_gets_a_certificate(
    live_server, page, regions
):
    center = make_center("黄浦区党建服务中心", district="黄浦区", level="district")
    staff = make_staff(center=center)
    opp = services.create_opportunity(
        by=staff, center_id=center.pk, role="explainer", title="党建展厅讲解", now=NOW
    )
    services.add_shifts(
        by=staff,
        opportunity_id=opp.pk,
        starts_at=local(SAT, 9),
        ends_at=local(SAT, 12),
        places=3,
        now=NOW,
    )
    resident = make_account(name="李志愿")
    with mock.patch("django.utils.timezone.now", return_value=local(MON, 10)):
        as_user(page, live_server, resident)
        page.goto(f"{live_server.url}/volunteer/")
        page.get_by_label("讲解员").check()
        page.get_by_label("可服务的时间").fill("周六上午")
        assert_accessible(page)
        page.get_by_role("button", name="保存").click()
        assert page.get_by_text("已保存").is_visible()

        as_user(page, live_server, staff)
        page.goto(f"{live_server.url}/staff/volunteers/")
        page.get_by_label("志愿者手机号").fill(resident.phone)
        page.get_by_label("岗位", exact=True).first.select_option("explainer")
        page.get_by_role("button", name="确认上岗").click()
        assert page.get_by_text("已确认上岗").is_visible()

        as_user(page, live_server, resident)
        page.goto(f"{live_server.url}/volunteer/opportunities/")
        page.get_by_role("link", name="党建展厅讲解").click()
        assert_accessible(page)
        page.get_by_role("button", name="报名").click()
        assert page.get_by_text("报名成功").is_visible()

    with mock.patch("django.utils.timezone.now", return_value=local(SAT, 8, 55)):
        as_user(page, live_server, staff)
        url = _poster_url(page, live_server, center)
        assert f"/volunteer/c/{center.pk}/" in url
        as_user(page, live_server, resident)
        page.goto(url)
        assert_accessible(page)
        page.get_by_role("button", name="签到或签退").click()
        assert "签到时间 08:55" in page.get_by_role("status").inner_text()
    with mock.patch("django.utils.timezone.now", return_value=local(SAT, 12, 2)):
        page.goto(url)
        page.get_by_role("button", name="签到或签退").click()
        assert "签退时间 12:02" in page.get_by_role("status").inner_text()
        assert Signup.objects.get().proposed_minutes == 187

        as_user(page, live_server, staff)
        page.goto(f"{live_server.url}/staff/volunteers/hours/")
        assert_accessible(page)
        page.get_by_role("button", name="审核通过勾选的时长").click()
        assert page.get_by_text("已审核 1 条").is_visible()

        as_user(page, live_server, resident)
        page.goto(f"{live_server.url}/volunteer/")
        with page.expect_download() as got:
            page.get_by_role("link", name="下载服务证明（PDF）").click()
        download = got.value
        with open(download.path(), "rb") as fh:
            assert fh.read(4) == b"%PDF"
        cert = Certificate.objects.get()
        assert cert.code in download.suggested_filename

        page.goto(f"{live_server.url}/volunteer/verify/")
        page.get_by_label("验证码").fill(cert.code)
        page.get_by_role("button", name="核验").click()
        assert "这份证明真实有效" in page.get_by_role("status").inner_text()
        assert_accessible(page)
