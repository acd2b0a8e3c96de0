"""Notifications fan out to proposer, supporters and followers (once each, not the actor);
moderation is scoped, needs a reason and keeps a log; the hot ranking follows its formula."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from doorstep.deliberation import selectors, services
from doorstep.deliberation.models import Comment, CommentReport, ModerationLog
from doorstep.deliberation.selectors import TopicFilters
from doorstep.deliberation.services import DeliberationError
from doorstep.inbox.models import DeliveryPreference, Notice
from doorstep.inbox.senders import MemoryNoticeSender
from tests.factories import make_account, make_staff

pytestmark = pytest.mark.django_db


def test_status_and_milestone_notices_reach_everyone_involved_once(
    topic, staff, resident, neighbours, django_capture_on_commit_callbacks
):
    a, b, c = neighbours
    services.support(topic_id=topic.pk, user=a)
    services.follow(topic_id=topic.pk, user=a)  # supports and follows: still one notice
    services.follow(topic_id=topic.pk, user=b)
    services.follow(topic_id=topic.pk, user=staff)  # the actor follows too: not told of own act
    services.transition(topic_id=topic.pk, to="accepted", by=staff)
    notices = Notice.objects.filter(kind="topic_status")
    assert sorted(notices.values_list("user_id", flat=True)) == sorted([resident.pk, a.pk, b.pk])
    assert all(
        n.subject == f"topic:{topic.pk}" and n.url == f"/topics/{topic.pk}/" for n in notices
    )
    assert "老年助餐点" in notices[0].title and "受理" in notices[0].title  # site language

    services.transition(topic_id=topic.pk, to="decided", by=staff, resolution="配送")
    services.add_milestone(
        topic_id=topic.pk,
        by=staff,
        title="签约",
        responsible="中心",
        expected_date=date(2027, 1, 1),
    )
    assert Notice.objects.filter(kind="topic_milestone").count() == 3
    assert Notice.objects.filter(user=c).count() == 0


def test_fan_out_is_one_insert(topic, staff, django_assert_num_queries):
    people = [make_account(name=f"支持者{i}") for i in range(30)]
    for p in people:
        services.support(topic_id=topic.pk, user=p)
    # lock, scope, update, event, audience, their languages, one bulk insert, their delivery
    # preferences: a fixed number, whatever the audience size (30 here)
    with django_assert_num_queries(11, exact=False) as ctx:
        services.transition(topic_id=topic.pk, to="accepted", by=staff)
    inserts = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "inbox_notice"')
    ]
    assert len(inserts) == 1
    assert Notice.objects.filter(kind="topic_status").count() == 31


def test_sms_and_email_after_commit_by_preference(
    topic, staff, resident, neighbours, django_capture_on_commit_callbacks, daytime
):
    a, b, _c = neighbours
    services.follow(topic_id=topic.pk, user=a)
    services.follow(topic_id=topic.pk, user=b)
    DeliveryPreference.objects.create(user=resident, by_sms=True)
    DeliveryPreference.objects.create(user=a, by_email=True, email="a@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.transition(topic_id=topic.pk, to="accepted", by=staff)
    assert MemoryNoticeSender.outbox == []  # nothing leaves before the commit
    for cb in callbacks:
        cb()
    sent = {(m.channel, m.to) for m in MemoryNoticeSender.outbox}
    assert sent == {("sms", resident.phone), ("email", "a@example.org")}


def test_a_failing_gateway_does_not_stop_the_others(
    topic, staff, neighbours, settings, django_capture_on_commit_callbacks
):
    a, b, _c = neighbours
    for u in (a, b):
        services.follow(topic_id=topic.pk, user=u)
        DeliveryPreference.objects.create(user=u, by_email=True, email=f"u{u.pk}@example.org")

    calls = []

    class Flaky(MemoryNoticeSender):
        def send_email(self, *, address, subject, text):
            calls.append(address)
            if len(calls) == 1:
                raise ConnectionError("gateway down")
            super().send_email(address=address, subject=subject, text=text)

    import tests.deliberation.test_notify_moderate_hot as me

    me.Flaky = Flaky
    settings.NOTICE_SENDER = "tests.deliberation.test_notify_moderate_hot.Flaky"
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(topic_id=topic.pk, to="accepted", by=staff)
    assert len(calls) == 2 and len(MemoryNoticeSender.outbox) == 1
    assert Notice.objects.filter(kind="topic_status").count() == 3


def test_reports_once_each_and_hiding_needs_scope_and_reason(
    topic, staff, other_center, neighbours
):
    a, b, _c = neighbours
    c = services.comment(topic_id=topic.pk, user=a, text="这个提议很好")
    assert services.report_comment(comment_id=c.pk, user=b, reason="广告") is True
    assert services.report_comment(comment_id=c.pk, user=b) is False
    assert CommentReport.objects.count() == 1
    outsider = make_staff(center=other_center)
    for who in (outsider, b):
        with pytest.raises(DeliberationError) as exc:
            services.hide_comment(comment_id=c.pk, by=who, reason="违规")
        assert exc.value.code == "forbidden"
    with pytest.raises(DeliberationError) as exc:
        services.hide_comment(comment_id=c.pk, by=staff, reason="")
    assert exc.value.code == "invalid"
    assert not Comment.objects.get(pk=c.pk).hidden
    services.hide_comment(comment_id=c.pk, by=staff, reason="含个人电话号码")
    c.refresh_from_db()
    assert c.hidden and c.hidden_reason == "含个人电话号码" and c.hidden_by_id == staff.pk
    services.restore_comment(comment_id=c.pk, by=staff, reason="已核实")
    log = list(ModerationLog.objects.filter(comment=c).values_list("action", "reason", "by_id"))
    assert log == [("hide", "含个人电话号码", staff.pk), ("restore", "已核实", staff.pk)]
    queue = list(selectors.moderation_queue(staff))
    assert [x.pk for x in queue] == [c.pk]
    assert list(selectors.moderation_queue(outsider)) == []


def _support_at(topic, user, when):
    services.support(topic_id=topic.pk, user=user, now=when)


def test_hot_follows_the_formula(center, resident, staff):
    from doorstep.deliberation.services import propose

    now = timezone.now()
    old = propose(
        user=resident, title="旧议题", description="d", category="other", center_id=center.pk
    )
    fresh = propose(
        user=resident, title="新议题", description="d", category="other", center_id=center.pk
    )
    chatty = propose(
        user=resident, title="评论多", description="d", category="other", center_id=center.pk
    )
    people = [make_account(name=f"p{i}") for i in range(5)]
    for p in people[:4]:  # 4 supports, 3 days ago: 4 × 0.8^3 = 2.048
        _support_at(old, p, now - timedelta(days=3, hours=1))
    for p in people[4:]:  # 1 support + 8 days ago ones do not count
        _support_at(old, p, now - timedelta(days=8))
    for p in people[:2]:  # 2 fresh supports: 2.0; one comment today: +0.5
        _support_at(fresh, p, now - timedelta(hours=2))
    services.comment(topic_id=fresh.pk, user=people[2], text="支持", now=now - timedelta(hours=1))
    for i in range(5):  # 5 comments yesterday = 5 × 0.5 × 0.8 = 2.0, one of them hidden
        services.comment(
            topic_id=chatty.pk,
            user=people[i],
            text=f"评论{i}",
            now=now - timedelta(days=1, hours=1),
        )
    hidden = Comment.objects.filter(topic=chatty).last()
    services.hide_comment(comment_id=hidden.pk, by=staff, reason="重复")
    total, items = selectors.topics(TopicFilters(sort="hot"), now=now)
    scores = {t.title: round(t.hot_score, 3) for t in items}
    assert scores == {"旧议题": 2.048, "新议题": 2.5, "评论多": 1.6}
    assert [t.title for t in items] == ["新议题", "旧议题", "评论多"]
    assert total == 3


def test_list_is_a_constant_number_of_queries(center, resident, django_assert_max_num_queries):
    from doorstep.deliberation.services import propose

    for i in range(15):
        t = propose(
            user=make_account(name=f"提议人{i}"),
            title=f"议题{i}",
            description="d",
            category="other",
            center_id=center.pk,
        )
        services.comment(topic_id=t.pk, user=resident, text="c")
    with django_assert_max_num_queries(3):
        total, items = selectors.topics(TopicFilters(sort="hot", limit=20))
        assert [t.comment_count for t in items] == [1] * 15
        assert items[0].center.name


def test_merged_topics_leave_the_list_but_not_the_status_filter(topic, center, staff, resident):
    other = services.propose(
        user=resident, title="重复议题", description="d", category="other", center_id=center.pk
    )
    services.merge(topic_id=other.pk, into_id=topic.pk, by=staff)
    _n, items = selectors.topics(TopicFilters(sort="new"))
    assert [t.pk for t in items] == [topic.pk]
    _n, items = selectors.topics(TopicFilters(sort="new", status="merged"))
    assert [t.pk for t in items] == [other.pk]


def test_quiet_topics_score_zero_and_activity_is_remembered(topic, staff, neighbours):
    now = timezone.now()
    services.support(topic_id=topic.pk, user=neighbours[0], now=now - timedelta(days=9))
    topic.refresh_from_db()
    assert topic.last_activity_at == now - timedelta(days=9)
    _n, items = selectors.topics(TopicFilters(sort="hot"), now=now)
    assert items[0].hot_score == 0.0
    services.comment(topic_id=topic.pk, user=neighbours[1], text="还在关注", now=now)
    _n, items = selectors.topics(TopicFilters(sort="hot"), now=now)
    assert items[0].hot_score == 0.5
