"""Deliberation hall API: topics (list, read, propose), support, follow, comment, report,
rate; for staff, moving a topic, merging, milestones and moderation."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from doorstep.accounts.auth import account_auth, caller
from doorstep.accounts.models import User
from doorstep.core.api import ErrorOut

from . import selectors, services
from .models import Topic
from .selectors import TopicFilters

router = Router(tags=["deliberation"])
ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


class TopicOut(Schema):
    id: int
    title: str
    category: str
    status: str
    center_id: int | None
    region_code: str | None
    source: str
    support_count: int
    comment_count: int
    hot_score: float
    created_at: datetime
    status_changed_at: datetime | None
    merged_into_id: int | None


class TopicList(Schema):
    count: int
    items: list[TopicOut]


class EventOut(Schema):
    kind: str
    from_status: str
    to_status: str
    at: datetime
    note: str
    related_topic_id: int | None


class CommentOut(Schema):
    id: int
    text: str
    hidden: bool
    hidden_reason: str
    created_at: datetime


class TopicDetail(TopicOut):
    description: str
    decline_reason: str
    resolution: str
    rectification: str
    rating_count: int
    rating_average: float | None
    timeline: list[EventOut]
    comments: list[CommentOut]


class TopicQuery(Schema):
    sort: str = "hot"
    status: str = ""
    center: int | None = None
    limit: int = 20
    offset: int = 0


class ProposeIn(Schema):
    title: str
    description: str
    category: str
    center_id: int | None = None
    region_code: str | None = None


class TextIn(Schema):
    text: str


class ReasonIn(Schema):
    reason: str = ""


class RatingIn(Schema):
    score: int


class TransitionIn(Schema):
    to: str
    note: str = ""
    reason: str = ""
    resolution: str = ""


class MergeIn(Schema):
    into: int
    note: str = ""


class MilestoneIn(Schema):
    title: str
    responsible: str
    expected_date: date
    progress: int = 0


class ProgressIn(Schema):
    progress: int


class MilestoneOut(Schema):
    id: int
    title: str
    responsible: str
    expected_date: date
    progress: int
    done_at: datetime | None


class Done(Schema):
    changed: bool


def topic_out(t: Topic) -> dict:
    return {
        "id": t.pk,
        "title": t.title,
        "category": t.category,
        "status": t.status,
        "center_id": t.center_id,
        "region_code": t.region_id,
        "source": t.source,
        "support_count": getattr(t, "support_count", 0),
        "comment_count": getattr(t, "comment_count", 0),
        "hot_score": round(float(getattr(t, "hot_score", 0.0)), 4),
        "created_at": t.created_at,
        "status_changed_at": t.status_changed_at,
        "merged_into_id": t.merged_into_id,
    }


def _detail(topic_id: int) -> dict:
    page = selectors.topic_page(topic_id)
    t = page.topic
    data = topic_out(t)
    data.update(
        {
            "description": t.description,
            "decline_reason": t.decline_reason,
            "resolution": t.resolution,
            "rectification": t.rectification,
            "rating_count": page.rating_count,
            "rating_average": page.rating_average,
            "timeline": [
                {
                    "kind": e.kind,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "at": e.at,
                    "note": e.note,
                    "related_topic_id": e.related_topic_id,
                }
                for e in page.events
            ],
            # A hidden comment keeps its place and its reason, never its text.
            "comments": [
                {
                    "id": c.pk,
                    "text": "" if c.hidden else c.text,
                    "hidden": c.hidden,
                    "hidden_reason": c.hidden_reason,
                    "created_at": c.created_at,
                }
                for c in page.comments
            ],
        }
    )
    return data


def _user(request: HttpRequest) -> User:
    return caller(request)


@router.get("/topics", response={200: TopicList, **ERRORS})
def list_topics(request: HttpRequest, params: Query[TopicQuery]) -> dict:
    """Topics, hot first by default (formula in the docs and on the page), or `sort=new`."""
    if params.sort not in selectors.SORTS:
        raise services.DeliberationError(_("Sort by “hot” or “new”."), code="invalid", field="sort")
    count, items = selectors.topics(
        TopicFilters(
            sort=params.sort,
            status=params.status,
            center_id=params.center,
            limit=params.limit,
            offset=params.offset,
        )
    )
    return {"count": count, "items": [topic_out(t) for t in items]}


@router.get("/topics/{topic_id}", response={200: TopicDetail, **ERRORS})
def get_topic(request: HttpRequest, topic_id: int) -> dict:
    return _detail(topic_id)


@router.post("/topics", auth=account_auth, response={201: TopicDetail, **ERRORS})
def propose(request: HttpRequest, body: ProposeIn) -> Status:
    """Propose a topic (photos are added on the web page, which checks and cleans them)."""
    topic = services.propose(
        user=_user(request),
        title=body.title,
        description=body.description,
        category=body.category,
        center_id=body.center_id,
        region_code=body.region_code,
    )
    return Status(201, _detail(topic.pk))


@router.post("/topics/{topic_id}/support", auth=account_auth, response={200: Done, **ERRORS})
def support(request: HttpRequest, topic_id: int) -> dict:
    return {"changed": services.support(topic_id=topic_id, user=_user(request))}


@router.delete("/topics/{topic_id}/support", auth=account_auth, response={200: Done, **ERRORS})
def withdraw_support(request: HttpRequest, topic_id: int) -> dict:
    return {"changed": services.withdraw_support(topic_id=topic_id, user=_user(request))}


@router.post("/topics/{topic_id}/follow", auth=account_auth, response={200: Done, **ERRORS})
def follow(request: HttpRequest, topic_id: int) -> dict:
    return {"changed": services.follow(topic_id=topic_id, user=_user(request))}


@router.delete("/topics/{topic_id}/follow", auth=account_auth, response={200: Done, **ERRORS})
def unfollow(request: HttpRequest, topic_id: int) -> dict:
    return {"changed": services.unfollow(topic_id=topic_id, user=_user(request))}


@router.post("/topics/{topic_id}/comments", auth=account_auth, response={201: CommentOut, **ERRORS})
def comment(request: HttpRequest, topic_id: int, body: TextIn) -> Status:
    c = services.comment(topic_id=topic_id, user=_user(request), text=body.text)
    return Status(
        201,
        {
            "id": c.pk,
            "text": c.text,
            "hidden": c.hidden,
            "hidden_reason": c.hidden_reason,
            "created_at": c.created_at,
        },
    )


@router.post("/comments/{comment_id}/report", auth=account_auth, response={200: Done, **ERRORS})
def report(request: HttpRequest, comment_id: int, body: ReasonIn) -> dict:
    changed = services.report_comment(
        comment_id=comment_id, user=_user(request), reason=body.reason
    )
    return {"changed": changed}


@router.post("/comments/{comment_id}/hide", auth=account_auth, response={200: Done, **ERRORS})
def hide(request: HttpRequest, comment_id: int, body: ReasonIn) -> dict:
    """Staff: hide a comment; the reason is shown in its place and kept in the log."""
    services.hide_comment(comment_id=comment_id, by=_user(request), reason=body.reason)
    return {"changed": True}


@router.post("/topics/{topic_id}/rating", auth=account_auth, response={201: Done, **ERRORS})
def rate(request: HttpRequest, topic_id: int, body: RatingIn) -> Status:
    services.rate(topic_id=topic_id, user=_user(request), score=body.score)
    return Status(201, {"changed": True})


@router.post(
    "/topics/{topic_id}/transitions", auth=account_auth, response={200: TopicDetail, **ERRORS}
)
def move(request: HttpRequest, topic_id: int, body: TransitionIn) -> dict:
    """Staff: move the topic along its lifecycle. An illegal step answers 409
    `topic_transition_not_allowed`."""
    services.transition(
        topic_id=topic_id,
        to=body.to,
        by=_user(request),
        note=body.note,
        reason=body.reason,
        resolution=body.resolution,
    )
    return _detail(topic_id)


@router.post("/topics/{topic_id}/merge", auth=account_auth, response={200: TopicDetail, **ERRORS})
def merge(request: HttpRequest, topic_id: int, body: MergeIn) -> dict:
    services.merge(topic_id=topic_id, into_id=body.into, by=_user(request), note=body.note)
    return _detail(topic_id)


def _milestone_out(m: object) -> dict:
    return {
        k: getattr(m, k)
        for k in ("id", "title", "responsible", "expected_date", "progress", "done_at")
    }


@router.post(
    "/topics/{topic_id}/milestones", auth=account_auth, response={201: MilestoneOut, **ERRORS}
)
def add_milestone(request: HttpRequest, topic_id: int, body: MilestoneIn) -> Status:
    m = services.add_milestone(
        topic_id=topic_id,
        by=_user(request),
        title=body.title,
        responsible=body.responsible,
        expected_date=body.expected_date,
        progress=body.progress,
    )
    return Status(201, _milestone_out(m))


@router.patch(
    "/milestones/{milestone_id}", auth=account_auth, response={200: MilestoneOut, **ERRORS}
)
def update_milestone(request: HttpRequest, milestone_id: int, body: ProgressIn) -> dict:
    m = services.update_milestone(
        milestone_id=milestone_id, by=_user(request), progress=body.progress
    )
    return _milestone_out(m)
