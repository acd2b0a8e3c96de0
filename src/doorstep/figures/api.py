"""Figures API: the dashboard's numbers for one center or region, for staff in scope."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from doorstep.accounts.auth import account_auth, caller
from doorstep.accounts.scopes import is_staff_member
from doorstep.core.api import ErrorOut
from doorstep.core.errors import DoorstepError, InvalidInput
from doorstep.core.replica import stale_reads

from . import selectors

router = Router(tags=["figures"])


class FiguresQuery(Schema):
    center: int | None = None
    region: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class Count(Schema):
    code: str
    label: str
    count: int


class CohortOut(Schema):
    month: str
    people: int
    settled: int
    returned: int
    rate: float | None


class ActivitiesOut(Schema):
    activities: int
    capacity: int
    held: int
    no_show: int
    fill_rate: float | None
    no_show_rate: float | None


class FiguresOut(Schema):
    scope: str
    name: str
    start: date
    end: date
    synthetic: bool
    visits: int
    known_visits: int
    anonymous_visits: int
    suspect_visits: int = Field(
        ..., description="Anonymous check-ins in suspicious bursts, left out of every other figure."
    )
    unique_visitors: int
    return_rate: float | None
    pending: int
    cohorts: list[CohortOut]
    by_group: list[Count]
    by_hour: list[int]
    by_weekday: list[int]
    by_day: list[tuple[date, int]]
    dwell_average_minutes: float | None
    dwell_median_minutes: float | None
    dwell_count: int
    dwell_estimated: int
    services: list[Count]
    activities: ActivitiesOut


@router.get(
    "/figures",
    auth=account_auth,
    response={200: FiguresOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def get_figures(request: HttpRequest, q: Query[FiguresQuery]) -> dict:
    """Figures for `center` (an id) or `region` (an official code; 310000 is the city) over
    from..to (YYYY-MM-DD, default the last 30 days). Definitions: docs/figures.md."""
    user = caller(request)
    if not is_staff_member(user):
        raise DoorstepError(_("Only staff can read figures."), code="forbidden", status=403)
    if (q.center is None) == (q.region is None):
        raise InvalidInput(_("Give either a center or a region."), code="bad_scope")
    if q.center is not None:
        scope = selectors.access_center(user, q.center)
    else:
        scope = selectors.access_region(user, q.region or "")
    today = timezone.localdate()
    start, end = selectors.period(q.from_, q.to, today=today)
    with stale_reads(request):  # the figures may be seconds old; who may read them may not
        f = selectors.figures_for(scope, start, end, today=today)
    a = f.activities
    return {
        "scope": scope.kind,
        "name": scope.name,
        "start": f.start,
        "end": f.end,
        "synthetic": f.has_synthetic,
        "visits": f.visits,
        "known_visits": f.totals["known_visits"],
        "anonymous_visits": f.anonymous_visits,
        "suspect_visits": f.suspect_visits,
        "unique_visitors": f.unique_visitors,
        "return_rate": f.return_rate,
        "pending": f.pending,
        "cohorts": [
            {
                "month": c.month,
                "people": c.people,
                "settled": c.settled,
                "returned": c.returned,
                "rate": c.rate,
            }
            for c in f.cohorts
        ],
        "by_group": [{"code": c, "label": lbl, "count": n} for c, lbl, n in f.by_group],
        "by_hour": f.by_hour,
        "by_weekday": f.by_weekday,
        "by_day": f.by_day,
        "dwell_average_minutes": f.dwell_average_minutes,
        "dwell_median_minutes": f.dwell_median_minutes,
        "dwell_count": f.totals["dwell_n"],
        "dwell_estimated": f.totals["dwell_estimated"],
        "services": [{"code": c, "label": lbl, "count": n} for c, lbl, n in f.services],
        "activities": {
            "activities": a["activities"],
            "capacity": a["capacity"],
            "held": a["held"],
            "no_show": a["no_show"],
            "fill_rate": a["fill_rate"],
            "no_show_rate": a["no_show_rate"],
        },
    }
