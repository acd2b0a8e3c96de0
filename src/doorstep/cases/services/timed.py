"""The requests' timed work, run by the worker (each step idempotent): reminders before a
deadline, escalation once a deadline has passed (exactly once per request), closing what was
resolved and not reopened in time, and forgetting an Open311 caller's contact details once
the request has been closed long enough."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.core import audit

from ..models import Attachment, EventKind, Handler, ServiceRequest, Status
from .common import event, set_clock
from .notices import tell_handlers

REMIND_BEFORE = timedelta(hours=2)
FORGET_AFTER = timedelta(days=180)
BATCH = 500


def remind_due(now: datetime | None = None) -> int:
    now = now or timezone.now()
    ids = list(
        ServiceRequest.objects.filter(
            is_open=True,
            reminded_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + REMIND_BEFORE,
        ).values_list("pk", flat=True)[:BATCH]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            # Claimed by one UPDATE: two workers never remind twice.
            if not ServiceRequest.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            req = ServiceRequest.objects.select_related("type").get(pk=pk)
            event(req, EventKind.REMINDED, by=None, now=now)
            tell_handlers(req, "reminder", now=now)
            done += 1
    return done


def escalate_due(now: datetime | None = None) -> int:
    """A request whose next deadline has passed goes to the subdistrict's attention, once."""
    now = now or timezone.now()
    ids = list(
        ServiceRequest.objects.filter(
            is_open=True, escalated_at__isnull=True, due_at__lt=now
        ).values_list("pk", flat=True)[:BATCH]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            if not ServiceRequest.objects.filter(
                pk=pk, escalated_at__isnull=True, due_at__lt=now, is_open=True
            ).update(escalated_at=now):
                continue
            req = ServiceRequest.objects.select_related("type").get(pk=pk)
            event(req, EventKind.ESCALATED, by=None, now=now, as_holder=Handler.SUBDISTRICT)
            audit.record(
                actor=None,
                action="request.escalate",
                obj=req,
                label=f"#{req.pk} {req.type.name}",
                center_id=req.center_id,
                now=now,
            )
            tell_handlers(req, "escalated", now=now)
            done += 1
    return done


def close_resolved(now: datetime | None = None) -> int:
    """Resolved or declined, not reopened within the type's days: closed."""
    now = now or timezone.now()
    rows = ServiceRequest.objects.filter(
        status__in=(Status.RESOLVED, Status.DECLINED), resolved_at__lt=now
    ).values_list("pk", "resolved_at", "type__reopen_days")
    ids = [pk for pk, at, days in rows if at and at + timedelta(days=days) < now][:BATCH]
    done = 0
    for pk in ids:
        with transaction.atomic():
            req = (
                ServiceRequest.objects.select_for_update(of=("self",))
                .select_related("type", "center")
                .filter(pk=pk, status__in=(Status.RESOLVED, Status.DECLINED))
                .first()
            )
            if req is None:
                continue
            before = req.status
            set_clock(req, status=Status.CLOSED, holder=req.holder, now=now)
            req.closed_at = req.updated_at = now
            req.save()
            event(req, EventKind.CLOSED, by=None, now=now, from_status=before, to_status=req.status)
            done += 1
    return done


def forget_closed(now: datetime | None = None) -> int:
    """A caller's name and number served to reach them, and the files sent on a request
    served to handle it, while the request was open: gone FORGET_AFTER its closing (the
    request, its timeline and its messages' text stay, for the figures and the record)."""
    now = now or timezone.now()
    old = ServiceRequest.objects.filter(status=Status.CLOSED, closed_at__lt=now - FORGET_AFTER)
    forgotten = old.exclude(contact_name="", contact_phone="").update(
        contact_name="", contact_phone=""
    )
    files = list(Attachment.objects.filter(message__request__in=old)[:BATCH])
    for item in files:
        item.file.delete(save=False)
        item.delete()
    return forgotten + len(files)


def run_due_work(now: datetime | None = None) -> dict[str, int]:
    return {
        "requests_reminded": remind_due(now),
        "requests_escalated": escalate_due(now),
        "requests_closed": close_resolved(now),
        "requests_forgotten": forget_closed(now),
    }
