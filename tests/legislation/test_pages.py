from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.legislation import services
from doorstep.legislation.models import Draft, Opinion, OpinionGroup

from .conftest import SNIPPET, opine

pytestmark = pytest.mark.django_db


def test_public_pages_show_the_draft_labelled_synthetic(world, en):
    draft = world["draft"]
    opine(world, "alice", 2, "意见", paragraph=2)
    r = en.get("/legislation/")
    html = r.content.decode()
    assert r.status_code == 200 and draft.title in html and "Synthetic example" in html
    r = en.get(f"/legislation/drafts/{draft.pk}/")
    html = r.content.decode()
    assert "第一章 总则" in html and "第十二条" in html and "· 1 opinion" in html
    assert f"/legislation/drafts/{draft.pk}/articles/{world['articles'][2].pk}/opinion" in html
    assert "Synthetic example" in html
    r = en.get("/legislation/funnel/")
    assert r.status_code == 200 and "opinions heard" in r.content.decode()
    assert en.get("/legislation/drafts/999999/").status_code == 404


def test_text_is_escaped_everywhere(world, en):
    # Text that arrived some other way than the services (admin, an old import) is still escaped.
    draft = world["draft"]
    Draft.objects.filter(pk=draft.pk).update(title='<script>alert("t")</script>')
    o = opine(world, "alice", 1, "意见")
    Opinion.objects.filter(pk=o.pk).update(
        text="<img src=x onerror=alert(1)>", staff_note="<b>note</b>"
    )
    world["articles"][1].paragraphs.update(text="<iframe>")
    en.force_login(world["alice"])
    for url in (
        "/legislation/",
        f"/legislation/drafts/{draft.pk}/",
        "/me/opinions/",
        "/legislation/funnel/",
    ):
        html = en.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<iframe>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in en.get("/me/opinions/").content.decode()
    en.force_login(world["staff"])
    html = en.get(f"/staff/legislation/drafts/{draft.pk}/compile").content.decode()
    assert "&lt;img src=x" in html and "<img src=x" not in html


def test_a_resident_comments_and_follows_the_opinion(world, en):
    draft, article = world["draft"], world["articles"][2]
    url = f"/legislation/drafts/{draft.pk}/articles/{article.pk}/opinion"
    r = en.get(url)
    assert r.status_code == 302 and "/account/sign-in" in r["Location"]
    en.force_login(world["alice"])
    r = en.get(url + "?paragraph=" + str(article.paragraphs.get(number=2).pk))
    html = r.content.decode()
    assert "第二款" in html and "never your name or phone number" in html
    para = article.paragraphs.get(number=2)
    r = en.post(url, {"paragraph": para.pk, "text": "建议增加助餐服务。"})
    assert r.status_code == 302 and r["Location"] == "/me/opinions/"
    r = en.get("/me/opinions/")
    html = r.content.decode()
    assert "第二条第二款" in html and "建议增加助餐服务。" in html
    assert "Heard by the contact point" in html
    staff = world["staff"]
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    services.set_status(
        by=staff,
        draft_id=draft.pk,
        opinion_ids=[Opinion.objects.get().pk],
        to="submitted",
        note="已汇总上报",
    )
    html = en.get("/me/opinions/").content.decode()
    assert "Submitted to the legislature" in html and "已汇总上报" in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please fill in your opinion."),
        ("长" * 100_000, "at most 2000 characters"),
        ("<script>alert(1)</script>", "HTML tags are not accepted"),
    ],
)
def test_bad_opinions_show_a_message_and_store_nothing(world, en, text, message):
    en.force_login(world["alice"])
    r = en.post(
        f"/legislation/drafts/{world['draft'].pk}/articles/{world['articles'][1].pk}/opinion",
        {"text": text},
    )
    assert r.status_code == 400
    assert message in r.content.decode()
    assert Opinion.objects.count() == 0


def test_staff_pages_are_for_the_center_staff_only(world, en):
    draft = world["draft"]
    r = en.get("/staff/legislation/")
    assert r.status_code == 302 and "sign-in" in r["Location"]
    en.force_login(world["alice"])
    assert en.get(f"/staff/legislation/drafts/{draft.pk}/compile").status_code == 302
    en.force_login(world["other_staff"])
    assert en.get(f"/staff/legislation/drafts/{draft.pk}/").status_code == 404
    assert en.get(f"/staff/legislation/drafts/{draft.pk}/compile").status_code == 404
    r = en.post(f"/staff/legislation/drafts/{draft.pk}/status", {"to": "closed"})
    assert r.status_code == 404
    draft.refresh_from_db()
    assert draft.status == "open"
    html = en.get("/staff/legislation/").content.decode()
    assert draft.title not in html


def _form(world, **kw):
    now = timezone.localtime()
    data = {
        "contact_point": world["point"].pk,
        "title": "新的草案",
        "issuing_body": "",
        "version": "征求意见稿",
        "published_on": "",
        "opens_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "source": "",
        "text": SNIPPET,
    }
    data.update(kw)
    return data


def test_staff_import_edit_and_open_through_the_pages(world, en):
    en.force_login(world["staff"])
    assert en.get("/staff/legislation/new").status_code == 200
    r = en.post("/staff/legislation/new", _form(world))
    draft = Draft.objects.get(title="新的草案")
    assert r.status_code == 302 and r["Location"] == f"/staff/legislation/drafts/{draft.pk}/"
    assert draft.articles.count() == 4 and not draft.synthetic
    article = draft.articles.get(number=13)
    r = en.post(
        f"/staff/legislation/drafts/{draft.pk}/articles/{article.pk}",
        {"text": "社区服务设施不得挪作他用。\n违反前款规定的，责令改正。"},
    )
    assert r.status_code == 302
    assert article.paragraphs.count() == 2
    en.post(f"/staff/legislation/drafts/{draft.pk}/status", {"to": "open"})
    draft.refresh_from_db()
    assert draft.status == "open"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"title": "题" * 100_000}, "at most 200 characters"),
        ({"title": ""}, "This field is required"),
        ({"text": "<script>x</script>第一条　甲。"}, "HTML tags are not accepted"),
        ({"text": "没有条文"}, "No articles found"),
    ],
)
def test_bad_imports_show_a_message(world, en, kw, message):
    en.force_login(world["staff"])
    r = en.post("/staff/legislation/new", _form(world, **kw))
    assert r.status_code == 400
    assert message in r.content.decode()
    assert Draft.objects.count() == 1


def test_staff_compile_groups_and_moves_opinions(world, en):
    staff, draft = world["staff"], world["draft"]
    a = opine(world, "alice", 12, "建议增加社区养老服务设施。")
    b = opine(world, "bob", 12, "建议增加社区的养老服务设施")
    en.force_login(staff)
    url = f"/staff/legislation/drafts/{draft.pk}/compile"
    html = en.get(url).content.decode()
    assert "These look alike" in html
    r = en.post(url, {"action": "group", "opinion": [a.pk, b.pk]})
    assert r.status_code == 302
    group = OpinionGroup.objects.get()
    r = en.post(url, {"action": "summary", "group": group.pk, "summary": "增加养老设施"})
    assert r.status_code == 302
    r = en.post(url, {"action": "submitted", "opinion": [a.pk]})
    assert r.status_code == 409
    assert "only after the comment period has closed" in r.content.decode()
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    r = en.post(url, {"action": "submitted", "opinion": [a.pk, b.pk]})
    assert r.status_code == 302
    r = en.post(url, {"action": "adopted", "opinion": [a.pk]})
    assert r.status_code == 409 and "after the compiled report has been sent" in r.content.decode()
    r = en.post(url, {"action": "explode", "opinion": [a.pk]})
    assert r.status_code == 400
    assert set(Opinion.objects.values_list("status", flat=True)) == {"submitted"}


def test_designate_a_contact_point(world, en):
    from tests.factories import make_center, make_staff

    center = make_center("仙霞新村街道社区党群服务中心")
    staff = make_staff(center=center)
    en.force_login(staff)
    html = en.get("/staff/legislation/").content.decode()
    assert "None of your centers is a legislative contact point yet." in html
    r = en.post("/staff/legislation/", {"center": center.pk})
    assert r.status_code == 302
    assert center.contact_point.name.startswith("仙霞新村")
    r = en.post("/staff/legislation/", {"center": world["center"].pk})
    assert r.status_code == 404


def test_illegal_draft_move_shows_the_message_on_the_page(world, en):
    en.force_login(world["staff"])
    r = en.post(f"/staff/legislation/drafts/{world['draft'].pk}/status", {"to": "sent"})
    assert r.status_code == 409
    assert "cannot become" in r.content.decode()


def test_staff_take_an_opinion_out_of_a_group(world, en):
    staff, draft = world["staff"], world["draft"]
    a = opine(world, "alice", 12, "建议增加社区养老服务设施。")
    b = opine(world, "bob", 12, "建议增加社区的养老服务设施")
    services.merge(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, b.pk])
    en.force_login(staff)
    url = f"/staff/legislation/drafts/{draft.pk}/compile"
    assert f"Take opinion #{b.pk} out of the group" in en.get(url).content.decode()
    r = en.post(url, {"action": "ungroup", "opinion": b.pk})
    assert r.status_code == 302
    b.refresh_from_db()
    assert b.group_id is None
    r = en.post(url, {"action": "ungroup", "opinion": b.pk})
    assert r.status_code == 400 and "not in a group" in r.content.decode()


def test_pages_say_when_the_period_is_over_or_not_yet_open(world, en):
    draft = world["draft"]
    Draft.objects.filter(pk=draft.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    html = en.get(f"/legislation/drafts/{draft.pk}/").content.decode()
    assert "Comment period closed" in html and "/opinion" not in html
    Draft.objects.filter(pk=draft.pk).update(
        opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=2)
    )
    html = en.get("/legislation/").content.decode()
    assert "Opens on" in html


def test_pages_use_a_fixed_number_of_queries(world, en, django_assert_max_num_queries):
    staff, draft = world["staff"], world["draft"]
    for i in range(6):
        opine(world, "alice", 12, f"建议增加社区养老服务设施{i}。")
        opine(world, "bob", 2, f"第二款意见{i}", paragraph=2)
    ids = list(Opinion.objects.filter(article__number=12).values_list("pk", flat=True))
    services.merge(by=staff, draft_id=draft.pk, opinion_ids=ids[:3])
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    services.set_status(by=staff, draft_id=draft.pk, opinion_ids=ids, to="submitted")
    en.force_login(world["alice"])
    # Each page's own queries, plus one for the header's unread-notice count.
    with django_assert_max_num_queries(5):
        assert en.get("/me/opinions/").status_code == 200
    with django_assert_max_num_queries(9):
        assert en.get(f"/legislation/drafts/{draft.pk}/").status_code == 200
    en.force_login(staff)
    with django_assert_max_num_queries(13):
        assert en.get(f"/staff/legislation/drafts/{draft.pk}/compile").status_code == 200
