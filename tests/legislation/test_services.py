from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.inbox.models import Notice
from doorstep.legislation import services
from doorstep.legislation.models import (
    Article,
    Draft,
    Opinion,
    OpinionGroup,
    Paragraph,
    StatusChange,
)
from doorstep.legislation.services import LegislationError

from .conftest import SNIPPET, close_and_send, opine

pytestmark = pytest.mark.django_db


def test_import_stores_the_structure(world):
    draft = world["draft"]
    assert draft.status == "open"
    assert list(draft.articles.values_list("label", flat=True)) == [
        "第一条",
        "第二条",
        "第十二条",
        "第十三条",
    ]
    second = world["articles"][2]
    assert second.chapter.heading == "第一章 总则"
    assert second.paragraphs.count() == 3
    assert world["articles"][12].chapter.heading == "第一节 一般规定"


def _import(world, **kw):
    now = timezone.now()
    args = {
        "by": world["staff"],
        "contact_point_id": world["point"].pk,
        "title": "另一部草案",
        "text": SNIPPET,
        "opens_at": now,
        "closes_at": now + timedelta(days=3),
    }
    args.update(kw)
    return services.import_draft(**args)


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"title": ""}, "empty"),
        ({"title": "   "}, "empty"),
        ({"title": "法" * 100_000}, "too_long"),
        ({"title": "<script>alert(1)</script>"}, "markup"),
        ({"text": "只有标题，没有条文"}, "no_articles"),
        ({"text": "第一条　甲。\n第一条　乙。"}, "duplicate_article"),
        ({"closes_at": timezone.now() - timedelta(days=1)}, "bad_period"),
        ({"source": "x" * 301}, "too_long"),
    ],
)
def test_bad_imports_are_refused_and_store_nothing(world, kw, code):
    before = (Draft.objects.count(), Article.objects.count(), Paragraph.objects.count())
    with pytest.raises(LegislationError) as err:
        _import(world, **kw)
    assert err.value.code == code
    assert (Draft.objects.count(), Article.objects.count(), Paragraph.objects.count()) == before


def test_only_staff_of_the_center_may_import_or_act(world):
    with pytest.raises(LegislationError) as err:
        _import(world, by=world["other_staff"])
    assert err.value.code == "not_found"
    with pytest.raises(LegislationError) as err:
        services.change_draft_status(
            by=world["other_staff"], draft_id=world["draft"].pk, to="closed"
        )
    assert err.value.status == 404
    with pytest.raises(LegislationError):
        services.change_draft_status(by=world["alice"], draft_id=world["draft"].pk, to="closed")


def test_a_resident_comments_on_an_article_or_a_paragraph(world):
    a = opine(world, "alice", 2, "建议增加助餐服务。", paragraph=2)
    assert a.address == "第二条第二款"
    assert a.status == "heard"
    b = opine(world, "alice", 2, "第二条整体很好。")
    assert b.address == "第二条"
    assert list(a.changes.values_list("to_status", flat=True)) == ["heard"]


def test_identical_repeats_are_refused_but_new_words_are_welcome(world):
    opine(world, "alice", 1, "建议写明服务对象。")
    with pytest.raises(LegislationError) as err:
        opine(world, "alice", 1, "建议 写明服务对象！")
    assert err.value.code == "repeated"
    opine(world, "alice", 1, "另外，建议写明经费来源。")
    opine(world, "bob", 1, "建议写明服务对象。")
    assert Opinion.objects.count() == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("\n\t ", "empty"),
        ("意" * 2001, "too_long"),
        ('<script>alert("x")</script>', "markup"),
        ("<img src=x onerror=alert(1)>", "markup"),
    ],
)
def test_bad_opinions_are_refused_and_store_nothing(world, text, code):
    with pytest.raises(LegislationError) as err:
        opine(world, "alice", 1, text)
    assert err.value.code == code
    assert Opinion.objects.count() == 0
    assert StatusChange.objects.count() == 0


def test_a_less_than_sign_is_plain_text_and_control_characters_go(world):
    o = opine(world, "alice", 1, "面积 <50 平方米\x00的站点也适用 a<b")
    assert o.text == "面积 <50 平方米的站点也适用 a<b"


def test_comment_only_while_the_period_is_open(world):
    draft, staff = world["draft"], world["staff"]
    later = draft.closes_at + timedelta(minutes=1)
    with pytest.raises(LegislationError) as err:
        services.give_opinion(
            author=world["alice"],
            draft_id=draft.pk,
            article_id=world["articles"][1].pk,
            text="迟到的意见",
            now=later,
        )
    assert err.value.code == "period_closed"
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    with pytest.raises(LegislationError) as err:
        opine(world, "alice", 1, "关闭后的意见")
    assert err.value.code == "period_closed"


def test_a_draft_in_preparation_takes_no_opinions_and_a_foreign_article_is_refused(world):
    other = _import(world)
    with pytest.raises(LegislationError) as err:
        services.give_opinion(
            author=world["alice"],
            draft_id=other.pk,
            article_id=other.articles.first().pk,
            text="意见",
        )
    assert err.value.code == "not_found"
    with pytest.raises(LegislationError) as err:
        services.give_opinion(
            author=world["alice"],
            draft_id=world["draft"].pk,
            article_id=other.articles.first().pk,
            text="意见",
        )
    assert err.value.code == "bad_article"
    with pytest.raises(LegislationError) as err:
        services.give_opinion(
            author=world["alice"],
            draft_id=world["draft"].pk,
            article_id=world["articles"][1].pk,
            paragraph_id=world["articles"][2].paragraphs.first().pk,
            text="意见",
        )
    assert err.value.code == "bad_paragraph"


def test_draft_moves_only_forward_one_step(world):
    staff, draft = world["staff"], world["draft"]
    for bad in ("compiled", "sent", "draft", "open", "nonsense"):
        with pytest.raises(LegislationError) as err:
            services.change_draft_status(by=staff, draft_id=draft.pk, to=bad)
        assert err.value.code == "illegal_draft_transition"
    close_and_send(world)
    draft.refresh_from_db()
    assert draft.status == "sent" and draft.sent_at is not None
    with pytest.raises(LegislationError) as err:
        services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    assert err.value.code == "illegal_draft_transition"


def test_articles_are_editable_only_before_opening(world):
    other = _import(world)
    article = other.articles.get(number=1)
    services.edit_article(
        by=world["staff"], article_id=article.pk, text="新的第一款。\n新的第二款。"
    )
    assert list(article.paragraphs.values_list("text", flat=True)) == [
        "新的第一款。",
        "新的第二款。",
    ]
    with pytest.raises(LegislationError) as err:
        services.edit_article(by=world["staff"], article_id=article.pk, text="")
    assert err.value.code == "empty"
    assert article.paragraphs.count() == 2
    with pytest.raises(LegislationError) as err:
        services.edit_article(
            by=world["staff"], article_id=world["articles"][1].pk, text="改动已公开的条文"
        )
    assert err.value.code == "draft_published"
    with pytest.raises(LegislationError) as err:
        services.edit_article(by=world["other_staff"], article_id=article.pk, text="越权")
    assert err.value.code == "not_found"


def test_opinion_status_machine_with_clear_codes(world):
    staff, draft = world["staff"], world["draft"]
    o = opine(world, "alice", 1, "意见一")

    def move(to, ids=None):
        return services.set_status(by=staff, draft_id=draft.pk, opinion_ids=ids or [o.pk], to=to)

    with pytest.raises(LegislationError) as err:
        move("submitted")
    assert err.value.code == "period_open"
    with pytest.raises(LegislationError) as err:
        move("adopted")
    assert err.value.code == "illegal_transition"
    assert err.value.status == 409
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    move("submitted")
    with pytest.raises(LegislationError) as err:
        move("adopted")
    assert err.value.code == "not_sent"
    for to in ("compiled", "sent"):
        services.change_draft_status(by=staff, draft_id=draft.pk, to=to)
    with pytest.raises(LegislationError) as err:
        move("heard")
    assert err.value.code == "illegal_transition"
    with pytest.raises(LegislationError) as err:
        move("withdrawn")
    assert err.value.code == "bad_status"
    services.set_status(
        by=staff,
        draft_id=draft.pk,
        opinion_ids=[o.pk],
        to="adopted",
        note="已被采纳",
        final_reference="第十五条",
        final_url="https://example.org/law",
    )
    o.refresh_from_db()
    assert (o.status, o.final_reference, o.staff_note) == ("adopted", "第十五条", "已被采纳")
    with pytest.raises(LegislationError) as err:
        move("not_adopted")
    assert err.value.code == "illegal_transition"
    assert list(o.changes.values_list("from_status", "to_status")) == [
        ("", "heard"),
        ("heard", "submitted"),
        ("submitted", "adopted"),
    ]
    assert o.changes.last().by == staff


def test_bulk_status_is_all_or_nothing(world):
    staff, draft = world["staff"], world["draft"]
    a = opine(world, "alice", 1, "意见一")
    b = opine(world, "bob", 1, "意见二")
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    services.set_status(by=staff, draft_id=draft.pk, opinion_ids=[a.pk], to="submitted")
    with pytest.raises(LegislationError) as err:
        services.set_status(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, b.pk], to="submitted")
    assert err.value.code == "illegal_transition"
    b.refresh_from_db()
    assert b.status == "heard"
    assert StatusChange.objects.filter(opinion=b).count() == 1


def test_every_author_is_told_once_per_change(world):
    staff, draft = world["staff"], world["draft"]
    ids = [
        opine(world, "alice", 1, "意见一").pk,
        opine(world, "alice", 2, "意见二").pk,
        opine(world, "bob", 1, "意见三").pk,
    ]
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    services.set_status(by=staff, draft_id=draft.pk, opinion_ids=ids, to="submitted")
    notices = Notice.objects.filter(kind="opinion_status")
    assert sorted(notices.values_list("user_id", flat=True)) == sorted(
        [world["alice"].pk, world["bob"].pk]
    )
    n = notices.get(user=world["alice"])
    assert "示例社区服务法" in n.title and n.url == "/me/opinions/"


def test_bad_status_input_is_refused(world):
    staff, draft = world["staff"], world["draft"]
    o = opine(world, "alice", 1, "意见一")
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    for kw, code in (
        ({"final_url": "javascript:alert(1)"}, "bad_url"),
        ({"note": "<b>x</b>"}, "markup"),
        ({"final_reference": "第" * 101}, "too_long"),
    ):
        with pytest.raises(LegislationError) as err:
            services.set_status(
                by=staff, draft_id=draft.pk, opinion_ids=[o.pk], to="submitted", **kw
            )
        assert err.value.code == code
    with pytest.raises(LegislationError) as err:
        services.set_status(by=staff, draft_id=draft.pk, opinion_ids=[], to="submitted")
    assert err.value.code == "none_chosen"
    with pytest.raises(LegislationError) as err:
        services.set_status(
            by=world["other_staff"], draft_id=draft.pk, opinion_ids=[o.pk], to="submitted"
        )
    assert err.value.code == "not_found"
    o.refresh_from_db()
    assert o.status == "heard"


def test_merge_keeps_originals_and_suggests_near_duplicates(world):
    staff, draft = world["staff"], world["draft"]
    a = opine(world, "alice", 12, "建议增加社区养老服务设施。")
    b = opine(world, "bob", 12, "建议增加社区的养老服务设施")
    c = opine(world, "alice", 13, "建议增加社区养老服务设施。")
    hints = services.suggestions(draft)
    assert [s.ids for s in hints[world["articles"][12].pk]] == [(a.pk, b.pk)]
    assert world["articles"][13].pk not in hints
    with pytest.raises(LegislationError) as err:
        services.merge(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, c.pk])
    assert err.value.code == "mixed_articles"
    group = services.merge(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, b.pk])
    assert set(group.members.values_list("text", flat=True)) == {a.text, b.text}
    assert services.suggestions(draft) == {}
    services.edit_group(
        by=staff,
        draft_id=draft.pk,
        group_id=group.pk,
        summary="两位居民建议增加养老设施。",
        representative_id=b.pk,
    )
    group.refresh_from_db()
    assert group.representative_id == b.pk
    with pytest.raises(LegislationError) as err:
        services.edit_group(
            by=staff, draft_id=draft.pk, group_id=group.pk, summary="", representative_id=c.pk
        )
    assert err.value.code == "bad_representative"
    services.ungroup(by=staff, draft_id=draft.pk, opinion_id=b.pk)
    group.refresh_from_db()
    assert group.representative_id == a.pk
    services.ungroup(by=staff, draft_id=draft.pk, opinion_id=a.pk)
    assert not OpinionGroup.objects.filter(pk=group.pk).exists()
    assert Opinion.objects.count() == 3


def test_one_person_gives_at_most_the_limit_on_a_draft(world, settings, monkeypatch):
    monkeypatch.setattr(services, "OPINIONS_PER_PERSON", 3)
    for i in range(3):
        opine(world, "alice", 1, f"意见{i}")
    with pytest.raises(LegislationError) as err:
        opine(world, "alice", 2, "第四条意见")
    assert err.value.code == "too_many" and err.value.status == 429
    opine(world, "bob", 2, "第四条意见")
    assert Opinion.objects.filter(author=world["alice"]).count() == 3


def test_a_draft_opens_only_when_every_article_has_text(world):
    other = _import(world, text="第一条　甲。\n第二条\n")
    with pytest.raises(LegislationError) as err:
        services.change_draft_status(by=world["staff"], draft_id=other.pk, to="open")
    assert err.value.code == "empty_article" and "第二条" in str(err.value.message)
    services.edit_article(
        by=world["staff"], article_id=other.articles.get(number=2).pk, text="乙。"
    )
    assert (
        services.change_draft_status(by=world["staff"], draft_id=other.pk, to="open").status
        == "open"
    )
