"""A request's moves: accept (an owner named), start, wait for the applicant, hand over to
the partner and back, resolve, decline, close, reopen; messages with attachments; the
applicant's rating; raising a deliberation topic. Each move locks the request, re-checks
its state, writes one event (the timeline) and, for staff, one audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit

from ..models import (
    Attachment,
    EventKind,
    Handler,
    Message,
    ServiceRequest,
    Status,
)
from .attachments import MAX_PER_MESSAGE, clean_attachment
from .common import (
    APPLICANT,
    PARTNER,
    STAFF,
    CaseError,
    _now,
    clean_text,
    event,
    locked,
    no_such,
    roles,
    set_clock,
)
from .notices import tell_applicant, tell_handlers

NOTE_MAX = 1000
S = Status

# action → (states it may start from, state it leads to); the holder's side is checked apart.
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({S.SUBMITTED, S.WAITING_PARTNER}), S.ACCEPTED),
    "start": (frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    "wait_applicant": (frozenset({S.ACCEPTED, S.IN_PROGRESS}), S.WAITING_APPLICANT),
    "resume": (frozenset({S.WAITING_APPLICANT}), S.IN_PROGRESS),
    "hand_over": (frozenset({S.ACCEPTED, S.IN_PROGRESS, S.WAITING_APPLICANT}), S.WAITING_PARTNER),
    "hand_back": (
        frozenset({S.WAITING_PARTNER, S.ACCEPTED, S.IN_PROGRESS, S.WAITING_APPLICANT}),
        S.IN_PROGRESS,
    ),
    "resolve": (
        frozenset({S.ACCEPTED, S.IN_PROGRESS, S.WAITING_APPLICANT, S.WAITING_PARTNER}),
        S.RESOLVED,
    ),
    "decline": (
        frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.WAITING_APPLICANT}),
        S.DECLINED,
    ),
}
# Moves whose note the applicant must read: what is needed, what was done, why not.
NOTE_REQUIRED = {"wait_applicant", "hand_over", "resolve", "decline"}


def _side(req: ServiceRequest, who: set[str]) -> str:
    """The side `who` acts for on this request: the partner while the partner holds it,
    the center's (or subdistrict's) staff otherwise."""
    if req.holder == Handler.PARTNER and PARTNER in who:
        return Handler.PARTNER
    if STAFF in who:
        return Handler.SUBDISTRICT if req.holder == Handler.SUBDISTRICT else Handler.CENTER
    return ""


def _first_response(req: ServiceRequest, now: datetime) -> None:
    if req.first_response_at is None:
        req.first_response_at = now
        from .. import sla
        from .common import calendar, holidays

        cal = calendar(req.type, req.center, req.holder, holidays())
        req.first_response_minutes = sla.working_minutes(cal, req.submitted_at, now)
        req.reminded_at = None


@transaction.atomic
def move(
    *,
    request_id: int,
    by: User,
    action: str,
    note: str = "",
    owner_id: int | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)
    if action not in MOVES:
        raise CaseError(_("Unknown action."), code="invalid_action")
    req = locked(request_id)
    who = roles(by, req)
    side = _side(req, who)
    if not side:
        raise (
            no_such()
            if not who
            else CaseError(_("Only the handler can do that."), code="forbidden", status=403)
        )
    if req.holder == Handler.PARTNER and side != Handler.PARTNER and action != "hand_back":
        raise CaseError(
            _("The partner holds this request; take it back first."),
            code="with_partner",
            status=409,
        )
    froms, to = MOVES[action]
    if req.status not in froms:
        raise CaseError(
            _("The request is “%(s)s”; that cannot be done now.") % {"s": req.get_status_display()},
            code="wrong_state",
            status=409,
        )
    text = clean_text(note, field="note", max_length=NOTE_MAX, required=action in NOTE_REQUIRED)
    before, holder, kind = req.status, req.holder, EventKind.STATUS
    if action == "accept":
        if side == Handler.PARTNER:
            req.owner = by
            to = S.IN_PROGRESS
        else:
            owner: User | None = by
            if owner_id and owner_id != by.pk:
                owner = User.objects.filter(pk=owner_id, is_active=True).first()
                if owner is None or not can_manage(owner, req.center_id):
                    raise CaseError(
                        _("The owner must be staff of this center."), code="invalid_owner"
                    )
            req.owner = owner
        kind = EventKind.ACCEPTED
    elif action == "hand_over":
        if side == Handler.PARTNER or req.type.partner_id is None:
            raise CaseError(
                _("This kind of request has no partner to hand over to."), code="no_partner"
            )
        req.partner_id = req.type.partner_id
        holder, kind = Handler.PARTNER, EventKind.HANDED_OVER
        req.owner = None
    elif action == "hand_back":
        if req.holder != Handler.PARTNER:
            raise CaseError(_("The partner does not hold this request."), code="wrong_state")
        # Back to the center's person who handed it over.
        last = req.events.filter(kind=EventKind.HANDED_OVER).order_by("-at", "-id").first()
        req.owner_id = last.by_id if last else None
        holder, kind = Handler.CENTER, EventKind.HANDED_BACK
    elif action == "resolve":
        req.resolution, req.resolved_at, kind = text, now, EventKind.RESOLVED
    elif action == "decline":
        if side == Handler.PARTNER:
            raise CaseError(
                _("Only the center can decline; hand it back with a note."), code="forbidden"
            )
        req.decline_reason, req.resolved_at, kind = text[:300], now, EventKind.DECLINED
    _first_response(req, now)
    set_clock(req, status=to, holder=holder, now=now)
    if to in (S.RESOLVED, S.DECLINED):
        req.resolution_minutes = req.clock_minutes
        req.resolved_in_time = req.clock_minutes <= req.type.resolution_hours * 60
    req.updated_at = now
    req.save()
    event(req, kind, by=by, now=now, as_holder=side, note=text, from_status=before, to_status=to)
    if side != Handler.PARTNER:
        audit.record(
            actor=by,
            action=f"request.{action}",
            obj=req,
            label=f"#{req.pk} {req.type.name}",
            center_id=req.center_id,
            now=now,
        )
    tell_applicant(req, action, now=now, note=text)
    if action == "hand_over":
        tell_handlers(req, "handed_over", now=now)
    return req


@transaction.atomic
def message(
    *,
    request_id: int,
    by: User,
    body: str,
    files: Sequence[object] = (),
    now: datetime | None = None,
) -> Message:
    """A message on the request from the applicant or the handler, with at most three
    attachments (checked before anything is written). The applicant's answer to "waiting
    for you" starts the clock again."""
    now = _now(now)
    req = locked(request_id)
    who = roles(by, req)
    if not who:
        raise no_such()
    if not req.is_open and req.status != S.RESOLVED:
        raise CaseError(_("This request is closed."), code="closed", status=409)
    text = clean_text(body, field="body", max_length=NOTE_MAX, required=not files)
    if len(files) > MAX_PER_MESSAGE:
        raise CaseError(
            _("At most %(n)s files per message.") % {"n": MAX_PER_MESSAGE},
            code="too_many_files",
            field="files",
        )
    cleaned = [clean_attachment(f) for f in files]
    side = _side(req, who)
    msg = Message.objects.create(request=req, author=by, as_holder=side, body=text, at=now)
    for c in cleaned:
        Attachment.objects.create(
            message=msg,
            file=ContentFile(c.data, name=f"{req.pk}-{get_random_string(16)}.{c.extension}"),
            name=c.name,
            content_type=c.content_type,
            size=len(c.data),
        )
    if side:
        _first_response(req, now)
        set_clock(req, status=req.status, holder=req.holder, now=now)
        tell_applicant(req, "message", now=now, note=text)
    else:
        if req.status == S.WAITING_APPLICANT:
            before = req.status
            set_clock(req, status=S.IN_PROGRESS, holder=req.holder, now=now)
            event(
                req,
                EventKind.STATUS,
                by=by,
                now=now,
                note=_("The applicant answered."),
                from_status=before,
                to_status=S.IN_PROGRESS,
            )
        tell_handlers(req, "message", now=now)
    req.updated_at = now
    req.save()
    return msg


def _applicant_request(request_id: int, by: User) -> ServiceRequest:
    req = locked(request_id)
    if APPLICANT not in roles(by, req):
        raise no_such()
    return req


@transaction.atomic
def rate(
    *, request_id: int, by: User, score: int, comment: str = "", now: datetime | None = None
) -> ServiceRequest:
    now = _now(now)
    req = _applicant_request(request_id, by)
    if req.status not in (S.RESOLVED, S.DECLINED, S.CLOSED):
        raise CaseError(_("Rate it once it is resolved."), code="wrong_state", status=409)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CaseError(_("Give 1 to 5 stars."), code="invalid", field="score")
    req.rating = score
    req.rating_comment = clean_text(comment, field="comment", max_length=300, required=False)
    req.updated_at = now
    req.save(update_fields=["rating", "rating_comment", "updated_at"])
    event(req, EventKind.RATED, by=by, now=now, note=f"{score}/5")
    return req


@transaction.atomic
def close(*, request_id: int, by: User, now: datetime | None = None) -> ServiceRequest:
    """The applicant confirms a resolved request is done."""
    now = _now(now)
    req = _applicant_request(request_id, by)
    if req.status not in (S.RESOLVED, S.DECLINED):
        raise CaseError(_("Only a resolved request can be closed."), code="wrong_state", status=409)
    before = req.status
    set_clock(req, status=S.CLOSED, holder=req.holder, now=now)
    req.closed_at = req.updated_at = now
    req.save()
    event(req, EventKind.CLOSED, by=by, now=now, from_status=before, to_status=S.CLOSED)
    return req


@transaction.atomic
def reopen(*, request_id: int, by: User, note: str, now: datetime | None = None) -> ServiceRequest:
    """Within the type's days after it was resolved, the applicant says it is not done: it
    goes back to whoever resolved it, and the clock goes on from where it stopped."""
    now = _now(now)
    req = _applicant_request(request_id, by)
    if req.status not in (S.RESOLVED, S.CLOSED) or req.resolved_at is None:
        raise CaseError(
            _("Only a resolved request can be reopened."), code="wrong_state", status=409
        )
    if now > req.resolved_at + timedelta(days=req.type.reopen_days):
        raise CaseError(
            _("It can be reopened within %(n)s days of being resolved; please file a new request.")
            % {"n": req.type.reopen_days},
            code="reopen_too_late",
            status=409,
        )
    text = clean_text(note, field="note", max_length=NOTE_MAX)
    before = req.status
    set_clock(req, status=S.IN_PROGRESS, holder=req.holder, now=now)
    req.resolved_at = req.closed_at = req.resolution_minutes = req.resolved_in_time = None
    req.reminded_at = None
    req.updated_at = now
    req.save()
    event(
        req, EventKind.REOPENED, by=by, now=now, note=text, from_status=before, to_status=req.status
    )
    tell_handlers(req, "reopened", now=now)
    return req


@transaction.atomic
def raise_topic(
    *,
    request_id: int,
    by: User,
    title: str = "",
    description: str = "",
    category: str = "services",
    topic_id: int | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    """Many people ask the same thing: the request joins a deliberation topic (a new one the
    staff word themselves, never copying the applicant's details, or an existing one)."""
    from doorstep.deliberation import services as deliberation
    from doorstep.deliberation.models import Topic

    now = _now(now)
    req = locked(request_id)
    if STAFF not in roles(by, req):
        raise no_such()
    if topic_id:
        topic = Topic.objects.filter(pk=topic_id).first()
        if topic is None or not deliberation.can_manage_topic(by, topic):
            raise CaseError(_("No such topic."), code="not_found", status=404)
    else:
        topic = deliberation.propose(
            user=by,
            title=title,
            description=description,
            category=category,
            center_id=req.center_id,
            now=now,
        )
    req.topic = topic
    req.updated_at = now
    req.save(update_fields=["topic", "updated_at"])
    event(req, EventKind.TOPIC, by=by, now=now, as_holder=Handler.CENTER, note=topic.title)
    audit.record(
        actor=by,
        action="request.topic",
        obj=req,
        center_id=req.center_id,
        now=now,
        label=f"#{req.pk} → {topic.title}",
    )
    return req
