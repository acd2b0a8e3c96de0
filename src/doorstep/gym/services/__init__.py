"""The gym's services (docs/gym.md): consent and sessions at the desk, acknowledgement and
escalation of alerts, the summary at a session's end, and forgetting raw readings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit
from doorstep.core.errors import DoorstepError
from doorstep.inbox.services import Message, notify_each

from .. import rules
from ..models import Alert, Band, Member, Reading, Session, Settings

CONSENT_VERSION = "2026-12"
KEEP_READINGS = timedelta(hours=24)


class GymError(DoorstepError):
    """A session, an acknowledgement or a setting that cannot be made."""


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def settings_for(center_id: int) -> Settings:
    return Settings.objects.filter(center_id=center_id).first() or Settings(center_id=center_id)


def limits_of(member: Member, settings: Settings, at: datetime) -> rules.Limits:
    born = member.person.birth_year
    age = timezone.localtime(at).year - born if born else None
    return rules.limits_for(
        age,
        max_bpm=member.max_bpm,
        upper_share=float(Decimal(settings.upper_share)),
        high_seconds=settings.high_seconds,
        low_bpm=settings.low_bpm,
        sudden_bpm=settings.sudden_bpm,
        sudden_seconds=settings.sudden_seconds,
        no_signal_seconds=settings.no_signal_seconds,
        battery_low=settings.battery_low,
    )


@transaction.atomic
def enrol(
    *,
    by: User,
    center_id: int,
    person_id: int,
    nickname: str,
    consent: bool,
    max_bpm: int | None = None,
    now: datetime | None = None,
) -> Member:
    """The member's name on the board, a doctor's limit if any, and their consent (what is
    measured, who sees it, how long it is kept), recorded before the first session."""
    if not can_manage(by, center_id):
        raise GymError(_("Not your center."), code="forbidden", status=403)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise GymError(_("No such person."), code="not_found", status=404)
    nickname = " ".join((nickname or "").split())[:20] or person.name[:1] + "＊"
    if max_bpm is not None and not 80 <= max_bpm <= 200:
        raise GymError(_("A maximum heart rate is 80 to 200."), code="invalid", field="max_bpm")
    if not consent:
        raise GymError(
            _("Read the consent to the member and tick it before the first session."),
            code="consent_required",
        )
    member, _created = Member.objects.update_or_create(
        person=person,
        defaults={
            "nickname": nickname,
            "max_bpm": max_bpm,
            "consent_at": _now(now),
            "consent_version": CONSENT_VERSION,
        },
    )
    audit.record(actor=by, action="gym.enrol", obj=member, center_id=center_id, now=now)
    return member


@transaction.atomic
def start_session(
    *,
    by: User,
    center_id: int,
    band_label: str,
    member_id: int,
    now: datetime | None = None,
    synthetic: bool = False,
) -> Session:
    """Hand a band to a member at the desk."""
    now = _now(now)
    if not can_manage(by, center_id):
        raise GymError(_("Not your center."), code="forbidden", status=403)
    band = Band.objects.filter(
        center_id=center_id, label=(band_label or "").strip(), active=True
    ).first()
    if band is None:
        raise GymError(_("No band has that label here."), code="unknown_band", status=404)
    member = Member.objects.select_related("person").filter(pk=member_id).first()
    if member is None or member.consent_at is None:
        raise GymError(_("The member has not consented yet."), code="consent_required")
    limits = limits_of(member, settings_for(center_id), now)
    try:
        with transaction.atomic():
            session = Session.objects.create(
                center_id=center_id,
                band=band,
                member=member,
                started_at=now,
                started_by=by,
                limit_bpm=limits.limit_bpm,
                upper_bpm=limits.upper_bpm,
                synthetic=synthetic,
            )
    except IntegrityError:
        raise GymError(
            _("That band or that member is already in a session."), code="busy", status=409
        ) from None
    audit.record(
        actor=by,
        action="gym.session_start",
        obj=session,
        center_id=center_id,
        label=f"{band.label} · {member.nickname}",
        now=now,
    )
    return session


def _summary(session: Session) -> None:
    rows = Reading.objects.filter(session=session)
    agg = rows.aggregate(n=Count("id"), avg=Avg("bpm"), peak=Max("bpm"))
    session.readings = agg["n"] or 0
    session.avg_bpm = round(agg["avg"]) if agg["avg"] else None
    session.peak_bpm = agg["peak"]
    zones = {"rest": 0, "work": 0, "upper": 0}
    last = None
    for at, bpm in rows.order_by("at").values_list("at", "bpm"):
        if last is not None:
            step = min(10.0, (at - last[0]).total_seconds())
            zone = (
                "upper"
                if last[1] >= session.upper_bpm
                else ("work" if last[1] >= session.limit_bpm * 0.6 else "rest")
            )
            zones[zone] += int(step)
        last = (at, bpm)
    session.zone_seconds = zones


@transaction.atomic
def end_session(
    *,
    by: User | None,
    band_label: str = "",
    session_id: int | None = None,
    center_id: int,
    now: datetime | None = None,
) -> Session:
    """The band comes back: the session ends and its summary is written."""
    now = _now(now)
    if by is not None and not can_manage(by, center_id):
        raise GymError(_("Not your center."), code="forbidden", status=403)
    q = Session.objects.select_for_update().filter(center_id=center_id, ended_at__isnull=True)
    q = q.filter(pk=session_id) if session_id else q.filter(band__label=(band_label or "").strip())
    session = q.first()
    if session is None:
        raise GymError(_("No session with that band."), code="not_found", status=404)
    session.ended_at = now
    _summary(session)
    session.save()
    audit.record(
        actor=by,
        action="gym.session_end",
        obj=session,
        center_id=center_id,
        label=f"{session.band.label} · {session.member.nickname}",
        now=now,
    )
    return session


@transaction.atomic
def acknowledge(*, by: User, alert_id: int, action: str, now: datetime | None = None) -> Alert:
    """A staff member saw to it: who, when, what was done."""
    now = _now(now)
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None or not can_manage(by, alert.center_id):
        raise GymError(_("No such alert."), code="not_found", status=404)
    if alert.acknowledged_at is not None:
        return alert
    action = " ".join((action or "").split())[:300]
    if not action:
        raise GymError(_("Say what was done."), code="required", field="action")
    alert.acknowledged_at, alert.acknowledged_by, alert.action = now, by, action
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "action"])
    audit.record(
        actor=by,
        action="gym.acknowledge",
        obj=alert,
        center_id=alert.center_id,
        label=alert.get_kind_display(),
        now=now,
    )
    return alert


def escalate_due(now: datetime | None = None) -> int:
    """Alerts nobody acknowledged within the gym's seconds: the manager's screen shows them
    and the duty manager is told (SMS where they asked for it), once each."""
    now = _now(now)
    done = 0
    open_alerts = Alert.objects.filter(acknowledged_at__isnull=True, escalated_at__isnull=True)
    for alert in open_alerts.select_related("session__member")[:200]:
        settings = settings_for(alert.center_id)
        if (now - alert.raised_at).total_seconds() < settings.escalate_seconds:
            continue
        with transaction.atomic():
            if not Alert.objects.filter(
                pk=alert.pk, escalated_at__isnull=True, acknowledged_at__isnull=True
            ).update(escalated_at=now):
                continue
            audit.record(
                actor=None,
                action="gym.escalate",
                obj=alert,
                center_id=alert.center_id,
                label=alert.get_kind_display(),
                now=now,
            )
            if settings.duty_manager_id:
                nickname, kind = alert.session.member.nickname, alert.kind
                notify_each(
                    [
                        (
                            settings.duty_manager_id,
                            {"n": nickname, "k": kind},
                            f"gym:{alert.pk}:escalated",
                        )
                    ],
                    subject=f"gym-alert:{alert.pk}",
                    kind="gym_escalated",
                    event=f"gym:{alert.pk}:escalated",
                    render=_escalated,
                    center_id=alert.center_id,
                    urgent_until=now + timedelta(minutes=5),
                    now=now,
                )
            done += 1
    return done


def _escalated(p: Mapping[str, Any]) -> Message:
    from ..models import AlertKind

    return Message(
        title=_("Gym alert not acknowledged: %(n)s, %(k)s")
        % {"n": p["n"], "k": AlertKind(p["k"]).label},
        body=_("Nobody on the floor has acknowledged it yet."),
    )


def forget_readings(now: datetime | None = None) -> int:
    """Raw readings live for the session and a day after it: then only the summary stays."""
    now = _now(now)
    old = Session.objects.filter(ended_at__lt=now - KEEP_READINGS).values("pk")
    deleted, _ = Reading.objects.filter(session__in=old).delete()
    return deleted


@transaction.atomic
def delete_my_session(*, user: User, session_id: int) -> None:
    """A member deletes a session's summary (and its alerts) from their own account."""
    session = Session.objects.filter(
        pk=session_id, member__person__account=user, ended_at__isnull=False
    ).first()
    if session is None:
        raise GymError(_("No such session."), code="not_found", status=404)
    session.delete()


def run_due_work() -> dict[str, int]:
    return {"gym_alerts_escalated": escalate_due(), "gym_readings_forgotten": forget_readings()}
