"""A demo schedule for `make run`: synthetic activities at the article's centers, labelled.

The article says what kinds of activities these centers run (象棋, 绘本, 非遗宫扇, 诗歌朗读,
健康讲座 ...), not their dates: every activity here is generated, marked `synthetic`, and
every page shows that. Idempotent: a second run for the same day changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.centers.models import Center

from .lottery import commitment_for, new_seed
from .models import Activity, ActivityStatus, Allocation

# (title, category, audience, age range, capacity, allocation, hour, minutes, description)
PLANS: dict[str, list[tuple]] = {
    "parent_child": [
        (
            "暑期象棋课",
            "chess",
            "children_with_parent",
            (5, 10),
            30,
            "first_come",
            9,
            90,
            "亲子象棋入门课，家长陪同。",
        ),
        (
            "手工绘本",
            "picture_books",
            "children_with_parent",
            (4, 8),
            20,
            "lottery",
            14,
            60,
            "一起读绘本、做绘本。名额抽签分配。",
        ),
        (
            "非遗体验：宫扇制作",
            "heritage_craft",
            "children_with_parent",
            (5, 12),
            15,
            "first_come",
            10,
            90,
            "在家长协助下动手制作宫扇。",
        ),
        (
            "诗歌朗读会",
            "poetry",
            "children_with_parent",
            (6, 12),
            25,
            "first_come",
            19,
            60,
            "亲子诗歌朗读。",
        ),
    ],
    "elderly": [
        (
            "健康养生讲座",
            "health",
            "elderly",
            (None, None),
            60,
            "first_come",
            9,
            60,
            "社区医生讲解夏季养生。",
        ),
        (
            "长者健身课",
            "fitness",
            "elderly",
            (60, None),
            12,
            "first_come",
            15,
            60,
            "适合60岁以上长者的器械健身课，配发心率带。",
        ),
    ],
    "deliberation": [
        (
            "社区议事会：送餐上门",
            "other",
            "everyone",
            (None, None),
            40,
            "first_come",
            14,
            90,
            "讨论“推进助餐与快递站共建延伸送餐服务”。",
        ),
    ],
    "red_heritage": [
        (
            "红色一平方公里行走党课",
            "party_lesson",
            "everyone",
            (None, None),
            30,
            "first_come",
            9,
            120,
            "寻访红色地标的行走党课。",
        ),
    ],
    "new_employment": [
        (
            "骑手权益法律咨询",
            "legal_advice",
            "riders",
            (None, None),
            20,
            "first_come",
            20,
            60,
            "面向外卖骑手、快递小哥的法律咨询。",
        ),
    ],
    "business": [
        (
            "健康证线上办理说明会",
            "lecture",
            "office_workers",
            (None, None),
            50,
            "first_come",
            12,
            45,
            "餐饮企业员工健康证办理流程介绍。",
        ),
    ],
    "better_life": [
        (
            "水岸讲堂：城市阅读沙龙",
            "lecture",
            "everyone",
            (None, None),
            100,
            "first_come",
            19,
            90,
            "开放式阅读空间里的读书沙龙。",
        ),
    ],
}


def _at(day: datetime, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day.date(), time(hour, 0)))


@transaction.atomic
def load_demo_schedule(*, now: datetime | None = None, days: int = 14) -> dict[str, int]:
    """Two weeks of synthetic activities at the article's featured and listed centers."""
    now = timezone.localtime(now or timezone.now())
    created = unchanged = 0
    centers = Center.objects.filter(source="article").order_by("id")
    for n, center in enumerate(centers):
        for theme in center.themes[:1]:
            for k, plan in enumerate(PLANS.get(theme, [])):
                title, category, audience, ages, cap, alloc, hour, minutes, desc = plan
                # Spread the sessions over the fortnight, differently per center.
                for day_offset in range((n + k) % 3 + 1, days, 3 + k % 2):
                    day = now + timedelta(days=day_offset)
                    starts = _at(day, hour)
                    if Activity.objects.filter(
                        center=center, title=title, starts_at=starts
                    ).exists():
                        unchanged += 1
                        continue
                    # Some open now, some open tomorrow at 09:00 (the 9 o'clock rush).
                    opens = (
                        now - timedelta(hours=2)
                        if day_offset % 2
                        else _at(now + timedelta(days=1), 9)
                    )
                    closes = starts - timedelta(hours=2)
                    if closes <= opens:
                        opens = now - timedelta(hours=2)
                    lottery = alloc == Allocation.LOTTERY
                    seed = new_seed() if lottery else ""
                    Activity.objects.create(
                        center=center,
                        title=title,
                        description=desc,
                        category=category,
                        audience=audience,
                        age_min=ages[0],
                        age_max=ages[1],
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=minutes),
                        capacity=cap,
                        registration_opens_at=opens,
                        registration_closes_at=closes,
                        allocation=alloc,
                        places_per_household=2,
                        status=ActivityStatus.PUBLISHED,
                        lottery_seed=seed,
                        lottery_commitment=commitment_for(seed) if lottery else "",
                        synthetic=True,
                    )
                    created += 1
    return {"created": created, "unchanged": unchanged}
