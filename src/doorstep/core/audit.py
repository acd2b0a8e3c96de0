"""The audit trail of staff writes and exports (docs/security.md, "Audit trail").

Services call `record()` inside the transaction that makes the change, so an entry exists
exactly when the change committed. The actor is passed in; where the request came from is
read from the request being served (`AuditMiddleware`), so services need no request. Entries
are append-only: the database refuses an UPDATE, and no page or admin can change one.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import limits
from .models import AuditEntry

# What the back office calls each action; admin changes read "admin.<model>.<verb>".
ACTIONS = {
    "activity.create": _("Activity created"),
    "activity.update": _("Activity edited"),
    "activity.publish": _("Activity published"),
    "activity.cancel": _("Activity cancelled"),
    "activity.walk_ins": _("Walk-ins seated"),
    "activity.message": _("Message sent to registrants"),
    "registration.cancel": _("Registration cancelled by staff"),
    "registration.desk": _("Registered at the desk"),
    "household.desk_create": _("Household created at the desk"),
    "lottery.draw": _("Lottery drawn"),
    "visit.undo_tally": _("Counter tap undone"),
    "service.undo": _("Service entry removed"),
    "route.create": _("Route created"),
    "route.update": _("Route edited"),
    "draft.import": _("Draft law imported"),
    "draft.edit_article": _("Draft article edited"),
    "draft.status": _("Draft law status changed"),
    "opinions.status": _("Opinions moved"),
    "export.roster": _("Roster exported"),
    "export.figures": _("Figures exported"),
    "export.legislation_report": _("Opinion report exported"),
    "export.rooms_figures": _("Room figures exported"),
    "booking.create": _("Space booked"),
    "booking.series": _("Series of bookings made"),
    "booking.approve": _("Booking approved"),
    "booking.refuse": _("Booking refused"),
    "booking.lapse": _("Booking request lapsed"),
    "booking.check_in": _("Booking checked in"),
    "booking.no_show": _("Booking released (no-show)"),
    "booking.cancel": _("Booking cancelled"),
    "space.create": _("Space added"),
    "space.update": _("Space edited"),
    "space.photo": _("Space photo changed"),
    "space.blackout": _("Space closed for a time"),
    "space.blackout_remove": _("Space closure removed"),
    "organization.create": _("Organization registered"),
    "organization.confirm": _("Organization confirmed"),
    "organization.refuse": _("Organization refused"),
    "organization.member": _("Organization member's right to book changed"),
    "organization.member_remove": _("Organization member removed"),
    "request.accept": _("Service request accepted"),
    "request.start": _("Service request started"),
    "request.wait_applicant": _("Service request waiting for the applicant"),
    "request.resume": _("Service request resumed"),
    "request.hand_over": _("Service request handed to the partner"),
    "request.hand_back": _("Service request taken back from the partner"),
    "request.resolve": _("Service request resolved"),
    "request.decline": _("Service request declined"),
    "request.topic": _("Service request raised as a topic"),
    "request.escalate": _("Overdue service request escalated"),
    "request_type.create": _("Kind of service request added"),
    "request_type.switch": _("Kind of service request switched at a center"),
    "volunteer.opportunity": _("Volunteer opportunity added"),
    "volunteer.shifts": _("Volunteer shifts added"),
    "volunteer.clear": _("Volunteer cleared for a role"),
    "volunteer.staff_check": _("Volunteer checked in or out by staff"),
    "volunteer.hours": _("Volunteer hours approved"),
    "export.volunteer_hours": _("Volunteer hours exported"),
    "volunteer.lesson": _("Walking Party lesson set up"),
    "gym.enrol": _("Gym member's consent recorded"),
    "gym.session_start": _("Gym band handed out"),
    "gym.session_end": _("Gym band returned"),
    "gym.alert": _("Gym alert raised"),
    "gym.acknowledge": _("Gym alert acknowledged"),
    "gym.escalate": _("Gym alert escalated"),
}
ADMIN_VERBS = {"create": _("added"), "update": _("changed"), "delete": _("deleted")}
# What the trail calls the details services record that are not a model's fields (a model's
# own fields are called by their verbose names).
FIELD_LABELS = {
    "given_reason": _("reason given"),
    "reason": _("reason"),
    "status": _("status"),
    "starts_at": _("starts"),
    "ends_at": _("ends"),
    "stops": _("stops"),
    "minutes": _("minutes"),
    "text": _("text"),
    "recipients": _("recipients"),
    "paid_with": _("paid with"),
    "amount_fen": _("amount (fen)"),
    "due_fen": _("due (fen)"),
    "mode": _("how"),
    "week_of": _("week of"),
    "menus": _("menus"),
    "people": _("people"),
    "added": _("added"),
    "walk_ins": _("walk-ins"),
    "taken": _("places taken"),
    "articles": _("articles"),
    "opens_at": _("opens"),
    "closes_at": _("closes"),
    "paragraphs": _("paragraphs"),
    "to": _("to"),
    "opinions": _("opinions"),
    "note": _("note"),
    "members": _("members"),
    "phone": _("mobile number"),
    "member_id": _("member"),
    "birth_year": _("birth year"),
    "registrations_cancelled": _("registrations cancelled"),
    "format": _("format"),
    "rows": _("rows"),
}


def field_label(object_type: str, key: str) -> str:
    """A recorded detail's name in the reader's language: the service's own label, else
    the model field's verbose name, else the key as stored."""
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    try:
        return str(apps.get_model(object_type)._meta.get_field(key).verbose_name)
    except (LookupError, ValueError, AttributeError):
        return key
    except Exception:  # noqa: BLE001 - FieldDoesNotExist and friends: show the key
        return key


def shown_value(value: Any) -> Any:
    """A recorded value as the trail shows it: yes/no as ✓/✗, nothing as —."""
    if value is True:
        return "✓"
    if value is False:
        return "✗"
    if value is None or value == "":
        return "—"
    return value


def action_label(action: str, object_type: str = "") -> str:
    """The action in the reader's language; admin changes name the kind of object."""
    if action in ACTIONS:
        return str(ACTIONS[action])
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "admin" and parts[2] in ADMIN_VERBS:
        try:
            model = str(apps.get_model(object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            model = parts[1]
        return str(
            _("In the admin: %(model)s %(verb)s") % {"model": model, "verb": ADMIN_VERBS[parts[2]]}
        )
    return action


_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


class AuditMiddleware:
    """Remember the client's address for the entries this request writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_ip.set(limits.client_ip(request.META))
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: model instances by pk, times as ISO text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet):
        return sorted(value.values_list("pk", flat=True))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields' values now (foreign keys as ids), for a later `diff`."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _plain(getattr(obj, attname))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before": ..., "after": ...}} for the fields whose value changed (a new
    object's fields have "before": None)."""
    return {
        k: {"before": _plain(before.get(k)), "after": _plain(after.get(k))}
        for k in sorted(set(before) | set(after))
        if _plain(before.get(k)) != _plain(after.get(k))
    }


def is_change(value: Any) -> bool:
    """Whether an entry's detail is a before/after pair (from `diff`)."""
    return isinstance(value, dict) and set(value) == {"before", "after"}


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    label: str = "",
    center_id: int | None = None,
    region_code: str = "",
    changes: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Write one entry in the caller's transaction (`actor` None: the system itself, e.g. a
    draw run by the worker). Outside a transaction it is an error: an entry written apart
    from its change could survive a change that rolled back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() belongs inside the transaction of the change")
    actor_id = getattr(actor, "pk", None)
    return AuditEntry.objects.create(
        at=now or timezone.now(),
        actor_id=actor_id,
        actor_label=(str(getattr(actor, "username", "") or actor) if actor_id else "")[:150],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=(label or (str(obj) if obj is not None else ""))[:200],
        center_id=center_id,
        region_code=region_code,
        ip=_request_ip.get(),
        changes=_plain(dict(changes or {})),
    )


@transaction.atomic
def record_export(
    *,
    actor: Any,
    what: str,
    obj: models.Model | None = None,
    center_id: int | None = None,
    region_code: str = "",
    rows: int | None = None,
    fmt: str = "",
) -> AuditEntry:
    """An export of data (personal data such as a roster, or figures): who took what."""
    details: dict[str, Any] = {"format": fmt}
    if rows is not None:
        details["rows"] = rows
    return record(
        actor=actor,
        action=f"export.{what}",
        obj=obj,
        center_id=center_id,
        region_code=region_code,
        changes=details,
    )


def scope_of(obj: models.Model) -> tuple[int | None, str]:
    """(center id, region code) whose back office sees changes to `obj`."""
    label = obj._meta.label_lower
    if label == "centers.center":
        return int(obj.pk), ""
    if label == "centers.region":
        return None, str(obj.pk)
    center_id = getattr(obj, "center_id", None)
    region_code = getattr(obj, "region_id", None) or ""
    return center_id, str(region_code)
