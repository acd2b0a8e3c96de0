"""A request's life through the services, at pinned times: the clock from submission, its
pauses, the three-party hand-over, reminders, escalation exactly once, closing, reopening,
forgetting, scopes, topics and types."""

from datetime import timedelta
from unittest import mock

import pytest

from doorstep.cases import selectors, services, sla
from doorstep.cases.models import Event, EventKind, Holiday, ServiceRequest, Status
from doorstep.cases.services.common import calendar, holidays
from doorstep.core.errors import NotFound
from doorstep.core.models import AuditEntry
from doorstep.inbox.models import Notice
from tests.cases.conftest import FRI, MON, NEXT_MON, SAT, THU, TUE, WED, file_health, local
from tests.factories import make_account, make_center, make_staff

pytestmark = pytest.mark.django_db

TUE2, WED2 = NEXT_MON + timedelta(days=1), NEXT_MON + timedelta(days=2)


def policy(scene, at, user=None):
    return services.submit(
        user=user or scene["resident"],
        center_id=scene["center"].pk,
        type_code="policy_advice",
        description="想咨询小微企业的房租补贴政策",
        now=at,
    )


def test_the_clock_starts_at_submission_in_the_centers_hours(scene):
    r = policy(scene, local(FRI, 16))
    # 4 h to a first answer: Fri 16–17, then Mon 09–12. 8 h to the result: Mon 09–16.
    assert r.first_response_due == local(NEXT_MON, 12)
    assert r.resolution_due == local(NEXT_MON, 16)
    assert r.due_at == r.first_response_due
    assert r.status == Status.SUBMITTED and r.holder == "center" and r.owner is None


def test_a_holiday_moves_the_deadlines(scene):
    Holiday.objects.create(date=NEXT_MON, name="测试假日", source="test")
    r = policy(scene, local(FRI, 16))
    assert r.first_response_due == local(TUE2, 12)


def test_waiting_for_the_applicant_pauses_and_their_answer_resumes(scene):
    r = policy(scene, local(MON, 9))
    staff = scene["staff"]
    r = services.move(request_id=r.pk, by=staff, action="accept", now=local(MON, 10))
    assert r.owner == staff and r.first_response_minutes == 60
    r = services.move(
        request_id=r.pk,
        by=staff,
        action="wait_applicant",
        note="请补充公司人数",
        now=local(MON, 11),
    )
    assert r.clock_since is None and r.due_at is None and r.clock_minutes == 120
    # Two days later the applicant answers: the clock runs again with 6 h left.
    services.message(request_id=r.pk, by=scene["resident"], body="我们有8个人", now=local(WED, 10))
    r.refresh_from_db()
    assert r.status == Status.IN_PROGRESS
    assert r.clock_since == local(WED, 10)
    assert r.resolution_due == local(WED, 16)
    r = services.move(
        request_id=r.pk, by=staff, action="resolve", note="已说明补贴申请办法", now=local(WED, 12)
    )
    assert r.resolution_minutes == 4 * 60 and r.resolved_in_time is True
    # The incremental clock agrees with a replay of the timeline.
    cal = calendar(r.type, r.center, "center", holidays())
    replayed = sla.replay(
        cal,
        [
            (local(MON, 9), True),
            (local(MON, 11), False),
            (local(WED, 10), True),
            (local(WED, 12), False),
        ],
        8 * 60,
    )
    assert replayed.used == r.resolution_minutes


def test_a_type_that_does_not_pause_keeps_counting(scene):
    scene["policy"].pause_for_applicant = False
    scene["policy"].save()
    r = policy(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    r = services.move(
        request_id=r.pk,
        by=scene["staff"],
        action="wait_applicant",
        note="请补充",
        now=local(MON, 10),
    )
    assert r.clock_since == local(MON, 10) and r.resolution_due == local(MON, 17)


def test_three_parties_one_request_with_a_visible_hand_over(scene):
    r = file_health(scene, local(FRI, 16))
    assert r.organization == scene["company"] and r.answers == {
        "company": "河畔餐饮有限公司",
        "employees": 12,
    }
    staff, nurse = scene["staff"], scene["nurse"]
    services.move(request_id=r.pk, by=staff, action="accept", now=local(NEXT_MON, 9, 30))
    r = services.move(
        request_id=r.pk,
        by=staff,
        action="hand_over",
        note="请医院安排体检",
        now=local(NEXT_MON, 10),
    )
    assert (r.status, r.holder, r.partner, r.owner) == (
        "waiting_partner",
        "partner",
        scene["hospital"],
        None,
    )
    # The hospital's office works 08:00–12:00: 14 h left from Mon 10:00 → Thu 12:00.
    assert r.resolution_due == local(NEXT_MON + timedelta(days=3), 12)
    # Center staff cannot move it while the hospital holds it (only take it back).
    with pytest.raises(services.CaseError) as e:
        services.move(
            request_id=r.pk, by=staff, action="resolve", note="x", now=local(NEXT_MON, 10, 5)
        )
    assert e.value.code == "with_partner"
    r = services.move(
        request_id=r.pk, by=nurse, action="accept", note="12月16日上午体检", now=local(NEXT_MON, 11)
    )
    assert r.owner == nurse and r.status == Status.IN_PROGRESS
    r = services.move(
        request_id=r.pk,
        by=nurse,
        action="resolve",
        note="12人已体检，证件3日后领取",
        now=local(NEXT_MON, 11, 30),
    )
    assert r.clock_minutes == 120 + 90
    services.rate(
        request_id=r.pk, by=scene["manager"], score=5, comment="很方便", now=local(NEXT_MON, 12)
    )
    kinds = list(r.events.values_list("kind", "as_holder"))
    assert kinds == [
        ("submitted", ""),
        ("accepted", "center"),
        ("handed_over", "center"),
        ("accepted", "partner"),
        ("resolved", "partner"),
        ("rated", ""),
    ]
    # The company's manager was told at each public move, in one inbox.
    titles = list(Notice.objects.filter(user=scene["manager"]).values_list("kind", flat=True))
    assert {"case_accept", "case_hand_over", "case_resolve"} <= set(titles)


def test_the_hospital_sees_only_what_it_handles(scene):
    handed = file_health(scene, local(MON, 9))
    services.move(request_id=handed.pk, by=scene["staff"], action="accept", now=local(MON, 9, 10))
    services.move(
        request_id=handed.pk,
        by=scene["staff"],
        action="hand_over",
        note="请安排",
        now=local(MON, 9, 20),
    )
    kept = file_health(scene, local(MON, 9, 30))  # not handed over yet
    other = policy(scene, local(MON, 9, 40))
    nurse = scene["nurse"]
    assert [r.pk for r in selectors.queue(nurse, now=local(MON, 10))] == [handed.pk]
    for r in (kept, other):
        with pytest.raises(NotFound):
            selectors.request_page(nurse, r.pk)
        with pytest.raises(services.CaseError):
            services.move(request_id=r.pk, by=nurse, action="accept", now=local(MON, 10))
    # A stranger and staff of another center see none of them.
    elsewhere = make_staff(center=make_center("别处党群服务中心", district="徐汇区"))
    assert selectors.queue(elsewhere, now=local(MON, 10)) == []
    assert selectors.queue(make_account(name="路人"), now=local(MON, 10)) == []
    # The subdistrict sees all three, nearest deadline first.
    queue = selectors.queue(scene["supervisor"], now=local(MON, 10))
    assert sorted(r.pk for r in queue) == sorted([handed.pk, kept.pk, other.pk])
    assert [r.due_at for r in queue] == sorted(r.due_at for r in queue)


def test_partner_hands_back_to_whoever_handed_over(scene):
    r = file_health(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 10))
    services.move(
        request_id=r.pk, by=scene["staff"], action="hand_over", note="请安排", now=local(MON, 9, 20)
    )
    r = services.move(
        request_id=r.pk,
        by=scene["nurse"],
        action="hand_back",
        note="人数超出本周名额",
        now=local(MON, 10),
    )
    assert (r.holder, r.owner, r.status) == ("center", scene["staff"], Status.IN_PROGRESS)


def test_escalation_happens_exactly_once(scene):
    r = policy(scene, local(MON, 9))
    # 4 h to a first answer: due Mon 13:00. Nobody answers.
    assert services.escalate_due(local(MON, 12, 59)) == 0
    assert services.escalate_due(local(MON, 13, 1)) == 1
    assert services.escalate_due(local(MON, 14)) == 0
    assert services.escalate_due(local(TUE, 17)) == 0  # the resolution deadline passes too
    r.refresh_from_db()
    assert r.escalated_at == local(MON, 13, 1)
    assert Event.objects.filter(request=r, kind=EventKind.ESCALATED).count() == 1
    assert Notice.objects.filter(user=scene["supervisor"], kind="case_escalated").count() == 1
    assert AuditEntry.objects.filter(action="request.escalate", object_id=str(r.pk)).count() == 1
    # The queue's overdue view shows it to the subdistrict.
    assert [
        x.pk for x in selectors.queue(scene["supervisor"], overdue_only=True, now=local(MON, 14))
    ] == [r.pk]


def test_a_paused_request_never_escalates(scene):
    r = policy(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    services.move(
        request_id=r.pk,
        by=scene["staff"],
        action="wait_applicant",
        note="请补充",
        now=local(MON, 10),
    )
    assert services.escalate_due(local(THU, 9)) == 0


def test_reminder_before_the_deadline_goes_to_the_owner_once(scene):
    r = policy(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    # Result due Mon 17:00; the reminder comes within the last two hours.
    assert services.remind_due(local(MON, 14, 59)) == 0
    assert services.remind_due(local(MON, 15, 1)) == 1
    assert services.remind_due(local(MON, 16)) == 0
    assert Notice.objects.filter(user=scene["staff"], kind="case_reminder").count() == 1


def test_resolved_closes_after_the_reopen_window_and_reopen_in_it(scene):
    r = policy(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    services.move(
        request_id=r.pk, by=scene["staff"], action="resolve", note="已答复", now=local(MON, 10)
    )
    r = services.reopen(
        request_id=r.pk, by=scene["resident"], note="还不清楚申报时间", now=local(TUE, 9)
    )
    assert r.status == Status.IN_PROGRESS and r.clock_since == local(TUE, 9)
    assert r.clock_minutes == 60  # Mon 09:00–10:00 so far; the night did not count
    services.move(
        request_id=r.pk,
        by=scene["staff"],
        action="resolve",
        note="申报截止12月31日",
        now=local(TUE, 10),
    )
    assert services.close_resolved(local(TUE, 10) + timedelta(days=6)) == 0
    assert services.close_resolved(local(TUE, 10) + timedelta(days=7, minutes=1)) == 1
    r.refresh_from_db()
    assert r.status == Status.CLOSED
    with pytest.raises(services.CaseError) as e:
        services.reopen(
            request_id=r.pk,
            by=scene["resident"],
            note="again",
            now=local(TUE, 10) + timedelta(days=8),
        )
    assert e.value.code == "reopen_too_late"


def test_only_the_applicant_rates_closes_and_reopens(scene):
    r = policy(scene, local(MON, 9))
    services.move(request_id=r.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    services.move(
        request_id=r.pk, by=scene["staff"], action="resolve", note="已答复", now=local(MON, 10)
    )
    for who in (scene["staff"], scene["nurse"], make_account(name="路人")):
        with pytest.raises(services.CaseError):
            services.rate(request_id=r.pk, by=who, score=5)
    with pytest.raises(services.CaseError):
        services.rate(request_id=r.pk, by=scene["resident"], score=6)
    services.rate(request_id=r.pk, by=scene["resident"], score=4, comment="好")
    assert ServiceRequest.objects.get(pk=r.pk).rating == 4


def test_wrong_state_and_required_notes_are_refused(scene):
    r = policy(scene, local(MON, 9))
    with pytest.raises(services.CaseError) as e:
        services.move(
            request_id=r.pk, by=scene["staff"], action="resolve", note="x", now=local(MON, 9, 5)
        )
    assert e.value.code == "wrong_state"
    with pytest.raises(services.CaseError) as e:
        services.move(
            request_id=r.pk, by=scene["staff"], action="decline", note="  ", now=local(MON, 9, 5)
        )
    assert e.value.code == "required"
    with pytest.raises(services.CaseError) as e:
        services.move(
            request_id=r.pk, by=scene["staff"], action="hand_over", note="x", now=local(MON, 9, 5)
        )
    assert e.value.code == "wrong_state"
    assert Event.objects.filter(request=r).count() == 1


def test_id_numbers_are_refused_everywhere(scene):
    with pytest.raises(services.CaseError) as e:
        services.submit(
            user=scene["resident"],
            center_id=scene["center"].pk,
            type_code="policy_advice",
            description="我的身份证 31010519491231002X",
            now=local(MON, 9),
        )
    assert e.value.code == "no_id_numbers"
    with pytest.raises(services.CaseError) as e:
        services.create_type(
            by=scene["admin"],
            code="x_card",
            name="办卡",
            group="other",
            fields=[{"code": "idn", "label": "身份证号", "why": "核验", "kind": "text"}],
            first_response_hours=1,
            resolution_hours=2,
        )
    assert e.value.code == "no_id_numbers"
    assert ServiceRequest.objects.count() == 0


def test_answers_follow_the_types_form(scene):
    for answers, code in (
        ({"company": "甲"}, "required"),
        ({"company": "甲", "employees": "十二"}, "invalid_answer"),
        ({"company": "甲", "employees": "501"}, "invalid_answer"),
    ):
        with pytest.raises(services.CaseError) as e:
            services.submit(
                user=scene["manager"],
                center_id=scene["center"].pk,
                type_code="health_certificate",
                description="办证",
                answers=answers,
                now=local(MON, 9),
            )
        assert e.value.code == code


def test_a_center_switches_an_inherited_type_off(scene):
    center = scene["center"]
    assert {t.code for t in services.catalogue(center)} == {"health_certificate", "policy_advice"}
    services.switch(
        by=scene["staff"], center_id=center.pk, type_id=scene["policy"].pk, enabled=False
    )
    assert {t.code for t in services.catalogue(center)} == {"health_certificate"}
    with pytest.raises(services.CaseError) as e:
        policy(scene, local(MON, 9))
    assert e.value.code == "unknown_type"
    # Another center still offers it; staff of another center cannot switch this one.
    other = make_center("别处党群服务中心", district="徐汇区")
    assert "policy_advice" in {t.code for t in services.catalogue(other)}
    with pytest.raises(services.CaseError):
        services.switch(
            by=make_staff(center=other),
            center_id=center.pk,
            type_id=scene["policy"].pk,
            enabled=True,
        )


def test_a_request_becomes_a_topic_and_a_topics_outcome_a_type(scene):
    from doorstep.deliberation import services as deliberation
    from doorstep.deliberation.models import Topic

    r = policy(scene, local(MON, 9))
    r = services.raise_topic(
        request_id=r.pk,
        by=scene["staff"],
        title="楼宇企业希望集中解读房租补贴政策",
        description="多家企业询问同一政策，建议召开政策解读会。",
        now=local(MON, 10),
    )
    topic = Topic.objects.get(pk=r.topic_id)
    assert topic.center == scene["center"]
    assert Event.objects.filter(request=r, kind=EventKind.TOPIC).exists()
    # A topic not yet decided cannot become a type; once decided it can.
    with pytest.raises(services.CaseError) as e:
        services.type_from_topic(
            by=scene["staff"],
            topic_id=topic.pk,
            code="meals_home",
            name="送餐上门",
            group="livelihood",
            first_response_hours=4,
            resolution_hours=24,
        )
    assert e.value.code == "topic_not_decided"
    deliberation.transition(topic_id=topic.pk, by=scene["staff"], to="accepted")
    deliberation.transition(
        topic_id=topic.pk, by=scene["staff"], to="decided", resolution="为老人送餐上门"
    )
    t = services.type_from_topic(
        by=scene["staff"],
        topic_id=topic.pk,
        code="meals_home",
        name="送餐上门",
        group="livelihood",
        first_response_hours=4,
        resolution_hours=24,
    )
    assert (t.center, t.from_topic, t.source) == (scene["center"], topic, "topic")
    assert "meals_home" in {x.code for x in services.catalogue(scene["center"])}


def test_forgetting_a_callers_contact_and_the_files(scene, tmp_path, settings):
    from django.core.files.base import ContentFile

    from doorstep.cases.models import Attachment, Message

    settings.MEDIA_ROOT = tmp_path
    r = policy(scene, local(MON, 9))
    msg = Message.objects.create(
        request=r, author=scene["resident"], body="见附件", at=local(MON, 9)
    )
    Attachment.objects.create(
        message=msg,
        file=ContentFile(b"%PDF-1.4\n%%EOF", name="a.pdf"),
        name="a.pdf",
        content_type="application/pdf",
        size=13,
    )
    assert len(list(tmp_path.rglob("*.pdf"))) == 1
    ServiceRequest.objects.filter(pk=r.pk).update(
        contact_name="王先生",
        contact_phone="13912345678",
        status="closed",
        is_open=False,
        closed_at=local(MON, 12),
    )
    assert services.forget_closed(local(MON, 12) + timedelta(days=179)) == 0
    assert services.forget_closed(local(MON, 12) + timedelta(days=181)) == 2
    r.refresh_from_db()
    assert (r.contact_name, r.contact_phone) == ("", "")
    assert Attachment.objects.count() == 0 and list(tmp_path.rglob("*.pdf")) == []
    assert Message.objects.get().body == "见附件"


def test_worker_runs_the_steps(scene):
    from django.core.management import call_command

    policy(scene, local(MON, 9))
    with mock.patch("django.utils.timezone.now", return_value=local(MON, 14)):
        call_command("worker", "--once")
    assert ServiceRequest.objects.get().escalated_at == local(MON, 14)


def test_import_holidays_all_or_nothing(scene, tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "good.csv"
    good.write_text(
        "date,name,workday,source\n2026-12-14,测试假日,0,测试来源\n2026-12-12,调休上班,1,测试来源\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,name,workday,source\n2027-01-01,元旦,0,来源\n2027-13-01,错日期,0,来源\n"
        "2027-01-02,,0,来源\n2027-01-03,调休,maybe,来源\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="3 bad row"):
        call_command("import-holidays", str(bad))
    assert Holiday.objects.count() == 0
    call_command("import-holidays", str(good))
    assert dict(Holiday.objects.values_list("date", "workday")) == {NEXT_MON: False, SAT: True}
    # Friday 16:00 + 4 working hours: one on Friday, and the make-up Saturday works with
    # the center's Monday hours (09:00–17:00), so the answer is due Saturday 12:00.
    r = policy(scene, local(FRI, 16))
    assert r.first_response_due == local(SAT, 12)
