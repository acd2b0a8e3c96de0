"""Volunteer opportunities for `make run` (`doorstep load-demo`).

From the article: 黄浦区党建服务中心 "组织党员志愿者参与讲解接待、场馆引导" for the exhibitions it
hosts with 中共一大纪念馆. Those two opportunities carry the article as their source; their
shifts (the next four Saturdays), places and rules are synthetic, and so is the reading
companion opportunity at 古北.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.centers.models import Center

from .models import Opportunity, Shift, Source

ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"
QUOTE = f"{ARTICLE}：“组织党员志愿者参与讲解接待、场馆引导”（班次与名额为示例）"
OPPORTUNITIES = [
    (
        "article:huangpu-district-party-building",
        "explainer",
        "展厅讲解接待",
        "Exhibition explainer",
        "为来访党员群众讲解一楼展厅和“黄浦首发首创”沉浸式体验馆。",
        True,
        Source.ARTICLE,
        QUOTE,
    ),
    (
        "article:huangpu-district-party-building",
        "guide",
        "场馆引导",
        "Guide in the venue",
        "引导来访者参观，维持参观秩序。",
        True,
        Source.ARTICLE,
        QUOTE,
    ),
    (
        "article:gubei-civic-center",
        "reading",
        "亲子伴读（示例）",
        "Reading with children (example)",
        "周末陪孩子读绘本。",
        False,
        Source.SYNTHETIC,
        "",
    ),
]


@transaction.atomic
def load_demo_volunteers() -> dict[str, int]:
    made = shifts = 0
    today = timezone.localdate()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    tz = timezone.get_current_timezone()
    for key, role, title, title_en, text, party, source, detail in OPPORTUNITIES:
        center = Center.objects.filter(external_key=key).first()
        if center is None or Opportunity.objects.filter(center=center, title=title).exists():
            continue
        opp = Opportunity.objects.create(
            center=center,
            role=role,
            title=title,
            title_en=title_en,
            description=text,
            needs_clearance=True,
            party_members_only=party,
            source=source,
            source_detail=detail,
            created_at=timezone.now(),
        )
        made += 1
        for w in range(4):
            day = saturday + timedelta(weeks=w)
            Shift.objects.create(
                opportunity=opp,
                starts_at=datetime.combine(day, time(9, 0), tzinfo=tz),
                ends_at=datetime.combine(day, time(12, 0), tzinfo=tz),
                places=3,
                series=f"demo-{opp.pk}",
            )
            shifts += 1
    return {"opportunities": made, "shifts (synthetic)": shifts}
