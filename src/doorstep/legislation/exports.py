"""The compiled report a contact point sends on: DOCX (the letter) and XLSX (every opinion).

Privacy: the legislature needs what was said, not who said it. Authors appear only as a
pseudonym numbered per draft (居民001, 居民002 ...): a reader sees that three opinions came
from one person, but the numbers cannot be joined across drafts, and no name, initials or
phone number leaves the contact point (initials identify people in a small neighbourhood).
Cells a spreadsheet would run as a formula are neutralised (OWASP "CSV injection").
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from . import selectors
from .models import Draft, OpinionGroup, OpinionStatus

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _period(draft: Draft) -> str:
    fmt = "%Y-%m-%d %H:%M"
    return (
        f"{timezone.localtime(draft.opens_at).strftime(fmt)} – "
        f"{timezone.localtime(draft.closes_at).strftime(fmt)}"
    )


def _status_label(value: str) -> str:
    return str(OpinionStatus(value).label)


def _group_status(statuses: list[str]) -> str:
    distinct = sorted(set(statuses), key=list(OpinionStatus.values).index)
    return "、".join(_status_label(s) for s in distinct)


def report_docx(draft: Draft) -> bytes:
    doc = Document()
    # Looking a style up by name scans every style each time (seconds for a long report):
    # resolve the ids once and set them on the paragraph directly.
    ids = {name: doc.styles[name].style_id for name in ("Heading 1", "Heading 2", "Quote")}

    def add(text: str, style: str | None = None) -> None:
        paragraph = doc.add_paragraph(text)
        if style:
            paragraph._p.style = ids[style]

    style = doc.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.font.size = Pt(11)
    doc.add_heading(_("Compiled opinions on “%(title)s”") % {"title": draft.title}, level=0)
    if draft.synthetic:
        doc.add_paragraph(_("Synthetic example: not a real draft law or real opinions."))
    f = selectors.funnel(draft)
    facts = [
        (_("Contact point"), draft.contact_point.name),
        (_("Issuing body"), draft.issuing_body),
        (_("Version"), draft.version),
        (_("Comment period"), _period(draft)),
        (_("Opinions heard"), str(f.heard)),
        (_("Residents"), str(f.residents)),
        (_("Opinions submitted"), str(f.submitted)),
        (_("Adopted"), str(f.adopted)),
    ]
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    for item in selectors.compilation(draft, hints=False):
        add(
            _("%(article)s (%(n)s opinions)") % {"article": item.article.label, "n": item.count},
            "Heading 1",
        )
        for p in item.paragraphs:
            add(p.text, "Quote")
        for n, g in enumerate(item.groups, start=1):
            members = g.member_list  # type: ignore[attr-defined]
            add(
                _("Group %(n)s: %(count)s opinions — %(status)s")
                % {
                    "n": n,
                    "count": len(members),
                    "status": _group_status([o.status for o in members]),
                },
                "Heading 2",
            )
            if g.summary:
                add(_("Compiled: %(text)s") % {"text": g.summary})
            add(_("Representative wording: %(text)s") % {"text": g.representative_text})  # type: ignore[attr-defined]
        for o in item.loose:
            add(
                _("Single opinion on %(where)s — %(status)s")
                % {"where": o.address, "status": _status_label(o.status)},
                "Heading 2",
            )
            add(o.text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def report_xlsx(draft: Draft) -> bytes:
    names = selectors.pseudonyms(draft)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Opinions")[:31]
    header = [
        _("No."),
        _("Article"),
        _("Paragraph"),
        _("Resident (pseudonym)"),
        _("Opinion"),
        _("Group"),
        _("Status"),
        _("Article in the final law"),
        _("Note"),
        _("Given at"),
    ]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    # Groups are numbered per article in creation order, as in the DOCX report.
    groups: dict[int, int] = {}
    per_article: dict[int, int] = {}
    for pk, article_id in (
        OpinionGroup.objects.filter(article__draft=draft)
        .order_by("pk")
        .values_list("pk", "article_id")
    ):
        per_article[article_id] = per_article.get(article_id, 0) + 1
        groups[pk] = per_article[article_id]
    rows = (
        draft.opinions.select_related("article", "paragraph")
        .order_by("article__order", "paragraph__number", "pk")
        .all()
    )
    for i, o in enumerate(rows, start=1):
        ws.append(
            [
                i,
                o.article.label,
                o.paragraph.label if o.paragraph else "",
                names[o.author_id],
                _cell(o.text),
                f"{o.article.label}-{groups[o.group_id]}" if o.group_id in groups else "",
                _status_label(o.status),
                _cell(o.final_reference),
                _cell(o.staff_note),
                timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    for letter, width in zip("ABCDEFGHIJ", (6, 14, 8, 16, 60, 14, 12, 20, 30, 18), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if draft.synthetic:
        ws.append([])
        ws.append([_("Synthetic example: not a real draft law or real opinions.")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
