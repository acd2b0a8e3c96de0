"""Writes of the deliberation hall: propose, support, follow, comment, moderate, move a topic
through its lifecycle, merge, meetings, milestones, ratings and outcomes.

The lifecycle lives in TRANSITIONS and nowhere else. Every service runs in one transaction,
locks the topic row it changes, writes the timeline (TopicEvent) and notifies proposer,
supporters and followers (not the person who acted) with one bulk insert; SMS and email
leave after commit (inbox.services.notify).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from doorstep.accounts.models import StaffRole, User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center, Region
from doorstep.centers.vocab import Facility
from doorstep.core import photos
from doorstep.core.errors import DoorstepError
from doorstep.core.photos import CleanPhoto
from doorstep.inbox.services import notify
from doorstep.visits.vocab import Service

from .models import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    LONG_TEXT_MAX,
    REASON_MAX,
    TITLE_MAX,
    Category,
    Comment,
    CommentReport,
    EventKind,
    Follow,
    Meeting,
    MeetingKind,
    Milestone,
    ModerationLog,
    Outcome,
    OutcomeKind,
    Photo,
    Rating,
    Source,
    Status,
    Support,
    Topic,
    TopicEvent,
)


class DeliberationError(DoorstepError):
    """A deliberation action that cannot be done; `code` says why, for the API and pages."""


S = Status
# The lifecycle: from each status, where staff may move a topic. Merging is its own service
# (`merge`), because it needs a target; declined and merged are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.COLLECTED: frozenset({S.ACCEPTED, S.DECLINED, S.MERGED}),
    S.ACCEPTED: frozenset({S.HEARING, S.COORDINATION, S.DECIDED, S.DECLINED, S.MERGED}),
    S.HEARING: frozenset({S.COORDINATION, S.DECIDED}),
    S.COORDINATION: frozenset({S.HEARING, S.DECIDED}),
    S.DECIDED: frozenset({S.IMPLEMENTING}),
    S.IMPLEMENTING: frozenset({S.DONE}),
    S.DONE: frozenset({S.EVALUATION}),
    # A poor rating sends the work back with a rectification plan.
    S.EVALUATION: frozenset({S.IMPLEMENTING}),
    S.DECLINED: frozenset(),
    S.MERGED: frozenset(),
}
CLOSED = frozenset({S.DECLINED, S.MERGED})
MILESTONE_STATUSES = frozenset({S.DECIDED, S.IMPLEMENTING, S.DONE, S.EVALUATION})
OUTCOME_STATUSES = MILESTONE_STATUSES
MEETING_STATUSES: dict[str, frozenset[str]] = {
    MeetingKind.HEARING: frozenset({S.ACCEPTED, S.HEARING, S.COORDINATION}),
    MeetingKind.COORDINATION: frozenset({S.ACCEPTED, S.HEARING, S.COORDINATION}),
    MeetingKind.EVALUATION: frozenset({S.DONE, S.EVALUATION}),
}
POOR_RATING = 3.0  # an average below this asks staff for a rectification plan
MAX_PHOTOS = 6
MAX_REPRESENTATIVES = 30
# Flood guards per person: generous for a resident, tight for a script.
TOPICS_PER_DAY = 5
COMMENTS_PER_HOUR = 30

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# Input ------------------------------------------------------------------------------------


def clean_text(
    value: str | None, *, field: str, max_length: int, required: bool = True, label: str = ""
) -> str:
    """Plain text, trimmed: refuses empty (when required), too long, markup and control bytes.

    Text is escaped wherever it is shown anyway; refusing tags tells the writer at once that
    HTML will not work, instead of showing their markup back to everyone.
    """
    text = (value or "").replace("\r\n", "\n").strip()
    name = label or field
    if not text:
        if required:
            raise DeliberationError(
                _("Please fill in “%(field)s”.") % {"field": name}, code="invalid", field=field
            )
        return ""
    if len(text) > max_length:
        raise DeliberationError(
            _("“%(field)s” is too long: at most %(max)s characters (you wrote %(n)s).")
            % {"field": name, "max": max_length, "n": len(text)},
            code="too_long",
            field=field,
        )
    if _CONTROL.search(text):
        raise DeliberationError(
            _("“%(field)s” contains invisible control characters.") % {"field": name},
            code="invalid",
            field=field,
        )
    if _TAG.search(text):
        raise DeliberationError(
            _("Please write “%(field)s” as plain text, without HTML tags or scripts.")
            % {"field": name},
            code="markup_not_allowed",
            field=field,
        )
    return text


def clean_photo(upload: object) -> CleanPhoto:
    """A real JPEG, PNG or WebP of at most 5 MB, re-encoded so EXIF (and GPS) is gone
    (core/photos.py), refused as this app's error."""
    return photos.clean_photo(upload, error=DeliberationError)


# Permissions and audience -------------------------------------------------------------------


def can_manage_topic(user: User, topic: Topic) -> bool:
    """Staff of the topic's center scope; for a community topic, staff of that community."""
    if not (user.is_authenticated and user.is_active):
        return False
    if topic.center_id is not None:
        return can_manage(user, topic.center_id)
    if user.is_superuser:
        return True
    region = topic.region
    covering = {topic.region_id, region.parent_id if region else None}
    for role in user.staff_roles.all():
        if role.scope == StaffRole.Scope.CITY or role.region_id in covering:
            return True
    return False


def _require_manager(user: User, topic: Topic) -> None:
    if not can_manage_topic(user, topic):
        raise DeliberationError(
            _("Only staff of this topic's center can do that."), code="forbidden", status=403
        )


def _locked(topic_id: int) -> Topic:
    topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
    if topic is None:
        raise DeliberationError(_("No such topic."), code="not_found", status=404)
    return topic


def _open(topic: Topic) -> None:
    if topic.status in CLOSED:
        raise DeliberationError(
            _("This topic is closed: %(status)s.") % {"status": topic.get_status_display()},
            code="topic_closed",
            status=409,
        )


def audience(topic: Topic, *, exclude: int | None = None) -> set[int]:
    """Proposer, supporters and followers, each once, without `exclude` (the actor)."""
    ids = set(
        Support.objects.filter(topic=topic)
        .values_list("user_id", flat=True)
        .union(Follow.objects.filter(topic=topic).values_list("user_id", flat=True))
    )
    if topic.proposer_id:
        ids.add(topic.proposer_id)
    ids.discard(exclude)  # type: ignore[arg-type]
    return ids


def _notify(topic: Topic, *, kind: str, title: str, body: str = "", actor: User | None) -> int:
    return notify(
        audience(topic, exclude=actor.pk if actor else None),
        subject=f"topic:{topic.pk}",
        kind=kind,
        title=title[:200],
        body=body,
        url=reverse("deliberation:detail", args=[topic.pk]),
    )


def _in_site_language() -> translation.override:
    # Notices are stored once for many readers: write them in the site's default language.
    return translation.override(settings.LANGUAGE_CODE)


def _touch(topic: Topic, at: datetime | None) -> None:
    """Remember the latest support or comment (the topic row is locked by the caller)."""
    if at is not None and (topic.last_activity_at is None or at > topic.last_activity_at):
        topic.last_activity_at = at
        topic.save(update_fields=["last_activity_at"])


def _event(topic: Topic, kind: str, *, by: User | None, now: datetime, **kw: object) -> TopicEvent:
    return TopicEvent.objects.create(topic=topic, kind=kind, by=by, at=now, **kw)


# Residents --------------------------------------------------------------------------------


@transaction.atomic
def propose(
    *,
    user: User,
    title: str,
    description: str,
    category: str,
    center_id: int | None = None,
    region_code: str | None = None,
    photos: Sequence[object] = (),
    source: str = Source.RESIDENT,
    now: datetime | None = None,
) -> Topic:
    """A signed-in resident raises a topic for a center or a community (a subdistrict)."""
    now = _now(now)
    if not (user.is_authenticated and user.is_active):
        raise DeliberationError(_("Please sign in."), code="unauthorized", status=401)
    clean_title = clean_text(title, field="title", max_length=TITLE_MAX, label=_("Title"))
    clean_description = clean_text(
        description, field="description", max_length=DESCRIPTION_MAX, label=_("Description")
    )
    if category not in Category.values:
        raise DeliberationError(_("Choose a category."), code="invalid", field="category")
    center = region = None
    if center_id:
        center = Center.objects.filter(pk=center_id).first()
        if center is None:
            raise DeliberationError(_("No such center."), code="invalid", field="center")
    elif region_code:
        region = Region.objects.filter(pk=region_code, level="subdistrict").first()
        if region is None:
            raise DeliberationError(_("No such community."), code="invalid", field="region")
    else:
        raise DeliberationError(
            _("Choose the center or community the topic is about."), code="invalid", field="center"
        )
    if (
        Topic.objects.filter(proposer=user, created_at__gt=now - timedelta(days=1)).count()
        >= TOPICS_PER_DAY
    ):
        raise DeliberationError(
            _("You have proposed %(n)s topics today; please come back tomorrow.")
            % {"n": TOPICS_PER_DAY},
            code="rate_limited",
            status=429,
        )
    if len(photos) > MAX_PHOTOS:
        raise DeliberationError(
            _("At most %(n)s photos per topic.") % {"n": MAX_PHOTOS},
            code="too_many_photos",
            field="photos",
        )
    cleaned = [clean_photo(p) for p in photos]
    topic = Topic.objects.create(
        center=center,
        region=region,
        proposer=user,
        title=clean_title,
        description=clean_description,
        category=category,
        source=source,
        status_changed_at=now,
    )
    Topic.objects.filter(pk=topic.pk).update(created_at=now)
    topic.created_at = now
    for photo in cleaned:
        name = f"{topic.pk}-{get_random_string(16)}.{photo.extension}"
        Photo.objects.create(
            topic=topic,
            file=ContentFile(photo.data, name=name),
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
        )
    _event(topic, EventKind.PROPOSED, by=user, now=now, to_status=S.COLLECTED)
    return topic


@transaction.atomic
def support(*, topic_id: int, user: User, now: datetime | None = None) -> bool:
    """One support per person; supporting again changes nothing. True when newly added."""
    now = _now(now)
    topic = _locked(topic_id)
    _open(topic)
    if topic.proposer_id == user.pk:
        raise DeliberationError(
            _("You proposed this topic; your support is counted already."),
            code="own_topic",
            status=409,
        )
    _obj, created = Support.objects.get_or_create(
        topic=topic, user=user, defaults={"created_at": now}
    )
    if created:
        _touch(topic, now)
    return created


@transaction.atomic
def withdraw_support(*, topic_id: int, user: User) -> bool:
    topic = _locked(topic_id)
    _open(topic)
    deleted, _d = Support.objects.filter(topic=topic, user=user).delete()
    return bool(deleted)


@transaction.atomic
def follow(*, topic_id: int, user: User) -> bool:
    topic = _locked(topic_id)
    _obj, created = Follow.objects.get_or_create(topic=topic, user=user)
    return created


@transaction.atomic
def unfollow(*, topic_id: int, user: User) -> bool:
    deleted, _d = Follow.objects.filter(topic_id=topic_id, user=user).delete()
    return bool(deleted)


@transaction.atomic
def comment(*, topic_id: int, user: User, text: str, now: datetime | None = None) -> Comment:
    now = _now(now)
    topic = _locked(topic_id)
    _open(topic)
    body = clean_text(text, field="text", max_length=COMMENT_MAX, label=_("Comment"))
    recent = Comment.objects.filter(author=user, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= COMMENTS_PER_HOUR:
        raise DeliberationError(
            _("Too many comments in an hour; please wait a little."),
            code="rate_limited",
            status=429,
        )
    created = Comment.objects.create(topic=topic, author=user, text=body, created_at=now)
    _touch(topic, now)
    return created


@transaction.atomic
def report_comment(*, comment_id: int, user: User, reason: str = "") -> bool:
    """Ask staff to look at a comment; once per person. True when newly reported."""
    target = Comment.objects.filter(pk=comment_id).first()
    if target is None:
        raise DeliberationError(_("No such comment."), code="not_found", status=404)
    why = clean_text(reason, field="reason", max_length=REASON_MAX, required=False)
    _obj, created = CommentReport.objects.get_or_create(
        comment=target, user=user, defaults={"reason": why}
    )
    return created


@transaction.atomic
def rate(*, topic_id: int, user: User, score: int) -> Rating:
    """Residents who proposed, supported or registered for a meeting rate the result, once."""
    topic = _locked(topic_id)
    if topic.status != S.EVALUATION:
        raise DeliberationError(
            _("Ratings open when the topic reaches evaluation."), code="rating_not_open", status=409
        )
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DeliberationError(_("Rate from 1 to 5."), code="invalid", field="score")
    if not _may_rate(topic, user):
        raise DeliberationError(
            _("Those who proposed, supported or took part in a meeting on this topic rate it."),
            code="not_eligible",
            status=403,
        )
    try:
        with transaction.atomic():
            return Rating.objects.create(topic=topic, user=user, score=score)
    except IntegrityError:
        raise DeliberationError(
            _("You have rated this topic already."), code="already_rated", status=409
        ) from None


def _may_rate(topic: Topic, user: User) -> bool:
    from doorstep.activities.models import HOLDS_PLACE, Registration

    if topic.proposer_id == user.pk or Support.objects.filter(topic=topic, user=user).exists():
        return True
    return (
        Registration.objects.filter(account=user, activity__meeting__topic=topic)
        .filter(Q(status__in=HOLDS_PLACE) | Q(checked_in_at__isnull=False))
        .exists()
    )


# Staff: the lifecycle -------------------------------------------------------------------------


@transaction.atomic
def transition(
    *,
    topic_id: int,
    to: str,
    by: User,
    note: str = "",
    reason: str = "",
    resolution: str = "",
    now: datetime | None = None,
) -> Topic:
    """Move a topic one step along TRANSITIONS, with a dated, signed timeline entry."""
    now = _now(now)
    topic = _locked(topic_id)
    _require_manager(by, topic)
    if to not in Status.values:
        raise DeliberationError(_("No such status."), code="invalid", field="to")
    if to == S.MERGED:
        raise DeliberationError(
            _("To merge a topic, choose the topic it joins."),
            code="topic_transition_not_allowed",
            status=409,
        )
    if to not in TRANSITIONS[topic.status]:
        raise DeliberationError(
            _("A topic cannot go from “%(a)s” to “%(b)s”.")
            % {"a": topic.get_status_display(), "b": Status(to).label},
            code="topic_transition_not_allowed",
            status=409,
            from_status=topic.status,
            to_status=to,
        )
    if topic.status == S.EVALUATION and not topic.rectification:
        raise DeliberationError(
            _("Record the rectification plan before sending the topic back to implementation."),
            code="rectification_required",
            status=409,
        )
    note = clean_text(note, field="note", max_length=LONG_TEXT_MAX, required=False)
    fields = ["status", "status_changed_at", "updated_at"]
    if to == S.DECLINED:
        topic.decline_reason = clean_text(
            reason, field="reason", max_length=REASON_MAX, label=_("Reason")
        )
        note = note or topic.decline_reason
        fields.append("decline_reason")
    if to == S.DECIDED:
        topic.resolution = clean_text(
            resolution, field="resolution", max_length=LONG_TEXT_MAX, label=_("Decision")
        )
        note = note or topic.resolution
        fields.append("resolution")
    before = topic.status
    topic.status = to
    topic.status_changed_at = now
    topic.save(update_fields=fields)
    _event(topic, EventKind.STATUS, by=by, now=now, from_status=before, to_status=to, note=note)
    with _in_site_language():
        title = _("“%(title)s” is now: %(status)s") % {
            "title": topic.title,
            "status": topic.get_status_display(),
        }
    _notify(topic, kind="topic_status", title=title, body=note, actor=by)
    return topic


@transaction.atomic
def merge(
    *, topic_id: int, into_id: int, by: User, note: str = "", now: datetime | None = None
) -> Topic:
    """Merge a topic into another: supporters (each once) and followers move to the target,
    the proposer follows it, and both timelines link to each other."""
    now = _now(now)
    if topic_id == into_id:
        raise DeliberationError(
            _("A topic cannot be merged into itself."), code="merge_not_allowed", status=409
        )
    # Lock both rows in id order, so two merges crossing each other cannot deadlock.
    locked = {
        t.pk: t
        for t in Topic.objects.select_for_update().filter(pk__in=[topic_id, into_id]).order_by("pk")
    }
    if topic_id not in locked or into_id not in locked:
        raise DeliberationError(_("No such topic."), code="not_found", status=404)
    topic, target = locked[topic_id], locked[into_id]
    _require_manager(by, topic)
    _require_manager(by, target)
    if S.MERGED not in TRANSITIONS[topic.status]:
        raise DeliberationError(
            _("A topic cannot go from “%(a)s” to “%(b)s”.")
            % {"a": topic.get_status_display(), "b": Status.MERGED.label},
            code="topic_transition_not_allowed",
            status=409,
            from_status=topic.status,
            to_status=S.MERGED,
        )
    if target.status in CLOSED:
        raise DeliberationError(
            _("The target topic is closed; choose an open one."),
            code="merge_not_allowed",
            status=409,
        )
    note = clean_text(note, field="note", max_length=LONG_TEXT_MAX, required=False)
    to_notify = audience(topic, exclude=by.pk)
    already = set(Support.objects.filter(topic=target).values_list("user_id", flat=True))
    already.add(target.proposer_id or 0)
    moved = [s for s in Support.objects.filter(topic=topic) if s.user_id not in already]
    Support.objects.bulk_create(
        [Support(topic=target, user_id=s.user_id, created_at=s.created_at) for s in moved]
    )
    Support.objects.filter(topic=topic).delete()
    _touch(target, max((s.created_at for s in moved), default=None))
    followers = set(Follow.objects.filter(topic=topic).values_list("user_id", flat=True))
    if topic.proposer_id:
        followers.add(topic.proposer_id)
    followers -= set(Follow.objects.filter(topic=target).values_list("user_id", flat=True))
    Follow.objects.bulk_create([Follow(topic=target, user_id=uid) for uid in sorted(followers)])
    Follow.objects.filter(topic=topic).delete()
    before = topic.status
    topic.status = S.MERGED
    topic.merged_into = target
    topic.status_changed_at = now
    topic.save(update_fields=["status", "merged_into", "status_changed_at", "updated_at"])
    _event(
        topic,
        EventKind.STATUS,
        by=by,
        now=now,
        from_status=before,
        to_status=S.MERGED,
        related_topic=target,
        note=note,
    )
    _event(target, EventKind.MERGED_IN, by=by, now=now, related_topic=topic, note=note)
    with _in_site_language():
        title = _("“%(title)s” was merged into “%(target)s”") % {
            "title": topic.title,
            "target": target.title,
        }
    notify(
        to_notify,
        subject=f"topic:{target.pk}",
        kind="topic_merged",
        title=title[:200],
        body=note,
        url=reverse("deliberation:detail", args=[target.pk]),
    )
    return topic


@transaction.atomic
def add_milestone(
    *,
    topic_id: int,
    by: User,
    title: str,
    responsible: str,
    expected_date: date,
    progress: int = 0,
    now: datetime | None = None,
) -> Milestone:
    now = _now(now)
    topic = _locked(topic_id)
    _require_manager(by, topic)
    if topic.status not in MILESTONE_STATUSES:
        raise DeliberationError(
            _("Milestones are added once a decision is made."),
            code="milestone_not_allowed",
            status=409,
        )
    _check_progress(progress)
    milestone = Milestone.objects.create(
        topic=topic,
        title=clean_text(title, field="title", max_length=120, label=_("Milestone")),
        responsible=clean_text(
            responsible, field="responsible", max_length=120, label=_("Responsible party")
        ),
        expected_date=expected_date,
        progress=progress,
        done_at=now if progress == 100 else None,
    )
    _milestone_event(topic, milestone, by=by, now=now)
    return milestone


@transaction.atomic
def update_milestone(
    *, milestone_id: int, by: User, progress: int, now: datetime | None = None
) -> Milestone:
    now = _now(now)
    milestone = Milestone.objects.filter(pk=milestone_id).first()
    if milestone is None:
        raise DeliberationError(_("No such milestone."), code="not_found", status=404)
    topic = _locked(milestone.topic_id)
    _require_manager(by, topic)
    _check_progress(progress)
    milestone.progress = progress
    milestone.done_at = now if progress == 100 else None
    milestone.save(update_fields=["progress", "done_at"])
    _milestone_event(topic, milestone, by=by, now=now)
    return milestone


def _check_progress(progress: int) -> None:
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise DeliberationError(
            _("Progress is a percentage from 0 to 100."), code="invalid", field="progress"
        )


def _milestone_event(topic: Topic, milestone: Milestone, *, by: User, now: datetime) -> None:
    with _in_site_language():
        note = _("%(title)s: %(progress)s%% (responsible: %(who)s, expected %(date)s)") % {
            "title": milestone.title,
            "progress": milestone.progress,
            "who": milestone.responsible,
            "date": milestone.expected_date.isoformat(),
        }
        title = _("“%(title)s”: milestone update") % {"title": topic.title}
    _event(topic, EventKind.MILESTONE, by=by, now=now, note=note)
    _notify(topic, kind="topic_milestone", title=title, body=note, actor=by)


@dataclass
class MeetingInput:
    kind: str
    center_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    room: str = ""
    representatives: Sequence[str] = ()


def _clean_representatives(names: Iterable[str]) -> list[str]:
    cleaned = []
    for name in names:
        text = clean_text(name, field="representatives", max_length=40, required=False)
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_REPRESENTATIVES:
        raise DeliberationError(
            _("At most %(n)s representatives.") % {"n": MAX_REPRESENTATIVES},
            code="invalid",
            field="representatives",
        )
    return cleaned


@transaction.atomic
def schedule_meeting(
    *, topic_id: int, by: User, data: MeetingInput, now: datetime | None = None
) -> Meeting:
    """Schedule a hearing, coordination or evaluation meeting as a published activity, so
    residents register for it through the normal activity flow."""
    from doorstep.activities.services import ActivityInput, create_activity

    now = _now(now)
    topic = _locked(topic_id)
    _require_manager(by, topic)
    if data.kind not in MeetingKind.values:
        raise DeliberationError(_("Choose the kind of meeting."), code="invalid", field="kind")
    if topic.status not in MEETING_STATUSES[data.kind]:
        raise DeliberationError(
            _("A %(kind)s cannot be scheduled while the topic is “%(status)s”.")
            % {"kind": MeetingKind(data.kind).label, "status": topic.get_status_display()},
            code="meeting_not_allowed",
            status=409,
        )
    if not can_manage(by, data.center_id):
        raise DeliberationError(_("Choose a center you manage."), code="invalid", field="center")
    representatives = _clean_representatives(data.representatives)
    room = clean_text(data.room, field="room", max_length=60, required=False)
    with _in_site_language():
        title = f"{MeetingKind(data.kind).label}：{topic.title}"[:120]
        description = _("A meeting of the deliberation hall on the topic “%(title)s”.") % {
            "title": topic.title
        }
    activity = create_activity(
        center_id=data.center_id,
        by=by,
        data=ActivityInput(
            title=title,
            category="other",
            audience="everyone",
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            capacity=data.capacity,
            registration_opens_at=now,
            registration_closes_at=data.starts_at,
            description=description,
            room=room,
            places_per_household=1,
        ),
        publish_now=True,
        now=now,
    )
    meeting = Meeting.objects.create(
        topic=topic, kind=data.kind, activity=activity, representatives=representatives
    )
    with _in_site_language():
        note = _("%(kind)s on %(when)s at %(center)s") % {
            "kind": MeetingKind(data.kind).label,
            "when": timezone.localtime(data.starts_at).strftime("%Y-%m-%d %H:%M"),
            "center": activity.center.name,
        }
        notice = _("“%(title)s”: a meeting is scheduled") % {"title": topic.title}
    _event(topic, EventKind.MEETING, by=by, now=now, note=note)
    _notify(topic, kind="topic_meeting", title=notice, body=note, actor=by)
    return meeting


@transaction.atomic
def record_minutes(
    *,
    meeting_id: int,
    by: User,
    minutes: str,
    decision: str = "",
    representatives: Sequence[str] | None = None,
) -> Meeting:
    meeting = Meeting.objects.select_related("topic").filter(pk=meeting_id).first()
    if meeting is None:
        raise DeliberationError(_("No such meeting."), code="not_found", status=404)
    _locked(meeting.topic_id)
    _require_manager(by, meeting.topic)
    meeting.minutes = clean_text(
        minutes, field="minutes", max_length=LONG_TEXT_MAX, label=_("Minutes")
    )
    meeting.decision = clean_text(
        decision, field="decision", max_length=LONG_TEXT_MAX, required=False
    )
    if representatives is not None:
        meeting.representatives = _clean_representatives(representatives)
    meeting.save(update_fields=["minutes", "decision", "representatives"])
    return meeting


@transaction.atomic
def record_rectification(
    *, topic_id: int, by: User, plan: str, now: datetime | None = None
) -> Topic:
    """At evaluation, staff answer a poor rating with what they will put right."""
    now = _now(now)
    topic = _locked(topic_id)
    _require_manager(by, topic)
    if topic.status != S.EVALUATION:
        raise DeliberationError(
            _("A rectification plan is recorded at the evaluation stage."),
            code="rectification_not_allowed",
            status=409,
        )
    topic.rectification = clean_text(
        plan, field="plan", max_length=LONG_TEXT_MAX, label=_("Rectification plan")
    )
    topic.save(update_fields=["rectification", "updated_at"])
    _event(topic, EventKind.RECTIFICATION, by=by, now=now, note=topic.rectification)
    with _in_site_language():
        title = _("“%(title)s”: rectification plan") % {"title": topic.title}
    _notify(topic, kind="topic_rectification", title=title, body=topic.rectification, actor=by)
    return topic


@transaction.atomic
def add_outcome(
    *,
    topic_id: int,
    by: User,
    kind: str,
    center_id: int | None = None,
    code: str = "",
    series_id: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Link the topic to what now exists: a service, an activity series or a facility."""
    from doorstep.activities.models import Series

    now = _now(now)
    topic = _locked(topic_id)
    _require_manager(by, topic)
    if topic.status not in OUTCOME_STATUSES:
        raise DeliberationError(
            _("Outcomes are linked once a decision is made."),
            code="outcome_not_allowed",
            status=409,
        )
    missing = DeliberationError(
        _("What the outcome links to does not exist."), code="outcome_target_missing"
    )
    center = Center.objects.filter(pk=center_id).first() if center_id else None
    series = None
    if kind == OutcomeKind.SERVICE:
        if code not in Service.values or center is None:
            raise missing
    elif kind == OutcomeKind.FACILITY:
        if code not in Facility.values or center is None or code not in center.facilities:
            raise missing
    elif kind == OutcomeKind.SERIES:
        series = Series.objects.filter(pk=series_id).first() if series_id else None
        if series is None:
            raise missing
        center, code = series.center, ""
    else:
        raise DeliberationError(_("Choose the kind of outcome."), code="invalid", field="kind")
    outcome = Outcome.objects.create(
        topic=topic,
        kind=kind,
        center=center,
        code=code,
        series=series,
        note=clean_text(note, field="note", max_length=200, required=False),
    )
    with _in_site_language():
        label = outcome_label(outcome)
    _event(topic, EventKind.OUTCOME, by=by, now=now, note=label)
    return outcome


def outcome_label(outcome: Outcome) -> str:
    if outcome.kind == OutcomeKind.SERIES and outcome.series:
        what = outcome.series.title
    elif outcome.kind == OutcomeKind.SERVICE:
        what = str(Service(outcome.code).label)
    else:
        what = str(Facility(outcome.code).label)
    place = outcome.center.name if outcome.center else ""
    text = f"{OutcomeKind(outcome.kind).label}: {what}"
    return f"{text} · {place}" if place else text


# Staff: moderation ------------------------------------------------------------------------


@transaction.atomic
def hide_comment(*, comment_id: int, by: User, reason: str) -> Comment:
    target = Comment.objects.select_related("topic").filter(pk=comment_id).first()
    if target is None:
        raise DeliberationError(_("No such comment."), code="not_found", status=404)
    _require_manager(by, target.topic)
    why = clean_text(reason, field="reason", max_length=REASON_MAX, label=_("Reason"))
    target.hidden, target.hidden_reason, target.hidden_by = True, why, by
    target.save(update_fields=["hidden", "hidden_reason", "hidden_by"])
    ModerationLog.objects.create(
        comment=target, action=ModerationLog.Action.HIDE, reason=why, by=by
    )
    return target


@transaction.atomic
def restore_comment(*, comment_id: int, by: User, reason: str = "") -> Comment:
    target = Comment.objects.select_related("topic").filter(pk=comment_id).first()
    if target is None:
        raise DeliberationError(_("No such comment."), code="not_found", status=404)
    _require_manager(by, target.topic)
    why = clean_text(reason, field="reason", max_length=REASON_MAX, required=False)
    target.hidden, target.hidden_reason, target.hidden_by = False, "", None
    target.save(update_fields=["hidden", "hidden_reason", "hidden_by"])
    ModerationLog.objects.create(
        comment=target, action=ModerationLog.Action.RESTORE, reason=why, by=by
    )
    return target
