"""The lifecycle through the services: legal steps, illegal ones refused with a stable code,
timeline entries with who and when, merge, meetings through activities, ratings, outcomes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from doorstep.activities.services import register
from doorstep.deliberation import services
from doorstep.deliberation.models import (
    EventKind,
    Follow,
    Meeting,
    Status,
    Support,
    Topic,
    TopicEvent,
)
from doorstep.deliberation.services import TRANSITIONS, DeliberationError, MeetingInput
from doorstep.inbox.models import Notice
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def move(topic, to, by, **kw):
    return services.transition(topic_id=topic.pk, to=to, by=by, **kw)


def test_full_lifecycle_writes_a_dated_signed_timeline(topic, staff):
    move(topic, "accepted", staff)
    move(topic, "hearing", staff, note="听证会：油烟问题")
    move(topic, "coordination", staff)
    move(topic, "decided", staff, resolution="由第三方餐饮公司配送，不在中心烹饪。")
    move(topic, "implementing", staff)
    move(topic, "done", staff)
    move(topic, "evaluation", staff)
    topic.refresh_from_db()
    assert topic.status == Status.EVALUATION
    assert topic.resolution == "由第三方餐饮公司配送，不在中心烹饪。"
    steps = list(
        TopicEvent.objects.filter(topic=topic, kind=EventKind.STATUS).values_list(
            "from_status", "to_status", "by_id"
        )
    )
    assert steps == [
        ("collected", "accepted", staff.pk),
        ("accepted", "hearing", staff.pk),
        ("hearing", "coordination", staff.pk),
        ("coordination", "decided", staff.pk),
        ("decided", "implementing", staff.pk),
        ("implementing", "done", staff.pk),
        ("done", "evaluation", staff.pk),
    ]
    first = TopicEvent.objects.filter(topic=topic).first()
    assert first.kind == EventKind.PROPOSED and first.by_id == topic.proposer_id


@pytest.mark.parametrize(
    "path,illegal",
    [
        ([], "decided"),
        ([], "done"),
        ([], "hearing"),
        (["accepted"], "implementing"),
        (["accepted", "hearing"], "done"),
        (["declined"], "accepted"),
        (["accepted", "decided"], "hearing"),
    ],
)
def test_illegal_transitions_are_refused_with_a_stable_code(topic, staff, path, illegal):
    for step in path:
        move(topic, step, staff, reason="不在本中心职责范围", resolution="决定")
    before = TopicEvent.objects.count()
    with pytest.raises(DeliberationError) as exc:
        move(topic, illegal, staff, resolution="x", reason="x")
    assert exc.value.code == "topic_transition_not_allowed"
    assert exc.value.status == 409
    assert TopicEvent.objects.count() == before
    topic.refresh_from_db()
    assert topic.status == (path[-1] if path else "collected")


def test_every_status_in_the_table_and_closed_ones_are_final():
    assert set(TRANSITIONS) == set(Status.values)
    assert TRANSITIONS["declined"] == frozenset() and TRANSITIONS["merged"] == frozenset()


def test_merged_only_through_merge(topic, staff):
    with pytest.raises(DeliberationError) as exc:
        move(topic, "merged", staff)
    assert exc.value.code == "topic_transition_not_allowed"


def test_declining_needs_a_public_reason(topic, staff):
    with pytest.raises(DeliberationError) as exc:
        move(topic, "declined", staff, reason="   ")
    assert exc.value.code == "invalid"
    topic.refresh_from_db()
    assert topic.status == "collected"
    move(topic, "declined", staff, reason="该事项属于物业管理范围，已转交物业。")
    topic.refresh_from_db()
    assert topic.status == "declined" and topic.decline_reason.startswith("该事项")


def test_deciding_needs_the_resolution_text(topic, staff):
    move(topic, "accepted", staff)
    with pytest.raises(DeliberationError) as exc:
        move(topic, "decided", staff)
    assert exc.value.code == "invalid" and exc.value.extra["field"] == "resolution"


def test_only_staff_of_the_topics_center_move_it(topic, other_center, resident, neighbours):
    outsider = make_staff(center=other_center)
    for who in (outsider, resident, neighbours[0]):
        with pytest.raises(DeliberationError) as exc:
            move(topic, "accepted", who)
        assert exc.value.code == "forbidden" and exc.value.status == 403
    district = make_staff(scope="district", region=topic.center.district)
    move(topic, "accepted", district)
    topic.refresh_from_db()
    assert topic.status == "accepted"


def test_community_topic_is_managed_by_its_subdistrict_staff(regions, resident, center):
    sub = center.subdistrict
    topic = services.propose(
        user=resident,
        title="小区停车难",
        description="晚上没有车位。",
        category="traffic",
        region_code=sub.pk,
    )
    assert not services.can_manage_topic(make_staff(center=center), topic)
    assert services.can_manage_topic(make_staff(scope="subdistrict", region=sub), topic)
    assert services.can_manage_topic(make_staff(scope="district", region=sub.parent), topic)
    assert services.can_manage_topic(make_staff(scope="city"), topic)


def test_merge_moves_supporters_once_and_followers_and_links_both_ways(
    center, staff, resident, neighbours
):
    a, b, c = neighbours
    target = services.propose(
        user=a,
        title="助餐点",
        description="希望有助餐点",
        category="elderly_care",
        center_id=center.pk,
    )
    source = services.propose(
        user=resident,
        title="老人吃饭难",
        description="老人做饭不方便",
        category="elderly_care",
        center_id=center.pk,
    )
    services.support(topic_id=source.pk, user=b)
    services.support(topic_id=source.pk, user=c)
    services.support(topic_id=target.pk, user=b)  # b supports both: counted once after merge
    services.follow(topic_id=source.pk, user=c)
    services.merge(topic_id=source.pk, into_id=target.pk, by=staff, note="同一件事")
    source.refresh_from_db()
    assert source.status == "merged" and source.merged_into_id == target.pk
    assert sorted(Support.objects.filter(topic=target).values_list("user_id", flat=True)) == sorted(
        [b.pk, c.pk]
    )
    assert not Support.objects.filter(topic=source).exists()
    followers = set(Follow.objects.filter(topic=target).values_list("user_id", flat=True))
    assert {c.pk, resident.pk} <= followers
    assert TopicEvent.objects.get(topic=target, kind="merged_in").related_topic_id == source.pk
    assert TopicEvent.objects.get(topic=source, to_status="merged").related_topic_id == target.pk
    # Everyone who cared about the merged topic hears about it, once each; not the staff.
    notified = set(Notice.objects.filter(kind="topic_merged").values_list("user_id", flat=True))
    assert notified == {resident.pk, b.pk, c.pk}


def test_merge_refusals(center, staff, topic, resident):
    other = services.propose(
        user=resident, title="另一个", description="内容", category="other", center_id=center.pk
    )
    with pytest.raises(DeliberationError) as exc:
        services.merge(topic_id=topic.pk, into_id=topic.pk, by=staff)
    assert exc.value.code == "merge_not_allowed"
    move(other, "declined", staff, reason="重复")
    with pytest.raises(DeliberationError) as exc:
        services.merge(topic_id=topic.pk, into_id=other.pk, by=staff)
    assert exc.value.code == "merge_not_allowed"
    move(topic, "accepted", staff)
    move(topic, "hearing", staff)
    fresh = services.propose(
        user=resident, title="第三个", description="内容", category="other", center_id=center.pk
    )
    with pytest.raises(DeliberationError) as exc:
        services.merge(topic_id=topic.pk, into_id=fresh.pk, by=staff)
    assert exc.value.code == "topic_transition_not_allowed"
    assert Topic.objects.get(pk=topic.pk).status == "hearing"


def _meeting_data(center, kind="hearing", days=3):
    start = timezone.now() + timedelta(days=days)
    return MeetingInput(
        kind=kind,
        center_id=center.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=20,
        room="二楼议事厅",
        representatives=["张议事员", "王议事员", "张议事员"],
    )


def test_meeting_is_a_published_activity_residents_register_for(topic, staff, center, neighbours):
    move(topic, "accepted", staff)
    meeting = services.schedule_meeting(topic_id=topic.pk, by=staff, data=_meeting_data(center))
    assert meeting.activity.status == "published" and meeting.activity.center_id == center.pk
    assert meeting.representatives == ["张议事员", "王议事员"]
    holder = neighbours[0].people.get(is_account_holder=True)
    result = register(
        account=neighbours[0], activity_id=meeting.activity_id, person_ids=[holder.pk]
    )
    assert result.status == "confirmed"
    services.record_minutes(
        meeting_id=meeting.pk, by=staff, minutes="讨论了油烟问题。", decision="由餐饮公司配送"
    )
    meeting.refresh_from_db()
    assert meeting.decision == "由餐饮公司配送"
    assert TopicEvent.objects.filter(topic=topic, kind="meeting").count() == 1


def test_meeting_kind_must_fit_the_stage(topic, staff, center, other_center):
    with pytest.raises(DeliberationError) as exc:
        services.schedule_meeting(topic_id=topic.pk, by=staff, data=_meeting_data(center))
    assert exc.value.code == "meeting_not_allowed"
    move(topic, "accepted", staff)
    with pytest.raises(DeliberationError) as exc:
        services.schedule_meeting(
            topic_id=topic.pk, by=staff, data=_meeting_data(center, kind="evaluation")
        )
    assert exc.value.code == "meeting_not_allowed"
    with pytest.raises(DeliberationError) as exc:
        services.schedule_meeting(topic_id=topic.pk, by=staff, data=_meeting_data(other_center))
    assert exc.value.extra["field"] == "center"
    assert not Meeting.objects.exists()


def _to(topic, staff, status):
    path = ["accepted", "decided", "implementing", "done", "evaluation"]
    for step in path[: path.index(status) + 1]:
        move(topic, step, staff, resolution="由餐饮公司配送")


def test_milestones_only_after_a_decision_and_progress_checked(topic, staff):
    with pytest.raises(DeliberationError) as exc:
        services.add_milestone(
            topic_id=topic.pk,
            by=staff,
            title="选定餐饮公司",
            responsible="中心",
            expected_date=timezone.localdate(),
        )
    assert exc.value.code == "milestone_not_allowed"
    _to(topic, staff, "implementing")
    m = services.add_milestone(
        topic_id=topic.pk,
        by=staff,
        title="选定餐饮公司",
        responsible="古北市民中心",
        expected_date=date(2026, 12, 31),
    )
    with pytest.raises(DeliberationError):
        services.update_milestone(milestone_id=m.pk, by=staff, progress=101)
    services.update_milestone(milestone_id=m.pk, by=staff, progress=100)
    m.refresh_from_db()
    assert m.progress == 100 and m.done_at is not None


def test_rating_at_evaluation_by_those_involved_once_each(topic, staff, resident, neighbours):
    supporter, stranger, _c = neighbours
    services.support(topic_id=topic.pk, user=supporter)
    with pytest.raises(DeliberationError) as exc:
        services.rate(topic_id=topic.pk, user=resident, score=4)
    assert exc.value.code == "rating_not_open"
    _to(topic, staff, "evaluation")
    services.rate(topic_id=topic.pk, user=resident, score=2)
    services.rate(topic_id=topic.pk, user=supporter, score=1)
    with pytest.raises(DeliberationError) as exc:
        services.rate(topic_id=topic.pk, user=supporter, score=5)
    assert exc.value.code == "already_rated"
    with pytest.raises(DeliberationError) as exc:
        services.rate(topic_id=topic.pk, user=stranger, score=5)
    assert exc.value.code == "not_eligible"
    with pytest.raises(DeliberationError) as exc:
        services.rate(topic_id=topic.pk, user=resident, score=6)
    from doorstep.deliberation.selectors import topic_page

    page = topic_page(topic.pk)
    assert page.rating_count == 2 and page.rating_average == 1.5 and page.rating_poor
    with pytest.raises(DeliberationError) as exc:
        move(topic, "implementing", staff)
    assert exc.value.code == "rectification_required"
    services.record_rectification(topic_id=topic.pk, by=staff, plan="增加送餐上门。")
    move(topic, "implementing", staff)
    assert Topic.objects.get(pk=topic.pk).rectification == "增加送餐上门。"


def test_meeting_attendee_may_rate(topic, staff, center, neighbours):
    attendee = neighbours[2]
    move(topic, "accepted", staff)
    meeting = services.schedule_meeting(topic_id=topic.pk, by=staff, data=_meeting_data(center))
    holder = attendee.people.get(is_account_holder=True)
    register(account=attendee, activity_id=meeting.activity_id, person_ids=[holder.pk])
    for step in ["decided", "implementing", "done", "evaluation"]:
        move(topic, step, staff, resolution="配送")
    services.rate(topic_id=topic.pk, user=attendee, score=5)


def test_outcomes_must_point_at_something_that_exists(topic, staff, center, other_center):
    from doorstep.activities.models import Series

    _to(topic, staff, "decided")
    with pytest.raises(DeliberationError) as exc:
        services.add_outcome(
            topic_id=topic.pk, by=staff, kind="facility", center_id=other_center.pk, code="canteen"
        )
    assert exc.value.code == "outcome_target_missing"
    with pytest.raises(DeliberationError) as exc:
        services.add_outcome(
            topic_id=topic.pk, by=staff, kind="service", center_id=center.pk, code="nope"
        )
    assert exc.value.code == "outcome_target_missing"
    with pytest.raises(DeliberationError) as exc:
        services.add_outcome(topic_id=topic.pk, by=staff, kind="series", series_id=999999)
    assert exc.value.code == "outcome_target_missing"
    services.add_outcome(
        topic_id=topic.pk, by=staff, kind="facility", center_id=center.pk, code="canteen"
    )
    services.add_outcome(
        topic_id=topic.pk, by=staff, kind="service", center_id=center.pk, code="meal_delivery"
    )
    series = Series.objects.create(
        center=center,
        title="长者午餐",
        weekday=0,
        start_time="11:00",
        duration_minutes=60,
        first_date=date(2026, 12, 1),
        last_date=date(2027, 1, 31),
    )
    services.add_outcome(topic_id=topic.pk, by=staff, kind="series", series_id=series.pk)
    assert topic.outcomes.count() == 3
    assert TopicEvent.objects.filter(topic=topic, kind="outcome").count() == 3
