"""What an activity tells the people registered for it (docs/notices.md).

Every event that changes what a household holds, or must do, is one notice to the account
holder, naming the household members it is about: written in the same transaction as the
change (so a rolled-back change tells nobody), keyed by the event (so a retry, or the worker
running twice, tells nobody twice), in the account's language. The services call these
functions; each takes the registrations concerned and groups them per account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doorstep.inbox.services import NAMES, Message, PlannedNotice, notify_each, plan_notice

from .models import Activity, NoShowPolicy, Registration, RegistrationStatus


def _when(value: datetime | None) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def _names(names: list[str]) -> str:
    return _(", ").join(names)


def _where(activity: Activity) -> str:
    # The registration's fast path reads the center's name with the activity.
    center = getattr(activity, "center_name", None) or activity.center.name
    return f"{center} {activity.room}".strip()


def _groups(regs: Iterable[Registration]) -> dict[int, list[Registration]]:
    by_account: dict[int, list[Registration]] = defaultdict(list)
    for r in regs:
        by_account[r.account_id].append(r)
    return by_account


def _send(
    activity: Activity,
    regs: Iterable[Registration],
    *,
    event: str,
    kind: str,
    render: Callable[[Mapping[str, Any]], Message],
    per_registration: bool = True,
    extra: Callable[[list[Registration]], Mapping[str, Any]] | None = None,
    urgent_until: datetime | None = None,
    now: datetime | None = None,
    languages: Mapping[int, str] | None = None,
    fresh: bool = False,
) -> int:
    """One notice per account for `event`, all in one batch."""
    groups = _groups(regs)
    if not groups:
        return 0
    return notify_each(
        [
            (
                account_id,
                _params(activity, members, extra),
                # An event about these places: keyed by the account's first registration;
                # about the activity: once per account.
                _event_key(activity, event, min(r.pk for r in members))
                if per_registration
                else f"a{activity.pk}:{event}",
            )
            for account_id, members in groups.items()
        ],
        subject=f"activity:{activity.pk}",
        kind=kind,
        event="",
        render=render,
        center_id=activity.center_id,
        urgent_until=urgent_until,
        now=now,
        languages=languages,
        fresh=fresh,
    )


def _params(
    activity: Activity,
    members: list[Registration],
    extra: Callable[[list[Registration]], Mapping[str, Any]] | None,
) -> dict[str, Any]:
    members = sorted(members, key=lambda r: r.pk)
    params = _params_for(activity, [r.person.name for r in members], members[0].pk)
    if extra:
        params.update(extra(members))
    return params


def _event_key(activity: Activity, event: str, first: int | str) -> str:
    """An event about some places, keyed by the account's first registration among them."""
    return f"a{activity.pk}:{event}:{first}"


def _params_for(activity: Activity, names: list[str], first: int | str) -> dict[str, Any]:
    return {
        "names": names,
        "title": activity.title,
        "starts_at": activity.starts_at,
        "where": _where(activity),
        "url": f"/activities/{activity.pk}/",
        "ticket_url": f"/me/registrations/{first}/ticket/",
        "mine_url": "/me/registrations/",
    }


def _people(regs: Iterable[Registration]) -> list[Registration]:
    """The registrations with their people loaded (names are in every notice)."""
    regs = list(regs)
    missing = [r.pk for r in regs if "person" not in r._state.fields_cache]
    if missing:
        loaded = {
            r.pk: r for r in Registration.objects.filter(pk__in=missing).select_related("person")
        }
        regs = [loaded.get(r.pk, r) for r in regs]
    return regs


# -- registration ---------------------------------------------------------------------------


def registered(activity: Activity, regs: list[Registration], *, account: Any, now: datetime) -> int:
    """Confirmed, waiting (with the position) or entered in the lottery: the registrations
    were made in this transaction by `account` (the request's, so its language is known)."""
    regs = _people(regs)
    status = regs[0].status
    if status == RegistrationStatus.WAITLISTED:
        return waitlisted(activity, regs, now=now, languages={account.pk: account.language})
    if status not in _ON_REGISTERED:
        return 0
    event, kind, render = _ON_REGISTERED[status]
    extra = _registered_extra(activity, status)
    return _send(
        activity,
        regs,
        event=event,
        kind=kind,
        render=render,
        extra=(lambda _members: extra) if extra else None,
        languages={account.pk: account.language},
        fresh=True,
    )


def _registered_extra(activity: Activity, status: str) -> dict[str, Any]:
    """What a registration's notice says beyond the people and the activity: when the lots
    are drawn, for a lottery entry."""
    if status == RegistrationStatus.APPLIED:
        return {"draw_at": activity.registration_closes_at}
    return {}


def plan_registered(
    activity: Activity, *, account: Any, lottery: bool, now: datetime
) -> PlannedNotice:
    """The notice registered() writes for a confirmed place (first come) or a lottery entry,
    rendered before the registrations exist, for the statement that writes them (PostgreSQL):
    the same text, url and event key; the statement puts in the names it read."""
    status = RegistrationStatus.APPLIED if lottery else RegistrationStatus.CONFIRMED
    event, kind, render = _ON_REGISTERED[status]
    params = {
        **_params_for(activity, [NAMES], "{first}"),
        **_registered_extra(activity, status),
    }
    return plan_notice(
        render,
        params,
        user_id=account.pk,
        language=account.language,
        subject=f"activity:{activity.pk}",
        kind=kind,
        key=_event_key(activity, event, "{first}"),
        center_id=activity.center_id,
        for_status=str(status),
        now=now,
    )


def _confirmed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Place confirmed: %(names)s, %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("%(when)s at %(where)s. Show the ticket at the door.")
        % {"when": _when(p["starts_at"]), "where": p["where"]},
        url=p["ticket_url"],
    )


def _applied(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Lottery entry received: %(names)s, %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("The lots are drawn at %(when)s; you will get a notice with the result.")
        % {"when": _when(p["draw_at"])},
        url=p["url"],
    )


# The notice of a registration just made, by its status: (event, kind, text). Both the
# statement's planned notice (PostgreSQL) and registered() take them from here.
_ON_REGISTERED: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], Message]]] = {
    RegistrationStatus.CONFIRMED: ("confirmed", "reg_confirmed", _confirmed),
    RegistrationStatus.APPLIED: ("applied", "reg_applied", _applied),
}


def waitlisted(
    activity: Activity,
    regs: list[Registration],
    *,
    now: datetime,
    languages: Mapping[int, str] | None = None,
) -> int:
    """Just put on the waiting list (in this transaction), with the place in line: those
    drawn before (a rank) and those who joined earlier wait ahead of a newcomer, so one
    count gives it, however long the line."""
    first = min(r.pk for r in regs)
    ahead = Registration.objects.filter(
        activity_id=activity.pk, status=RegistrationStatus.WAITLISTED
    ).filter(Q(queue_rank__isnull=False) | Q(pk__lt=first))
    position = ahead.count() + 1

    def extra(members: list[Registration]) -> dict[str, Any]:
        return {"position": position}

    return _send(
        activity,
        regs,
        event="waitlisted",
        kind="reg_waitlisted",
        render=_waiting,
        extra=extra,
        languages=languages,
        fresh=True,
    )


def _waiting(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("On the waiting list: %(names)s, %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_(
            "You are number %(n)s in line. If a place comes free you will get a notice; "
            "nothing to do until then."
        )
        % {"n": p.get("position") or "?"},
        url=p["mine_url"],
    )


def promoted(
    activity: Activity, regs: list[Registration], *, offered_until: datetime | None
) -> int:
    """A place came free for people who were waiting: offered (to accept by a deadline) or
    confirmed at once."""
    regs = _people(regs)
    if offered_until is None:
        return _send(
            activity, regs, event="confirmed", kind="reg_confirmed", render=_freed_confirmed
        )
    return _send(
        activity,
        regs,
        event="offered",
        kind="reg_offered",
        render=_offered,
        extra=lambda _m: {"deadline": offered_until},
        urgent_until=offered_until,
    )


def _freed_confirmed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("A place came free: %(names)s now have a place in %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("%(when)s at %(where)s. Show the ticket at the door.")
        % {"when": _when(p["starts_at"]), "where": p["where"]},
        url=p["ticket_url"],
    )


def _offered(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("A place is offered to %(names)s in %(title)s: accept by %(deadline)s")
        % {"names": _names(p["names"]), "title": p["title"], "deadline": _when(p["deadline"])},
        body=_(
            "Accept it under My registrations before the deadline, or it passes to the next "
            "person waiting."
        ),
        url=p["mine_url"],
    )


def offer_reminder(activity: Activity, regs: list[Registration], *, now: datetime) -> int:
    regs = _people(regs)
    deadline = min(r.offer_expires_at for r in regs if r.offer_expires_at)
    return _send(
        activity,
        regs,
        event="offer_reminder",
        kind="offer_reminder",
        render=_offer_reminder,
        extra=lambda _m: {"deadline": deadline},
        urgent_until=deadline,
        now=now,
    )


def _offer_reminder(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Reminder: the place offered to %(names)s in %(title)s lapses at %(deadline)s")
        % {"names": _names(p["names"]), "title": p["title"], "deadline": _when(p["deadline"])},
        body=_("Accept it under My registrations if you still want it."),
        url=p["mine_url"],
    )


def offer_expired(activity: Activity, regs: list[Registration], *, now: datetime) -> int:
    return _send(
        activity,
        _people(regs),
        event="offer_expired",
        kind="offer_expired",
        render=_offer_expired,
        now=now,
    )


def _offer_expired(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("The place offered to %(names)s in %(title)s has lapsed")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("It was not accepted in time and has passed to the next person waiting."),
        url=p["url"],
    )


def drawn(activity: Activity, regs: list[Registration], *, now: datetime) -> int:
    """The lottery's result for every entry: won, waiting (with the position), not drawn."""
    from .selectors import waitlist_positions

    regs = _people(regs)
    record = f"/api/v1/activities/{activity.pk}/draw"
    positions = waitlist_positions(regs)

    def extra(members: list[Registration]) -> dict[str, Any]:
        return {
            "record": record,
            "position": min((positions.get(r.pk, 0) for r in members), default=0),
        }

    written = 0
    for status, kind, render in (
        (RegistrationStatus.CONFIRMED, "lottery_won", _won),
        (RegistrationStatus.WAITLISTED, "lottery_waitlisted", _draw_waiting),
        (RegistrationStatus.NOT_SELECTED, "lottery_not_drawn", _not_drawn),
    ):
        group = [r for r in regs if r.status == status]
        written += _send(
            activity, group, event="drawn", kind=kind, render=render, extra=extra, now=now
        )
    return written


def _won(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Drawn: %(names)s have a place in %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_(
            "%(when)s at %(where)s. Show the ticket at the door. "
            "The draw's public record: %(record)s"
        )
        % {"when": _when(p["starts_at"]), "where": p["where"], "record": p["record"]},
        url=p["ticket_url"],
    )


def _draw_waiting(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Not drawn this time: %(names)s are number %(n)s on the waiting list for %(title)s")
        % {"names": _names(p["names"]), "n": p.get("position") or "?", "title": p["title"]},
        body=_("If a place comes free you will get a notice. The draw's public record: %(record)s")
        % {"record": p["record"]},
        url=p["mine_url"],
    )


def _not_drawn(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Not drawn: %(names)s, %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("Thank you for entering. The draw's public record: %(record)s")
        % {"record": p["record"]},
        url=p["url"],
    )


# -- staff actions --------------------------------------------------------------------------


def cancelled_by_staff(
    activity: Activity, regs: list[Registration], *, reason: str, now: datetime
) -> int:
    return _send(
        activity,
        _people(regs),
        event="staff_cancelled",
        kind="reg_cancelled",
        render=_staff_cancelled,
        extra=lambda _m: {"reason": reason},
        now=now,
    )


def _staff_cancelled(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("The center cancelled the registration of %(names)s for %(title)s")
        % {"names": _names(p["names"]), "title": p["title"]},
        body=_("Reason: %(reason)s") % {"reason": p["reason"]},
        url=p["mine_url"],
    )


def activity_cancelled(
    activity: Activity, regs: list[Registration], *, reason: str, now: datetime
) -> int:
    """Everyone who held or awaited a place, once per account, in one batch."""
    return _send(
        activity,
        _people(regs),
        event="cancelled",
        kind="activity_cancelled",
        render=_activity_cancelled,
        per_registration=False,
        extra=lambda _m: {"reason": reason},
        now=now,
    )


def _activity_cancelled(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Cancelled: %(title)s on %(when)s")
        % {"title": p["title"], "when": _when(p["starts_at"])},
        body=_("The center has cancelled this activity (registered: %(names)s). Reason: %(reason)s")
        % {"names": _names(p["names"]), "reason": p["reason"]},
        url=p["url"],
    )


def changed(
    activity: Activity,
    regs: list[Registration],
    *,
    version: int,
    before: Mapping[str, Any],
    new_day: bool,
    now: datetime,
) -> int:
    """The time or the place changed; when the day moved, the tickets were re-issued."""
    return _send(
        activity,
        _people(regs),
        event=f"changed:{version}",
        kind="activity_changed",
        render=_changed,
        per_registration=False,
        extra=lambda _m: {"before": before, "new_day": new_day},
        now=now,
    )


def _changed(p: Mapping[str, Any]) -> Message:
    before = p["before"]
    title = _("Changed: %(title)s is now at %(when)s, %(where)s") % {
        "title": p["title"],
        "when": _when(p["starts_at"]),
        "where": p["where"],
    }
    body = _("It was at %(when)s, %(where)s (registered: %(names)s).") % {
        "when": _when(before["starts_at"]),
        "where": before["where"],
        "names": _names(p["names"]),
    }
    if p["new_day"]:
        body += " " + _(
            "The day has changed, so your tickets have been re-issued for the new day: "
            "show the new one under My registrations (a printed slip from before is "
            "replaced too)."
        )
    else:
        body += " " + _("Your ticket stays valid.")
    return Message(title=title, body=body, url=p["mine_url"])


def staff_message(
    activity: Activity, regs: list[Registration], *, message_id: int, text: str, now: datetime
) -> int:
    return _send(
        activity,
        _people(regs),
        event=f"message:{message_id}",
        kind="activity_message",
        render=_staff_message,
        per_registration=False,
        extra=lambda _m: {"text": text},
        now=now,
    )


def _staff_message(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("From the center about %(title)s: %(text)s")
        % {"title": p["title"], "text": p["text"]},
        body=_("%(when)s at %(where)s (registered: %(names)s).")
        % {"when": _when(p["starts_at"]), "where": p["where"], "names": _names(p["names"])},
        url=p["url"],
    )


# -- time -----------------------------------------------------------------------------------


def reminder(activity: Activity, regs: list[Registration], *, which: str, now: datetime) -> int:
    """The day before, or some hours before (`which`: "day" or "hours")."""
    return _send(
        activity,
        _people(regs),
        event=f"remind:{which}",
        kind="reminder",
        render=_reminder,
        per_registration=False,
        now=now,
    )


def _reminder(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Reminder: %(title)s at %(when)s")
        % {"title": p["title"], "when": _when(p["starts_at"])},
        body=_(
            "At %(where)s, for %(names)s. Show the ticket at the door; if you cannot come, "
            "cancel so someone waiting gets the place."
        )
        % {"where": p["where"], "names": _names(p["names"])},
        url=p["ticket_url"],
    )


def no_show(
    activity: Activity, regs: list[Registration], *, policy: NoShowPolicy | None, now: datetime
) -> int:
    def extra(_m: list[Registration]) -> dict[str, Any]:
        if policy is None:
            return {"policy": ""}
        text = ngettext(
            "Under this center's rules, %(n)s missed activity within %(days)s days",
            "Under this center's rules, %(n)s missed activities within %(days)s days",
            policy.threshold,
        ) % {"n": policy.threshold, "days": policy.window_days}
        consequences = [
            ngettext(
                "blocks first-come registration for %(d)s day",
                "blocks first-come registration for %(d)s days",
                policy.block_days,
            )
            % {"d": policy.block_days}
        ]
        if policy.lower_lottery_tier:
            consequences.append(_("puts the household last in lotteries"))
        joined = _(" and ").join(consequences)
        return {"policy": _("%(rule)s %(consequences)s.") % {"rule": text, "consequences": joined}}

    return _send(
        activity,
        _people(regs),
        event="no_show",
        kind="no_show",
        render=_no_show,
        extra=extra,
        now=now,
    )


def _no_show(p: Mapping[str, Any]) -> Message:
    body = _("If you cannot come, cancel in time so someone waiting gets the place.")
    if p["policy"]:
        body = f"{p['policy']} {body}"
    return Message(
        title=_("Recorded as not come: %(names)s, %(title)s on %(when)s")
        % {"names": _names(p["names"]), "title": p["title"], "when": _when(p["starts_at"])},
        body=body,
        url=p["mine_url"],
    )
