"""The monitor with the database: alerts written at once and never twice while open; bad
messages ignored and counted, never crashing it; the clock's no-signal rule; acknowledgement
and escalation timing; readings forgotten a day after the session; scope."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from doorstep.accounts.models import Person
from doorstep.core.models import AuditEntry
from doorstep.gym import services
from doorstep.gym.models import Alert, Band, Ignored, Live, Reading, Session, Settings
from doorstep.gym.monitor import Monitor
from doorstep.inbox.models import Notice
from tests.factories import make_account, make_center, make_staff

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in Shanghai


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


@pytest.fixture
def gym(regions):
    center = make_center("徐家汇长者运动健康之家", district="徐汇区")
    staff = make_staff(center=center)
    manager = make_staff(center=center)
    Settings.objects.create(center=center, duty_manager=manager, escalate_seconds=60)
    band = Band.objects.create(center=center, band_id="HR-0001", label="A01")
    resident = make_account(name="王阿姨")
    person = Person.objects.get(account=resident)
    Person.objects.filter(pk=person.pk).update(birth_year=1950)
    member = services.enrol(
        by=staff,
        center_id=center.pk,
        person_id=person.pk,
        nickname="王阿姨",
        consent=True,
        now=at(-600),
    )
    session = services.start_session(
        by=staff, center_id=center.pk, band_label="A01", member_id=member.pk, now=at(0)
    )
    clock = Clock(T0)
    monitor = Monitor(clock=clock)
    monitor.refresh(at(0))
    return {
        "center": center,
        "staff": staff,
        "manager": manager,
        "band": band,
        "session": session,
        "monitor": monitor,
        "clock": clock,
        "resident": resident,
    }


def send(gym, second, bpm, **extra):
    gym["clock"].t = T0 + second
    payload = {"band": "HR-0001", "ts": T0 + second, "bpm": bpm, **extra}
    topic = f"doorstep/{gym['center'].pk}/hr/HR-0001"
    return gym["monitor"].handle(topic, json.dumps(payload).encode())


def test_limits_come_from_age(gym):
    assert (gym["session"].limit_bpm, gym["session"].upper_bpm) == (144, 122)


def test_an_alert_is_written_at_once_and_not_again_while_open(gym):
    for s in range(0, 11):
        assert send(gym, s, 130) == []
    assert [a.kind for a in send(gym, 11, 130)] == ["high"]
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.value, alert.measured_at) == ("high", 130, at(11))
    for s in range(12, 30):
        send(gym, s, 131)
    assert Alert.objects.count() == 1
    assert AuditEntry.objects.filter(action="gym.alert").count() == 1
    services.acknowledge(
        by=gym["staff"], alert_id=alert.pk, action="让王阿姨休息，已平稳", now=at(31)
    )
    gym["monitor"].refresh(at(31))
    send(gym, 31, 132)  # still above since second 0: raised again at once after acknowledgement
    assert Alert.objects.filter(kind="high").count() == 2


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("doorstep/{c}/hr/HR-0001", b"{not json", "bad_json"),
        ("doorstep/{c}/hr/HR-0001", b'{"band": "HR-0001"}', "bad_json"),
        ("doorstep/{c}/hr/HR-9999", b'{"band": "HR-9999", "ts": %(t)s, "bpm": 90}', "unknown_band"),
        (
            "doorstep/99999/hr/HR-0001",
            b'{"band": "HR-0001", "ts": %(t)s, "bpm": 90}',
            "wrong_center",
        ),
        (
            "doorstep/{c}/hr/HR-0001",
            b'{"band": "HR-0002", "ts": %(t)s, "bpm": 90}',
            "band_mismatch",
        ),
        (
            "doorstep/{c}/hr/HR-0001",
            b'{"band": "HR-0001", "ts": %(t)s, "bpm": 900}',
            "absurd_value",
        ),
        (
            "doorstep/{c}/hr/HR-0001",
            b'{"band": "HR-0001", "ts": %(t)s, "bpm": "90"}',
            "absurd_value",
        ),
        (
            "doorstep/{c}/hr/HR-0001",
            b'{"band": "HR-0001", "ts": %(t)s, "bpm": 90, "battery": 900}',
            "absurd_value",
        ),
        ("doorstep/{c}/hr/HR-0001", b'{"band": "HR-0001", "ts": 1e400, "bpm": 90}', "bad_time"),
        ("doorstep/{c}/hr/HR-0001", b'{"band": "HR-0001", "ts": %(old)s, "bpm": 90}', "bad_time"),
        ("elsewhere/{c}/hr/HR-0001", b"{}", "bad_topic"),
        ("doorstep/{c}/hr/HR-0001", b"\xff\xfe", "bad_json"),
    ],
)
def test_malformed_or_forged_messages_are_ignored_and_counted(gym, topic, payload, reason):
    t = T0 + 5
    gym["clock"].t = t
    body = payload.replace(b"%(t)s", str(t).encode()).replace(b"%(old)s", str(t - 3600).encode())
    assert gym["monitor"].handle(topic.format(c=gym["center"].pk), body) == []
    assert gym["monitor"].ignored_total == {reason: 1}
    gym["monitor"].flush(at(5))
    assert Ignored.objects.get(reason=reason).count == 1
    assert Reading.objects.count() == 0


def test_a_replayed_timestamp_is_ignored(gym):
    send(gym, 5, 90)
    send(gym, 5, 91)
    send(gym, 4, 92)
    assert gym["monitor"].ignored_total == {"replayed": 2}
    gym["monitor"].flush(at(5))
    assert Reading.objects.count() == 1


def test_no_signal_on_the_clock_then_the_tile(gym):
    send(gym, 1, 95)
    gym["monitor"].tick(T0 + 10)
    assert not Alert.objects.exists()
    live = Live.objects.get(session=gym["session"])
    assert (live.bpm, live.zone) == (95, "work")
    gym["monitor"].tick(T0 + 16.5)
    assert Alert.objects.get().kind == "no_signal"


def test_escalation_after_the_gyms_seconds_once_and_to_the_duty_manager(gym):
    send(gym, 1, 30 + 10)  # 40: too low
    alert = Alert.objects.get()
    assert services.escalate_due(at(60)) == 0
    assert services.escalate_due(at(62)) == 1
    assert services.escalate_due(at(90)) == 0
    alert.refresh_from_db()
    assert alert.escalated_at == at(62)
    assert Notice.objects.filter(user=gym["manager"], kind="gym_escalated").count() == 1
    # Acknowledged in time: never escalated.
    send(gym, 2, 190)  # too high at once, and a sudden jump from 40
    assert set(Alert.objects.exclude(pk=alert.pk).values_list("kind", flat=True)) == {
        "high",
        "sudden",
    }
    for other in Alert.objects.exclude(pk=alert.pk):
        services.acknowledge(by=gym["staff"], alert_id=other.pk, action="检查手环佩戴", now=at(30))
    assert services.escalate_due(at(200)) == 0
    outsider = make_staff(center=make_center("别处", district="黄浦区"))
    with pytest.raises(services.GymError):
        services.acknowledge(by=outsider, alert_id=alert.pk, action="看过了")
    with pytest.raises(services.GymError):
        services.acknowledge(by=gym["staff"], alert_id=alert.pk, action="  ")


def test_readings_are_forgotten_a_day_after_the_session_and_the_summary_stays(gym):
    for s in range(0, 60):
        send(gym, s, 100 + (s % 10))
    gym["monitor"].flush(at(60))
    session = services.end_session(
        by=gym["staff"], center_id=gym["center"].pk, band_label="A01", now=at(61)
    )
    assert (session.readings, session.peak_bpm) == (60, 109)
    assert sum(session.zone_seconds.values()) == 59
    assert services.forget_readings(at(61) + timedelta(hours=23)) == 0
    assert services.forget_readings(at(61) + timedelta(hours=25)) == 60
    assert Session.objects.get().readings == 60


def test_the_board_is_scoped_and_speaks_the_state(gym):
    send(gym, 1, 40)
    gym["monitor"].flush(at(1))
    c = Client()
    c.force_login(gym["staff"])
    state = c.get(f"/staff/gym/{gym['center'].pk}/state.json").json()
    assert state["tiles"][0]["name"] == "王阿姨" and state["tiles"][0]["bpm"] == 40
    assert state["alerts"][0]["kind"] == "low"
    assert "phone" not in json.dumps(state)
    c.force_login(make_staff(center=make_center("别处", district="黄浦区")))
    assert c.get(f"/staff/gym/{gym['center'].pk}/state.json").status_code == 404
    assert c.get(f"/staff/gym/{gym['center'].pk}/board").status_code == 404


def test_a_member_sees_and_deletes_their_sessions(gym):
    send(gym, 1, 40)
    services.end_session(by=gym["staff"], center_id=gym["center"].pk, band_label="A01", now=at(120))
    c = Client()
    c.force_login(gym["resident"])
    assert "心率过低" in c.get("/gym/mine/").content.decode()
    c.post("/gym/mine/", {"session": gym["session"].pk})
    assert not Session.objects.exists() and not Alert.objects.exists()
