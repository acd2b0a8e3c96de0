"""The deliberation hall (议事厅): topics (议题) from proposal to what was actually done.

A topic's timeline is its TopicEvent rows: every status change, milestone, meeting, merge and
outcome is written there by the service that made it, with who and when. The same rows are
the audit trail, so the public timeline can never disagree with what happened.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    COLLECTED = "collected", _("Collected")
    ACCEPTED = "accepted", _("Accepted for deliberation")
    DECLINED = "declined", _("Declined")
    MERGED = "merged", _("Merged into another topic")
    HEARING = "hearing", _("Hearing")
    COORDINATION = "coordination", _("Coordination")
    DECIDED = "decided", _("Decided")
    IMPLEMENTING = "implementing", _("Being implemented")
    DONE = "done", _("Done")
    EVALUATION = "evaluation", _("Evaluation")


class Category(models.TextChoices):
    ELDERLY_CARE = "elderly_care", _("Elderly care and meals")
    CHILDREN = "children", _("Children and families")
    ENVIRONMENT = "environment", _("Environment and cleanliness")
    TRAFFIC = "traffic", _("Traffic and parking")
    SAFETY = "safety", _("Safety")
    FACILITIES = "facilities", _("Facilities and spaces")
    ACTIVITIES = "activities", _("Activities and culture")
    SERVICES = "services", _("Public services")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    RESIDENT = "resident", _("Proposed by a resident")
    ARTICLE = "article", _("From the newspaper article")
    SYNTHETIC = "synthetic", _("Synthetic example")


TITLE_MAX = 80
DESCRIPTION_MAX = 4000
COMMENT_MAX = 1000
REASON_MAX = 300
LONG_TEXT_MAX = 8000


class Topic(models.Model):
    """A matter residents raise for a center or a community (a subdistrict)."""

    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, null=True, blank=True, related_name="topics"
    )
    region = models.ForeignKey(
        "centers.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="topics"
    )
    proposer = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="topics"
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.COLLECTED
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_topics"
    )
    decline_reason = models.CharField(_("reason for declining"), max_length=REASON_MAX, blank=True)
    resolution = models.TextField(_("decision"), blank=True)
    rectification = models.TextField(_("rectification plan"), blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RESIDENT)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The latest support or comment: the hot ranking scores only topics active in its window.
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["created_at", "id"], name="topic_newest"),
            models.Index(fields=["center", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(center__isnull=False) | models.Q(region__isnull=False),
                name="topic_has_a_place",
            ),
            models.CheckConstraint(
                condition=models.Q(status="merged", merged_into__isnull=False)
                | (~models.Q(status="merged") & models.Q(merged_into__isnull=True)),
                name="topic_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_synthetic(self) -> bool:
        return self.source == Source.SYNTHETIC


class EventKind(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    STATUS = "status", _("Status changed")
    MERGED_IN = "merged_in", _("Another topic was merged in")
    MILESTONE = "milestone", _("Milestone")
    MEETING = "meeting", _("Meeting")
    OUTCOME = "outcome", _("Outcome")
    RECTIFICATION = "rectification", _("Rectification plan")


class TopicEvent(models.Model):
    """One line of the public timeline, and of the audit trail."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=EventKind.choices)
    from_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=Status.choices, blank=True)
    by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    related_topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.kind} {self.to_status}"


class Support(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="one_support_per_person")
        ]
        indexes = [models.Index(fields=["topic", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.topic_id}"


class Follow(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="one_follow_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.topic_id}"


class Comment(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=COMMENT_MAX)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=REASON_MAX, blank=True)
    hidden_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["topic", "created_at"])]

    def __str__(self) -> str:
        return self.text[:40]


class CommentReport(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_report_per_person")
        ]

    def __str__(self) -> str:
        return f"report on {self.comment_id}"


class ModerationLog(models.Model):
    """Who hid or restored which comment, and why: the moderation audit trail."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Hidden")
        RESTORE = "restore", _("Restored")

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="moderation")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.CharField(max_length=REASON_MAX, blank=True)
    by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.comment_id}"


class Photo(models.Model):
    """A photo re-encoded on upload (no EXIF, no GPS); served by a view, never as a static file."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="topics/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of {self.topic_id}"


class Milestone(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=120)
    responsible = models.CharField(_("responsible party"), max_length=120)
    expected_date = models.DateField(_("expected by"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expected_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="milestone_progress_percent"
            )
        ]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    HEARING = "hearing", _("Hearing")
    COORDINATION = "coordination", _("Coordination meeting")
    EVALUATION = "evaluation", _("Evaluation meeting")


class Meeting(models.Model):
    """A meeting held at a center; residents register through its activity, as for any other."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(_("kind"), max_length=14, choices=MeetingKind.choices)
    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.PROTECT, related_name="meeting"
    )
    # 议事员: the residents' representatives, by name as the minutes record them.
    representatives = models.JSONField(default=list, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    decision = models.TextField(_("decision"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["activity__starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.topic_id}"


class Rating(models.Model):
    """A resident's 1-5 rating of the result at the evaluation stage (评议)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="one_rating_per_person"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_one_to_five"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} for {self.topic_id}"


class OutcomeKind(models.TextChoices):
    SERVICE = "service", _("A new service")
    SERIES = "series", _("An activity series")
    FACILITY = "facility", _("A facility at a center")


class Outcome(models.Model):
    """What the decision produced, linked to the thing that now exists."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=10, choices=OutcomeKind.choices)
    center = models.ForeignKey(
        "centers.Center", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A service code (visits.vocab.Service) or a facility code (centers.vocab.Facility).
    code = models.CharField(max_length=40, blank=True)
    series = models.ForeignKey(
        "activities.Series", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.topic_id}"
