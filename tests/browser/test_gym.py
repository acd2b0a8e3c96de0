"""The coach's board on a tablet: the simulator publishes through Mosquitto, the monitor
raises an alert from a forced anomaly, the board shows it from its event stream, and the
coach acknowledges it with what was done. Chinese, axe-clean."""

import threading

import pytest
from django.core.management import call_command

from doorstep.gym.models import Alert
from doorstep.gym.simulate import ensure_sessions
from tests.browser.conftest import assert_accessible
from tests.browser.test_rooms import as_user
from tests.factories import make_center, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_forced_anomaly_reaches_the_board_and_the_coach_acknowledges_it(
    live_server, page, regions
):
    center = make_center("徐家汇街道社区党群服务中心", district="徐汇区")
    coach = make_staff(center=center)
    bands = ensure_sessions(center.pk, 4)
    page.set_viewport_size({"width": 1024, "height": 768})
    as_user(page, live_server, coach)
    monitor = threading.Thread(
        target=call_command, args=("gym-monitor", "--seconds", "14"), daemon=True
    )
    monitor.start()
    simulator = threading.Thread(
        target=call_command,
        args=(
            "gym-simulate",
            "--center",
            str(center.pk),
            "--bands",
            "4",
            "--seconds",
            "8",
            "--anomaly",
            f"{bands[2][1]}:low@3",
        ),
        daemon=True,
    )
    simulator.start()
    try:
        page.goto(f"{live_server.url}/staff/gym/{center.pk}/board")
        page.wait_for_selector(".tile .bpm", timeout=10_000)
        # The forced drop to 38 is too low, and a sudden change too: two alerts, each to see to.
        alert = page.locator("#alerts li", has_text="心率过低")
        alert.wait_for(timeout=10_000)
        assert page.locator(".tile.alerting").count() == 1
        assert page.locator("#connection").inner_text() == "实时"
        assert_accessible(page)
        alert.get_by_role("textbox").fill("请老人坐下休息，心率恢复正常")
        # The form posts and the board comes back: wait for that answer, not the old page's load.
        with page.expect_navigation():
            alert.get_by_role("button", name="确认已处置").click()
        ack = Alert.objects.get(kind="low")
        assert ack.acknowledged_by == coach and ack.action == "请老人坐下休息，心率恢复正常"
        page.locator("#alerts li", has_text="心率过低").wait_for(state="detached", timeout=5_000)
        assert page.locator("#alerts li", has_text="心率骤变").count() == 1
    finally:
        simulator.join(timeout=20)
        monitor.join(timeout=30)
