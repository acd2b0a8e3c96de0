"""Writes for visits (打卡), the service ledger and routes. See docs/visits.md.

The check-in is the hot path: verify the poster's code in memory, then one transaction with
two statements — an upsert of the (center, visitor) guard row that succeeds only when the
previous counted visit's window has passed, and the visit's INSERT. Two scans racing each
other serialise on the guard row, so exactly one counts, on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center, OpeningHours
from doorstep.core import audit, limits
from doorstep.core.commits import CommitGroup
from doorstep.core.errors import DoorstepError

from . import codes, partitions, signals
from .models import Route, RouteSource, RouteStop, ServiceRecord, Visit, VisitGuard
from .vocab import Channel, Group, Service, ServiceSource

TALLY_UNDO_SECONDS = 60
MAX_SERVICE_COUNT = 10000


class VisitError(DoorstepError):
    """A visit, service record or route that cannot be written (stable `code`s in the docs)."""


def dedupe_window() -> timedelta:
    return timedelta(minutes=getattr(settings, "VISIT_DEDUPE_MINUTES", 120))


def default_dwell() -> timedelta:
    return timedelta(minutes=getattr(settings, "VISIT_DEFAULT_DWELL_MINUTES", 120))


def _center_exists(center_id: int) -> bool:
    # Centers are hardly ever deleted: a minute's cache spares the hot path a query.
    key = f"visits:center:{center_id}"
    known = cache.get(key)
    if known is None:
        known = Center.objects.filter(pk=center_id).exists()
        cache.set(key, known, 60)
    return bool(known)


def check_code(*, center_id: int, code: str, now: datetime) -> None:
    state = codes.code_state(center_id, code, now)
    if state == "expired":
        raise VisitError(
            _(
                "This QR code is from an earlier day. Please scan the poster at the center's "
                "door: its code changes every day."
            ),
            code="code_expired",
        )
    if state != "valid":
        raise VisitError(
            _("This QR code is not valid for this center. Please scan the poster at the door."),
            code="code_invalid",
        )
    if not _center_exists(center_id):
        raise VisitError(_("No such center."), code="not_found", status=404)


@dataclass
class VisitResult:
    visit: Visit | None
    counted: bool  # False: a repeated scan inside the window, answered with the first visit


def _visitor(user: User | None, device: str) -> str:
    if user is not None:
        return f"u{user.pk}"
    return f"d{device}"


def _take_guard(center_id: int, visitor: str, now: datetime) -> bool:
    """True when this scan counts: the guard row was created or its window had passed."""
    table = VisitGuard._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (center_id, visitor, until) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (center_id, visitor) DO UPDATE SET until = excluded.until "
            f"WHERE {table}.until <= %s RETURNING id",
            [center_id, visitor, adapt(now + dedupe_window()), adapt(now)],
        )
        return cur.fetchone() is not None


def _count_in_one_statement(visitor: str, fields: dict, now: datetime) -> Visit | None:
    """PostgreSQL: the guard upsert feeds the visit's INSERT in one statement (one round trip,
    atomic by itself); no row comes back when the scan repeats a counted one."""
    guard, table = VisitGuard._meta.db_table, Visit._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"WITH g AS (INSERT INTO {guard} (center_id, visitor, until) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT (center_id, visitor) DO UPDATE "
            f"SET until = excluded.until WHERE {guard}.until <= %s RETURNING 1) "
            f'INSERT INTO {table} (center_id, user_id, device, "group", channel, arrived_at, '
            f"day, left_at, left_estimated, activity_checkin_id, recorded_by_id, synthetic, "
            f"suspect, updated_at) "
            f"SELECT %s, %s, %s, %s, %s, %s, %s, NULL, false, NULL, NULL, false, %s, %s "
            f"FROM g RETURNING id",
            [
                fields["center_id"],
                visitor,
                now + dedupe_window(),
                now,
                fields["center_id"],
                fields["user_id"],
                fields["device"],
                fields["group"],
                fields["channel"],
                now,
                fields["day"],
                fields["suspect"],
                now,
            ],
        )
        row = cur.fetchone()
    if row is None:
        return None
    visit = Visit(pk=row[0], updated_at=now, **fields)
    visit._state.adding = False
    visit._state.db = connection.alias
    return visit


def _anonymous_limits(center_id: int, device: str, ip: str | None) -> bool:
    """Count an anonymous scan against its device and its network at this center; refuse
    a device or network past its hourly limit. True when the scan is part of a burst from one
    network (more than VISIT_SUSPECT_PER_HOUR), so it is kept but marked suspect."""
    counted = [
        limits.Limit("visits.device", f"{center_id}:{device}", setting("VISIT_DEVICE_PER_HOUR"))
    ]
    network = limits.network_of(ip)
    if network is not None:
        counted.append(
            limits.Limit(
                "visits.network", f"{center_id}:{network}", setting("VISIT_NETWORK_PER_HOUR")
            )
        )
    per_device, *rest = limits.hit(*counted)  # one round trip for both
    from_network = rest[0] if rest else None
    if per_device.exceeded:
        raise VisitError(
            _("This phone has scanned here many times in the last hour; please try later."),
            code="rate_limited",
            status=429,
            retry_after=per_device.retry_after,
        )
    if from_network is None:
        return False
    if from_network.exceeded:
        raise VisitError(
            _(
                "Too many check-ins from this network at this center in the last hour. "
                "Please sign in to check in, or ask the staff at the desk."
            ),
            code="rate_limited",
            status=429,
            retry_after=from_network.retry_after,
        )
    return from_network.count > setting("VISIT_SUSPECT_PER_HOUR")


def setting(name: str) -> int:
    return int(getattr(settings, name))


def check_in(
    *,
    center_id: int,
    code: str,
    user: User | None = None,
    device: str = "",
    group: str = Group.UNKNOWN,
    channel: str = Channel.QR,
    ip: str | None = None,
    now: datetime | None = None,
) -> VisitResult:
    """Record a walk-in from a poster scan. `device` is already a codes.device_hash().

    An anonymous scan counts against its device and its network (`ip`) at this center: past
    the hourly limits it is refused, and a burst from one network is stored as `suspect`.
    """
    now = now or timezone.now()
    check_code(center_id=center_id, code=code, now=now)
    if user is None and len(device) != 32:
        raise VisitError(_("Please allow cookies, or sign in, to check in."), code="no_visitor")
    if group not in Group.values:
        raise VisitError(_("Unknown visitor group."), code="invalid_group")
    suspect = user is None and _anonymous_limits(center_id, device, ip)
    visitor = _visitor(user, device)
    fields = {
        "center_id": center_id,
        "user_id": user.pk if user is not None else None,
        "device": "" if user is not None else device,
        "group": group,
        "channel": channel,
        "arrived_at": now,
        "day": timezone.localdate(now),
        "suspect": suspect,
    }
    visit = WALK_INS.run(
        lambda: _count(visitor, fields, now, grouped=True),
        lambda: _count(visitor, fields, now),
    )
    if visit is not None:
        return VisitResult(visit=visit, counted=True)
    return VisitResult(visit=latest_visit(center_id, user, device), counted=False)


# Walk-ins of this process that arrive at once share one commit (core/commits.py): a Monday
# morning's queue at the door scanning the poster is many small independent INSERTs.
WALK_INS: CommitGroup[Visit | None] = CommitGroup("walk-ins")


def _count(visitor: str, fields: dict, now: datetime, *, grouped: bool = False) -> Visit | None:
    """The visit, unless the visitor was counted here within the dedupe window (None).
    Alone: its own transaction (PostgreSQL: one autocommit statement); `grouped`: inside the
    commit group's transaction."""
    if connection.vendor == "postgresql":
        return _count_in_one_statement(visitor, fields, now)
    with transaction.atomic(savepoint=not grouped):
        if _take_guard(fields["center_id"], visitor, now):
            return Visit.objects.create(**fields)
    return None


def latest_visit(center_id: int, user: User | None, device: str) -> Visit | None:
    qs = Visit.objects.filter(center_id=center_id)
    qs = qs.filter(user=user) if user is not None else qs.filter(device=device, user=None)
    return qs.exclude(channel=Channel.TALLY).order_by("-arrived_at").first()


def _own_visit(visit_id: int, user: User | None, device: str) -> Visit:
    visit = Visit.objects.filter(pk=visit_id).first()
    mine = visit is not None and (
        (user is not None and visit.user_id == user.pk)
        or (visit.user_id is None and device and visit.device == device)
    )
    if not mine or visit is None:
        raise VisitError(_("No such visit."), code="not_found", status=404)
    return visit


@transaction.atomic
def check_out(
    *, visit_id: int, user: User | None = None, device: str = "", now: datetime | None = None
) -> Visit:
    """ "I'm leaving": records the leaving time once; a repeat changes nothing."""
    now = now or timezone.now()
    visit = _own_visit(visit_id, user, device)
    if visit.left_at is not None:
        return visit
    Visit.objects.filter(pk=visit.pk, left_at__isnull=True).update(
        left_at=max(now, visit.arrived_at), left_estimated=False, updated_at=now
    )
    visit.refresh_from_db()
    return visit


def _closing_minutes(center_ids: set[int]) -> dict[tuple[int, int], list[tuple[int, int]]]:
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    rows = OpeningHours.objects.filter(center_id__in=center_ids).values_list(
        "center_id", "weekday", "open_minute", "close_minute"
    )
    for center_id, weekday, open_m, close_m in rows:
        out.setdefault((center_id, weekday), []).append((open_m, close_m))
    return out


def estimated_leaving(
    arrived_at: datetime, hours: list[tuple[int, int]] | None, dwell: timedelta
) -> datetime:
    """Arrival + default dwell, or that day's closing time if it comes first (and later)."""
    estimate = arrived_at + dwell
    if not hours:
        return estimate
    local = timezone.localtime(arrived_at)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minute = local.hour * 60 + local.minute
    closes = [c for o, c in hours if o <= minute < c]
    if closes:
        closing = midnight + timedelta(minutes=closes[0])
        if arrived_at < closing < estimate:
            return closing
    return estimate


def close_open_visits(
    *, now: datetime | None = None, center_id: int | None = None, batch: int = 2000
) -> int:
    """Close visits still open `VISIT_DEFAULT_DWELL_MINUTES` after arrival (estimated).

    Run by `doorstep worker` for every center, and lazily by the staff tally page for its
    center; idempotent.
    """
    now = now or timezone.now()
    dwell = default_dwell()
    closed = 0
    open_visits = Visit.objects.filter(left_at__isnull=True, arrived_at__lte=now - dwell)
    if center_id is not None:
        open_visits = open_visits.filter(center_id=center_id)
    while True:
        rows = list(
            open_visits.order_by("arrived_at").values_list("pk", "center_id", "arrived_at")[:batch]
        )
        if not rows:
            return closed
        hours = _closing_minutes({c for _pk, c, _a in rows})
        with transaction.atomic():
            for pk, center_id, arrived in rows:
                weekday = timezone.localtime(arrived).weekday()
                left = estimated_leaving(arrived, hours.get((center_id, weekday)), dwell)
                closed += Visit.objects.filter(pk=pk, left_at__isnull=True).update(
                    left_at=left, left_estimated=True, updated_at=now
                )
        if len(rows) < batch:
            return closed


def prune_guards(*, now: datetime | None = None) -> int:
    """Guard rows whose window has passed say nothing any more."""
    now = now or timezone.now()
    deleted, _by_model = VisitGuard.objects.filter(until__lt=now).delete()
    return deleted


_partitions_checked = [0.0]


def run_due_work(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    done = {
        "visits_closed": close_open_visits(now=now),
        "visit_guards_pruned": prune_guards(now=now),
    }
    # Next months' partitions (PostgreSQL), looked at once an hour by each worker process.
    if time.monotonic() - _partitions_checked[0] > 3600:
        done["visit_partitions_made"] = partitions.ensure(timezone.localdate(now))
        _partitions_checked[0] = time.monotonic()
    return done


# Activity check-ins ---------------------------------------------------------------------------


def record_activity_visit(*, checkin_id: int) -> Visit | None:
    """An accepted activity check-in is a visit too (called inside the check-in transaction).

    Idempotent: the visit is linked one-to-one to the check-in row.
    """
    from doorstep.activities.models import CheckIn

    existing = Visit.objects.filter(activity_checkin_id=checkin_id).first()
    if existing is not None:
        return existing
    ci = (
        CheckIn.objects.select_related("registration__person", "activity")
        .filter(pk=checkin_id)
        .first()
    )
    if ci is None or ci.registration is None or ci.activity is None:
        return None
    reg = ci.registration
    at = reg.checked_in_at or ci.at
    return Visit.objects.create(
        center_id=ci.activity.center_id,
        user_id=reg.account_id,
        group=_group_of(reg.person.birth_year, at),
        channel=Channel.ACTIVITY,
        arrived_at=at,
        day=timezone.localdate(at),
        activity_checkin=ci,
        recorded_by_id=ci.staff_id,
    )


def _group_of(birth_year: int | None, at: datetime) -> str:
    if birth_year is None:
        return Group.UNKNOWN
    age = timezone.localtime(at).year - birth_year
    if age < 14:
        return Group.CHILD
    if age >= 60:
        return Group.ELDERLY
    return Group.ADULT


# Staff tally ----------------------------------------------------------------------------------


def _require_manager(staff: User, center_id: int) -> None:
    if not can_manage(staff, center_id):
        raise VisitError(_("No such center."), code="not_found", status=404)


@transaction.atomic
def tally(*, center_id: int, staff: User, group: str, now: datetime | None = None) -> Visit:
    """+1 anonymous walk-in of `group`, tapped by staff at the counter."""
    now = now or timezone.now()
    _require_manager(staff, center_id)
    if group not in Group.values or group == Group.UNKNOWN:
        raise VisitError(_("Unknown visitor group."), code="invalid_group")
    return Visit.objects.create(
        center_id=center_id,
        group=group,
        channel=Channel.TALLY,
        arrived_at=now,
        day=timezone.localdate(now),
        recorded_by=staff,
    )


@transaction.atomic
def undo_tally(*, visit_id: int, staff: User, now: datetime | None = None) -> None:
    """Take back a mistaken tap: only the staff member's own, within a minute."""
    now = now or timezone.now()
    visit = Visit.objects.filter(pk=visit_id, channel=Channel.TALLY, recorded_by=staff).first()
    if visit is None:
        raise VisitError(_("No such tap."), code="not_found", status=404)
    if now - visit.arrived_at > timedelta(seconds=TALLY_UNDO_SECONDS):
        raise VisitError(_("A tap can be undone only within a minute."), code="undo_expired")
    pair = (visit.center_id, visit.day)
    audit.record(
        actor=staff,
        action="visit.undo_tally",
        obj=visit,
        center_id=visit.center_id,
        changes={"group": visit.group, "arrived_at": visit.arrived_at},
        now=now,
    )
    visit.delete()
    # A deletion leaves no updated_at for the incremental refresh: recompute that day now.
    signals.records_deleted.send(sender=Visit, pairs=[pair])


# Service ledger ---------------------------------------------------------------------------------


def clean_count(raw: object) -> int:
    try:
        count = int(str(raw).strip())
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_SERVICE_COUNT:
        raise VisitError(
            _("The count must be a whole number from 1 to %(max)s.") % {"max": MAX_SERVICE_COUNT},
            code="invalid_count",
        )
    return count


def clean_service(raw: str) -> str:
    if raw not in Service.values:
        raise VisitError(_("Unknown service type."), code="invalid_service")
    return raw


@transaction.atomic
def record_service(
    *,
    center_id: int,
    staff: User,
    service: str,
    count: object = 1,
    resident: User | None = None,
    note: str = "",
    at: datetime | None = None,
    source: str = ServiceSource.QUICK,
) -> ServiceRecord:
    at = at or timezone.now()
    _require_manager(staff, center_id)
    service = clean_service(service)
    number = clean_count(count)
    note = (note or "").strip()
    if len(note) > 200:
        raise VisitError(_("The note can be at most 200 characters."), code="invalid_note")
    return ServiceRecord.objects.create(
        center_id=center_id,
        service=service,
        at=at,
        day=timezone.localdate(at),
        count=number,
        resident=resident,
        note=note,
        recorded_by=staff,
        source=source,
    )


def record_served_order(
    *, center_id: int, service: str, key: str, at: datetime, staff: User, resident: User | None
) -> None:
    """A served meal order or a counter sale (the meals app) as one ledger entry, once per
    `key` (in `import_key`, unique per center, day and service): marking an order served
    twice, or a correction to the other way of serving it, never counts it twice. Caller is
    atomic."""
    day = timezone.localdate(at)
    ServiceRecord.objects.filter(center_id=center_id, import_key=key).exclude(
        day=day, service=service
    ).delete()
    ServiceRecord.objects.get_or_create(
        center_id=center_id,
        day=day,
        service=clean_service(service),
        import_key=key,
        defaults={
            "at": at,
            "count": 1,
            "resident": resident,
            "recorded_by": staff,
            "source": ServiceSource.ORDER,
        },
    )


def forget_served_order(*, center_id: int, key: str) -> None:
    """An order corrected to not served (not at home, refused): its ledger entry goes."""
    pairs = list(
        ServiceRecord.objects.filter(center_id=center_id, import_key=key).values_list(
            "center_id", "day"
        )
    )
    if pairs:
        ServiceRecord.objects.filter(center_id=center_id, import_key=key).delete()
        signals.records_deleted.send(sender=Visit, pairs=pairs)


@transaction.atomic
def undo_service(*, record_id: int, staff: User, now: datetime | None = None) -> None:
    """Remove a mistaken entry made today by hand or API (imports are corrected by re-import)."""
    now = now or timezone.now()
    record = (
        ServiceRecord.objects.filter(
            pk=record_id, source__in=[ServiceSource.QUICK, ServiceSource.API]
        )
        .select_for_update()
        .first()
    )
    if record is None or not can_manage(staff, record.center_id):
        raise VisitError(_("No such entry."), code="not_found", status=404)
    if record.day != timezone.localdate(now):
        raise VisitError(_("Only today's entries can be undone."), code="undo_expired")
    pair = (record.center_id, record.day)
    audit.record(
        actor=staff,
        action="service.undo",
        obj=record,
        center_id=record.center_id,
        changes={"service": record.service, "count": record.count, "at": record.at},
        now=now,
    )
    record.delete()
    signals.records_deleted.send(sender=Visit, pairs=[pair])


# Routes ----------------------------------------------------------------------------------------


@dataclass
class RouteInput:
    """A route's text and its stops: `center_ids`, or `stops` mixing centers and heritage
    sites in walking order ("12" or "c12" is center 12, "s3" heritage site 3)."""

    title: str
    center_ids: list[int] = field(default_factory=list)
    title_en: str = ""
    story: str = ""
    story_en: str = ""
    theme: str = ""
    public: bool = True
    stops: list[str] = field(default_factory=list)


def stop_tokens(route: Route) -> list[str]:
    return [
        f"s{site}" if site else str(center)
        for center, site in route.stops.order_by("order").values_list("center_id", "site_id")
    ]


def _parse_stop(token: str) -> tuple[str, int]:
    token = token.strip().lower()
    kind, digits = ("s", token[1:]) if token.startswith("s") else ("c", token.lstrip("c"))
    if not digits.isdigit() or len(digits) > 9:
        raise VisitError(
            _("“%(t)s” is not a stop: give a center's number, or s and a site's number.")
            % {"t": token},
            code="invalid_stop",
        )
    return kind, int(digits)


def _clean_route(data: RouteInput) -> RouteInput:
    from doorstep.heritage.models import HeritageSite

    data.title = (data.title or "").strip()
    if not data.title or len(data.title) > 120:
        raise VisitError(_("Give the route a title of up to 120 characters."), code="invalid_title")
    tokens = data.stops or [str(int(c)) for c in data.center_ids]
    stops = list(dict.fromkeys(_parse_stop(t) for t in tokens))
    if len(stops) < 2:
        raise VisitError(_("A route needs at least two centers."), code="too_few_stops")
    if len(stops) > 30:
        raise VisitError(_("A route can have at most 30 centers."), code="too_many_stops")
    centers = [i for k, i in stops if k == "c"]
    sites = [i for k, i in stops if k == "s"]
    if Center.objects.filter(pk__in=centers).count() != len(centers):
        raise VisitError(_("One of the centers does not exist."), code="unknown_center")
    if HeritageSite.objects.filter(pk__in=sites).count() != len(sites):
        raise VisitError(_("One of the heritage sites does not exist."), code="unknown_site")
    data.stops = [f"s{i}" if k == "s" else str(i) for k, i in stops]
    data.center_ids = centers
    if len(data.story) > 4000:
        raise VisitError(_("The story can be at most 4,000 characters."), code="invalid_story")
    return data


def _set_stops(route: Route, stops: list[str]) -> None:
    route.stops.all().delete()
    RouteStop.objects.bulk_create(
        RouteStop(
            route=route,
            center_id=None if t.startswith("s") else int(t),
            site_id=int(t[1:]) if t.startswith("s") else None,
            order=i,
        )
        for i, t in enumerate(stops, start=1)
    )


ROUTE_FIELDS = ("title", "title_en", "story", "story_en", "theme", "public")


def can_edit_route(user: User, route: Route) -> bool:
    if route.source == RouteSource.ARTICLE:
        return user.is_superuser
    return user.is_superuser or route.created_by_id == user.pk


@transaction.atomic
def create_route(*, staff: User, data: RouteInput) -> Route:
    from doorstep.accounts.scopes import is_staff_member

    if not is_staff_member(staff):
        raise VisitError(_("Only center staff can create routes."), code="forbidden", status=403)
    data = _clean_route(data)
    route = Route.objects.create(
        title=data.title,
        title_en=data.title_en.strip(),
        story=data.story.strip(),
        story_en=data.story_en.strip(),
        theme=data.theme,
        public=data.public,
        source=RouteSource.STAFF,
        created_by=staff,
    )
    _set_stops(route, data.stops)
    audit.record(
        actor=staff,
        action="route.create",
        obj=route,
        changes=audit.diff({}, {**audit.snapshot(route, ROUTE_FIELDS), "stops": data.stops}),
    )
    return route


@transaction.atomic
def update_route(*, staff: User, route_id: int, data: RouteInput) -> Route:
    route = Route.objects.select_for_update().filter(pk=route_id).first()
    if route is None or not can_edit_route(staff, route):
        raise VisitError(_("No such route."), code="not_found", status=404)
    data = _clean_route(data)
    before = {
        **audit.snapshot(route, ROUTE_FIELDS),
        "stops": stop_tokens(route),
    }
    for name in ROUTE_FIELDS:
        value = getattr(data, name)
        setattr(route, name, value.strip() if isinstance(value, str) else value)
    route.save()
    _set_stops(route, data.stops)
    after = {**audit.snapshot(route, ROUTE_FIELDS), "stops": data.stops}
    audit.record(actor=staff, action="route.update", obj=route, changes=audit.diff(before, after))
    return route


# Heritage sites: a stamp for a site on a route ---------------------------------------------------


def can_manage_site(user: User, site: object) -> bool:
    """Staff of the site's district (its district's role, or any center's staff there) and
    the city: they print its poster."""
    from doorstep.accounts.models import StaffRole
    from doorstep.accounts.scopes import managed_centers

    district = getattr(site, "district_id", None)
    if not (user.is_authenticated and user.is_active) or district is None:
        return False
    if user.is_superuser:
        return True
    for role in user.staff_roles.all():
        if role.scope == StaffRole.Scope.CITY or role.region_id == district:
            return True
    return managed_centers(user).filter(district_id=district).exists()


@transaction.atomic
def stamp_site(
    *, user: User, site_id: int, code: str, now: datetime | None = None
) -> tuple[object, bool]:
    """A stamp at a heritage site from its poster's rotating code; a second scan the same or
    another day adds nothing (one stamp per person and site)."""
    from doorstep.heritage.models import HeritageSite

    from .models import SiteStamp

    now = now or timezone.now()
    site = HeritageSite.objects.filter(pk=site_id).first()
    if site is None:
        raise VisitError(_("No such site."), code="not_found", status=404)
    state = codes.code_state(codes.site_subject(site.pk), code, now)
    if state != "valid":
        raise VisitError(
            _("This poster code is out of date; scan the poster on site.")
            if state == "expired"
            else _("This is not a code of this site's poster."),
            code=f"code_{state}",
        )
    stamp, created = SiteStamp.objects.get_or_create(user=user, site=site, defaults={"at": now})
    return stamp, created
