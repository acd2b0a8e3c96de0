"""Reads of the deliberation hall: lists (hot, newest, by status, by center), a topic's page.

Topics are public: anyone may read them, so these selectors only hide what moderation hid.

Hot topics, in one query. For each support and each visible comment of the last 7 days,
d = whole days since it was made (0 for the last 24 hours):

    score = Σ_supports 0.8^d + 0.5 × Σ_comments 0.8^d

A support weighs twice a comment (it takes one click per person; comments can repeat), and
each day of age keeps 80 % of the weight, so last week's rush fades behind today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User

from .models import Comment, Follow, Meeting, Status, Support, Topic
from .services import POOR_RATING, DeliberationError

HOT_DAYS = 7
HOT_DECAY = 0.8
COMMENT_WEIGHT = 0.5
SORTS = ("hot", "new")


def _decayed(now: datetime) -> Case:
    """0.8^d for an item `d` whole days old; 0 when older than HOT_DAYS."""
    whens = [
        When(created_at__gt=now - timedelta(days=d + 1), then=Value(HOT_DECAY**d))
        for d in range(HOT_DAYS)
    ]
    return Case(*whens, default=Value(0.0), output_field=FloatField())


def _weighted_sum(
    model: type[Support] | type[Comment], now: datetime, **filters: object
) -> Subquery:
    rows = (
        model.objects.filter(
            topic=OuterRef("pk"), created_at__gt=now - timedelta(days=HOT_DAYS), **filters
        )
        .order_by()
        .values("topic")
        .annotate(s=Sum(_decayed(now)))
        .values("s")
    )
    return Subquery(rows, output_field=FloatField())


def _count(model: type[Support] | type[Comment], **filters: object) -> Subquery:
    rows = (
        model.objects.filter(topic=OuterRef("pk"), **filters)
        .order_by()
        .values("topic")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(rows)


def hot_score(now: datetime) -> Case:
    """The score; its subqueries run only for topics with a support or comment in the window
    (CASE is evaluated lazily), so a quiet city costs one column test per topic."""
    score = Coalesce(_weighted_sum(Support, now), 0.0) + COMMENT_WEIGHT * Coalesce(
        _weighted_sum(Comment, now, hidden=False), 0.0
    )
    return Case(
        When(last_activity_at__gt=now - timedelta(days=HOT_DAYS), then=score),
        default=Value(0.0),
        output_field=FloatField(),
    )


def with_counts(qs: QuerySet[Topic], now: datetime) -> QuerySet[Topic]:
    return qs.annotate(
        support_count=Coalesce(_count(Support), 0),
        comment_count=Coalesce(_count(Comment, hidden=False), 0),
        hot_score=hot_score(now),
    ).select_related("center", "region")


@dataclass
class TopicFilters:
    sort: str = "hot"
    status: str = ""
    center_id: int | None = None
    limit: int = 20
    offset: int = 0


def topics(filters: TopicFilters, *, now: datetime | None = None) -> tuple[int, list[Topic]]:
    """One page of topics and the total; merged topics live on in the topic they joined."""
    now = now or timezone.now()
    qs = Topic.objects.exclude(status=Status.MERGED)
    if filters.status:
        if filters.status not in Status.values:
            raise DeliberationError(_("No such status."), code="invalid", field="status")
        qs = Topic.objects.filter(status=filters.status)
    if filters.center_id:
        qs = qs.filter(center_id=filters.center_id)
    total = qs.count()
    limit = max(1, min(filters.limit, 100))
    offset = max(0, filters.offset)
    # Rank first (one query, only what ordering needs), then count supports and comments for
    # the page alone: the counts are not computed for every topic in the city.
    ranked: QuerySet[Topic]
    if filters.sort == "hot":
        ranked = qs.annotate(hot_score=hot_score(now)).order_by(
            F("hot_score").desc(), "-created_at", "-id"
        )
    else:
        ranked = qs.order_by("-created_at", "-id")
    ids = list(ranked.values_list("pk", flat=True)[offset : offset + limit])
    rows = {t.pk: t for t in with_counts(Topic.objects.filter(pk__in=ids), now)}
    return total, [rows[pk] for pk in ids]


def get_topic(topic_id: int, *, now: datetime | None = None) -> Topic:
    now = now or timezone.now()
    topic = (
        with_counts(Topic.objects.filter(pk=topic_id), now)
        .select_related("proposer", "merged_into")
        .first()
    )
    if topic is None:
        raise DeliberationError(_("No such topic."), code="not_found", status=404)
    return topic


@dataclass
class MeetingView:
    meeting: Meeting
    registered: int
    checked_in: int


@dataclass
class TopicPage:
    topic: Topic
    events: list
    comments: list[Comment]
    photos: list
    milestones: list
    meetings: list[MeetingView]
    outcomes: list
    merged_from: list[Topic]
    rating_count: int
    rating_average: float | None
    rating_poor: bool
    supported: bool = False
    following: bool = False
    rated: int | None = None


def topic_page(
    topic_id: int, *, user: User | None = None, now: datetime | None = None
) -> TopicPage:
    from doorstep.activities.models import HOLDS_PLACE

    topic = get_topic(topic_id, now=now)
    meetings = list(
        Meeting.objects.filter(topic=topic)
        .select_related("activity", "activity__center")
        .annotate(
            registered=Count(
                "activity__registrations",
                filter=Q(activity__registrations__status__in=HOLDS_PLACE)
                | Q(activity__registrations__checked_in_at__isnull=False),
            ),
            checked_in=Count(
                "activity__registrations",
                filter=Q(activity__registrations__checked_in_at__isnull=False),
            ),
        )
    )
    ratings = list(topic.ratings.values_list("user_id", "score"))
    average = sum(s for _u, s in ratings) / len(ratings) if ratings else None
    page = TopicPage(
        topic=topic,
        events=list(topic.events.select_related("by", "related_topic")),
        comments=list(topic.comments.select_related("author")),
        photos=list(topic.photos.all()),
        milestones=list(topic.milestones.all()),
        meetings=[MeetingView(m, m.registered, m.checked_in) for m in meetings],  # type: ignore[attr-defined]
        outcomes=list(topic.outcomes.select_related("center", "series")),
        merged_from=list(topic.merged_topics.all()),
        rating_count=len(ratings),
        rating_average=round(average, 1) if average is not None else None,
        rating_poor=average is not None and average < POOR_RATING,
    )
    if user is not None and user.is_authenticated:
        flags = Topic.objects.filter(pk=topic.pk).annotate(
            s=Exists(Support.objects.filter(topic=OuterRef("pk"), user=user)),
            f=Exists(Follow.objects.filter(topic=OuterRef("pk"), user=user)),
        )
        row = flags.values("s", "f").first() or {"s": False, "f": False}
        page.supported, page.following = bool(row["s"]), bool(row["f"])
        page.rated = next((s for u, s in ratings if u == user.pk), None)
    return page


def _managed_topics(user: User) -> QuerySet[Topic]:
    """Topics at centers this staff account manages, and community topics in its regions."""
    from doorstep.accounts.scopes import center_scope_q
    from doorstep.centers.models import Center

    scope = center_scope_q(user)
    if scope is None:
        return Topic.objects.none()
    regions = set()
    city = user.is_superuser
    for role in user.staff_roles.all():
        if role.scope == "city":
            city = True
        elif role.region_id:
            regions.add(role.region_id)
    place = Q(center__in=Center.objects.filter(scope).values("pk"))
    if city:
        place |= Q(center__isnull=True)
    elif regions:
        place |= Q(center__isnull=True) & (
            Q(region_id__in=regions) | Q(region__parent_id__in=regions)
        )
    return Topic.objects.filter(place)


def staff_topics(user: User, *, status: str = "") -> QuerySet[Topic]:
    qs = _managed_topics(user)
    if status:
        qs = qs.filter(status=status)
    return with_counts(qs, timezone.now()).order_by("-status_changed_at", "-id")


def moderation_queue(user: User) -> QuerySet[Comment]:
    """Reported or hidden comments on topics this staff account manages, most reported first."""
    return (
        Comment.objects.filter(topic__in=_managed_topics(user).values("pk"))
        .annotate(report_count=Count("reports"))
        .filter(Q(report_count__gt=0) | Q(hidden=True))
        .select_related("topic", "author", "hidden_by")
        .prefetch_related("moderation__by")
        .order_by("-report_count", "-created_at")
    )
