"""Pages of the legislative contact point: residents (drafts, opinions, funnel) and staff
(import, open/close, compile, export).

Views parse input, call one service or selector and render. A LegislationError becomes a
translated message on the page with its 4xx status; a draft the staff account does not manage
is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.core import audit

from . import exports, selectors, services
from .forms import DraftImportForm
from .models import Article, ContactPoint, Draft, DraftStatus, OpinionStatus, Paragraph
from .services import LegislationError


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def phase_label(draft: Draft, now: datetime) -> str:
    """What a resident needs to know: open now, not yet, or over (even before staff close it)."""
    if draft.status == DraftStatus.OPEN:
        if now < draft.opens_at:
            return _("Opens on %(when)s") % {
                "when": timezone.localtime(draft.opens_at).strftime("%Y-%m-%d %H:%M")
            }
        if now >= draft.closes_at:
            return str(DraftStatus.CLOSED.label)
    return str(DraftStatus(draft.status).label)


def _public_draft(draft_id: int) -> Draft:
    try:
        return selectors.public_draft(draft_id)
    except LegislationError:
        raise Http404 from None


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    drafts = list(selectors.public_drafts())
    return render(
        request,
        "legislation/index.html",
        {
            "drafts": [(d, services.accepting(d, now), phase_label(d, now)) for d in drafts],
            "points": ContactPoint.objects.select_related("center").order_by("pk"),
            "funnel": selectors.funnel(),
        },
    )


@require_GET
def draft_detail(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _public_draft(draft_id)
    now = timezone.now()
    return render(
        request,
        "legislation/draft.html",
        {
            "draft": draft,
            "blocks": selectors.structure(draft),
            "accepting": services.accepting(draft, now),
            "phase": phase_label(draft, now),
            "funnel": selectors.funnel(draft),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment(request: HttpRequest, draft_id: int, article_id: int) -> HttpResponse:
    draft = _public_draft(draft_id)
    article = Article.objects.filter(pk=article_id, draft=draft).first()
    if article is None:
        raise Http404
    paragraphs = list(Paragraph.objects.filter(article=article))
    source = request.POST if request.method == "POST" else request.GET
    paragraph_id = _int(source.get("paragraph"))
    if paragraph_id is not None and paragraph_id not in {p.pk for p in paragraphs}:
        paragraph_id = None
    errors: list[str] = []
    status = 200
    text = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            services.give_opinion(
                author=_user(request),
                draft_id=draft.pk,
                article_id=article.pk,
                paragraph_id=paragraph_id,
                text=text,
            )
        except LegislationError as exc:
            errors.append(str(exc.message))
            status = exc.status
        else:
            messages.success(
                request,
                _("Thank you. Your opinion on %(where)s is recorded; follow it here.")
                % {"where": article.label},
            )
            return redirect("legislation:mine")
    return render(
        request,
        "legislation/comment.html",
        {
            "draft": draft,
            "article": article,
            "paragraphs": paragraphs,
            "paragraph_id": paragraph_id,
            "accepting": services.accepting(draft, timezone.now()),
            "errors": errors,
            "text": text[:5000],
            "max_len": 2000,
        },
        status=status,
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "legislation/mine.html",
        {"opinions": selectors.my_opinions(_user(request)), "Status": OpinionStatus},
    )


@require_GET
def funnel(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "legislation/funnel.html",
        {"total": selectors.funnel(), "rows": selectors.funnel_per_draft()},
    )


# Staff -------------------------------------------------------------------------------------


def _managed(request: HttpRequest, draft_id: int) -> Draft:
    try:
        return services.managed_draft(_user(request), draft_id)
    except LegislationError:
        raise Http404 from None


def _points(request: HttpRequest) -> Any:
    return ContactPoint.objects.filter(center__in=managed_centers(_user(request))).select_related(
        "center"
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_index(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            services.designate_contact_point(
                by=_user(request), center_id=_int(request.POST.get("center")) or 0
            )
        except LegislationError as exc:
            errors.append(str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("The center is now a legislative contact point."))
            return redirect("legislation:staff_index")
    points = list(_points(request))
    taken = {p.center_id for p in points}
    return render(
        request,
        "legislation/staff_index.html",
        {
            "points": points,
            "drafts": selectors.staff_drafts(_user(request)),
            "candidates": managed_centers(_user(request))
            .exclude(pk__in=taken)
            .order_by("name")[:200],
            "page_errors": errors,
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    points = _points(request)
    form = DraftImportForm(request.POST or None, points=points)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                draft = services.import_draft(
                    by=_user(request),
                    contact_point_id=d["contact_point"].pk,
                    title=d["title"],
                    issuing_body=d["issuing_body"],
                    version=d["version"],
                    published_on=d["published_on"],
                    opens_at=d["opens_at"],
                    closes_at=d["closes_at"],
                    source=d["source"],
                    text=d["text"],
                    synthetic=d["synthetic"],
                )
            except LegislationError as exc:
                errors.append(str(exc.message))
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Imported %(n)s articles. Check them before opening the period.")
                    % {"n": draft.articles.count()},
                )
                return redirect("legislation:staff_draft", draft_id=draft.pk)
        else:
            status = 400
    return render(
        request,
        "legislation/staff_new.html",
        {"form": form, "page_errors": errors, "has_points": points.exists()},
        status=status,
    )


NEXT_ACTION = {
    DraftStatus.DRAFT: (DraftStatus.OPEN, gettext_lazy("Open the comment period")),
    DraftStatus.OPEN: (DraftStatus.CLOSED, gettext_lazy("Close the comment period")),
    DraftStatus.CLOSED: (DraftStatus.COMPILED, gettext_lazy("Mark the compilation finished")),
    DraftStatus.COMPILED: (DraftStatus.SENT, gettext_lazy("Record that the report was sent")),
}


def _staff_draft_page(
    request: HttpRequest, draft: Draft, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    nxt = NEXT_ACTION.get(DraftStatus(draft.status))
    return render(
        request,
        "legislation/staff_draft.html",
        {
            "draft": draft,
            "blocks": selectors.structure(draft),
            "funnel": selectors.funnel(draft),
            "next_status": nxt[0] if nxt else None,
            "next_label": nxt[1] if nxt else "",
            "editable": draft.status == DraftStatus.DRAFT,
            "page_errors": errors or [],
        },
        status=status,
    )


@staff_required
@require_GET
def staff_draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    return _staff_draft_page(request, _managed(request, draft_id))


@staff_required
@require_POST
def staff_status(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _managed(request, draft_id)
    try:
        services.change_draft_status(
            by=_user(request), draft_id=draft.pk, to=request.POST.get("to", "")
        )
    except LegislationError as exc:
        return _staff_draft_page(request, draft, [str(exc.message)], exc.status)
    messages.success(request, _("Status changed."))
    return redirect("legislation:staff_draft", draft_id=draft.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def staff_article(request: HttpRequest, draft_id: int, article_id: int) -> HttpResponse:
    draft = _managed(request, draft_id)
    article = Article.objects.filter(pk=article_id, draft=draft).first()
    if article is None:
        raise Http404
    text = "\n".join(p.text for p in article.paragraphs.all())
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            services.edit_article(by=_user(request), article_id=article.pk, text=text)
        except LegislationError as exc:
            errors.append(str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("%(article)s saved.") % {"article": article.label})
            return redirect("legislation:staff_draft", draft_id=draft.pk)
    return render(
        request,
        "legislation/staff_article.html",
        {"draft": draft, "article": article, "text": text[:30000], "page_errors": errors},
        status=status,
    )


def _ids(request: HttpRequest) -> list[int]:
    return [i for i in (_int(v) for v in request.POST.getlist("opinion")) if i is not None]


@staff_required
@require_http_methods(["GET", "POST"])
def staff_compile(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _managed(request, draft_id)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "group":
                services.merge(
                    by=_user(request),
                    draft_id=draft.pk,
                    opinion_ids=_ids(request),
                    group_id=_int(request.POST.get("group")),
                )
                done = _("Grouped. Every original opinion is kept.")
            elif action == "ungroup":
                services.ungroup(
                    by=_user(request),
                    draft_id=draft.pk,
                    opinion_id=_int(request.POST.get("opinion")) or 0,
                )
                done = _("Taken out of the group.")
            elif action == "summary":
                services.edit_group(
                    by=_user(request),
                    draft_id=draft.pk,
                    group_id=_int(request.POST.get("group")) or 0,
                    summary=request.POST.get("summary", ""),
                    representative_id=_int(request.POST.get("representative")),
                )
                done = _("Summary saved.")
            elif action in OpinionStatus.values:
                changed = services.set_status(
                    by=_user(request),
                    draft_id=draft.pk,
                    opinion_ids=_ids(request),
                    to=action,
                    note=request.POST.get("note", ""),
                    final_reference=request.POST.get("final_reference", ""),
                    final_url=request.POST.get("final_url", ""),
                )
                done = _("%(n)s opinions are now “%(status)s”; their authors are told.") % {
                    "n": len(changed),
                    "status": OpinionStatus(action).label,
                }
            else:
                raise LegislationError(_("Unknown action."), code="bad_action")
        except LegislationError as exc:
            if exc.status == 404:
                raise Http404 from None
            errors.append(str(exc.message))
            status = exc.status
        else:
            messages.success(request, done)
            return redirect("legislation:staff_compile", draft_id=draft.pk)
    return render(
        request,
        "legislation/staff_compile.html",
        {
            "draft": draft,
            "items": selectors.compilation(draft),
            "funnel": selectors.funnel(draft),
            "page_errors": errors,
            "Status": OpinionStatus,
        },
        status=status,
    )


def _download(body: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required
@require_GET
def staff_report_docx(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _managed(request, draft_id)
    _audit_report(request, draft, "docx")
    return _download(exports.report_docx(draft), exports.DOCX_TYPE, f"draft-{draft.pk}.docx")


def _audit_report(request: HttpRequest, draft: Draft, fmt: str) -> None:
    audit.record_export(
        actor=_user(request),
        what="legislation_report",
        obj=draft,
        center_id=draft.contact_point.center_id,
        fmt=fmt,
    )


@staff_required
@require_GET
def staff_report_xlsx(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _managed(request, draft_id)
    _audit_report(request, draft, "xlsx")
    return _download(exports.report_xlsx(draft), exports.XLSX_TYPE, f"draft-{draft.pk}.xlsx")
