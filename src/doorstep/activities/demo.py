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
            "{holiday}象棋课",
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
            "社区医生讲解{season}养生。",
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


# English titles for English pages (the demo's own; staff enter theirs on the form).
TITLES_EN = {
    "{holiday}象棋课": "{holiday_en}Chess class",
    "手工绘本": "Making picture books",
    "非遗体验：宫扇制作": "Intangible heritage: palace fans",
    "诗歌朗读会": "Poetry reading",
    "健康养生讲座": "Health talk",
    "长者健身课": "Fitness for elders",
    "社区议事会：送餐上门": "Community meeting: meals delivered home",
    "红色一平方公里行走党课": "Red heritage walk",
    "骑手权益法律咨询": "Legal advice for riders",
    "健康证线上办理说明会": "Health certificates online: how to apply",
    "水岸讲堂：城市阅读沙龙": "Riverside lectures: reading salon",
    "亲子剪纸": "Paper-cutting for parents and children",
    "少儿舞蹈": "Children's dance",
    "儿童绘画": "Children's drawing",
    "围棋入门": "Go for beginners",
    "文化讲座": "Culture talk",
    "戏剧工作坊": "Drama workshop",
    "科普小课堂": "Science for kids",
    "英语绘本共读": "Reading English picture books",
}


def _season(day: datetime) -> tuple[str, str, str]:
    """(holiday prefix, its English, season) for the date: 暑期 only in summer, 寒假 only in
    winter, so the demo's titles fit the day they are shown."""
    m = day.month
    season = (
        "春季"
        if m in (3, 4, 5)
        else "夏季"
        if m in (6, 7, 8)
        else "秋季"
        if m in (9, 10, 11)
        else "冬季"
    )
    if m in (7, 8):
        return "暑期", "Summer ", season
    if m == 2 or (m == 1 and day.day >= 15):
        return "寒假", "Winter holiday ", season
    return "", "", season


# The article's 东明路 center runs about 20 activities a day (320 a month, 每天差不多有20多场):
# its day, room by room (204, 306 ... as in the article), mostly for children with a parent.
DONGMING_DAY: list[tuple] = [
    # (title, category, audience, ages, capacity, allocation, hour, minutes, room)
    ("{holiday}象棋课", "chess", "children_with_parent", (5, 10), 30, "first_come", 9, 90, "204室"),
    (
        "非遗体验：宫扇制作",
        "heritage_craft",
        "children_with_parent",
        (5, 12),
        15,
        "first_come",
        9,
        90,
        "306",
    ),
    ("手工绘本", "picture_books", "children_with_parent", (4, 8), 20, "lottery", 9, 60, "301室"),
    ("健康养生讲座", "health", "elderly", (None, None), 60, "first_come", 9, 60, "多功能厅"),
    ("少儿舞蹈", "other", "children_with_parent", (4, 10), 20, "first_come", 10, 60, "舞蹈室"),
    ("儿童绘画", "other", "children_with_parent", (4, 10), 20, "first_come", 10, 60, "204室"),
    ("围棋入门", "chess", "children_with_parent", (6, 12), 24, "first_come", 10, 60, "205室"),
    ("文化讲座", "lecture", "everyone", (None, None), 80, "first_come", 10, 90, "多功能厅"),
    (
        "英语绘本共读",
        "picture_books",
        "children_with_parent",
        (4, 8),
        16,
        "first_come",
        13,
        60,
        "301",
    ),
    ("科普小课堂", "other", "children_with_parent", (6, 12), 24, "first_come", 13, 60, "306室"),
    (
        "亲子剪纸",
        "heritage_craft",
        "children_with_parent",
        (5, 12),
        20,
        "first_come",
        13,
        60,
        "204",
    ),
    ("长者健身课", "fitness", "elderly", (60, None), 12, "first_come", 14, 60, "健身房"),
    ("戏剧工作坊", "other", "children_with_parent", (7, 12), 18, "lottery", 14, 90, "多功能厅"),
    (
        "{holiday}象棋课",
        "chess",
        "children_with_parent",
        (5, 10),
        30,
        "first_come",
        14,
        90,
        "205室",
    ),
    (
        "手工绘本",
        "picture_books",
        "children_with_parent",
        (4, 8),
        20,
        "first_come",
        15,
        60,
        "301室",
    ),
    ("少儿舞蹈", "other", "children_with_parent", (4, 10), 20, "first_come", 15, 60, "舞蹈室"),
    ("儿童绘画", "other", "children_with_parent", (4, 10), 20, "first_come", 16, 60, "204室"),
    ("科普小课堂", "other", "children_with_parent", (6, 12), 24, "first_come", 16, 60, "306室"),
    ("诗歌朗读会", "poetry", "children_with_parent", (6, 12), 25, "first_come", 19, 60, "多功能厅"),
    ("围棋入门", "chess", "children_with_parent", (6, 12), 24, "first_come", 19, 60, "205室"),
    (
        "英语绘本共读",
        "picture_books",
        "children_with_parent",
        (4, 8),
        16,
        "first_come",
        19,
        60,
        "301",
    ),
]
DONGMING_DESCRIPTION = "公益课程，名额有限；家长陪同。"


def _at(day: datetime, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day.date(), time(hour, 0)))


def _create(
    center: Center,
    now: datetime,
    *,
    title: str,
    description: str,
    category: str,
    audience: str,
    ages: tuple,
    cap: int,
    alloc: str,
    starts: datetime,
    minutes: int,
    room: str = "",
    opens: datetime,
) -> bool:
    """One synthetic activity, unless it is already there; True when created."""
    holiday, holiday_en, season = _season(starts)
    title_en = TITLES_EN.get(title, "").format(holiday_en=holiday_en)
    title = title.format(holiday=holiday)
    if Activity.objects.filter(center=center, title=title, starts_at=starts).exists():
        return False
    closes = starts - timedelta(hours=2)
    if closes <= opens:
        opens = now - timedelta(hours=2)
    lottery = alloc == Allocation.LOTTERY
    seed = new_seed() if lottery else ""
    Activity.objects.create(
        center=center,
        title=title,
        title_en=title_en,
        description=description.format(season=season),
        category=category,
        audience=audience,
        age_min=ages[0],
        age_max=ages[1],
        room=room,
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
    return True


@transaction.atomic
def load_demo_schedule(*, now: datetime | None = None, days: int = 14) -> dict[str, int]:
    """Two weeks of synthetic activities at the article's featured and listed centers, and
    东明路's full days (about 20 activities each)."""
    now = timezone.localtime(now or timezone.now())
    created = unchanged = 0
    centers = Center.objects.filter(source="article").order_by("id")
    for n, center in enumerate(centers):
        if "东明路" in center.name:
            continue  # its own timetable below
        for theme in center.themes[:1]:
            for k, plan in enumerate(PLANS.get(theme, [])):
                title, category, audience, ages, cap, alloc, hour, minutes, desc = plan
                # Spread the sessions over the fortnight, differently per center.
                for day_offset in range((n + k) % 3 + 1, days, 3 + k % 2):
                    day = now + timedelta(days=day_offset)
                    # Some open now, some open tomorrow at 09:00 (the 9 o'clock rush).
                    opens = (
                        now - timedelta(hours=2)
                        if day_offset % 2
                        else _at(now + timedelta(days=1), 9)
                    )
                    made = _create(
                        center,
                        now,
                        title=title,
                        description=desc,
                        category=category,
                        audience=audience,
                        ages=ages,
                        cap=cap,
                        alloc=alloc,
                        starts=_at(day, hour),
                        minutes=minutes,
                        opens=opens,
                    )
                    created, unchanged = created + made, unchanged + (not made)
    dongming = centers.filter(name__contains="东明路").first()
    if dongming is not None:
        for day_offset in range(1, days):
            day = now + timedelta(days=day_offset)
            # Popular classes open at 09:00 the day before and go in seconds (秒光).
            opens = _at(day - timedelta(days=1), 9) if day_offset > 1 else now - timedelta(hours=2)
            for title, category, audience, ages, cap, alloc, hour, minutes, room in DONGMING_DAY:
                made = _create(
                    dongming,
                    now,
                    title=title,
                    description=DONGMING_DESCRIPTION,
                    category=category,
                    audience=audience,
                    ages=ages,
                    cap=cap,
                    alloc=alloc,
                    starts=_at(day, hour),
                    minutes=minutes,
                    room=room,
                    opens=opens,
                )
                created, unchanged = created + made, unchanged + (not made)
    return {"created": created, "unchanged": unchanged}
