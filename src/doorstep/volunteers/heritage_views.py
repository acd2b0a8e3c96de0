"""Red heritage pages: the map of sites and centers (district, open now, an explainer today)
with the walking lessons coming up, a site's page, a walking lesson's page (the route on the
map, the stops with what the guide tells, my stamps), and the staff's lesson form."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.models import Region
from doorstep.core.errors import DoorstepError
from doorstep.heritage.models import HeritageSite
from doorstep.visits import selectors as visits
from doorstep.visits.models import Route, RouteStop
from doorstep.visits.services import can_manage_site

from . import selectors, services
from .models import Clearance, Role, WalkingLesson

# The article: 黄浦区党建服务中心's digital map "集中展示了黄浦区100余处红色遗址遗迹".
ARTICLE_COUNT_DISTRICT = "黄浦区"


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def heritage_map(request: HttpRequest) -> HttpResponse:
    g = request.GET
    district = (g.get("district") or "")[:12]
    if district and not Region.objects.filter(pk=district, level="district").exists():
        district = ""  # an unknown district is no filter, not an error page
    now = timezone.now()
    places = selectors.heritage_map(
        district=district,
        open_now=g.get("open") == "1",
        explainer_today=g.get("explainer") == "1",
        now=now,
    )
    points = [
        {
            "id": p.id,
            "order": i,
            "name": p.name,
            "lat": p.lat,
            "lng": p.lng,
            "url": p.url,
            "kind": p.kind,
        }
        for i, p in enumerate(places, start=1)
    ]
    return render(
        request,
        "volunteers/heritage_map.html",
        {
            "places": places,
            "points": points,
            "districts": Region.objects.filter(level="district").order_by("code"),
            "district": district,
            "open": g.get("open") == "1",
            "explainer": g.get("explainer") == "1",
            "lessons": selectors.upcoming_lessons(now),
            "sites_listed": HeritageSite.objects.filter(
                district__name=ARTICLE_COUNT_DISTRICT
            ).count(),
        },
    )


def site(request: HttpRequest, site_id: int) -> HttpResponse:
    place = HeritageSite.objects.select_related("district").filter(pk=site_id).first()
    if place is None:
        raise Http404
    user = _user(request)
    routes = Route.objects.filter(
        public=True, pk__in=RouteStop.objects.filter(site=place).values("route_id")
    )
    return render(
        request,
        "volunteers/site.html",
        {
            "site": place,
            "routes": routes,
            "stamped": bool(user and visits.stamped_site_ids(user, [place.pk])),
            "can_print": bool(user and can_manage_site(user, place)),
        },
    )


def lesson(request: HttpRequest, lesson_id: int) -> HttpResponse:
    item = (
        WalkingLesson.objects.select_related("activity__center", "route", "guide")
        .filter(pk=lesson_id)
        .first()
    )
    if item is None or item.activity.status != "published":
        raise Http404
    stops = visits.stop_views(_user(request), visits.route_stops(item.route))
    points = [s.point() for s in stops]
    return render(
        request,
        "volunteers/lesson.html",
        {
            "lesson": item,
            "stops": [(s, item.notes.get(str(s.order), "")) for s in stops],
            "points": points,
            "signed_in": _user(request) is not None,
            "stamped": sum(s.stamped for s in stops),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def lesson_form(request: HttpRequest) -> HttpResponse:
    """Make one of my center's activities a walking lesson along a route."""
    from doorstep.activities.models import Activity

    user = request.user
    assert isinstance(user, User)
    centers = managed_centers(user)
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        route_id = int(p.get("route") or 0) if (p.get("route") or "").isdigit() else 0
        notes: dict[int, str] = {}
        for line in (p.get("notes") or "").splitlines():
            head, sep, text = line.partition(":")
            if sep and head.strip().isdigit():
                notes[int(head.strip())] = text.strip()
        try:
            made = services.make_lesson(
                by=user,
                activity_id=int(p.get("activity") or 0)
                if (p.get("activity") or "").isdigit()
                else 0,
                route_id=route_id,
                guide_id=int(p["guide"]) if (p.get("guide") or "").isdigit() else None,
                notes=notes,
            )
            messages.success(request, _("The activity is a walking lesson now."))
            return redirect("volunteers:lesson", made.pk)
        except DoorstepError as e:
            errors.append(str(e.message))
    activities = Activity.objects.filter(center__in=centers, starts_at__gt=timezone.now()).order_by(
        "starts_at"
    )[:100]
    guides = User.objects.filter(
        pk__in=Clearance.objects.filter(center__in=centers, role=Role.EXPLAINER).values("user_id")
    )
    return render(
        request,
        "volunteers/lesson_form.html",
        {
            "activities": activities,
            "routes": Route.objects.filter(public=True).order_by("title")[:200],
            "guides": guides,
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )
