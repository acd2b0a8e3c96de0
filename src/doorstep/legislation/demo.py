"""Demo for `doorstep load-demo`: the article's contact point and two illustrative drafts.

The article states one fact used here: in July 2015 the Legislative Affairs Commission of the
NPC Standing Committee made Hongqiao subdistrict one of the first four grassroots legislative
contact points. Everything else is synthetic and labelled on every page: the drafts' text is
obviously illustrative (示例), not any real draft law, and the opinions on the finished draft
come from demo accounts (username demo-opinion-N, no phone, cannot sign in).
Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.centers.models import Center

from . import dedupe, services
from .models import ContactPoint, Draft, DraftStatus, Opinion, OpinionGroup, StatusChange

HONGQIAO = "长宁区虹桥街道社区党群服务中心"
OPEN_TITLE = "示例社区服务促进法（草案）·演示用"
SENT_TITLE = "示例邻里互助条例（草案）·演示用"

OPEN_TEXT = """示例社区服务促进法（草案）
第一章　总则
第一条　【示例条文】为了说明本平台如何征求意见，制定本示例。
第二条　【示例条文】社区服务应当就近、便利、可及。
社区服务包括：
（一）为老服务；
（二）托育服务；
（三）文化体育服务。
第二章　服务设施
第三条　【示例条文】新建居住区应当配套建设社区服务设施。
社区服务设施不得挪作他用。
第四条　【示例条文】社区服务设施应当在工作日以外的时间适当开放。
第三章　附则
第五条　【示例条文】本示例自发布之日起施行。
"""

SENT_TEXT = """示例邻里互助条例（草案）
第一条　【示例条文】为了说明意见处理流程，制定本示例。
第二条　【示例条文】鼓励居民开展邻里互助。
第三条　【示例条文】街道为邻里互助提供场地。
"""

# (article number, opinion text, final status); illustrative, not anyone's real words.
SENT_OPINIONS = [
    (2, "【示例意见】建议明确邻里互助包括照看独居老人。", "adopted"),
    (2, "【示例意见】建议写明邻里互助包括照看独居老人！", "adopted"),
    (2, "【示例意见】希望有志愿服务时长记录。", "not_adopted"),
    (3, "【示例意见】场地应当在晚上也开放。", "submitted"),
    (3, "【示例意见】建议场地预约在网上办理。", "heard"),
]


def _point() -> ContactPoint | None:
    center = Center.objects.filter(name=HONGQIAO).first()
    if center is None:
        return None
    return services.designate_contact_point(
        by=None,
        center_id=center.pk,
        name="虹桥街道基层立法联系点",
        designated_on=date(2015, 7, 1),
        designated_by="全国人大常委会法制工作委员会",
        source="article",
    )


def _demo_author(n: int) -> User:
    user, created = User.objects.get_or_create(
        username=f"demo-opinion-{n}", defaults={"display_name": f"示例居民{n}"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _sent_draft(point: ContactPoint, now: datetime) -> Draft:
    draft = services.import_draft(
        by=None,
        contact_point_id=point.pk,
        title=SENT_TITLE,
        issuing_body="（示例机关）",
        version="演示稿",
        text=SENT_TEXT,
        opens_at=now - timedelta(days=90),
        closes_at=now - timedelta(days=60),
        source="doorstep 演示数据",
        synthetic=True,
    )
    articles = {a.number: a for a in draft.articles.all()}
    groups: dict[int, OpinionGroup] = {}
    for n, (number, text, final) in enumerate(SENT_OPINIONS, start=1):
        article = articles[number]
        opinion = Opinion.objects.create(
            draft=draft,
            article=article,
            author=_demo_author(n),
            text=text,
            text_key=dedupe.text_key(text),
            status=final,
            synthetic=True,
            final_reference="第二条第二款" if final == "adopted" else "",
        )
        path = ["heard"]
        if final != "heard":
            path.append("submitted")
        if final in ("adopted", "not_adopted"):
            path.append(final)
        StatusChange.objects.bulk_create(
            [
                StatusChange(opinion=opinion, from_status=a, to_status=b)
                for a, b in zip(["", *path], path, strict=False)
            ]
        )
        if final == "adopted":
            if number not in groups:
                groups[number] = OpinionGroup.objects.create(
                    article=article,
                    summary="【示例】两位居民建议写明照看独居老人。",
                    representative=opinion,
                )
            opinion.group = groups[number]
            opinion.save(update_fields=["group"])
    Draft.objects.filter(pk=draft.pk).update(
        status=DraftStatus.SENT, sent_at=now - timedelta(days=50)
    )
    return draft


@transaction.atomic
def load_demo_drafts(*, now: datetime | None = None) -> dict[str, int]:
    """The Hongqiao contact point (a fact from the article) and two synthetic drafts."""
    now = now or timezone.now()
    point = _point()
    if point is None:
        return {"created": 0, "unchanged": 0}
    created = unchanged = 0
    if Draft.objects.filter(contact_point=point, title=OPEN_TITLE).exists():
        unchanged += 1
    else:
        draft = services.import_draft(
            by=None,
            contact_point_id=point.pk,
            title=OPEN_TITLE,
            issuing_body="（示例机关）",
            version="演示稿",
            text=OPEN_TEXT,
            opens_at=now - timedelta(days=2),
            closes_at=now + timedelta(days=28),
            source="doorstep 演示数据",
            synthetic=True,
        )
        Draft.objects.filter(pk=draft.pk).update(status=DraftStatus.OPEN)
        created += 1
    if Draft.objects.filter(contact_point=point, title=SENT_TITLE).exists():
        unchanged += 1
    else:
        _sent_draft(point, now)
        created += 1
    return {"created": created, "unchanged": unchanged}
