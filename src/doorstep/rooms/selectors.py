"""Rooms reads: the public availability grid, the free-slot search, my bookings, the staff's
queue and day board, and the figures. Who booked is shown only to the center's staff (and the
booker); the public sees free and busy, and the title of a public event."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Membership, User

from .models import HOLDING, Blackout, Booking, BookingKind, BookingStatus, Space, equipment_mask
from .services.common import bookable_minutes, centers_hours, local_moment, open_minutes, within

# A space someone other than staff may book (a staff-only room is not offered in public).
BOOKABLE = Q(for_residents=True) | Q(for_groups=True) | Q(for_companies=True)


def public_spaces(center_id: int) -> QuerySet[Space]:
    return Space.objects.filter(BOOKABLE, center_id=center_id, active=True).order_by("name", "pk")


def space(space_id: int) -> Space | None:
    return Space.objects.select_related("center").filter(pk=space_id, active=True).first()


# --------------------------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------------------------


@dataclass
class Slot:
    starts_at: datetime
    ends_at: datetime
    state: str  # free | busy | closed | past
    title: str = ""  # a public event's title; never a private booker


@dataclass
class Day:
    space: Space
    day: date
    spans: list[tuple[int, int]]
    slots: list[Slot] = field(default_factory=list)


def _day_rows(space_ids: Sequence[int], day: date) -> tuple[dict, dict]:
    lo, hi = local_moment(day, 0), local_moment(day, 1440)
    busy: dict[int, list[tuple[datetime, datetime, Booking]]] = defaultdict(list)
    for b in Booking.objects.filter(
        space_id__in=space_ids, status__in=HOLDING, starts_at__lt=hi, blocked_until__gt=lo
    ).only(
        "id",
        "space_id",
        "starts_at",
        "ends_at",
        "blocked_until",
        "public",
        "title",
        "kind",
        "status",
        "user_id",
        "organization_id",
    ):
        busy[b.space_id].append((b.starts_at, b.blocked_until, b))
    closed: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for sid, a, z in Blackout.objects.filter(
        space_id__in=space_ids, starts_at__lt=hi, ends_at__gt=lo
    ).values_list("space_id", "starts_at", "ends_at"):
        closed[sid].append((a, z))
    return busy, closed


def availability(sp: Space, day: date, *, now: datetime | None = None) -> Day:
    """The space's day in steps of its slot length: free, busy (a booking or its buffer),
    closed (outside its hours, or a blackout) or past."""
    now = now or timezone.now()
    spans = bookable_minutes(sp, day)
    busy, closed = _day_rows([sp.pk], day)
    out = Day(space=sp, day=day, spans=spans)
    if not spans:
        return out
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    step = sp.slot_minutes
    m = first - first % step
    while m < last:
        s, e = local_moment(day, m), local_moment(day, m + step)
        if not any(a <= m and m + step <= b for a, b in spans):
            state, title = "closed", ""
        elif any(a < e and s < z for a, z in closed[sp.pk]):
            state, title = "closed", ""
        else:
            hit = next((b for a, z, b in busy[sp.pk] if a < e and s < z), None)
            if hit is not None:
                state, title = "busy", (hit.title if hit.public else "")
            elif s < now:
                state, title = "past", ""
            else:
                state, title = "free", ""
        out.slots.append(Slot(s, e, state, title))
        m += step
    return out


# --------------------------------------------------------------------------------------------
# Free-slot search: "a room for 20 with a projector, Thursday afternoon, near me"
# --------------------------------------------------------------------------------------------


@dataclass
class Found:
    space: Space
    starts: list[datetime]
    distance_m: int | None = None


def _minutes_of(day_start: datetime, a: datetime, z: datetime) -> tuple[int, int]:
    """[a, z) as minutes from the day's local midnight (floor, ceil), clipped to the day."""
    lo = max(0, int((a - day_start).total_seconds() // 60))
    hi = min(1440, -int(-(z - day_start).total_seconds() // 60))
    return lo, hi


def _frees(
    spans: list[tuple[int, int]],
    busy: list[tuple[int, int]],
    closed: list[tuple[int, int]],
    *,
    lo: int,
    hi: int,
    minutes: int,
    step: int,
    buffer: int,
    earliest: int,
    limit: int,
) -> list[int]:
    """Free start minutes: on the step, inside a bookable span and [lo, hi), the booking and
    its buffer clear of every holding booking (which carry their own buffer), the booking
    clear of closures. Integer minutes of one day: this runs for every candidate space."""
    out: list[int] = []
    for a, b in spans:
        m = max(a, lo, earliest)
        m += (-m) % step
        end = min(b, hi)
        while m + minutes <= end and len(out) < limit:
            e = m + minutes
            clash = next((z for x, z in busy if x < e + buffer and m < z), None)
            if clash is None:
                clash = next((z for x, z in closed if x < e and m < z), None)
            if clash is None:
                out.append(m)
                m += step
            else:
                m = max(m + step, clash + (-clash) % step)  # jump past what is in the way
    return out


def _day_of(
    part: list[tuple], day: date
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, list[tuple[int, int]]], dict]:
    """For candidate rows (…, space id, center id, …): the day's holding bookings and
    closures per space in minutes, and each center's opening spans that day."""
    ids = [c[1] for c in part]
    center_ids = {c[2] for c in part}
    midnight = local_moment(day, 0)
    end = local_moment(day, 1440)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, a, z in Booking.objects.filter(
        space_id__in=ids, status__in=HOLDING, starts_at__lt=end, blocked_until__gt=midnight
    ).values_list("space_id", "starts_at", "blocked_until"):
        busy[sid].append(_minutes_of(midnight, a, z))
    closed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, a, z in Blackout.objects.filter(
        space_id__in=ids, starts_at__lt=end, ends_at__gt=midnight
    ).values_list("space_id", "starts_at", "ends_at"):
        closed[sid].append(_minutes_of(midnight, a, z))
    hours = centers_hours(center_ids, day, day)
    return busy, closed, {cid: open_minutes(h, day) for cid, h in hours.items()}


def free_slots(
    *,
    day: date,
    minutes: int,
    from_minute: int = 0,
    to_minute: int = 1440,
    people: int = 1,
    equipment: Iterable[str] = (),
    kind: str = "",
    step_free: bool = False,
    center_id: int | None = None,
    region_code: str = "",
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int = 3000,
    now: datetime | None = None,
    limit: int = 20,
    per_space: int = 3,
) -> list[Found]:
    """Spaces with a free start on `day` between two times, for `minutes`, that hold
    `people` and have the equipment asked for, at a center, in a subdistrict or district, or
    within `radius_m` of a point (nearest first; precise locations only), otherwise earliest
    first. A fixed number of statements: the candidate spaces (plain rows), the day's
    bookings and closures of those, the centers' hours, and the spaces found."""
    from doorstep.centers.selectors import distance_m
    from doorstep.centers.vocab import Precision

    now = now or timezone.now()
    q = Space.objects.filter(
        BOOKABLE,
        active=True,
        capacity__gte=max(1, people),
        min_minutes__lte=minutes,
        max_minutes__gte=minutes,
    )
    if kind:
        q = q.filter(kind=kind)
    if step_free:
        q = q.filter(step_free=True)
    if center_id:
        q = q.filter(center_id=center_id)
    if region_code:
        q = q.filter(Q(center__district_id=region_code) | Q(center__subdistrict_id=region_code))
    point = lat is not None and lng is not None
    mask = equipment_mask(equipment)
    if mask:
        q = q.annotate(kit=F("equipment_bits").bitand(mask)).filter(kit=mask)
    fields = ("pk", "center_id", "slot_minutes", "buffer_minutes", "opens_minute", "closes_minute")
    rows: Any
    if point:
        assert lat is not None and lng is not None
        dlat = radius_m / 111_000
        k = max(0.2, math.cos(math.radians(lat)))
        dlng = dlat / k
        # Nearest first in SQL (equirectangular, exact enough inside a few km).
        near = q.filter(
            center__lat__range=(lat - dlat, lat + dlat),
            center__lng__range=(lng - dlng, lng + dlng),
            center__location_precision__in=(Precision.EXACT, Precision.STREET),
        ).annotate(
            d2=(F("center__lat") - lat) * (F("center__lat") - lat)
            + (F("center__lng") - lng) * (F("center__lng") - lng) * (k * k)
        )
        rows = near.order_by("d2", "pk").values_list(*fields, "center__lat", "center__lng")
    else:
        rows = q.order_by("pk").values_list(*fields, "center__lat", "center__lng")
    today = timezone.localtime(now).date()
    if day < today:
        return []
    earliest = 0
    if day == today:
        local_now = timezone.localtime(now)
        earliest = local_now.hour * 60 + local_now.minute + (1 if local_now.second else 0)
    hits: list[tuple[int, int, int, list[int]]] = []
    candidates = []
    for pk, cid, step, buffer, opens, closes, clat, clng in rows[:5000]:
        far = None
        if point:
            far = round(distance_m(lat, lng, clat, clng))  # type: ignore[arg-type]
            if far > radius_m:
                continue
        candidates.append((far or 0, pk, cid, step, buffer, opens, closes, far))
    # The day's bookings are read for a few spaces at a time, nearest first, in chunks that
    # double (32, 64, 128, ...): near a point the first chunk usually gives enough answers, and
    # a sparse one costs a few more statements, not one per space. A region's search reads
    # them all at once (its answers are ordered by time, not distance).
    n, size = 0, 32 if point else max(1, len(candidates))
    while n < len(candidates) and not (point and len(hits) >= limit):
        _search_page(
            candidates[n : n + size],
            day,
            hits,
            lo=from_minute,
            hi=to_minute,
            minutes=minutes,
            earliest=earliest,
            per_space=per_space,
        )
        n, size = n + size, size * 2
    hits.sort(key=lambda h: (h[0], h[1], h[2]))
    hits = hits[:limit]
    spaces = (
        Space.objects.select_related("center")
        .only(*SPACE_SHOWN, *(f"center__{n}" for n in CENTER_SHOWN))
        .in_bulk([h[2] for h in hits])
    )
    return [
        Found(spaces[pk], [local_moment(day, m) for m in starts], far if point else None)
        for far, _first, pk, starts in hits
    ]


# What a result shows of a space and its center (loaded for the page of results only).
SPACE_SHOWN = (
    "center",
    "name",
    "name_en",
    "kind",
    "capacity",
    "floor",
    "equipment",
    "step_free",
    "hearing_loop",
    "opens_minute",
    "closes_minute",
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "horizon_days",
    "buffer_minutes",
    "approval",
    "for_residents",
    "for_groups",
    "for_companies",
    "synthetic_details",
    "source",
)
CENTER_SHOWN = ("name", "name_en", "branch", "lat", "lng", "location_precision")


def _search_page(
    candidates: list[tuple],
    day: date,
    hits: list[tuple[int, int, int, list[int]]],
    *,
    lo: int,
    hi: int,
    minutes: int,
    earliest: int,
    per_space: int,
) -> None:
    """Add the candidates (…, nearest first) with a free start to `hits`."""
    busy, closed, spans_of = _day_of(candidates, day)
    for _far, pk, cid, step, buffer, opens, closes, far in sorted(candidates):
        starts = _frees(
            within(spans_of[cid], opens, closes),
            busy[pk],
            closed[pk],
            lo=lo,
            hi=hi,
            minutes=minutes,
            step=step,
            buffer=buffer,
            earliest=earliest,
            limit=per_space,
        )
        if starts:
            hits.append((far if far is not None else 0, starts[0], pk, starts))


# --------------------------------------------------------------------------------------------
# Bookers and staff
# --------------------------------------------------------------------------------------------


def bookings_of(
    user: User, *, upcoming: bool = True, now: datetime | None = None
) -> QuerySet[Booking]:
    """The user's own bookings and those of organizations they belong to."""
    now = now or timezone.now()
    orgs = Membership.objects.filter(user=user).values("organization_id")
    q = Booking.objects.filter(Q(user=user) | Q(organization_id__in=orgs)).select_related(
        "space", "space__center", "organization"
    )
    if upcoming:
        return q.filter(ends_at__gt=now - timedelta(hours=12)).order_by("starts_at", "pk")
    return q.order_by("-starts_at", "-pk")


def booking_of(user: User, booking_id: int) -> Booking | None:
    return bookings_of(user, upcoming=False).filter(pk=booking_id).first()


def queue(staff: User) -> QuerySet[Booking]:
    from doorstep.accounts.scopes import managed_centers

    return (
        Booking.objects.filter(
            status=BookingStatus.PENDING, space__center__in=managed_centers(staff)
        )
        .select_related("space", "space__center", "organization", "user")
        .order_by("decide_by", "starts_at")
    )


def managed_spaces(staff: User, center_id: int | None = None) -> QuerySet[Space]:
    from doorstep.accounts.scopes import managed_centers

    q = Space.objects.filter(center__in=managed_centers(staff)).select_related("center")
    if center_id:
        q = q.filter(center_id=center_id)
    return q.order_by("center__name", "name")


def who_label(b: Booking) -> str:
    """The booker as staff see it: the organization, or the resident's masked phone."""
    if b.kind == BookingKind.ACTIVITY:
        return str(_("Activity"))
    if b.organization_id:
        return b.organization.name if b.organization else ""
    if b.user_id and b.user:
        return b.user.display_name or b.user.masked_phone or str(b.user)
    return ""


@dataclass
class BoardRow:
    space: Space
    cells: list[tuple[str, Booking | None, bool]]  # state, the booking starting here, first cell


def day_board(
    center_id: int, day: date, *, now: datetime | None = None
) -> tuple[list[int], list[BoardRow]]:
    """All the center's spaces × the day's hours (staff): each hour cell free, closed, or the
    booking in it."""
    now = now or timezone.now()
    spaces = list(Space.objects.filter(center_id=center_id).order_by("name"))
    hours = list(range(7, 23))
    busy, closed = _day_rows([s.pk for s in spaces], day)
    rows = []
    for sp in spaces:
        spans = bookable_minutes(sp, day)
        cells = []
        for h in hours:
            s, e = local_moment(day, h * 60), local_moment(day, h * 60 + 60)
            hit = next((b for a, z, b in busy[sp.pk] if b.starts_at < e and s < b.ends_at), None)
            if hit is not None:
                cells.append(
                    ("busy", hit, timezone.localtime(hit.starts_at).hour == h or s <= hit.starts_at)
                )
            elif any(a < e and s < z for a, z in closed[sp.pk]) or not any(
                a < h * 60 + 60 and h * 60 < b for a, b in spans
            ):
                cells.append(("closed", None, False))
            else:
                cells.append(("free", None, False))
        rows.append(BoardRow(sp, cells))
    ids = {b.user_id for r in rows for _s, b, _f in r.cells if b and b.user_id}
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    for r in rows:
        for _s, b, _f in r.cells:
            if b is not None and b.user_id:
                b.user = users.get(b.user_id)  # type: ignore[assignment]
    return hours, rows


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass
class SpaceFigures:
    space: Space
    bookable_hours: float = 0.0
    booked_hours: float = 0.0
    used_hours: float = 0.0
    no_shows: int = 0
    ended: int = 0  # resident and organization bookings whose time has come
    by_kind: dict[str, float] = field(default_factory=dict)

    @property
    def utilisation(self) -> float | None:
        return self.booked_hours / self.bookable_hours if self.bookable_hours else None

    @property
    def used_share(self) -> float | None:
        return self.used_hours / self.bookable_hours if self.bookable_hours else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.ended if self.ended else None


GRANTED = (*HOLDING, BookingStatus.NO_SHOW)


def figures(
    spaces: Sequence[Space], first: date, last: date, *, now: datetime | None = None
) -> tuple[list[SpaceFigures], list[float]]:
    """Per space over [first, last]: bookable hours (its window inside the center's hours,
    minus blackouts), booked hours (bookings granted, activities included, no-shows too),
    used hours (checked in, and activities), no-show rate, hours by kind of booker; and the
    booked hours by hour of day over all the spaces (peak hours)."""
    now = now or timezone.now()
    lo, hi = local_moment(first, 0), local_moment(last + timedelta(days=1), 0)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    out = {s.pk: SpaceFigures(s) for s in spaces}
    opening = centers_hours({s.center_id for s in spaces}, first, last)
    blackouts: dict[int, list] = defaultdict(list)
    for sid, b_from, b_until in Blackout.objects.filter(
        space_id__in=out, starts_at__lt=hi, ends_at__gt=lo
    ).values_list("space_id", "starts_at", "ends_at"):
        blackouts[sid].append((b_from, b_until))
    for sp in spaces:
        f = out[sp.pk]
        minutes = 0.0
        for d in days:
            for m0, m1 in bookable_minutes(sp, d, opening[sp.center_id]):
                t0, t1 = local_moment(d, m0), local_moment(d, m1)
                cut = sum(
                    max(0.0, (min(t1, z) - max(t0, x)).total_seconds() / 60)
                    for x, z in blackouts[sp.pk]
                )
                minutes += (m1 - m0) - cut
        f.bookable_hours = minutes / 60
    peak = [0.0] * 24
    rows = Booking.objects.filter(
        space_id__in=out, status__in=GRANTED, starts_at__lt=hi, ends_at__gt=lo
    ).values_list("space_id", "starts_at", "ends_at", "status", "kind", "organization__kind")
    for sid, s, e, status, kind, org_kind in rows:
        f = out[sid]
        s, e = max(s, lo), min(e, hi)
        hours = (e - s).total_seconds() / 3600
        f.booked_hours += hours
        # Who uses the space: residents, groups, companies, staff, activities.
        who = ("company" if org_kind == "company" else "group") if org_kind else kind
        f.by_kind[who] = f.by_kind.get(who, 0.0) + hours
        if status == BookingStatus.CHECKED_IN or (kind == BookingKind.ACTIVITY and e <= now):
            f.used_hours += hours
        if kind in (BookingKind.RESIDENT, BookingKind.ORGANIZATION) and s <= now:
            f.ended += 1
            if status == BookingStatus.NO_SHOW:
                f.no_shows += 1
        t = timezone.localtime(s)
        end = timezone.localtime(e)
        while t < end:
            nxt = min(end, (t + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0))
            peak[t.hour] += (nxt - t).total_seconds() / 3600
            t = nxt
    return list(out.values()), peak
