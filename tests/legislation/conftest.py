"""A contact point at Hongqiao, its staff, staff elsewhere, residents and an open draft."""

from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.legislation import services
from tests.factories import make_account, make_center, make_staff

# Structure as laws are laid out; the wording is illustrative, not a real draft.
SNIPPET = """示例社区服务法（草案）
第一章　总则
第一条　为了示例社区服务，制定本法。
第二条　社区服务应当便民利民。
社区服务包括：
（一）养老服务；
（二）托育服务。
街道办事处负责组织实施。
第二章　服务设施
第一节　一般规定
第十二条　新建住宅区应当配套建设社区服务设施。
第十三条　社区服务设施不得挪作他用。
"""


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def world(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    elsewhere = make_center("徐家汇街道社区党群服务中心", district="徐汇区")
    point = services.designate_contact_point(by=None, center_id=center.pk)
    staff = make_staff(center=center)
    other_staff = make_staff(center=elsewhere)
    now = timezone.now()
    draft = services.import_draft(
        by=staff,
        contact_point_id=point.pk,
        title="示例社区服务法（草案）",
        issuing_body="示例机关",
        text=SNIPPET,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=20),
        synthetic=True,
    )
    services.change_draft_status(by=staff, draft_id=draft.pk, to="open")
    draft.refresh_from_db()
    articles = {a.number: a for a in draft.articles.all()}
    return {
        "center": center,
        "point": point,
        "staff": staff,
        "other_staff": other_staff,
        "draft": draft,
        "articles": articles,
        "alice": make_account(name="王芳"),
        "bob": make_account(name="李强"),
    }


def opine(world, who, number, text, paragraph=None):
    article = world["articles"][number]
    para_id = None
    if paragraph is not None:
        para_id = article.paragraphs.get(number=paragraph).pk
    return services.give_opinion(
        author=world[who],
        draft_id=world["draft"].pk,
        article_id=article.pk,
        paragraph_id=para_id,
        text=text,
    )


def close_and_send(world):
    staff, draft = world["staff"], world["draft"]
    for to in ("closed", "compiled", "sent"):
        services.change_draft_status(by=staff, draft_id=draft.pk, to=to)
