"""Reads of the legislative contact point: public drafts, the funnel, my opinions, compiling."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers

from . import services
from .models import (
    Article,
    Chapter,
    Draft,
    DraftStatus,
    Opinion,
    OpinionGroup,
    OpinionStatus,
    Paragraph,
)

DECIDED = (OpinionStatus.ADOPTED, OpinionStatus.NOT_ADOPTED)
PASSED_ON = (OpinionStatus.SUBMITTED, *DECIDED)


def public_drafts() -> QuerySet[Draft]:
    """Drafts residents may see: everything past preparation, newest period first."""
    return (
        Draft.objects.exclude(status=DraftStatus.DRAFT)
        .select_related("contact_point")
        .annotate(n_opinions=Count("opinions"))
    )


def public_draft(draft_id: int) -> Draft:
    draft = public_drafts().filter(pk=draft_id).first()
    if draft is None:
        raise services.LegislationError("not found", code="not_found", status=404)
    return draft


def staff_drafts(user: User) -> QuerySet[Draft]:
    return (
        Draft.objects.filter(contact_point__center__in=managed_centers(user))
        .select_related("contact_point")
        .annotate(n_opinions=Count("opinions"))
    )


@dataclass
class Block:
    """One line of a draft's table of contents: a heading or an article with its paragraphs."""

    kind: str  # "chapter" or "article"
    chapter: Chapter | None = None
    article: Article | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    count: int = 0  # opinions on the article (all its paragraphs included)
    paragraph_counts: dict[int, int] = field(default_factory=dict)


def structure(draft: Draft) -> list[Block]:
    """Headings and articles in reading order, each article with its opinion counts."""
    chapters = list(Chapter.objects.filter(draft=draft))
    articles = list(
        Article.objects.filter(draft=draft).prefetch_related(
            Prefetch("paragraphs", queryset=Paragraph.objects.order_by("number"))
        )
    )
    counts: dict[int, int] = defaultdict(int)
    by_paragraph: dict[int, int] = defaultdict(int)
    for article_id, paragraph_id, n in (
        Opinion.objects.filter(draft=draft)
        .values_list("article_id", "paragraph_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[article_id] += n
        if paragraph_id:
            by_paragraph[paragraph_id] += n
    blocks: list[Block] = [Block(kind="chapter", chapter=c) for c in chapters]
    for article in articles:
        paragraphs = list(article.paragraphs.all())
        blocks.append(
            Block(
                kind="article",
                article=article,
                paragraphs=paragraphs,
                count=counts[article.pk],
                paragraph_counts={p.pk: by_paragraph[p.pk] for p in paragraphs},
            )
        )
    # Chapters and articles share one reading-order sequence (see services.import_draft).
    blocks.sort(key=lambda b: b.chapter.order if b.chapter else b.article.order)  # type: ignore[union-attr]
    return blocks


@dataclass
class Funnel:
    heard: int = 0
    submitted: int = 0
    adopted: int = 0
    not_adopted: int = 0
    residents: int = 0

    @property
    def adopted_share(self) -> int | None:
        """Adopted as a whole percentage of submitted (None before anything is submitted)."""
        return round(100 * self.adopted / self.submitted) if self.submitted else None


def _funnel_aggregates() -> dict[str, Any]:
    return {
        "heard": Count("id"),
        "submitted": Count("id", filter=Q(status__in=PASSED_ON)),
        "adopted": Count("id", filter=Q(status=OpinionStatus.ADOPTED)),
        "not_adopted": Count("id", filter=Q(status=OpinionStatus.NOT_ADOPTED)),
        "residents": Count("author", distinct=True),
    }


def funnel(draft: Draft | None = None) -> Funnel:
    """Heard ⊇ submitted ⊇ adopted: submitted counts every opinion passed on, decided or not."""
    qs = Opinion.objects.exclude(draft__status=DraftStatus.DRAFT)
    if draft is not None:
        qs = qs.filter(draft=draft)
    return _funnel_of(qs.aggregate(**_funnel_aggregates()))


def _funnel_of(row: Any) -> Funnel:
    return Funnel(**{name: int(row[name]) for name in _funnel_aggregates()})


def funnel_per_draft() -> list[tuple[Draft, Funnel]]:
    rows: dict[int, Funnel] = {
        r["draft_id"]: _funnel_of(r)
        for r in Opinion.objects.exclude(draft__status=DraftStatus.DRAFT)
        .values("draft_id")
        .annotate(**_funnel_aggregates())
        .order_by()
    }
    return [(d, rows.get(d.pk, Funnel())) for d in public_drafts()]


def my_opinions(user: User) -> QuerySet[Opinion]:
    return (
        Opinion.objects.filter(author=user)
        .select_related("draft", "article", "paragraph")
        .prefetch_related("changes")
        .order_by("-created_at", "-id")
    )


@dataclass
class ArticleCompilation:
    article: Article
    paragraphs: list[Paragraph]
    groups: list[OpinionGroup]
    loose: list[Opinion]  # not in any group yet
    suggestions: list[Any]
    count: int


def compilation(draft: Draft, *, hints: bool = True) -> list[ArticleCompilation]:
    """Per article with opinions: its groups (with members), loose opinions, merge hints."""
    opinions = list(
        Opinion.objects.filter(draft=draft).select_related("paragraph", "article").order_by("pk")
    )
    by_article: dict[int, list[Opinion]] = defaultdict(list)
    for o in opinions:
        by_article[o.article_id].append(o)
    groups: dict[int, list[OpinionGroup]] = defaultdict(list)
    for g in OpinionGroup.objects.filter(article__draft=draft).order_by("pk"):
        g.member_list = [o for o in by_article[g.article_id] if o.group_id == g.pk]  # type: ignore[attr-defined]
        member_ids = {o.pk for o in g.member_list}  # type: ignore[attr-defined]
        if g.representative_id not in member_ids and g.member_list:  # type: ignore[attr-defined]
            g.representative_id = g.member_list[0].pk  # type: ignore[attr-defined]
        g.representative_text = next(  # type: ignore[attr-defined]
            (o.text for o in g.member_list if o.pk == g.representative_id),  # type: ignore[attr-defined]
            "",
        )
        groups[g.article_id].append(g)
    found = services.suggestions(draft) if hints else {}
    out = []
    articles = Article.objects.filter(draft=draft, pk__in=by_article.keys()).prefetch_related(
        "paragraphs"
    )
    for article in articles:
        ops = by_article[article.pk]
        out.append(
            ArticleCompilation(
                article=article,
                paragraphs=list(article.paragraphs.all()),
                groups=groups[article.pk],
                loose=[o for o in ops if o.group_id is None],
                suggestions=found.get(article.pk, []),
                count=len(ops),
            )
        )
    return out


def pseudonyms(draft: Draft) -> dict[int | None, str]:
    """author id -> 居民001, numbered by first opinion on this draft (differs per draft).

    Opinions whose author closed their account (author None) stay, unattributed."""
    names: dict[int | None, str] = {None: "居民（账号已注销）"}
    for author_id in (
        Opinion.objects.filter(draft=draft).order_by("pk").values_list("author_id", flat=True)
    ):
        if author_id not in names:
            names[author_id] = f"居民{len(names):03d}"
    return names
