"""The grassroots legislative contact point (基层立法联系点).

A contact point (ContactPoint) is a center that collects residents' opinions on draft laws.
Staff publish a draft (Draft) as structured text: chapters (章, and sections 节), articles (条)
and paragraphs (款). Residents give opinions (Opinion = 意见) on an article or one of its
paragraphs. Staff compile them: group near-duplicates per article (OpinionGroup, every original
kept), move each opinion heard -> submitted -> adopted / not adopted (every move logged in
StatusChange and told to its author), and export the compiled report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 200
OPINION_MAX = 2000
SUMMARY_MAX = 2000
NOTE_MAX = 1000
DRAFT_TEXT_MAX = 200_000


class ContactPoint(models.Model):
    center = models.OneToOneField(
        "centers.Center", on_delete=models.PROTECT, related_name="contact_point"
    )
    name = models.CharField(_("name"), max_length=TITLE_MAX)
    designated_on = models.DateField(_("designated on"), null=True, blank=True)
    designated_by = models.CharField(_("designated by"), max_length=100, blank=True)
    # "article" when the newspaper feature says so; "manual" when staff set it up.
    source = models.CharField(_("source"), max_length=20, default="manual")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("legislative contact point")
        verbose_name_plural = _("legislative contact points")

    def __str__(self) -> str:
        return self.name


class DraftStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    OPEN = "open", _("Open for opinions")
    CLOSED = "closed", _("Comment period closed")
    COMPILED = "compiled", _("Opinions compiled")
    SENT = "sent", _("Sent on")


class Draft(models.Model):
    """A draft law (法律草案) put to residents for a comment period."""

    contact_point = models.ForeignKey(ContactPoint, on_delete=models.PROTECT, related_name="drafts")
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    issuing_body = models.CharField(_("issuing body"), max_length=100, blank=True)
    version = models.CharField(_("version"), max_length=60, blank=True)
    published_on = models.DateField(_("date of the draft"), null=True, blank=True)
    opens_at = models.DateTimeField(_("comment period opens"))
    closes_at = models.DateTimeField(_("comment period closes"))
    status = models.CharField(
        _("status"), max_length=10, choices=DraftStatus.choices, default=DraftStatus.DRAFT
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    synthetic = models.BooleanField(_("synthetic example"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent on"), null=True, blank=True)

    class Meta:
        verbose_name = _("draft law")
        verbose_name_plural = _("draft laws")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="draft_period_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Chapter(models.Model):
    """A part (编, level 0), chapter (章, 1) or section (节, 2) heading, in reading order."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="chapters")
    level = models.PositiveSmallIntegerField(default=1)
    number = models.PositiveIntegerField()
    heading = models.CharField(_("heading"), max_length=TITLE_MAX)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.heading


class Article(models.Model):
    """An article (条). Its text lives in its paragraphs (款)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="articles")
    chapter = models.ForeignKey(
        Chapter, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=30)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="article_number_once"),
        ]

    def __str__(self) -> str:
        return self.label


class Paragraph(models.Model):
    """A paragraph (款); items (项) stay inside the paragraph they belong to."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="paragraphs")
    number = models.PositiveIntegerField()
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="paragraph_number_once"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def label(self) -> str:
        """第二款: the law's own numbering, in every language (like 第十二条)."""
        return f"第{cn_number(self.number)}款"

    @property
    def address(self) -> str:
        return f"{self.article.label}{self.label}"


class OpinionStatus(models.TextChoices):
    HEARD = "heard", _("Heard")
    SUBMITTED = "submitted", _("Submitted")
    ADOPTED = "adopted", _("Adopted")
    NOT_ADOPTED = "not_adopted", _("Not adopted")


class OpinionGroup(models.Model):
    """Opinions on one article that say the same thing, with the staff's compiled wording."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="groups")
    summary = models.TextField(_("compiled summary"), blank=True)
    representative = models.ForeignKey(
        "Opinion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"group {self.pk} on {self.article_id}"


class Opinion(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="opinions")
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="opinions")
    paragraph = models.ForeignKey(
        Paragraph, on_delete=models.PROTECT, null=True, blank=True, related_name="opinions"
    )
    # An opinion already heard is part of the contact point's public record: closing an
    # account unlinks its opinions (the words stay, unattributed) rather than rewriting counts.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="opinions",
    )
    text = models.TextField(_("opinion"))
    # SHA-256 of the normalised text: the same person cannot give the same opinion twice.
    text_key = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=12, choices=OpinionStatus.choices, default=OpinionStatus.HEARD
    )
    group = models.ForeignKey(
        OpinionGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    staff_note = models.TextField(_("note from the contact point"), blank=True)
    final_reference = models.CharField(_("article in the final law"), max_length=100, blank=True)
    final_url = models.URLField(_("link to the final law"), max_length=300, blank=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "article", "text_key"], name="opinion_not_repeated"
            ),
        ]
        indexes = [
            models.Index(fields=["draft", "status"], name="opinion_draft_status"),
            models.Index(fields=["author", "created_at"], name="opinion_author"),
        ]

    def __str__(self) -> str:
        return f"opinion {self.pk} on {self.article_id}"

    @property
    def address(self) -> str:
        """第十二条 or 第十二条第二款."""
        if self.paragraph is not None:
            return f"{self.article.label}{self.paragraph.label}"
        return self.article.label


class StatusChange(models.Model):
    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, choices=OpinionStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.opinion_id}: {self.from_status} -> {self.to_status}"


def cn_number(n: int) -> str:
    from .parser import int_to_cn

    return int_to_cn(n)
