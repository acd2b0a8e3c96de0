"""Weekly series: one ordinary Activity per week, its registration window set per session.

A series is known by its center, title, weekday and start time. Generating it again (say, to
reach a later last date) adds only the weeks it does not have yet: a week that has a session,
even a cancelled one, is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center

from .models import Activity, Series
from .services import ActivityInput, RegistrationError, create_activity

MAX_SESSIONS = 60
# The ActivityInput fields a series sets per session; the rest come from the series form.
SESSION_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "cancel_deadline",
)


@dataclass(frozen=True)
class Window:
    """Registration relative to each session: opens N days before at a time of day, closes
    M hours before the start; residents may cancel until K hours before (None: the start)."""

    opens_days_before: int
    opens_at: time
    closes_hours_before: int
    cancel_hours_before: int | None = None


@dataclass(frozen=True)
class Session:
    starts_at: datetime
    ends_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime
    cancel_deadline: datetime | None

    @property
    def day(self) -> date:
        return timezone.localtime(self.starts_at).date()


def session_days(weekday: int, first_date: date, last_date: date) -> list[date]:
    """Every `weekday` (Monday = 0) from first_date to last_date, both included."""
    start = first_date + timedelta(days=(weekday - first_date.weekday()) % 7)
    days = []
    day = start
    while day <= last_date:
        days.append(day)
        day += timedelta(days=7)
    return days


def plan_sessions(
    *,
    weekday: int,
    start_time: time,
    duration_minutes: int,
    first_date: date,
    last_date: date,
    window: Window,
) -> list[Session]:
    tz = timezone.get_current_timezone()
    sessions = []
    for day in session_days(weekday, first_date, last_date):
        starts = datetime.combine(day, start_time, tzinfo=tz)
        opens_day = day - timedelta(days=window.opens_days_before)
        sessions.append(
            Session(
                starts_at=starts,
                ends_at=starts + timedelta(minutes=duration_minutes),
                registration_opens_at=datetime.combine(opens_day, window.opens_at, tzinfo=tz),
                registration_closes_at=starts - timedelta(hours=window.closes_hours_before),
                cancel_deadline=(
                    None
                    if window.cancel_hours_before is None
                    else starts - timedelta(hours=window.cancel_hours_before)
                ),
            )
        )
    return sessions


def session_input(settings: Mapping[str, Any], session: Session) -> ActivityInput:
    """The activity for one session: the series' settings at the session's times."""
    values = {k: v for k, v in settings.items() if k not in SESSION_FIELDS}
    values.update({name: getattr(session, name) for name in SESSION_FIELDS})
    return ActivityInput(**values)


@dataclass
class SeriesResult:
    series: Series
    created: list[Activity] = field(default_factory=list)
    existing: int = 0  # weeks that already had a session
    past: int = 0  # weeks whose session would start before now: not created


def generate_series(
    *,
    center_id: int,
    by: User,
    weekday: int,
    start_time: time,
    duration_minutes: int,
    first_date: date,
    last_date: date,
    window: Window,
    settings: Mapping[str, Any],
    publish: bool = False,
    now: datetime | None = None,
) -> SeriesResult:
    """Create the missing weekly sessions of a series, as drafts or published.

    `settings` holds the ActivityInput fields other than the times (title included). All
    sessions are created in one transaction or none; the center's row lock makes two
    generations of the same series queue, so neither duplicates a week.
    """
    now = now or timezone.now()
    title = " ".join(str(settings.get("title", "")).split())
    if not 0 <= weekday <= 6:
        raise RegistrationError(_("Choose a weekday."), code="invalid", field="weekday")
    if last_date < first_date:
        raise RegistrationError(
            _("The last date is before the first."), code="invalid", field="last_date"
        )
    sessions = plan_sessions(
        weekday=weekday,
        start_time=start_time,
        duration_minutes=duration_minutes,
        first_date=first_date,
        last_date=last_date,
        window=window,
    )
    if not sessions:
        raise RegistrationError(
            _("No such weekday between the first and last date."), code="invalid", field="weekday"
        )
    if len(sessions) > MAX_SESSIONS:
        raise RegistrationError(
            _("At most %(n)s sessions at a time.") % {"n": MAX_SESSIONS},
            code="invalid",
            field="last_date",
        )
    if not can_manage(by, center_id):
        raise RegistrationError(_("No such center."), code="not_found", status=404)
    with transaction.atomic():
        # Serialises generations at this center, so neither duplicates a week.
        Center.objects.select_for_update().filter(pk=center_id).exists()
        series = (
            Series.objects.filter(
                center_id=center_id, title=title, weekday=weekday, start_time=start_time
            )
            .order_by("id")
            .first()
        )
        if series is None:
            series = Series(center_id=center_id, title=title, weekday=weekday)
            series.start_time = start_time
            series.first_date, series.last_date = first_date, last_date
        series.duration_minutes = duration_minutes
        series.first_date = min(series.first_date, first_date)
        series.last_date = max(series.last_date, last_date)
        series.save()
        have = {
            timezone.localtime(starts).date()
            for starts in Activity.objects.filter(series=series).values_list("starts_at", flat=True)
        }
        result = SeriesResult(series=series)
        for session in sessions:
            if session.day in have:
                result.existing += 1
                continue
            if session.starts_at <= now:
                result.past += 1
                continue
            result.created.append(
                create_activity(
                    center_id=center_id,
                    by=by,
                    data=session_input({**settings, "title": title}, session),
                    publish_now=publish,
                    series_id=series.pk,
                    now=now,
                )
            )
    return result
