"""Legislative contact point API: read drafts and the funnel, give and follow opinions."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from doorstep.accounts.auth import account_auth, caller
from doorstep.core.api import ErrorOut

from . import selectors, services
from .models import Draft, Opinion

router = Router(tags=["legislation"])


class DraftOut(Schema):
    id: int
    title: str
    issuing_body: str
    version: str
    contact_point: str
    status: str
    accepting_opinions: bool
    opens_at: datetime
    closes_at: datetime
    synthetic: bool
    source: str
    opinions: int


class ParagraphOut(Schema):
    id: int
    number: int
    text: str
    opinions: int


class ArticleOut(Schema):
    id: int
    number: int
    label: str
    chapter: str | None
    opinions: int
    paragraphs: list[ParagraphOut]


class DraftDetail(DraftOut):
    articles: list[ArticleOut]


class OpinionIn(Schema):
    article_id: int
    paragraph_id: int | None = None
    text: str


class ChangeOut(Schema):
    to_status: str
    at: datetime


class OpinionOut(Schema):
    id: int
    draft_id: int
    draft_title: str
    address: str
    text: str
    status: str
    staff_note: str
    final_reference: str
    final_url: str
    created_at: datetime
    timeline: list[ChangeOut]


class FunnelOut(Schema):
    heard: int
    submitted: int
    adopted: int
    not_adopted: int
    residents: int


class DraftFunnelOut(FunnelOut):
    draft_id: int
    title: str
    synthetic: bool


class FunnelReport(Schema):
    total: FunnelOut
    drafts: list[DraftFunnelOut]


def _draft_out(d: Draft, now: datetime) -> dict:
    return {
        "id": d.pk,
        "title": d.title,
        "issuing_body": d.issuing_body,
        "version": d.version,
        "contact_point": d.contact_point.name,
        "status": d.status,
        "accepting_opinions": services.accepting(d, now),
        "opens_at": d.opens_at,
        "closes_at": d.closes_at,
        "synthetic": d.synthetic,
        "source": d.source,
        "opinions": getattr(d, "n_opinions", 0),
    }


def _opinion_out(o: Opinion) -> dict:
    return {
        "id": o.pk,
        "draft_id": o.draft_id,
        "draft_title": o.draft.title,
        "address": o.address,
        "text": o.text,
        "status": o.status,
        "staff_note": o.staff_note,
        "final_reference": o.final_reference,
        "final_url": o.final_url,
        "created_at": o.created_at,
        "timeline": [{"to_status": c.to_status, "at": c.at} for c in o.changes.all()],
    }


@router.get("/legislation/drafts", response=list[DraftOut])
def list_drafts(request: HttpRequest) -> list[dict]:
    now = timezone.now()
    return [_draft_out(d, now) for d in selectors.public_drafts()[:200]]


@router.get("/legislation/drafts/{draft_id}", response={200: DraftDetail, 404: ErrorOut})
def get_draft(request: HttpRequest, draft_id: int) -> dict:
    draft = selectors.public_draft(draft_id)
    out = _draft_out(draft, timezone.now())
    articles = []
    heading = None
    for b in selectors.structure(draft):
        if b.kind == "chapter" and b.chapter is not None:
            heading = b.chapter.heading
            continue
        assert b.article is not None
        articles.append(
            {
                "id": b.article.pk,
                "number": b.article.number,
                "label": b.article.label,
                "chapter": heading,
                "opinions": b.count,
                "paragraphs": [
                    {
                        "id": p.pk,
                        "number": p.number,
                        "text": p.text,
                        "opinions": b.paragraph_counts[p.pk],
                    }
                    for p in b.paragraphs
                ],
            }
        )
    out["articles"] = articles
    return out


@router.post(
    "/legislation/drafts/{draft_id}/opinions",
    auth=account_auth,
    response={201: OpinionOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def give_opinion(request: HttpRequest, draft_id: int, payload: OpinionIn) -> Status:
    user = caller(request)
    opinion = services.give_opinion(
        author=user,
        draft_id=draft_id,
        article_id=payload.article_id,
        paragraph_id=payload.paragraph_id,
        text=payload.text,
    )
    opinion = selectors.my_opinions(user).get(pk=opinion.pk)
    return Status(201, _opinion_out(opinion))


@router.get("/legislation/opinions/mine", auth=account_auth, response=list[OpinionOut])
def my_opinions(request: HttpRequest) -> list[dict]:
    user = caller(request)
    return [_opinion_out(o) for o in selectors.my_opinions(user)[:500]]


@router.get("/legislation/funnel", response=FunnelReport)
def funnel(request: HttpRequest) -> dict:
    total = selectors.funnel()
    drafts = [
        {"draft_id": d.pk, "title": d.title, "synthetic": d.synthetic, **vars(f)}
        for d, f in selectors.funnel_per_draft()
    ]
    return {"total": vars(total), "drafts": drafts}
