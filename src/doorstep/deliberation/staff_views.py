"""Staff pages of the deliberation hall: topics in scope, moving a topic along its lifecycle,
merging, meetings, minutes, milestones, outcomes, rectification, and comment moderation.

A topic outside the account's scope is a 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.vocab import Facility
from doorstep.core.errors import DoorstepError
from doorstep.visits.vocab import Service

from . import selectors, services
from .models import Meeting, MeetingKind, Milestone, OutcomeKind, Status, Topic
from .services import TRANSITIONS, MeetingInput


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _topic(request: HttpRequest, topic_id: int) -> Topic:
    topic = Topic.objects.select_related("center", "region").filter(pk=topic_id).first()
    if topic is None or not services.can_manage_topic(_staff(request), topic):
        raise Http404
    return topic


@staff_required
@require_GET
def topic_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    topics = list(selectors.staff_topics(_staff(request), status=status)[:200])
    queue = selectors.moderation_queue(_staff(request))
    return render(
        request,
        "deliberation/staff_list.html",
        {
            "topics": topics,
            "status": status,
            "statuses": Status.choices,
            "to_moderate": queue.filter(hidden=False).count(),
        },
    )


@staff_required
@require_GET
def topic_manage(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = _topic(request, topic_id)
    page = selectors.topic_page(topic.pk)
    nexts = [(s, Status(s).label) for s in Status.values if s in TRANSITIONS[topic.status]]
    return render(
        request,
        "deliberation/staff_topic.html",
        {
            "p": page,
            "topic": page.topic,
            "next_statuses": [n for n in nexts if n[0] != Status.MERGED],
            "can_merge": Status.MERGED in TRANSITIONS[topic.status],
            "meeting_kinds": [
                (k, label)
                for k, label in MeetingKind.choices
                if topic.status in services.MEETING_STATUSES[k]
            ],
            "centers": list(managed_centers(_staff(request)).order_by("name")[:200]),
            "milestones_open": topic.status in services.MILESTONE_STATUSES,
            "outcome_kinds": OutcomeKind.choices,
            "services_vocab": Service.choices,
            "facilities_vocab": Facility.choices,
            "today": timezone.localdate(),
        },
    )


def _do(
    request: HttpRequest, topic_id: int, anchor: str, action: Callable[[], str]
) -> HttpResponse:
    _topic(request, topic_id)
    try:
        message = action()
    except DoorstepError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    else:
        messages.success(request, message)
    return redirect(reverse("deliberation:staff_topic", args=[topic_id]) + f"#{anchor}")


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise services.DeliberationError(
            _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw[:40]},
            code="invalid",
        ) from None


def _datetime(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise services.DeliberationError(
            _("“%(value)s” is not a date and time.") % {"value": raw[:40]}, code="invalid"
        ) from None
    if not 2000 <= value.year <= 2100:
        raise services.DeliberationError(_("Choose a date between 2000 and 2100."), code="invalid")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _number(raw: str, *, field: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise services.DeliberationError(
            _("“%(value)s” is not a whole number.") % {"value": raw[:40]},
            code="invalid",
            field=field,
        ) from None


@staff_required
@require_POST
def move(request: HttpRequest, topic_id: int) -> HttpResponse:
    p = request.POST

    def go() -> str:
        topic = services.transition(
            topic_id=topic_id,
            to=p.get("to", ""),
            by=_staff(request),
            note=p.get("note", ""),
            reason=p.get("reason", ""),
            resolution=p.get("resolution", ""),
        )
        return _("The topic is now: %(status)s.") % {"status": topic.get_status_display()}

    return _do(request, topic_id, "status", go)


@staff_required
@require_POST
def merge(request: HttpRequest, topic_id: int) -> HttpResponse:
    def go() -> str:
        into = _number(request.POST.get("into", ""), field="into")
        services.merge(
            topic_id=topic_id, into_id=into, by=_staff(request), note=request.POST.get("note", "")
        )
        return _("The topic is merged; its supporters and followers moved to the other topic.")

    return _do(request, topic_id, "status", go)


@staff_required
@require_POST
def milestone_add(request: HttpRequest, topic_id: int) -> HttpResponse:
    p = request.POST

    def go() -> str:
        services.add_milestone(
            topic_id=topic_id,
            by=_staff(request),
            title=p.get("title", ""),
            responsible=p.get("responsible", ""),
            expected_date=_date(p.get("expected_date", "")),
            progress=_number(p.get("progress", "0") or "0", field="progress"),
        )
        return _("Milestone added; everyone following the topic is told.")

    return _do(request, topic_id, "milestones", go)


@staff_required
@require_POST
def milestone_update(request: HttpRequest, topic_id: int, milestone_id: int) -> HttpResponse:
    if not Milestone.objects.filter(pk=milestone_id, topic_id=topic_id).exists():
        raise Http404

    def go() -> str:
        services.update_milestone(
            milestone_id=milestone_id,
            by=_staff(request),
            progress=_number(request.POST.get("progress", ""), field="progress"),
        )
        return _("Progress updated.")

    return _do(request, topic_id, "milestones", go)


def _names(raw: str) -> list[str]:
    return [n.strip() for n in raw.replace("，", ",").replace("、", ",").split(",") if n.strip()]


@staff_required
@require_POST
def meeting_add(request: HttpRequest, topic_id: int) -> HttpResponse:
    p = request.POST

    def go() -> str:
        services.schedule_meeting(
            topic_id=topic_id,
            by=_staff(request),
            data=MeetingInput(
                kind=p.get("kind", ""),
                center_id=_number(p.get("center", ""), field="center"),
                starts_at=_datetime(p.get("starts_at", "")),
                ends_at=_datetime(p.get("ends_at", "")),
                capacity=_number(p.get("capacity", ""), field="capacity"),
                room=p.get("room", ""),
                representatives=_names(p.get("representatives", "")),
            ),
        )
        return _("Meeting scheduled; residents can register for it like any activity.")

    return _do(request, topic_id, "meetings", go)


@staff_required
@require_POST
def meeting_minutes(request: HttpRequest, topic_id: int, meeting_id: int) -> HttpResponse:
    if not Meeting.objects.filter(pk=meeting_id, topic_id=topic_id).exists():
        raise Http404
    p = request.POST

    def go() -> str:
        services.record_minutes(
            meeting_id=meeting_id,
            by=_staff(request),
            minutes=p.get("minutes", ""),
            decision=p.get("decision", ""),
            representatives=_names(p.get("representatives", "")),
        )
        return _("Minutes saved.")

    return _do(request, topic_id, "meetings", go)


@staff_required
@require_POST
def rectification(request: HttpRequest, topic_id: int) -> HttpResponse:
    def go() -> str:
        services.record_rectification(
            topic_id=topic_id, by=_staff(request), plan=request.POST.get("plan", "")
        )
        return _("Rectification plan recorded.")

    return _do(request, topic_id, "evaluation", go)


@staff_required
@require_POST
def outcome_add(request: HttpRequest, topic_id: int) -> HttpResponse:
    p = request.POST

    def go() -> str:
        kind = p.get("kind", "")
        services.add_outcome(
            topic_id=topic_id,
            by=_staff(request),
            kind=kind,
            center_id=_number(p.get("center", "") or "0", field="center") or None,
            code=p.get("service", "") if kind == OutcomeKind.SERVICE else p.get("facility", ""),
            series_id=_number(p.get("series", "") or "0", field="series") or None,
            note=p.get("note", ""),
        )
        return _("Outcome linked.")

    return _do(request, topic_id, "outcomes", go)


@staff_required
@require_GET
def moderation(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "deliberation/staff_moderation.html",
        {"comments": list(selectors.moderation_queue(_staff(request))[:200])},
    )


@staff_required
@require_POST
def moderate(request: HttpRequest, comment_id: int) -> HttpResponse:
    from .models import Comment

    target = Comment.objects.select_related("topic").filter(pk=comment_id).first()
    if target is None or not services.can_manage_topic(_staff(request), target.topic):
        raise Http404
    kwargs: dict[str, Any] = {
        "comment_id": comment_id,
        "by": _staff(request),
        "reason": request.POST.get("reason", ""),
    }
    try:
        if request.POST.get("action") == "restore":
            services.restore_comment(**kwargs)
            messages.success(request, _("The comment is shown again."))
        else:
            services.hide_comment(**kwargs)
            messages.success(request, _("The comment is hidden; the reason is shown in its place."))
    except DoorstepError as exc:
        messages.error(request, str(exc.message))
    return redirect("deliberation:moderation")
