"""Resident pages of the deliberation hall: topic list, a topic's page, proposing, supporting,
following, commenting, reporting, rating; photos are served here after a check.

Views parse input, call one service or selector, render. A DeliberationError becomes a message
on the page (with a 4xx status when the page is re-rendered); only a bug is a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.accounts.models import User
from doorstep.centers.models import Center, Region
from doorstep.centers.selectors import pick_center
from doorstep.core.errors import DoorstepError

from . import selectors, services
from .models import DESCRIPTION_MAX, TITLE_MAX, Category, Photo, Status
from .selectors import COMMENT_WEIGHT, HOT_DAYS, HOT_DECAY, TopicFilters

PAGE_SIZE = 20


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(raw: str | None) -> int | None:
    try:
        value = int((raw or "").strip())
    except ValueError:
        return None
    return value if 0 < value < 2**62 else None


def _back(topic_id: int, anchor: str = "") -> HttpResponse:
    url = reverse("deliberation:detail", args=[topic_id])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_GET
def topic_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    sort = g.get("sort", "hot") if g.get("sort", "hot") in selectors.SORTS else "hot"
    status = g.get("status", "") if g.get("status", "") in Status.values else ""
    center_id = _int(g.get("center"))
    page = min(_int(g.get("page")) or 1, 1000)
    total, items = selectors.topics(
        TopicFilters(
            sort=sort,
            status=status,
            center_id=center_id,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    )
    center = Center.objects.filter(pk=center_id).first() if center_id else None
    query = g.copy()
    query.pop("page", None)
    return render(
        request,
        "deliberation/list.html",
        {
            "items": items,
            "total": total,
            "sort": sort,
            "status": status,
            "statuses": [s for s in Status.choices if s[0] != Status.MERGED],
            "center": center,
            "page_number": page,
            "has_next": page * PAGE_SIZE < total,
            "querystring_without_page": query.urlencode(),
            "hot_days": HOT_DAYS,
            "hot_decay": HOT_DECAY,
            "comment_weight": COMMENT_WEIGHT,
            "any_synthetic": any(t.is_synthetic for t in items),
        },
    )


@require_GET
def topic_detail(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = request.user if isinstance(request.user, User) else None
    try:
        page = selectors.topic_page(topic_id, user=user)
    except DoorstepError:
        raise Http404 from None
    can_manage = user is not None and services.can_manage_topic(user, page.topic)
    from doorstep.meals.selectors import MEAL_OUTCOME_CODES, centers_with_canteens

    # A topic that produced a canteen or a meal service links to that center's menus.
    meal_centers = centers_with_canteens(
        [o.center_id for o in page.outcomes if o.center_id and o.code in MEAL_OUTCOME_CODES]
    )
    return render(
        request,
        "deliberation/detail.html",
        {
            "p": page,
            "topic": page.topic,
            "can_manage": can_manage,
            "scores": range(1, 6),
            "meal_centers": meal_centers,
            "meal_codes": MEAL_OUTCOME_CODES,
        },
    )


def _place_choices(*, selected: int | None) -> dict[str, Any]:
    """Centers and communities for the propose form (cached: they rarely change). The center
    a resident came from (?center=) is always among them, even in a city of 12,600."""
    choices = cache.get("deliberation:place_choices")
    if choices is None:
        subdistricts: dict[str, list[tuple[str, str]]] = {}
        for code, name, district in (
            Region.objects.filter(level="subdistrict")
            .order_by("parent__code", "name")
            .values_list("code", "name", "parent__name")
        ):
            subdistricts.setdefault(district or "", []).append((code, name))
        choices = {"communities": list(subdistricts.items())}
        cache.set("deliberation:place_choices", choices, 300)
    # The center is picked by type-ahead over the directory (12,600 of them): only the one
    # already chosen is needed here.
    picked = Center.objects.filter(pk=selected).first() if selected else None
    return {**choices, "picked_center": picked}


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    values: dict[str, Any] = {
        "title": "",
        "description": "",
        "category": "",
        "center": _int(request.GET.get("center")),
        "region": request.GET.get("region", "")[:12],
    }
    error = None
    field = ""
    status = 200
    if request.method == "POST":
        p = request.POST
        values = {
            "title": p.get("title", ""),
            "description": p.get("description", ""),
            "category": p.get("category", ""),
            "center": _int(p.get("center")),
            "region": p.get("region", "")[:12],
        }
        if values["center"] is None and p.get("center_q", "").strip():
            # Typed into the picker without choosing (no JavaScript): the best match.
            picked = pick_center("", p.get("center_q", ""))
            values["center"] = picked.pk if picked else None
        try:
            topic = services.propose(
                user=_account(request),
                title=values["title"],
                description=values["description"],
                category=values["category"],
                center_id=values["center"],
                region_code=None if values["center"] else values["region"] or None,
                photos=request.FILES.getlist("photos"),
            )
        except DoorstepError as exc:
            error, field, status = str(exc.message), exc.extra.get("field", ""), exc.status
        else:
            messages.success(request, _("Your topic is collected. Others can now support it."))
            return redirect("deliberation:detail", topic.pk)
    return render(
        request,
        "deliberation/propose.html",
        {
            "v": values,
            "error": error,
            "error_field": field,
            "categories": Category.choices,
            "title_max": TITLE_MAX,
            "description_max": DESCRIPTION_MAX,
            "max_photos": services.MAX_PHOTOS,
            **_place_choices(selected=values["center"]),
        },
        status=status,
    )


def _act(request: HttpRequest, topic_id: int, anchor: str, action: Any) -> HttpResponse:
    """Run one resident action; its message (or error) shows on the topic's page."""
    try:
        message = action()
    except DoorstepError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    else:
        if message:
            messages.success(request, message)
    return _back(topic_id, anchor)


@login_required
@require_POST
def support(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = _account(request)

    def go() -> str:
        if request.POST.get("withdraw"):
            services.withdraw_support(topic_id=topic_id, user=user)
            return _("Your support is withdrawn.")
        services.support(topic_id=topic_id, user=user)
        return _("Thank you: your support is counted.")

    return _act(request, topic_id, "actions", go)


@login_required
@require_POST
def follow(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = _account(request)

    def go() -> str:
        if request.POST.get("stop"):
            services.unfollow(topic_id=topic_id, user=user)
            return _("You no longer follow this topic.")
        services.follow(topic_id=topic_id, user=user)
        return _("You follow this topic: every step will reach your inbox.")

    return _act(request, topic_id, "actions", go)


@login_required
@require_POST
def comment(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = _account(request)

    def go() -> str:
        services.comment(topic_id=topic_id, user=user, text=request.POST.get("text", ""))
        return _("Your comment is posted.")

    return _act(request, topic_id, "comments", go)


@login_required
@require_POST
def report(request: HttpRequest, topic_id: int, comment_id: int) -> HttpResponse:
    user = _account(request)

    def go() -> str:
        services.report_comment(
            comment_id=comment_id, user=user, reason=request.POST.get("reason", "")
        )
        return _("Thank you: staff will look at this comment.")

    return _act(request, topic_id, "comments", go)


@login_required
@require_POST
def rate(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = _account(request)

    def go() -> str:
        score = _int(request.POST.get("score"))
        services.rate(topic_id=topic_id, user=user, score=score or 0)
        return _("Thank you for rating the result.")

    return _act(request, topic_id, "evaluation", go)


@require_GET
def photo(request: HttpRequest, topic_id: int, photo_id: int) -> HttpResponse:
    item = Photo.objects.filter(pk=photo_id, topic_id=topic_id).first()
    if item is None or not item.file:
        raise Http404
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
