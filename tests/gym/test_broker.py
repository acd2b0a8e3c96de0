"""Through the real Mosquitto broker (127.0.0.1:1883; `.ci/run` starts it): the monitor
command subscribes, the simulator command publishes synthetic readings with a forced
anomaly, and the alert is in the database within a second or two; a forged message on the
same broker is ignored and counted, and the monitor keeps going."""

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command

from doorstep.gym.models import Alert, Ignored, Reading
from tests.factories import make_center

pytestmark = pytest.mark.django_db(transaction=True)


def test_monitor_and_simulator_through_mosquitto(regions):
    center = make_center("徐家汇长者运动健康之家", district="徐汇区")
    from doorstep.gym.simulate import ensure_sessions

    bands = ensure_sessions(center.pk, 3)
    monitor = threading.Thread(
        target=call_command, args=("gym-monitor", "--seconds", "9"), daemon=True
    )
    monitor.start()
    time.sleep(1.5)  # subscribed
    forged = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    forged.connect("127.0.0.1", 1883)
    forged.loop_start()
    forged.publish(f"doorstep/{center.pk}/hr/{bands[0][0]}", b"{not json").wait_for_publish(2)
    forged.publish(
        f"doorstep/{center.pk}/hr/nobody", b'{"band": "nobody", "ts": 1, "bpm": 80}'
    ).wait_for_publish(2)
    forged.loop_stop()
    forged.disconnect()
    started = time.time()
    call_command(
        "gym-simulate",
        "--center",
        str(center.pk),
        "--bands",
        "3",
        "--seconds",
        "5",
        "--anomaly",
        f"{bands[1][1]}:low@2",
    )
    monitor.join(timeout=20)
    assert not monitor.is_alive()
    low = Alert.objects.get(kind="low")
    assert low.session.band.band_id == bands[1][0]
    assert low.raised_at.timestamp() - started < 4.5
    assert Reading.objects.count() >= 3 * 4  # about one a second from each band
    counted = dict(Ignored.objects.values_list("reason", "count"))
    assert counted.get("bad_json") == 1 and counted.get("unknown_band") == 1
