"""The article's story of the 古北 deliberation hall, as two topics labelled with their source.

The article (《党群服务中心：走得进 坐得下 还想来》) says the elderly meal point on the third floor
of the Gubei Civic Center came out of the 市民议事厅: it was proposed, deliberated (cooking
smells would bother the neighbours, so meals are bought centrally and brought by a caterer),
opened, and is still improving: "deliver meals home" is now a hot topic. It gives no dates and
no counts, so the timeline's dates are illustrative (the pages say so) and no supporters are
invented. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.centers.models import Center

from .models import EventKind, Outcome, OutcomeKind, Source, Status, Topic, TopicEvent

GUBEI = "article:gubei-civic-center"

MEAL_POINT = {
    "title": "设立老年助餐点",
    "category": "elderly_care",
    "description": (
        "居民在“市民议事厅”提出：社区老人做饭不便，希望在中心设立老年助餐点。"
        "（据报道《党群服务中心：走得进 坐得下 还想来》）"
    ),
    "resolution": "考虑到油烟扰民等问题，决定统一采购，由送餐公司集中配送。",
}
STEPS = [
    # (days before today, status, note): the order is the article's, the dates are not.
    (400, Status.ACCEPTED, "议题纳入市民议事厅议事。"),
    (380, Status.HEARING, "议事员代表参与讨论，权衡在中心烹饪带来的油烟扰民问题。"),
    (360, Status.DECIDED, MEAL_POINT["resolution"]),
    (340, Status.IMPLEMENTING, "助餐点设在中心三楼。"),
    (300, Status.DONE, "助餐点开出后，以实惠的价格、丰富的菜式和舒适的环境赢得了社区老人的心。"),
]
HOME_DELIVERY = {
    "title": "推进助餐与快递站共建，延伸送餐上门服务",
    "category": "elderly_care",
    "description": (
        "近期天气炎热且多雨，有老人提出行动不便，希望能送餐上门。"
        "中心已将“推进助餐与快递站共建延伸送餐服务”纳入热点议题，寻求解决方案。"
        "（据报道《党群服务中心：走得进 坐得下 还想来》）"
    ),
}


@transaction.atomic
def load_demo_topics() -> int:
    """Create the article's two topics at the Gubei Civic Center; return how many were new."""
    center = Center.objects.filter(external_key=GUBEI).first()
    if center is None:
        return 0
    now = timezone.now()
    created = 0
    meal, new = Topic.objects.get_or_create(
        center=center,
        source=Source.ARTICLE,
        title=MEAL_POINT["title"],
        defaults={
            "category": MEAL_POINT["category"],
            "description": MEAL_POINT["description"],
            "resolution": MEAL_POINT["resolution"],
            "status": Status.DONE,
            "status_changed_at": now - timedelta(days=STEPS[-1][0]),
        },
    )
    if new:
        created += 1
        Topic.objects.filter(pk=meal.pk).update(created_at=now - timedelta(days=420))
        TopicEvent.objects.create(
            topic=meal,
            kind=EventKind.PROPOSED,
            to_status=Status.COLLECTED,
            at=now - timedelta(days=420),
            note="居民在闲聊中提出。",
        )
        before = Status.COLLECTED
        for days, status, note in STEPS:
            TopicEvent.objects.create(
                topic=meal,
                kind=EventKind.STATUS,
                from_status=before,
                to_status=status,
                at=now - timedelta(days=days),
                note=note,
            )
            before = status
        if "canteen" in center.facilities:
            Outcome.objects.create(
                topic=meal,
                kind=OutcomeKind.FACILITY,
                center=center,
                code="canteen",
                note="三楼老年助餐点",
            )
            TopicEvent.objects.create(
                topic=meal,
                kind=EventKind.OUTCOME,
                at=now - timedelta(days=300),
                note="中心设施：老年助餐点（三楼）",
            )
    delivery, new = Topic.objects.get_or_create(
        center=center,
        source=Source.ARTICLE,
        title=HOME_DELIVERY["title"],
        defaults={
            "category": HOME_DELIVERY["category"],
            "description": HOME_DELIVERY["description"],
            "status": Status.ACCEPTED,
            "status_changed_at": now - timedelta(days=5),
        },
    )
    if new:
        created += 1
        Topic.objects.filter(pk=delivery.pk).update(created_at=now - timedelta(days=10))
        TopicEvent.objects.create(
            topic=delivery,
            kind=EventKind.PROPOSED,
            to_status=Status.COLLECTED,
            at=now - timedelta(days=10),
            note="有老人提出行动不便，希望能送餐上门。",
        )
        TopicEvent.objects.create(
            topic=delivery,
            kind=EventKind.STATUS,
            from_status=Status.COLLECTED,
            to_status=Status.ACCEPTED,
            at=now - timedelta(days=5),
            note="纳入热点议题，寻求解决方案。",
            related_topic=meal,
        )
    return created
