"""A company member books 青年驿家 for a weekly live-stream on a phone; next week's date is
taken by a lecture held in the same space and is skipped; staff approve the requests; at the
door the booker scans the space's QR poster and checks in. Chinese pages, axe-clean."""

import io
import re
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from doorstep.activities.services import ActivityInput, create_activity
from doorstep.rooms.models import Booking
from tests.browser.conftest import assert_accessible
from tests.rooms.conftest import make_tower

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_user(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_weekly_live_stream_skips_the_lecture_is_approved_and_checked_in(
    live_server, page, regions
):
    today = timezone.localdate()
    at = lambda d, h, m=0: timezone.make_aware(datetime.combine(d, time(h, m)))  # noqa: E731
    tower = make_tower()
    center, studio, staff = tower["center"], tower["studio"], tower["staff"]
    member, company = tower["company_user"], tower["company"]
    next_week = today + timedelta(days=7)
    create_activity(
        center_id=center.pk,
        by=staff,
        data=ActivityInput(
            title="楼宇党课",
            category="party_lesson",
            audience="office_workers",
            starts_at=at(next_week, 10),
            ends_at=at(next_week, 11, 30),
            capacity=20,
            registration_opens_at=at(today, 8),
            registration_closes_at=at(next_week, 9),
            space_id=studio.pk,
        ),
        now=at(today, 8),
    )

    with mock.patch("django.utils.timezone.now", return_value=at(today, 9, 50)):
        as_user(page, live_server, member)
        page.goto(f"{live_server.url}/rooms/spaces/{studio.pk}/")
        assert_accessible(page)
        page.get_by_label("日期", exact=True).fill(today.isoformat())
        page.get_by_label("开始", exact=True).fill("10:00")
        page.get_by_label("结束", exact=True).fill("11:00")
        page.get_by_label("用途").fill("直播展示")
        page.get_by_label("为谁预订").select_option(label="某科技公司")
        page.get_by_role("radio", name="每周", exact=True).check()
        page.get_by_label("到", exact=True).fill((today + timedelta(days=21)).isoformat())
        page.get_by_role("radio", name="跳过该日期").check()
        page.get_by_role("button", name="预订", exact=True).click()
        page.wait_for_url(re.compile(r"/rooms/mine/"))
        main = page.locator("main").inner_text()
        assert f"已跳过：{next_week:%m-%d}" in main
        assert main.count("等待审批") == 3
        assert_accessible(page)
        made = list(Booking.objects.filter(organization=company).order_by("starts_at"))
        assert [timezone.localtime(b.starts_at).date() for b in made] == [
            today,
            today + timedelta(days=14),
            today + timedelta(days=21),
        ]

        # Staff approve the three requests from the queue.
        as_user(page, live_server, staff)
        page.goto(f"{live_server.url}/staff/rooms/queue/")
        assert_accessible(page)
        for _ in range(3):
            page.get_by_role("button", name="批准").first.click()
            page.wait_for_load_state()
        assert "没有待审批的申请" in page.locator("main").inner_text()
        assert {b.status for b in Booking.objects.filter(organization=company)} == {"confirmed"}

        # The door's poster, printed by staff, read by the booker's phone.
        page.goto(f"{live_server.url}/staff/rooms/spaces/{studio.pk}/poster")
        import zxingcpp
        from PIL import Image

        png = page.locator(".qr svg").screenshot()
        (url,) = [
            b.text
            for b in zxingcpp.read_barcodes(
                Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
            )
        ]
        assert url.endswith(f"/rooms/door/{studio.door_code}/")
        as_user(page, live_server, member)
        page.goto(url)
        assert_accessible(page)
        page.get_by_role("button", name="为我的预订签到").click()
        assert "已签到：10:00–11:00" in page.get_by_role("status").inner_text()
        assert_accessible(page)
    first = Booking.objects.get(pk=made[0].pk)
    assert first.status == "checked_in" and first.checked_in_by == member
