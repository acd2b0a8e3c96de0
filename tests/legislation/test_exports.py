import io

import pytest
from django.utils import translation
from docx import Document
from openpyxl import load_workbook

from doorstep.legislation import exports, services

from .conftest import close_and_send, opine

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiled(world):
    staff, draft = world["staff"], world["draft"]
    a = opine(world, "alice", 12, "建议增加社区养老服务设施。")
    b = opine(world, "bob", 12, "建议增加社区的养老服务设施")
    c = opine(world, "alice", 2, '=HYPERLINK("http://evil")托育要有标准', paragraph=2)
    group = services.merge(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, b.pk])
    services.edit_group(
        by=staff, draft_id=draft.pk, group_id=group.pk, summary="居民建议增加养老设施。"
    )
    services.change_draft_status(by=staff, draft_id=draft.pk, to="closed")
    services.set_status(by=staff, draft_id=draft.pk, opinion_ids=[a.pk, b.pk], to="submitted")
    for to in ("compiled", "sent"):
        services.change_draft_status(by=staff, draft_id=draft.pk, to=to)
    services.set_status(
        by=staff, draft_id=draft.pk, opinion_ids=[a.pk], to="adopted", final_reference="第十四条"
    )
    draft.refresh_from_db()
    return {"draft": draft, "a": a, "b": b, "c": c}


def test_docx_report_has_the_counts_articles_groups_and_statuses(world, compiled):
    with translation.override("en"):
        doc = Document(io.BytesIO(exports.report_docx(compiled["draft"])))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert "示例社区服务法（草案）" in text
    assert cells["Contact point"] == world["point"].name
    assert (cells["Opinions heard"], cells["Opinions submitted"], cells["Adopted"]) == (
        "3",
        "2",
        "1",
    )
    assert cells["Residents"] == "2"
    assert "Synthetic example" in text
    assert "第十二条 (2 opinions)" in text
    assert "新建住宅区应当配套建设社区服务设施。" in text  # the article's own text
    assert "Group 1: 2 opinions — Submitted、Adopted" in text
    assert "Compiled: 居民建议增加养老设施。" in text
    assert "Representative wording: 建议增加社区养老服务设施。" in text
    assert "Single opinion on 第二条第二款 — Heard" in text
    # Articles in the order of the law.
    assert text.index("第二条 (1 opinions)") < text.index("第十二条")


def test_xlsx_has_one_row_per_opinion_and_no_personal_data(world, compiled):
    with translation.override("en"):
        wb = load_workbook(io.BytesIO(exports.report_xlsx(compiled["draft"])))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == (
        "No.",
        "Article",
        "Paragraph",
        "Resident (pseudonym)",
        "Opinion",
        "Group",
        "Status",
    )
    body = [r for r in rows[1:4]]
    assert [r[1] for r in body] == ["第二条", "第十二条", "第十二条"]
    by_text = {r[4]: r for r in body}
    first = by_text["建议增加社区养老服务设施。"]
    assert first[3] == "居民001" and first[5] == "第十二条-1" and first[6] == "Adopted"
    assert first[7] == "第十四条"
    # The same person gets the same number within a draft.
    assert by_text['\'=HYPERLINK("http://evil")托育要有标准'][3] == "居民001"
    assert by_text["建议增加社区的养老服务设施"][3] == "居民002"
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    for who in (world["alice"], world["bob"]):
        assert who.phone[-11:] not in flat and who.display_name not in flat
    assert "Synthetic example" in flat


def test_staff_download_the_files_and_others_cannot(world, compiled, client):
    draft = compiled["draft"]
    client.cookies["django_language"] = "en"
    client.force_login(world["staff"])
    r = client.get(f"/staff/legislation/drafts/{draft.pk}/report.docx")
    assert r.status_code == 200 and r["Content-Type"] == exports.DOCX_TYPE
    assert "Representative wording" in "\n".join(
        p.text for p in Document(io.BytesIO(r.content)).paragraphs
    )
    r = client.get(f"/staff/legislation/drafts/{draft.pk}/report.xlsx")
    assert r.status_code == 200
    assert load_workbook(io.BytesIO(r.content)).active.max_row >= 4
    client.force_login(world["other_staff"])
    assert client.get(f"/staff/legislation/drafts/{draft.pk}/report.xlsx").status_code == 404
    client.force_login(world["alice"])
    r = client.get(f"/staff/legislation/drafts/{draft.pk}/report.docx")
    assert r.status_code == 302 and "/staff/" in r["Location"]


def test_an_empty_draft_still_exports(world):
    close_and_send(world)
    world["draft"].refresh_from_db()
    doc = Document(io.BytesIO(exports.report_docx(world["draft"])))
    assert doc.tables[0].rows[4].cells[1].text == "0"
    wb = load_workbook(io.BytesIO(exports.report_xlsx(world["draft"])))
    assert wb.active.max_row >= 1


def test_a_closed_account_leaves_its_opinions_unattributed(world, compiled):
    world["bob"].delete()
    f_before = compiled["draft"].opinions.count()
    assert f_before == 3
    with translation.override("en"):
        wb = load_workbook(io.BytesIO(exports.report_xlsx(compiled["draft"])))
    names = [r[3] for r in wb.active.iter_rows(min_row=2, max_row=4, values_only=True)]
    assert sorted(names) == ["居民001", "居民001", "居民（账号已注销）"]
