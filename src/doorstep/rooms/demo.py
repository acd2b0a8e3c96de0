"""The spaces the article names (with the article as their source) and a synthetic week of
bookings and one synthetic company around them (`doorstep load-demo`).

From the article: at 苏河湾 (42nd floor of 苏河湾中心) "润心书苑" for reading, "青年驿家" for
live-streaming, and "会议场地安排" for the companies in the tower; at 徐汇滨江 "水岸讲堂",
"可容纳上百人", for Party lessons, salons and forums and otherwise an open reading space; at
古北 a reading space for residents. Their capacities (except 水岸讲堂's hundred), hours, rules
and equipment are made up, and the page says so (`synthetic_details`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.accounts.models import Organization
from doorstep.centers.models import Center

from .models import Booking, BookingKind, BookingStatus, Source, Space
from .services import local_moment

ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"

SPACES = [
    {
        "key": "article:space:suhewan-runxin",
        "center": "article:suhewan-jingan",
        "name": "润心书苑",
        "name_en": "Runxin reading room",
        "kind": "reading_space",
        "capacity": 30,
        "floor": "42",
        "equipment": [],
        "detail": f"{ARTICLE}：“润心书苑”可以安心阅读",
        "rules": {"for_companies": True, "max_minutes": 180},
    },
    {
        "key": "article:space:suhewan-qingnian",
        "center": "article:suhewan-jingan",
        "name": "青年驿家",
        "name_en": "Youth Station studio",
        "kind": "studio",
        "capacity": 20,
        "floor": "42",
        "equipment": ["livestream", "microphone", "sound"],
        "detail": f"{ARTICLE}：“青年驿家”可以做直播展示",
        "rules": {
            "for_residents": False,
            "for_companies": True,
            "approval": "staff",
            "org_hours_month": 16,
        },
    },
    {
        "key": "article:space:suhewan-meeting",
        "center": "article:suhewan-jingan",
        "name": "会议场地",
        "name_en": "Meeting room",
        "kind": "meeting_room",
        "capacity": 16,
        "floor": "42",
        "equipment": ["projector", "whiteboard", "microphone"],
        "detail": f"{ARTICLE}：为楼宇企业提供会议场地安排等服务",
        "rules": {"for_residents": False, "for_companies": True, "buffer_minutes": 15},
    },
    {
        "key": "article:space:xuhui-riverside-lecture",
        "center": "article:xuhui-riverside",
        "name": "水岸讲堂",
        "name_en": "Waterside Lecture Hall",
        "kind": "lecture_hall",
        "capacity": 100,
        "floor": "",
        "equipment": ["projector", "microphone", "sound"],
        "detail": f"{ARTICLE}：可容纳上百人的“水岸讲堂”既是党课、沙龙、论坛的活动空间，"
        "也是开放式阅读空间",
        "rules": {"approval": "staff", "max_minutes": 240, "buffer_minutes": 30},
    },
    {
        "key": "article:space:gubei-reading",
        "center": "article:gubei-civic-center",
        "name": "阅读空间",
        "name_en": "Reading space",
        "kind": "reading_space",
        "capacity": 24,
        "floor": "",
        "equipment": [],
        "detail": f"{ARTICLE}：古北市民中心设立了专用阅读空间，方便市民前来借阅",
        "rules": {"person_hours_week": 6},
    },
]

# (space key, days from today, start hour, hours, title): synthetic public events.
BOOKINGS = [
    ("article:space:xuhui-riverside-lecture", 1, 14, 2, "滨江党课（示例）"),
    ("article:space:xuhui-riverside-lecture", 3, 19, 2, "读书沙龙（示例）"),
    ("article:space:suhewan-meeting", 1, 10, 2, "企业例会（示例）"),
    ("article:space:suhewan-qingnian", 2, 15, 2, "直播展示（示例）"),
    ("article:space:gubei-reading", 2, 9, 2, "读书会（示例）"),
]


@transaction.atomic
def load_demo_rooms() -> dict[str, int]:
    centers = {
        c.external_key: c
        for c in Center.objects.filter(external_key__in={s["center"] for s in SPACES})
    }
    made = kept = 0
    spaces: dict[str, Space] = {}
    for s in SPACES:
        center = centers.get(s["center"])
        if center is None:
            continue
        space, created = Space.objects.get_or_create(
            external_key=s["key"],
            defaults={
                "center": center,
                "name": s["name"],
                "name_en": s["name_en"],
                "kind": s["kind"],
                "capacity": s["capacity"],
                "floor": s["floor"],
                "equipment": s["equipment"],
                "source": Source.ARTICLE,
                "source_detail": s["detail"],
                "synthetic_details": True,
                "opens_minute": 9 * 60,
                "closes_minute": 21 * 60,
                **s["rules"],
            },
        )
        spaces[s["key"]] = space
        made += created
        kept += not created
    company = None
    suhewan = centers.get("article:suhewan-jingan")
    if suhewan is not None:
        company, _ = Organization.objects.get_or_create(
            invite_code="DEMO0001",
            defaults={
                "name": "示例科技有限公司（合成）",
                "kind": Organization.Kind.COMPANY,
                "center": suhewan,
                "status": Organization.Status.CONFIRMED,
            },
        )
    now = timezone.now()
    today = timezone.localdate()
    booked = 0
    for key, days, hour, hours, title in BOOKINGS:
        space = spaces.get(key)
        if space is None:
            continue
        starts = local_moment(today + timedelta(days=days), hour * 60)
        ends = starts + timedelta(hours=hours)
        if Booking.objects.filter(
            space=space,
            status__in=("pending", "confirmed", "checked_in"),
            starts_at__lt=ends + timedelta(minutes=space.buffer_minutes),
            blocked_until__gt=starts,
        ).exists():
            continue
        Booking.objects.create(
            space=space,
            starts_at=starts,
            ends_at=ends,
            blocked_until=ends + timedelta(minutes=space.buffer_minutes),
            status=BookingStatus.CONFIRMED,
            kind=BookingKind.ORGANIZATION
            if key.startswith("article:space:suhewan") and company
            else BookingKind.STAFF,
            organization=company if key.startswith("article:space:suhewan") else None,
            title=title,
            public=True,
            synthetic=True,
            created_at=now,
            updated_at=now,
        )
        booked += 1
    return {"spaces loaded": made, "spaces kept": kept, "bookings (synthetic)": booked}
