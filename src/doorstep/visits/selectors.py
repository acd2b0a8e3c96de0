"""Reads for visits, the service ledger and routes: scope-checked, a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.models import Center

from .models import Route, RouteStop, ServiceRecord, Visit
from .vocab import Channel, Group

# Visits that stamp a route: the resident's own check-ins, never a staff tally.
STAMPING_CHANNELS = [Channel.QR, Channel.ACTIVITY, Channel.API]


def managed_center(user: User, center_id: int | str | None) -> Center:
    """The center if `user` manages it; else 404, as if it did not exist."""
    try:
        pk = int(center_id or "")
    except ValueError:
        raise Http404 from None
    center = managed_centers(user).filter(pk=pk).first()
    if center is None:
        raise Http404
    return center


def tally_counts(center_id: int, day: date) -> dict[str, int]:
    """Today's visits at a center by group (every channel), plus the total."""
    rows = (
        Visit.objects.filter(center_id=center_id, day=day)
        .values("group")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {g: 0 for g in Group.values}
    for row in rows:
        counts[row["group"]] = row["n"]
    counts["total"] = sum(counts[g] for g in Group.values)
    return counts


def channel_counts(center_id: int, day: date) -> dict[str, int]:
    rows = (
        Visit.objects.filter(center_id=center_id, day=day)
        .values("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["channel"]: row["n"] for row in rows}


def last_tap(center_id: int, staff: User, day: date) -> Visit | None:
    return (
        Visit.objects.filter(center_id=center_id, day=day, channel=Channel.TALLY, recorded_by=staff)
        .order_by("-arrived_at", "-pk")
        .first()
    )


def services_on(center_id: int, day: date, limit: int = 100) -> list[ServiceRecord]:
    return list(
        ServiceRecord.objects.filter(center_id=center_id, day=day)
        .select_related("recorded_by")
        .order_by("-at", "-pk")[:limit]
    )


def service_totals(center_id: int, day: date) -> dict[str, int]:
    rows = (
        ServiceRecord.objects.filter(center_id=center_id, day=day)
        .values("service")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {row["service"]: row["n"] for row in rows}


def visible_routes(user: User | None) -> QuerySet[Route]:
    q = Q(public=True)
    if user is not None and user.is_authenticated:
        q |= Q(created_by=user)
    return (
        Route.objects.filter(q)
        .annotate(stop_count=Count("stops"))
        .order_by("source", "external_key", "pk")
    )


def get_route(route_id: int, user: User | None) -> Route:
    route = visible_routes(user).filter(pk=route_id).first()
    if route is None:
        raise Http404
    return route


def route_stops(route: Route) -> list[RouteStop]:
    return list(route.stops.select_related("center", "center__district", "site").order_by("order"))


@dataclass
class StopView:
    """One stop as pages, the API and the map show it: a center or a heritage site."""

    order: int
    kind: str  # "center" or "site"
    id: int
    name: str
    lat: float
    lng: float
    precise: bool
    url: str
    stamped: bool

    def point(self) -> dict[str, object]:
        """The stop for the map's script."""
        return {
            "id": self.id,
            "order": self.order,
            "name": self.name,
            "lat": self.lat,
            "lng": self.lng,
            "url": self.url,
            "stamped": self.stamped,
        }


def stop_views(user: User | None, stops: list[RouteStop]) -> list[StopView]:
    centers = stamped_center_ids(user, [s.center_id for s in stops if s.center_id])
    sites = stamped_site_ids(user, [s.site_id for s in stops if s.site_id])
    out = []
    for s in stops:
        if s.site_id and s.site is not None:
            out.append(
                StopView(
                    s.order,
                    "site",
                    s.site_id,
                    s.site.local_name,
                    s.site.lat,
                    s.site.lng,
                    s.site.precise,
                    f"/heritage/sites/{s.site_id}/",
                    s.site_id in sites,
                )
            )
        elif s.center is not None:
            out.append(
                StopView(
                    s.order,
                    "center",
                    s.center.pk,
                    s.center.name,
                    s.center.lat,
                    s.center.lng,
                    s.center.precise,
                    f"/centers/{s.center.pk}/",
                    s.center.pk in centers,
                )
            )
    return out


def stamped_site_ids(user: User | None, site_ids: list[int]) -> set[int]:
    if user is None or not user.is_authenticated or not site_ids:
        return set()
    from .models import SiteStamp

    return set(
        SiteStamp.objects.filter(user=user, site_id__in=site_ids).values_list("site_id", flat=True)
    )


def stamped_center_ids(user: User | None, center_ids: list[int]) -> set[int]:
    """Stops of a route this account has visited (any real visit, ever: docs/visits.md)."""
    if user is None or not user.is_authenticated or not center_ids:
        return set()
    return set(
        Visit.objects.filter(user=user, center_id__in=center_ids, channel__in=STAMPING_CHANNELS)
        .values_list("center_id", flat=True)
        .distinct()
    )


@dataclass
class Progress:
    stamped: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.stamped >= self.total


def progress_by_route(user: User | None, routes: list[Route]) -> dict[int, Progress]:
    """Stamps per route for the list page, in two queries whatever the number of routes."""
    stops = list(
        RouteStop.objects.filter(route__in=routes).values_list("route_id", "center_id", "site_id")
    )
    visited = stamped_center_ids(user, list({c for _r, c, _s in stops if c}))
    sites = stamped_site_ids(user, list({s for _r, _c, s in stops if s}))
    out = {r.pk: Progress(0, 0) for r in routes}
    for route_id, center_id, site_id in stops:
        out[route_id].total += 1
        if (center_id and center_id in visited) or (site_id and site_id in sites):
            out[route_id].stamped += 1
    return out
