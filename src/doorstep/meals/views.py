"""Meals pages: a center's menus and ordering (an elderly flow first: large text, one choice
at a time, the price told before anything is placed), my meals, and the back office's
production sheet, counter and delivery rounds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import Person, User
from doorstep.accounts.scopes import is_staff_member
from doorstep.centers.extensions import Section
from doorstep.centers.models import Center

from . import selectors, services
from .models import Mode, Order, PriceGroup
from .services import MealError


def kitchen_required(view):  # type: ignore[no-untyped-def]
    """Staff, or a caterer's account (the pages of the canteens it serves)."""
    from functools import wraps

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and not is_staff_member(user) and user.catered_canteens.exists():
            return view(request, *args, **kwargs)
        return staff_required(view)(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def center_section(request: HttpRequest, center: Center) -> Section | None:
    """The center page's canteen link, when the center has one with a menu this week."""
    today = timezone.localdate()
    days = selectors.menu_days(center.pk, today, today + timedelta(days=6))
    if not days:
        return None
    return Section(
        template="meals/partials/center_meals.html", context={"meal_days": days}, order=20
    )


def near(request: HttpRequest) -> HttpResponse:
    """Today's canteens, nearest first when the phone gave its position ("use my location")."""

    def point(name: str, bound: float) -> float | None:
        try:
            value = float(request.GET.get(name, ""))
        except ValueError:
            return None
        return value if -bound <= value <= bound else None

    lat, lng = point("lat", 90), point("lng", 180)
    if lat is None or lng is None:
        lat = lng = None
    today = timezone.localdate()
    return render(
        request,
        "meals/near.html",
        {
            "places": selectors.menus_near(today, lat=lat, lng=lng),
            "located": lat is not None,
            "now": timezone.now(),
        },
    )


def center_menus(request: HttpRequest, center_id: int) -> HttpResponse:
    center = Center.objects.filter(pk=center_id).first()
    if center is None:
        raise Http404
    today = timezone.localdate()
    week = selectors.menus_between(center.pk, today, today + timedelta(days=6))
    return render(
        request,
        "meals/center.html",
        {"center": center, "menus": week, "now": timezone.now(), "pay_online": _payments_on()},
    )


def _order_input(request: HttpRequest, menu: Any) -> dict[str, Any]:
    lines = []
    for item in menu.items.all():
        raw = request.POST.get(f"q{item.pk}", "").strip() or "0"  # left empty: none
        quantity = int(raw) if raw.isdigit() and len(raw) < 3 else -1
        if quantity < 0:
            raise MealError(_("Enter how many of each dish."), code="invalid_quantity")
        if quantity:
            lines.append((item.pk, quantity))
    person = request.POST.get("person", "")
    return {
        "person_id": int(person) if person.isdigit() and len(person) < 19 else 0,
        "lines": lines,
        "group": request.POST.get("group", PriceGroup.STANDARD),
        "mode": request.POST.get("mode", Mode.PICKUP),
    }


@login_required
@require_http_methods(["GET", "POST"])
def order(request: HttpRequest, menu_id: int) -> HttpResponse:
    """Choose who, which dishes, how; then a review with the amount to pay and how the
    delivery round stands; then confirm (one Idempotency-Key per form, so a double tap or a
    resend is one order)."""
    user = _user(request)
    menu = selectors.open_menu(menu_id)
    if menu is None:
        raise Http404
    people = list(Person.objects.filter(account=user))
    context: dict[str, Any] = {
        "menu": menu,
        "people": people,
        "groups": [(g, PriceGroup(g).label) for g in PriceGroup.values if g != PriceGroup.STAFF],
        "address": services.address_of(user),
        "key": request.POST.get("key") or uuid.uuid4().hex,
        "chosen": {},
    }
    status = 200
    raw = request.POST.get("change") or request.GET.get("change", "")
    changing = (
        Order.objects.filter(pk=int(raw), account=user, menu=menu, status="placed").first()
        if raw.isdigit() and len(raw) < 19
        else None
    )
    if changing is not None:
        context["changing"] = changing
        context["chosen"] = {line.item_id: line.quantity for line in changing.lines.all()} | {
            "person": changing.person_id,
            "group": changing.group,
            "mode": changing.mode,
        }
    if request.method == "POST":
        try:
            data = _order_input(request, menu)
            if changing is not None:
                data["person_id"] = changing.person_id
            context["chosen"] = dict(data["lines"]) | {
                "person": data["person_id"],
                "group": data["group"],
                "mode": data["mode"],
            }
            if request.POST.get("step") == "confirm":
                if changing is not None:
                    services.change_order(
                        order_id=changing.pk,
                        by=user,
                        lines=data["lines"],
                        group=data["group"],
                        mode=data["mode"],
                    )
                    messages.success(request, _("Your order is changed."))
                else:
                    services.place_order(
                        account=user, menu_id=menu.pk, idempotency_key=context["key"], **data
                    )
                    messages.success(request, _("Your meal is ordered."))
                return redirect("meals:mine")
            context["quote"] = services.quote(
                account=user,
                menu_id=menu.pk,
                changing=changing.pk if changing else None,
                **data,
            )
        except MealError as exc:
            context["page_errors"] = [str(exc.message)]
            status = 404 if exc.status == 404 else 400
    return render(request, "meals/order.html", context, status=status)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "meals/mine.html",
        {
            "orders": selectors.orders_of(user),
            "now": timezone.now(),
            "address": services.address_of(user),
            "pay_online": _payments_on(),
        },
    )


def _payments_on() -> bool:
    from .payments import provider

    return provider() is not None


@login_required
@require_POST
def cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        services.cancel_order(order_id=order_id, by=_user(request))
        messages.success(request, _("The order is cancelled."))
    except MealError as exc:
        messages.error(request, str(exc.message))
    return redirect("meals:mine")


@login_required
@require_http_methods(["GET", "POST"])
def address(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = 200
    context: dict[str, Any] = {"address": services.address_of(user), "next": _safe_next(request)}
    if request.method == "POST":
        try:
            services.set_address(
                account=user,
                estate=request.POST.get("estate", ""),
                detail=request.POST.get("detail", ""),
            )
            messages.success(request, _("The delivery address is saved."))
            return redirect(context["next"] or "meals:mine")
        except MealError as exc:
            context["page_errors"] = [str(exc.message)]
            status = 400
    return render(request, "meals/address.html", context, status=status)


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    return nxt if nxt.startswith("/meals/") and "//" not in nxt else ""


# --- back office -------------------------------------------------------------------------------


@kitchen_required
def staff_home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return render(
        request,
        "meals/staff_home.html",
        {"menus": selectors.staff_menus(_user(request), today, today + timedelta(days=1))},
    )


def _staff_menu(request: HttpRequest, menu_id: int) -> Any:
    menu = selectors.managed_menu(_user(request), menu_id)
    if menu is None:
        raise Http404
    return menu


@kitchen_required
def sheet(request: HttpRequest, menu_id: int) -> HttpResponse:
    """The kitchen's production sheet: portions per dish, for pickup and for delivery, with
    the dietary notes; printable, and refreshed on screen until the cut-off."""
    menu = _staff_menu(request, menu_id)
    return render(
        request,
        "meals/staff_sheet.html",
        {"menu": menu, "sheet": selectors.production_sheet(menu), "now": timezone.now()},
    )


@kitchen_required
def counter(request: HttpRequest, menu_id: int) -> HttpResponse:
    menu = _staff_menu(request, menu_id)
    orders = selectors.orders_for(menu, Mode.PICKUP)
    confirmed = selectors.confirmed_people([o.person_id for o in orders])
    for o in orders:
        o.age_confirmed = o.person_id in confirmed  # type: ignore[attr-defined]
    return render(
        request,
        "meals/staff_counter.html",
        {
            "menu": menu,
            "orders": orders,
            "groups": PriceGroup.choices,
            "walk_ins": selectors.walk_ins_today(menu.canteen_id),
        },
    )


@kitchen_required
def rounds(request: HttpRequest, menu_id: int) -> HttpResponse:
    """The delivery round: orders by estate in a stable walking order, for the deliverer's
    phone (or printed): name initial, masked phone, address, dishes, amount due."""
    menu = _staff_menu(request, menu_id)
    return render(
        request,
        "meals/staff_rounds.html",
        {"menu": menu, "estates": selectors.round_sheet(menu)},
    )


@kitchen_required
@require_POST
def serve(request: HttpRequest, order_id: int) -> HttpResponse:
    back = request.POST.get("back", "")
    try:
        order = services.serve(
            order_id=order_id,
            staff=_user(request),
            outcome=request.POST.get("outcome", ""),
            paid_with=request.POST.get("paid_with", ""),
        )
        messages.success(
            request,
            _("Marked: %(status)s.") % {"status": Order(status=order.status).get_status_display()},
        )
        menu_id = order.menu_id
    except MealError as exc:
        messages.error(request, str(exc.message))
        menu_id = Order.objects.filter(pk=order_id).values_list("menu_id", flat=True).first()
        if menu_id is None:
            raise Http404 from None
    return redirect("meals:staff_rounds" if back == "rounds" else "meals:staff_counter", menu_id)


@staff_required
def report(request: HttpRequest) -> HttpResponse:
    """Meals per canteen and month for the staff member's centers; CSV per canteen and day."""
    import calendar
    import csv
    from datetime import date

    today = timezone.localdate()
    raw = request.GET.get("month", "")
    try:
        year, month = (int(x) for x in raw.split("-")) if raw else (today.year, today.month)
        first = date(year, month, 1)
    except ValueError:
        first = date(today.year, today.month, 1)
        messages.error(request, _("Give the month as YYYY-MM."))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    rows = selectors.monthly_report(_user(request), first, last)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"meals-{first:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # Excel reads UTF-8 with a byte-order mark
        writer = csv.writer(response)
        writer.writerow(["canteen", "day", *selectors.REPORT_COLUMNS])
        for r in rows:
            writer.writerow(
                [r["canteen"], r["day"].isoformat()] + [r[c] for c in selectors.REPORT_COLUMNS]
            )
        return response
    return render(
        request,
        "meals/staff_report.html",
        {
            "month": first,
            "totals": selectors.report_totals(rows),
            # Every canteen of the staff member's centers together (a subdistrict's month).
            "all": (
                selectors.report_totals([r | {"canteen_id": 0, "canteen": ""} for r in rows])
                or [None]
            )[0],
        },
    )


def _desk_household(request: HttpRequest, menu: Any) -> tuple[User | None, str]:
    """The household staff serve at the desk: one of their centers holds it (desk-held,
    `household`), or the resident gave its whole number (`phone`); never a bare id."""
    from doorstep.accounts.services import AccountError, desk_household

    data = request.POST if request.method == "POST" else request.GET
    raw, phone = data.get("household", ""), data.get("phone", "").strip()
    if raw.isdigit() and len(raw) < 19:
        held = User.objects.filter(
            pk=int(raw), desk_center_id=menu.canteen.center_id, is_active=True
        ).first()
        if held is not None:
            return held, ""
    if phone:
        try:
            found = desk_household(by=_user(request), center_id=menu.canteen.center_id, phone=phone)
        except AccountError as exc:
            return None, str(exc.message)
        if found is None:
            return None, _("No household has this number. Create one below.")
        return found, ""
    return None, ""


@staff_required
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest, menu_id: int) -> HttpResponse:
    """Staff order for a resident without a phone, under the same rules (代办)."""
    menu = _staff_menu(request, menu_id)
    household, find_error = _desk_household(request, menu)
    context: dict[str, Any] = {
        "menu": menu,
        "household": household,
        "people": list(Person.objects.filter(account=household)) if household else [],
        "phone": request.POST.get("phone") or request.GET.get("phone", ""),
        "find_error": find_error,
        "key": request.POST.get("key") or uuid.uuid4().hex,
        "groups": [(g, PriceGroup(g).label) for g in PriceGroup.values if g != PriceGroup.STAFF],
        "chosen": {},
    }
    status = 200
    if request.method == "POST" and household is not None:
        try:
            data = _order_input(request, menu)
            result = services.place_order(
                account=household,
                menu_id=menu.pk,
                idempotency_key=context["key"],
                placed_by=_user(request),
                **data,
            )
            messages.success(
                request,
                _("Ordered for %(name)s: %(due)s yuan to pay.")
                % {"name": result.order.person.name, "due": services.yuan(result.order.due_fen)},
            )
            return redirect("meals:staff_counter", menu.pk)
        except MealError as exc:
            context["page_errors"] = [str(exc.message)]
            status = 404 if exc.status == 404 else 400
    elif request.method == "POST":
        raise Http404
    return render(request, "meals/staff_desk.html", context, status=status)


@staff_required
@require_POST
def desk_household_new(request: HttpRequest, menu_id: int) -> HttpResponse:
    from django.urls import reverse

    from doorstep.accounts.services import AccountError, create_desk_household

    menu = _staff_menu(request, menu_id)
    year = request.POST.get("member-year", "").strip()
    member = request.POST.get("member-name", "").strip()
    try:
        household = create_desk_household(
            by=_user(request),
            center_id=menu.canteen.center_id,
            name=request.POST.get("name", ""),
            phone=request.POST.get("new-phone", ""),
            members=[(member, int(year) if year.isdigit() and len(year) == 4 else None)]
            if member
            else [],
        )
    except AccountError as exc:
        messages.error(request, str(exc.message))
        return redirect("meals:staff_desk", menu.pk)
    return redirect(f"{reverse('meals:staff_desk', args=[menu.pk])}?household={household.pk}")


@staff_required
@require_POST
def confirm_age(request: HttpRequest, order_id: int) -> HttpResponse:
    order = Order.objects.select_related("menu__canteen", "person").filter(pk=order_id).first()
    if order is None:
        raise Http404
    try:
        services.confirm_eligibility(
            person_id=order.person_id, staff=_user(request), center_id=order.menu.canteen.center_id
        )
        messages.success(request, _("Age confirmed for %(name)s.") % {"name": order.person.name})
    except MealError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    return redirect("meals:staff_counter", order.menu_id)


@staff_required
@require_http_methods(["GET", "POST"])
def week(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """A canteen's coming week: copy last week's menus, publish a menu."""
    canteen = selectors.managed_canteen(_user(request), canteen_id)
    if canteen is None:
        raise Http404
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    if request.method == "POST":
        try:
            if request.POST.get("action") == "copy":
                target = monday + timedelta(days=7 if request.POST.get("which") == "next" else 0)
                made = services.copy_week(
                    canteen_id=canteen.pk, staff=_user(request), monday=target
                )
                messages.success(
                    request, _("%(n)s menus copied from the week before.") % {"n": made}
                )
            elif request.POST.get("action") == "new":
                menu = services.create_menu(
                    canteen_id=canteen.pk,
                    staff=_user(request),
                    day=_date(request.POST.get("day", "")),
                    service=request.POST.get("service", ""),
                    serves_at=_local(request.POST.get("day", ""), request.POST.get("serves", "")),
                    publish_at=_local_dt(request.POST.get("publish_at", "")),
                )
                return redirect("meals:staff_menu", menu.pk)
            elif request.POST.get("action") == "publish":
                raw = request.POST.get("menu", "")
                menu_id = int(raw) if raw.isdigit() and len(raw) < 19 else 0
                services.publish(menu_id=menu_id, staff=_user(request))
                messages.success(request, _("The menu is published."))
        except MealError as exc:
            if exc.status == 404:
                raise Http404 from None
            messages.error(request, str(exc.message))
        return redirect("meals:staff_week", canteen.pk)
    menus = selectors.canteen_menus(canteen, monday, monday + timedelta(days=13))
    from .models import Service

    return render(
        request,
        "meals/staff_week.html",
        {"canteen": canteen, "menus": menus, "services": Service.choices, "today": today},
    )


def _date(raw: str):  # type: ignore[no-untyped-def]
    from datetime import date

    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise MealError(_("Give the day as YYYY-MM-DD."), code="invalid_day") from None


def _local(day: str, hhmm: str):  # type: ignore[no-untyped-def]
    from datetime import datetime, time

    try:
        return timezone.make_aware(datetime.combine(_date(day), time.fromisoformat(hhmm)))
    except ValueError:
        raise MealError(_("Give the time as HH:MM."), code="invalid_time") from None


def _local_dt(raw: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    if not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise MealError(
            _("Give the publishing time as YYYY-MM-DD HH:MM."), code="invalid_time"
        ) from None
    return value if value.tzinfo else timezone.make_aware(value)


def _fen(raw: str, *, required: bool = False) -> int | None:
    """Yuan as typed ("10", "12.5") to fen; empty: None."""
    from decimal import Decimal, InvalidOperation

    raw = raw.strip()
    if not raw:
        if required:
            raise MealError(_("Give the price."), code="invalid_number")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MealError(_("Give prices in yuan, e.g. 12.50."), code="invalid_number") from None
    if not value.is_finite() or value < 0 or value > 1000:
        raise MealError(_("Check the prices and portions."), code="invalid_number")
    return int(value * 100)


@staff_required
@require_http_methods(["GET", "POST"])
def menu_edit(request: HttpRequest, menu_id: int) -> HttpResponse:
    """A menu's dishes: add one (price, riders' and staff price, portions, set meal, dietary
    tags, allergens), take one off that nobody ordered."""
    from .models import Dish

    menu = _staff_menu(request, menu_id)
    status = 200
    context: dict[str, Any] = {"menu": menu, "tags": Dish.Tag.choices}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "photo":
                raw = request.POST.get("dish", "")
                upload = request.FILES.get("photo")
                if upload is None:
                    raise MealError(_("Choose a photo."), code="photo_invalid")
                services.set_dish_photo(
                    dish_id=int(raw) if raw.isdigit() and len(raw) < 19 else 0,
                    staff=_user(request),
                    upload=upload,
                )
                messages.success(request, _("The photo is saved."))
            elif request.POST.get("action") == "remove":
                raw = request.POST.get("item", "")
                services.remove_dish(
                    item_id=int(raw) if raw.isdigit() and len(raw) < 19 else 0,
                    staff=_user(request),
                )
                messages.success(request, _("The dish is off the menu."))
            else:
                portions = request.POST.get("portions", "").strip()
                if portions and not (portions.isdigit() and len(portions) < 6):
                    raise MealError(_("Check the prices and portions."), code="invalid_number")
                services.add_dish(
                    menu_id=menu.pk,
                    staff=_user(request),
                    name=request.POST.get("name", ""),
                    price_fen=_fen(request.POST.get("price", ""), required=True) or 0,
                    rider_price_fen=_fen(request.POST.get("rider_price", "")),
                    staff_price_fen=_fen(request.POST.get("staff_price", "")),
                    portions=int(portions) if portions else None,
                    is_set=bool(request.POST.get("is_set")),
                    tags=request.POST.getlist("tags")[:10],
                    allergens=request.POST.get("allergens", ""),
                )
                messages.success(request, _("The dish is on the menu."))
            return redirect("meals:staff_menu", menu.pk)
        except MealError as exc:
            if exc.status == 404:
                raise Http404 from None
            context["page_errors"] = [str(exc.message)]
            status = 400
            menu = _staff_menu(request, menu_id)
            context["menu"] = menu
    return render(request, "meals/staff_menu.html", context, status=status)


@staff_required
@require_POST
def tally(request: HttpRequest, menu_id: int) -> HttpResponse:
    """One tap per walk-in meal sold at the counter, by price group (or undo the last)."""
    menu = _staff_menu(request, menu_id)
    try:
        if request.POST.get("undo"):
            if services.undo_counter_sale(canteen_id=menu.canteen_id, staff=_user(request)):
                messages.success(request, _("The last tap is taken back."))
        else:
            sale = services.counter_sale(
                canteen_id=menu.canteen_id,
                staff=_user(request),
                group=request.POST.get("group", ""),
            )
            messages.success(
                request,
                _("Counted: one walk-in meal, %(group)s.") % {"group": sale.get_group_display()},
            )
    except MealError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    return redirect("meals:staff_counter", menu.pk)


@kitchen_required
@require_POST
def set_off(request: HttpRequest, menu_id: int) -> HttpResponse:
    menu = _staff_menu(request, menu_id)
    try:
        told = services.start_round(
            menu_id=menu.pk, staff=_user(request), estate=request.POST.get("estate", "")[:60]
        )
        messages.success(
            request, _("%(n)s households told their meal is on the way.") % {"n": told}
        )
    except MealError as exc:
        raise Http404 from exc
    return redirect("meals:staff_rounds", menu.pk)


def dish_photo(request: HttpRequest, dish_id: int) -> HttpResponse:
    from django.http import FileResponse

    from .models import Dish

    dish = Dish.objects.filter(pk=dish_id).first()
    if dish is None or not dish.photo:
        raise Http404
    try:
        handle = dish.photo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=dish.photo_type or "application/octet-stream")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
@require_POST
def pay(request: HttpRequest, order_id: int) -> HttpResponse:
    """Pay a placed order online, where a payment provider is set up (meals/payments.py)."""
    from .payments import provider

    gateway = provider()
    order = Order.objects.filter(pk=order_id, account=_user(request), status="placed").first()
    if gateway is None or order is None or order.paid_with:
        raise Http404
    return redirect(gateway.checkout_url(order, request.build_absolute_uri("/meals/mine/")))


@csrf_exempt
@require_POST
def payment_notice(request: HttpRequest) -> HttpResponse:
    """The provider's notice of a payment (server to server): checked by the provider."""
    from django.http import JsonResponse

    from .payments import provider

    gateway = provider()
    if gateway is None:
        raise Http404
    paid = gateway.verify(request)
    if paid is None or services.paid_online(public_id=paid[0], amount_fen=paid[1]) is None:
        return JsonResponse({"code": "payment_not_accepted", "message": "not accepted"}, status=400)
    return JsonResponse({"code": "ok", "message": "paid"})
