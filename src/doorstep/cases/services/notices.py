"""Who is told what about a request, each in their own language (through the inbox): the
applicant on every public move and message; the handler (the owner, else the holding side's
people) on a new request, a hand-over, the applicant's message, a reopening and a coming
deadline; the subdistrict when a deadline passes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from doorstep.accounts.models import Membership, StaffRole
from doorstep.inbox.services import Message, notify_each

from ..models import Handler, ServiceRequest


def _type_name(p: Mapping[str, Any]) -> str:
    english = (get_language() or "").startswith("en")
    return str(p["type_en"] if english and p["type_en"] else p["type"])


def _params(req: ServiceRequest, note: str = "") -> dict[str, Any]:
    return {
        "n": req.pk,
        "type": req.type.name,
        "type_en": req.type.name_en,
        "note": note,
        "due": req.due_at.isoformat() if req.due_at else "",
    }


_APPLICANT_TITLES = {
    "accept": lambda p: _("Your request #%(n)s (%(t)s) was accepted"),
    "start": lambda p: _("Work has started on your request #%(n)s (%(t)s)"),
    "wait_applicant": lambda p: _("Your request #%(n)s (%(t)s) needs something from you"),
    "resume": lambda p: _("Work goes on with your request #%(n)s (%(t)s)"),
    "hand_over": lambda p: _("Your request #%(n)s (%(t)s) was handed to the partner"),
    "hand_back": lambda p: _("Your request #%(n)s (%(t)s) is back with the center"),
    "resolve": lambda p: _("Your request #%(n)s (%(t)s) was resolved"),
    "decline": lambda p: _("Your request #%(n)s (%(t)s) was declined"),
    "message": lambda p: _("A new message on your request #%(n)s (%(t)s)"),
}

_HANDLER_TITLES = {
    "submitted": lambda p: _("New request #%(n)s: %(t)s"),
    "handed_over": lambda p: _("Request #%(n)s (%(t)s) handed to you"),
    "message": lambda p: _("The applicant wrote on request #%(n)s (%(t)s)"),
    "reopened": lambda p: _("Request #%(n)s (%(t)s) was reopened"),
    "reminder": lambda p: _("Request #%(n)s (%(t)s) is due soon"),
    "escalated": lambda p: _("Request #%(n)s (%(t)s) is overdue"),
}


def _render(titles: Mapping[str, Any], what: str, url: str) -> Any:
    def render(p: Mapping[str, Any]) -> Message:
        title = titles[what](p) % {"n": p["n"], "t": _type_name(p)}
        return Message(title=title, body=str(p.get("note") or "")[:500], url=url)

    return render


def applicant_ids(req: ServiceRequest) -> set[int]:
    ids = {req.applicant_id} if req.applicant_id else set()
    if req.organization_id:
        ids |= set(
            Membership.objects.filter(
                organization_id=req.organization_id, is_manager=True
            ).values_list("user_id", flat=True)
        )
    return ids


def handler_ids(req: ServiceRequest) -> set[int]:
    if req.owner_id:
        return {req.owner_id}
    if req.holder == Handler.PARTNER and req.partner_id:
        return set(
            Membership.objects.filter(organization_id=req.partner_id).values_list(
                "user_id", flat=True
            )
        )
    if req.holder == Handler.CENTER:
        ids = set(
            StaffRole.objects.filter(center_id=req.center_id).values_list("user_id", flat=True)
        )
        if ids:
            return ids
    return supervisor_ids(req)


def supervisor_ids(req: ServiceRequest) -> set[int]:
    """The subdistrict's staff, else the district's."""
    for region in (req.subdistrict_id, req.district_id):
        ids = set(
            StaffRole.objects.filter(
                region_id=region,
                scope__in=(StaffRole.Scope.SUBDISTRICT, StaffRole.Scope.DISTRICT),
            ).values_list("user_id", flat=True)
        )
        if region and ids:
            return ids
    return set()


def _send(
    ids: Iterable[int],
    req: ServiceRequest,
    what: str,
    titles: Mapping[str, Any],
    url: str,
    now: datetime,
    note: str = "",
) -> None:
    params = _params(req, note)
    stamp = f"{req.updated_at.timestamp():.0f}"
    notify_each(
        [(uid, params, f"case:{req.pk}:{what}:{stamp}") for uid in ids],
        subject=f"case:{req.pk}",
        kind=f"case_{what}",
        event=f"case:{req.pk}:{what}",
        render=_render(titles, what, url),
        center_id=req.center_id,
        now=now,
    )


def tell_applicant(req: ServiceRequest, what: str, *, now: datetime, note: str = "") -> None:
    if what in _APPLICANT_TITLES:
        url = reverse("cases:detail", args=[req.pk])
        _send(applicant_ids(req), req, what, _APPLICANT_TITLES, url, now, note)


def tell_handlers(req: ServiceRequest, what: str, *, now: datetime) -> None:
    ids = supervisor_ids(req) if what == "escalated" else handler_ids(req)
    url = reverse("cases:handle", args=[req.pk])
    _send(ids, req, what, _HANDLER_TITLES, url, now)
