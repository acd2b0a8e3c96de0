"""Writes of the legislative contact point: drafts, opinions, compiling, status changes.

Every function owns its transaction: nothing is stored half-way. Staff may act only on drafts
of contact points at centers they manage (accounts.scopes); anything else is "not found", so
nothing leaks that a draft exists. Errors carry stable codes (LegislationError.code).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.models import Center
from doorstep.core import audit
from doorstep.core.errors import DoorstepError
from doorstep.inbox.services import notify

from . import dedupe
from .models import (
    DRAFT_TEXT_MAX,
    NOTE_MAX,
    OPINION_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Article,
    Chapter,
    ContactPoint,
    Draft,
    DraftStatus,
    Opinion,
    OpinionGroup,
    OpinionStatus,
    Paragraph,
    StatusChange,
)
from .parser import article_label, parse_draft, split_paragraphs


class LegislationError(DoorstepError):
    pass


# Which way a draft may move. Reopening is not offered: a new period is a new version.
DRAFT_MOVES: dict[str, set[str]] = {
    DraftStatus.DRAFT: {DraftStatus.OPEN},
    DraftStatus.OPEN: {DraftStatus.CLOSED},
    DraftStatus.CLOSED: {DraftStatus.COMPILED},
    DraftStatus.COMPILED: {DraftStatus.SENT},
    DraftStatus.SENT: set(),
}
# Which way an opinion may move: the funnel only narrows (heard ⊇ submitted ⊇ adopted).
OPINION_MOVES: dict[str, set[str]] = {
    OpinionStatus.HEARD: {OpinionStatus.SUBMITTED},
    OpinionStatus.SUBMITTED: {OpinionStatus.ADOPTED, OpinionStatus.NOT_ADOPTED},
    OpinionStatus.ADOPTED: set(),
    OpinionStatus.NOT_ADOPTED: set(),
}
# Enough for anyone with something to say on every article that matters to them; stops a flood.
OPINIONS_PER_PERSON = 50
# Drafts whose opinions may be submitted (the period is over) or decided (the report went out).
SUBMITTABLE = {DraftStatus.CLOSED, DraftStatus.COMPILED, DraftStatus.SENT}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A tag (<b>, </p>, <img src=...>, <!--, <?xml); a bare "a<b" or "<50" is ordinary text.
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][\w:-]*(?=[\s/>])|<[!?]")


def clean_text(
    value: object, *, what: str, max_len: int, required: bool = True, multiline: bool = True
) -> str:
    """Plain text as typed by a person: trimmed, no control characters, no HTML tags."""
    text = unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).strip()
    if not multiline:
        text = " ".join(text.split())
    if required and not text:
        raise LegislationError(_("Please fill in %(what)s.") % {"what": what}, code="empty")
    if len(text) > max_len:
        raise LegislationError(
            _("%(what)s is too long: at most %(n)s characters.") % {"what": what, "n": max_len},
            code="too_long",
        )
    if _MARKUP.search(text):
        raise LegislationError(
            _("Please write %(what)s as plain text: HTML tags are not accepted.") % {"what": what},
            code="markup",
        )
    return text


def _clean_url(value: str) -> str:
    url = (value or "").strip()
    if not url:
        return ""
    if len(url) > 300 or not re.match(r"^https?://[^\s<>\"]+$", url):
        raise LegislationError(
            _("The link must be a web address starting with http:// or https://."),
            code="bad_url",
        )
    return url


def managed_draft(by: User, draft_id: int, *, lock: bool = False) -> Draft:
    """The draft if `by` manages its contact point's center; otherwise not found."""
    qs = Draft.objects.filter(pk=draft_id, contact_point__center__in=managed_centers(by))
    if lock:
        qs = qs.select_for_update()
    draft = qs.select_related("contact_point").first()
    if draft is None:
        raise LegislationError(_("No such draft."), code="not_found", status=404)
    return draft


def designate_contact_point(
    *,
    by: User | None,
    center_id: int,
    name: str = "",
    designated_on: date | None = None,
    designated_by: str = "",
    source: str = "manual",
) -> ContactPoint:
    """Make a center a contact point (staff may do it only for a center they manage)."""
    centers = Center.objects.all() if by is None else managed_centers(by)
    center = centers.filter(pk=center_id).first()
    if center is None:
        raise LegislationError(_("No such center."), code="not_found", status=404)
    label = clean_text(
        name or _("%(center)s legislative contact point") % {"center": center.name},
        what=_("the name"),
        max_len=TITLE_MAX,
        multiline=False,
    )
    with transaction.atomic():
        point, created = ContactPoint.objects.get_or_create(
            center=center,
            defaults={
                "name": label,
                "designated_on": designated_on,
                "designated_by": designated_by[:100],
                "source": source,
            },
        )
    return point


def import_draft(
    *,
    by: User | None,
    contact_point_id: int,
    title: str,
    text: str,
    opens_at: datetime,
    closes_at: datetime,
    issuing_body: str = "",
    version: str = "",
    published_on: date | None = None,
    source: str = "",
    synthetic: bool = False,
) -> Draft:
    """Create a draft in preparation from its pasted text, split into chapters/articles/款."""
    points = ContactPoint.objects.all()
    if by is not None:
        points = points.filter(center__in=managed_centers(by))
    point = points.filter(pk=contact_point_id).first()
    if point is None:
        raise LegislationError(_("No such contact point."), code="not_found", status=404)
    title = clean_text(title, what=_("the title"), max_len=TITLE_MAX, multiline=False)
    issuing_body = clean_text(
        issuing_body, what=_("the issuing body"), max_len=100, required=False, multiline=False
    )
    version = clean_text(
        version, what=_("the version"), max_len=60, required=False, multiline=False
    )
    source = clean_text(source, what=_("the source"), max_len=300, required=False, multiline=False)
    body = clean_text(text, what=_("the text of the draft"), max_len=DRAFT_TEXT_MAX)
    if closes_at <= opens_at:
        raise LegislationError(
            _("The comment period must close after it opens."), code="bad_period"
        )
    parsed = parse_draft(body)
    if not parsed.articles:
        raise LegislationError(
            _("No articles found. Each article must start on its own line with 第…条."),
            code="no_articles",
        )
    duplicates = [line for code, line in parsed.problems if code == "duplicate_article"]
    if duplicates:
        raise LegislationError(
            _("An article number appears twice: %(line)s") % {"line": duplicates[0]},
            code="duplicate_article",
        )
    with transaction.atomic():
        draft = Draft.objects.create(
            contact_point=point,
            title=title,
            issuing_body=issuing_body,
            version=version,
            published_on=published_on,
            opens_at=opens_at,
            closes_at=closes_at,
            source=source,
            synthetic=synthetic,
            created_by=by,
        )
        chapters = Chapter.objects.bulk_create(
            [
                Chapter(
                    draft=draft,
                    level=c.level,
                    number=c.number,
                    heading=c.heading[:TITLE_MAX],
                    order=c.position,
                )
                for c in parsed.chapters
            ]
        )
        articles = Article.objects.bulk_create(
            [
                Article(
                    draft=draft,
                    chapter=chapters[a.chapter] if a.chapter is not None else None,
                    number=a.number,
                    label=article_label(a.number),
                    order=a.position,
                )
                for a in parsed.articles
            ]
        )
        Paragraph.objects.bulk_create(
            [
                Paragraph(article=article, number=n, text=p)
                for article, a in zip(articles, parsed.articles, strict=True)
                for n, p in enumerate(a.paragraphs, start=1)
            ]
        )
        if by is not None:
            audit.record(
                actor=by,
                action="draft.import",
                obj=draft,
                center_id=point.center_id,
                changes={"articles": len(articles), "opens_at": opens_at, "closes_at": closes_at},
            )
    return draft


def edit_article(*, by: User, article_id: int, text: str) -> Article:
    """Replace an article's paragraphs (one per line) while the draft is being prepared."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise LegislationError(_("No such article."), code="not_found", status=404)
    body = clean_text(text, what=_("the article's text"), max_len=20_000)
    paragraphs = split_paragraphs(body)
    with transaction.atomic():
        draft = managed_draft(by, article.draft_id, lock=True)
        if draft.status != DraftStatus.DRAFT:
            raise LegislationError(
                _("The text can be edited only before the comment period opens."),
                code="draft_published",
            )
        before = list(article.paragraphs.order_by("number").values_list("text", flat=True))
        article.paragraphs.all().delete()
        Paragraph.objects.bulk_create(
            [Paragraph(article=article, number=n, text=p) for n, p in enumerate(paragraphs, 1)]
        )
        audit.record(
            actor=by,
            action="draft.edit_article",
            obj=article,
            label=f"{draft.title} · {article.label}",
            center_id=draft.contact_point.center_id,
            changes=audit.diff({"paragraphs": before}, {"paragraphs": paragraphs}),
        )
    return article


def change_draft_status(*, by: User, draft_id: int, to: str, now: datetime | None = None) -> Draft:
    now = now or timezone.now()
    with transaction.atomic():
        draft = managed_draft(by, draft_id, lock=True)
        if to not in DRAFT_MOVES.get(draft.status, set()):
            raise LegislationError(
                _("A draft that is “%(from)s” cannot become “%(to)s”.")
                % {"from": DraftStatus(draft.status).label, "to": _label(DraftStatus, to)},
                code="illegal_draft_transition",
                status=409,
            )
        if to == DraftStatus.OPEN:
            if draft.closes_at <= now:
                raise LegislationError(
                    _("The comment period is already over; set a later closing time."),
                    code="bad_period",
                )
            if not Article.objects.filter(draft=draft).exists():
                raise LegislationError(_("The draft has no text yet."), code="no_articles")
            empty = Article.objects.filter(draft=draft, paragraphs__isnull=True).first()
            if empty is not None:
                raise LegislationError(
                    _("%(article)s has no text yet.") % {"article": empty.label},
                    code="empty_article",
                )
        was = draft.status
        draft.status = to
        fields = ["status"]
        if to == DraftStatus.SENT:
            draft.sent_at = now
            fields.append("sent_at")
        draft.save(update_fields=fields)
        audit.record(
            actor=by,
            action="draft.status",
            obj=draft,
            center_id=draft.contact_point.center_id,
            changes=audit.diff({"status": was}, {"status": to}),
            now=now,
        )
    return draft


def _label(choices: type[DraftStatus] | type[OpinionStatus], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def accepting(draft: Draft, now: datetime) -> bool:
    return draft.status == DraftStatus.OPEN and draft.opens_at <= now < draft.closes_at


def give_opinion(
    *,
    author: User,
    draft_id: int,
    article_id: int,
    text: str,
    paragraph_id: int | None = None,
    now: datetime | None = None,
    synthetic: bool = False,
) -> Opinion:
    """A resident's opinion on an article or one paragraph of it, while the period is open."""
    now = now or timezone.now()
    if not author.is_authenticated or not author.is_active:
        raise LegislationError(_("Please sign in."), code="unauthorized", status=401)
    body = clean_text(text, what=_("your opinion"), max_len=OPINION_MAX)
    with transaction.atomic():
        # The draft row is the lock that orders opinions against closing the period.
        draft = Draft.objects.select_for_update().filter(pk=draft_id).first()
        if draft is None or draft.status == DraftStatus.DRAFT:
            raise LegislationError(_("No such draft."), code="not_found", status=404)
        if not accepting(draft, now):
            raise LegislationError(
                _("This draft is not open for opinions now."), code="period_closed", status=409
            )
        article = Article.objects.filter(pk=article_id, draft=draft).first()
        if article is None:
            raise LegislationError(
                _("No such article in this draft."), code="bad_article", status=400
            )
        paragraph = None
        if paragraph_id is not None:
            paragraph = Paragraph.objects.filter(pk=paragraph_id, article=article).first()
            if paragraph is None:
                raise LegislationError(
                    _("No such paragraph in this article."), code="bad_paragraph", status=400
                )
        if Opinion.objects.filter(author=author, draft=draft).count() >= OPINIONS_PER_PERSON:
            raise LegislationError(
                _("You have given %(n)s opinions on this draft, the most one person can give.")
                % {"n": OPINIONS_PER_PERSON},
                code="too_many",
                status=429,
            )
        key = dedupe.text_key(body)
        if Opinion.objects.filter(author=author, article=article, text_key=key).exists():
            raise LegislationError(
                _("You have already given this opinion on this article."),
                code="repeated",
                status=409,
            )
        try:
            with transaction.atomic():
                opinion = Opinion.objects.create(
                    draft=draft,
                    article=article,
                    paragraph=paragraph,
                    author=author,
                    text=body,
                    text_key=key,
                    synthetic=synthetic,
                )
        except IntegrityError:
            raise LegislationError(
                _("You have already given this opinion on this article."),
                code="repeated",
                status=409,
            ) from None
        StatusChange.objects.create(opinion=opinion, from_status="", to_status=opinion.status)
    return opinion


def _staff_opinions(
    by: User, draft_id: int, opinion_ids: Iterable[int]
) -> tuple[Draft, list[Opinion]]:
    """Lock the draft and the named opinions of it (all must exist, in id order)."""
    ids = sorted(set(opinion_ids))
    draft = managed_draft(by, draft_id, lock=True)
    if not ids:
        raise LegislationError(_("Choose at least one opinion."), code="none_chosen")
    opinions = list(
        Opinion.objects.select_for_update().filter(draft=draft, pk__in=ids).order_by("pk")
    )
    if len(opinions) != len(ids):
        raise LegislationError(_("No such opinion in this draft."), code="not_found", status=404)
    return draft, opinions


def merge(
    *, by: User, draft_id: int, opinion_ids: Iterable[int], group_id: int | None = None
) -> OpinionGroup:
    """Put opinions on one article into one group (a new one, or `group_id`). Originals stay."""
    with transaction.atomic():
        draft, opinions = _staff_opinions(by, draft_id, opinion_ids)
        articles = {o.article_id for o in opinions}
        existing: OpinionGroup | None = None
        if group_id is not None:
            existing = OpinionGroup.objects.filter(pk=group_id, article__draft=draft).first()
            if existing is None:
                raise LegislationError(_("No such group."), code="not_found", status=404)
            articles.add(existing.article_id)
        if len(articles) != 1:
            raise LegislationError(
                _("Only opinions on the same article can be grouped."), code="mixed_articles"
            )
        if draft.status == DraftStatus.SENT:
            raise LegislationError(
                _("The report has been sent; its groups can no longer change."),
                code="already_sent",
                status=409,
            )
        group = existing or OpinionGroup.objects.create(
            article_id=articles.pop(), created_by=by, representative=opinions[0]
        )
        old_groups = {o.group_id for o in opinions if o.group_id and o.group_id != group.pk}
        Opinion.objects.filter(pk__in=[o.pk for o in opinions]).update(group=group)
        # A group left with no members has nothing to say.
        OpinionGroup.objects.filter(pk__in=old_groups, members__isnull=True).delete()
    return group


def ungroup(*, by: User, draft_id: int, opinion_id: int) -> None:
    with transaction.atomic():
        draft, (opinion,) = _staff_opinions(by, draft_id, [opinion_id])
        if draft.status == DraftStatus.SENT:
            raise LegislationError(
                _("The report has been sent; its groups can no longer change."),
                code="already_sent",
                status=409,
            )
        old = opinion.group_id
        if old is None:
            raise LegislationError(_("This opinion is not in a group."), code="not_grouped")
        Opinion.objects.filter(pk=opinion.pk).update(group=None)
        OpinionGroup.objects.filter(pk=old, members__isnull=True).delete()
        OpinionGroup.objects.filter(pk=old, representative_id=opinion.pk).update(
            representative=Subquery(
                Opinion.objects.filter(group_id=old).order_by("pk").values("pk")[:1]
            )
        )


def edit_group(
    *, by: User, draft_id: int, group_id: int, summary: str, representative_id: int | None = None
) -> OpinionGroup:
    text = clean_text(summary, what=_("the compiled summary"), max_len=SUMMARY_MAX, required=False)
    with transaction.atomic():
        draft = managed_draft(by, draft_id, lock=True)
        group = OpinionGroup.objects.filter(pk=group_id, article__draft=draft).first()
        if group is None:
            raise LegislationError(_("No such group."), code="not_found", status=404)
        group.summary = text
        fields = ["summary"]
        if representative_id is not None:
            if not group.members.filter(pk=representative_id).exists():
                raise LegislationError(
                    _("The representative wording must be one of the group's opinions."),
                    code="bad_representative",
                )
            group.representative_id = representative_id
            fields.append("representative")
        group.save(update_fields=fields)
    return group


def suggestions(draft: Draft) -> dict[int, list[dedupe.Suggestion]]:
    """Per article, clusters of ungrouped-or-grouped opinions that look alike, excluding those
    already all in one group."""
    rows = Opinion.objects.filter(draft=draft).values_list("pk", "article_id", "text", "group_id")
    per_article: dict[int, list[tuple[int, str]]] = defaultdict(list)
    group_of: dict[int, int | None] = {}
    for pk, article_id, text, group_id in rows:
        per_article[article_id].append((pk, text))
        group_of[pk] = group_id
    out: dict[int, list[dedupe.Suggestion]] = {}
    for article_id, items in per_article.items():
        found = [
            s
            for s in dedupe.suggest(items)
            if len({group_of[i] for i in s.ids}) > 1 or group_of[s.ids[0]] is None
        ]
        if found:
            out[article_id] = found
    return out


def set_status(
    *,
    by: User,
    draft_id: int,
    opinion_ids: Iterable[int],
    to: str,
    note: str = "",
    final_reference: str = "",
    final_url: str = "",
) -> list[Opinion]:
    """Move opinions to `to`, all or none; log each move and tell each author."""
    if to not in OpinionStatus.values:
        raise LegislationError(_("Unknown status."), code="bad_status")
    note = clean_text(note, what=_("the note"), max_len=NOTE_MAX, required=False)
    final_reference = clean_text(
        final_reference,
        what=_("the article in the final law"),
        max_len=100,
        required=False,
        multiline=False,
    )
    final_url = _clean_url(final_url)
    with transaction.atomic():
        draft, opinions = _staff_opinions(by, draft_id, opinion_ids)
        for o in opinions:
            if to not in OPINION_MOVES[o.status]:
                raise LegislationError(
                    _("Opinion %(id)s is “%(from)s” and cannot become “%(to)s”.")
                    % {
                        "id": o.pk,
                        "from": _label(OpinionStatus, o.status),
                        "to": _label(OpinionStatus, to),
                    },
                    code="illegal_transition",
                    status=409,
                )
        if to == OpinionStatus.SUBMITTED and draft.status not in SUBMITTABLE:
            raise LegislationError(
                _("Opinions can be submitted only after the comment period has closed."),
                code="period_open",
                status=409,
            )
        if to in (OpinionStatus.ADOPTED, OpinionStatus.NOT_ADOPTED) and (
            draft.status != DraftStatus.SENT
        ):
            raise LegislationError(
                _("Record the outcome after the compiled report has been sent."),
                code="not_sent",
                status=409,
            )
        changes = []
        now = timezone.now()
        for o in opinions:
            o.updated_at = now
            changes.append(
                StatusChange(opinion=o, from_status=o.status, to_status=to, by=by, note=note)
            )
            o.status = to
            if note:
                o.staff_note = note
            if final_reference:
                o.final_reference = final_reference
            if final_url:
                o.final_url = final_url
        Opinion.objects.bulk_update(
            opinions, ["status", "staff_note", "final_reference", "final_url", "updated_at"]
        )
        StatusChange.objects.bulk_create(changes)
        audit.record(
            actor=by,
            action="opinions.status",
            obj=draft,
            center_id=draft.contact_point.center_id,
            changes={"to": to, "opinions": [o.pk for o in opinions], "note": note},
        )
        title = _("Your opinion on “%(title)s”: %(status)s") % {
            "title": draft.title,
            "status": _label(OpinionStatus, to),
        }
        notify(
            [o.author_id for o in opinions if o.author_id is not None],
            subject=f"draft:{draft.pk}",
            kind="opinion_status",
            title=title[:200],
            body=note,
            url=reverse("legislation:mine"),
        )
    return opinions
