"""Walking Party lessons: an activity that follows a route, with a guide and notes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit

from ..models import Clearance, Role, WalkingLesson
from .common import VolunteerError, _now

NOTE_MAX = 1000


@transaction.atomic
def make_lesson(
    *,
    by: User,
    activity_id: int,
    route_id: int,
    guide_id: int | None,
    notes: dict[int, str] | None = None,
    now: datetime | None = None,
) -> WalkingLesson:
    """Make an activity a walking lesson along a route, guided by a volunteer explainer
    cleared at the activity's center (or change the lesson's route, guide and notes)."""
    from doorstep.activities.models import Activity
    from doorstep.visits.models import Route

    now = _now(now)
    activity = Activity.objects.filter(pk=activity_id).first()
    if activity is None or not can_manage(by, activity.center_id):
        raise VolunteerError(_("No such activity."), code="not_found", status=404)
    route = Route.objects.filter(pk=route_id).first()
    if route is None or not (route.public or route.created_by_id == by.pk):
        raise VolunteerError(_("No such route."), code="not_found", status=404)
    if (
        guide_id is not None
        and not Clearance.objects.filter(
            user_id=guide_id, center_id=activity.center_id, role=Role.EXPLAINER
        ).exists()
    ):
        raise VolunteerError(
            _("The guide must be a volunteer explainer cleared at this center."),
            code="guide_not_cleared",
            field="guide",
        )
    orders = set(route.stops.values_list("order", flat=True))
    clean: dict[str, str] = {}
    for order, text in (notes or {}).items():
        text = " ".join(str(text).split())
        if order not in orders:
            raise VolunteerError(_("That stop is not on the route."), code="invalid", field="notes")
        if len(text) > NOTE_MAX:
            raise VolunteerError(
                _("At most %(n)s characters a stop.") % {"n": NOTE_MAX},
                code="too_long",
                field="notes",
            )
        if text:
            clean[str(order)] = text
    lesson, _created = WalkingLesson.objects.update_or_create(
        activity=activity,
        defaults={
            "route": route,
            "guide_id": guide_id,
            "notes": clean,
            "created_by": by,
            "created_at": now,
        },
    )
    audit.record(
        actor=by,
        action="volunteer.lesson",
        obj=lesson,
        center_id=activity.center_id,
        label=activity.title,
        now=now,
    )
    return lesson
