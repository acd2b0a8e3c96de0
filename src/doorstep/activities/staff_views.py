"""Staff back office: dashboard, activities and series, roster and exports, door check-in, draws.

Every page answers only for centers in `managed_centers(user)`: an activity elsewhere is a
404, exactly like one that does not exist. Someone who is not staff is sent to the staff
sign-in. Form errors re-render the page with status 400.
"""

from __future__ import annotations

import copy
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from csp.decorators import csp_update
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.accounts.services import (
    AccountError,
    create_desk_household,
    desk_household,
    normalize_phone,
)
from doorstep.centers.models import Center
from doorstep.core import audit
from doorstep.inbox.selectors import delivery_report, failed_deliveries
from doorstep.inbox.services import set_preference

from . import exports, hotpath, selectors, services, tickets
from .api import qr_svg
from .checkin import (
    CheckInCode,
    add_walk_ins,
    apply_offline,
    check_in,
    check_in_code,
    check_in_registration,
)
from .forms import ActivityForm, SeriesForm
from .models import (
    ACTIVE_STATUSES,
    Activity,
    ActivityStatus,
    Allocation,
    Audience,
    CheckIn,
    Registration,
    RegistrationStatus,
)
from .selectors import State
from .series import generate_series
from .services import RegistrationError

CENTERS_PER_PAGE = 20
ACTIVITIES_PER_CENTER = 15
UPCOMING_DAYS = 60


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _centers(request: HttpRequest) -> QuerySet[Center]:
    return managed_centers(_staff(request))


def _activity(request: HttpRequest, activity_id: int) -> Activity:
    """The activity, if it is at a center this staff account manages; else 404."""
    activity = (
        Activity.objects.select_related("center", "series")
        .filter(pk=activity_id, center__in=_centers(request))
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def _center(request: HttpRequest, raw: str | None) -> Center:
    try:
        center_id = int(raw or "")
    except ValueError:
        raise Http404 from None
    center = _centers(request).filter(pk=center_id).first()
    if center is None:
        raise Http404
    return center


STATE_LABELS = {
    State.NOT_OPEN: gettext_lazy("Registration not open yet"),
    State.OPEN: gettext_lazy("Registration open"),
    State.FULL_WAITLIST: gettext_lazy("Full: waiting list open"),
    State.FULL: gettext_lazy("Full"),
    State.LOTTERY_OPEN: gettext_lazy("Taking lottery applications"),
    State.DRAWING: gettext_lazy("Waiting for the draw"),
    State.DRAWN: gettext_lazy("Drawn"),
    State.CLOSED: gettext_lazy("Registration closed"),
    State.FINISHED: gettext_lazy("Finished"),
    State.CANCELLED: gettext_lazy("Cancelled"),
}


def state_label(activity: Activity, now: datetime) -> str:
    if activity.status == ActivityStatus.DRAFT:
        return str(gettext_lazy("Draft"))
    return str(STATE_LABELS[selectors.state_of(activity, now)])


def _with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    return qs.annotate(
        waiting=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)
        ),
        applied=Count("registrations", filter=Q(registrations__status=RegistrationStatus.APPLIED)),
    )


def _error_field(form: Any, exc: RegistrationError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, str(exc.message))


# Dashboard -------------------------------------------------------------------------------


@staff_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The centers in scope, each with its coming activities; today's come first."""
    now = timezone.now()
    today = timezone.localdate(now)
    centers_qs = _centers(request).select_related("district").order_by("district_id", "name", "id")
    page = Paginator(centers_qs, CENTERS_PER_PAGE).get_page(request.GET.get("page"))
    centers = list(page.object_list)
    activities = _with_counts(
        Activity.objects.filter(
            center__in=[c.pk for c in centers],
            ends_at__gt=now,
            starts_at__lt=now + timedelta(days=UPCOMING_DAYS),
        )
    ).order_by("starts_at", "id")
    by_center: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in centers}
    center_of = {c.pk: c for c in centers}
    todays = []
    for a in activities:
        a.center = center_of[a.center_id]
        row = {
            "activity": a,
            "state": state_label(a, now),
            "is_today": timezone.localdate(a.starts_at) == today,
        }
        if row["is_today"]:
            todays.append(row)
        if len(by_center[a.center_id]) < ACTIVITIES_PER_CENTER:
            by_center[a.center_id].append(row)
    return render(
        request,
        "activities/staff_dashboard.html",
        {
            "page": page,
            "centers": [{"center": c, "rows": by_center[c.pk]} for c in centers],
            "todays": todays,
        },
    )


# Activities ------------------------------------------------------------------------------


@staff_required
@require_GET
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    return _detail_page(request, _activity(request, activity_id))


def _detail_page(
    request: HttpRequest,
    activity: Activity,
    *,
    cancel_error: str = "",
    message_error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    counts = dict(
        Registration.objects.filter(activity=activity)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    by_status = [
        (label, counts.get(value, 0))
        for value, label in RegistrationStatus.choices
        if counts.get(value, 0)
    ]
    return render(
        request,
        "activities/staff_activity.html",
        {
            "activity": activity,
            "state": state_label(activity, now),
            "by_status": by_status,
            "can_edit": activity.status != ActivityStatus.CANCELLED,
            "can_cancel": activity.status != ActivityStatus.CANCELLED and activity.ends_at > now,
            "cancel_error": cancel_error,
            "reason": request.POST.get("reason", "") if request.method == "POST" else "",
            "can_message": activity.status == ActivityStatus.PUBLISHED and activity.ends_at > now,
            "message_error": message_error,
            "message_text": request.POST.get("text", "") if message_error else "",
            "sent_messages": list(activity.messages.all()[:5]),
            "messages_per_day": services.MESSAGES_PER_DAY,
            "delivery": delivery_report(f"activity:{activity.pk}"),
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("center") or request.POST.get("center")
    if not raw:
        only = list(_centers(request)[:2])
        if len(only) != 1:
            messages.info(request, _("Choose the center for the new activity."))
            return redirect("staff:dashboard")
        raw = str(only[0].pk)
    center = _center(request, raw)
    form = ActivityForm(request.POST or None, center_id=center.pk)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.create_activity(
                center_id=center.pk,
                by=_staff(request),
                data=form.to_input(),
                publish_now="publish" in request.POST,
            )
        except RegistrationError as exc:
            _error_field(form, exc)
        else:
            if activity.status == ActivityStatus.PUBLISHED:
                messages.success(request, _("The activity has been published."))
            else:
                messages.success(request, _("The activity has been saved as a draft."))
            return redirect("staff:activity", activity_id=activity.pk)
    return render(
        request,
        "activities/staff_activity_form.html",
        {"form": form, "center": center, "activity": None},
        status=400 if form.is_bound else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        messages.error(request, _("A cancelled activity cannot be changed."))
        return redirect("staff:activity", activity_id=activity.pk)
    # The form writes into its instance while validating; keep `activity` as stored.
    form = ActivityForm(
        request.POST or None, instance=copy.copy(activity), center_id=activity.center_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_activity(
                activity_id=activity.pk, by=_staff(request), data=form.to_input()
            )
        except RegistrationError as exc:
            if exc.status == 404:
                raise Http404 from None
            _error_field(form, exc)
        else:
            messages.success(request, _("Your changes have been saved."))
            return redirect("staff:activity", activity_id=activity.pk)
    return render(
        request,
        "activities/staff_activity_form.html",
        {"form": form, "center": activity.center, "activity": activity},
        status=400 if form.is_bound else 200,
    )


@staff_required
@require_POST
def activity_publish(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    try:
        services.publish(activity_id=activity.pk, by=_staff(request))
    except RegistrationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The activity has been published."))
    return redirect("staff:activity", activity_id=activity.pk)


@staff_required
@require_POST
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    try:
        result = services.cancel_activity(
            activity_id=activity.pk, by=_staff(request), reason=request.POST.get("reason", "")
        )
    except RegistrationError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _detail_page(request, activity, cancel_error=str(exc.message), status=400)
    messages.success(
        request,
        _("The activity has been cancelled; %(n)s registrations were cancelled with it.")
        % {"n": result.registrations_cancelled},
    )
    return redirect("staff:activity", activity_id=activity.pk)


@staff_required
@require_POST
def activity_message(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    try:
        sent = services.message_registrants(
            activity_id=activity.pk, by=_staff(request), text=request.POST.get("text", "")
        )
    except RegistrationError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _detail_page(
            request, activity, message_error=str(exc.message), status=min(exc.status, 429)
        )
    messages.success(
        request,
        ngettext(
            "The message was sent to %(n)s household.",
            "The message was sent to %(n)s households.",
            sent.recipients,
        )
        % {"n": sent.recipients},
    )
    return redirect("staff:activity", activity_id=activity.pk)


@staff_required
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    """Notices that could not be sent by SMS or email, for the centers this account manages."""
    failed = failed_deliveries(_centers(request).values_list("pk", flat=True))
    return render(request, "activities/staff_deliveries.html", {"failed": failed})


# The desk (代办): registering people who have no smartphone ------------------------------


def _desk_household(request: HttpRequest, activity: Activity) -> tuple[User | None, str]:
    """The household being served: found by its whole phone number, or one this center
    holds at its desk (by id, after it was created here)."""
    phone = request.GET.get("phone", "").strip()[:40]
    if phone:
        try:
            found = desk_household(by=_staff(request), center_id=activity.center_id, phone=phone)
        except AccountError as exc:
            return None, str(exc.message)
        return found, "" if found else _("No household has this number. Create one below.")
    raw = request.GET.get("household", "")
    if raw.isdigit() and hotpath.valid_id(int(raw)):
        held = User.objects.filter(
            pk=int(raw), desk_center__in=_centers(request), is_active=True
        ).first()
        return held, ""
    return None, ""


def _desk_page(
    request: HttpRequest,
    activity: Activity,
    *,
    household: User | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    found_error = ""
    if household is None:
        household, found_error = _desk_household(request, activity)
    people = []
    if household is not None:
        active = set(
            Registration.objects.filter(
                activity=activity, account=household, status__in=ACTIVE_STATUSES
            ).values_list("person_id", flat=True)
        )
        people = [
            {"person": p, "registered": p.pk in active}
            for p in household.people.order_by("-is_account_holder", "pk")
        ]
    return render(
        request,
        "activities/staff_desk.html",
        {
            "activity": activity,
            "household": household,
            "people": people,
            "phone": request.GET.get("phone", ""),
            "find_error": found_error,
            "error": error,
            "key": secrets.token_urlsafe(18),
            "member_rows": range(3),
            "form": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


def _may_serve(request: HttpRequest, household: User) -> bool:
    """A household this staff account may register: one its centers hold at the desk, or
    one whose whole number the resident gave (carried from the look-up)."""
    if household.desk_center_id and _centers(request).filter(pk=household.desk_center_id):
        return True
    try:
        return bool(household.phone) and normalize_phone(request.POST.get("phone", "")) == (
            household.phone
        )
    except AccountError:
        return False


@staff_required
@require_GET
def desk(request: HttpRequest, activity_id: int) -> HttpResponse:
    return _desk_page(request, _activity(request, activity_id))


@staff_required
@require_POST
def desk_household_new(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    members: list[tuple[str, int | None]] = []
    for i in range(3):
        name = request.POST.get(f"member-{i}-name", "").strip()
        year = request.POST.get(f"member-{i}-year", "").strip()
        if name:
            members.append((name, int(year) if year.isdigit() else None))
    try:
        household = create_desk_household(
            by=_staff(request),
            center_id=activity.center_id,
            name=request.POST.get("name", ""),
            phone=request.POST.get("phone", ""),
            members=members,
        )
    except AccountError as exc:
        return _desk_page(request, activity, error=str(exc.message), status=exc.status)
    if request.POST.get("by_sms") and household.phone:
        set_preference(user=household, by_sms=True, by_email=False, email="")
    return redirect(f"{reverse('staff:desk', args=[activity.pk])}?household={household.pk}")


@staff_required
@require_POST
def desk_register(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    raw = request.POST.get("household", "")
    household = (
        User.objects.filter(pk=int(raw)).first()
        if raw.isdigit() and hotpath.valid_id(int(raw))
        else None
    )
    ids = [int(x) for x in request.POST.getlist("person")[:20] if x.isdigit()]
    if household is None or not _may_serve(request, household):
        raise Http404
    try:
        result = services.register_at_desk(
            by=_staff(request),
            activity_id=activity.pk,
            account_id=household.pk,
            person_ids=ids,
            idempotency_key=request.POST.get("idempotency_key", "")[:80] or None,
        )
    except RegistrationError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _desk_page(
            request, activity, household=household, error=str(exc.message), status=exc.status
        )
    ids_text = ",".join(str(r.pk) for r in result.registrations)
    return redirect(f"{reverse('staff:desk_slip', args=[activity.pk])}?r={ids_text}")


@staff_required
@require_GET
def desk_slip(request: HttpRequest, activity_id: int) -> HttpResponse:
    """A printable slip per registration (receipt or A6 width): the ticket's QR, its short
    code to read aloud, who, what, when and where."""
    activity = _activity(request, activity_id)
    ids = [int(x) for x in request.GET.get("r", "").split(",")[:20] if x.isdigit()]
    regs = list(
        Registration.objects.filter(pk__in=ids, activity=activity)
        .select_related("person", "activity__center")
        .order_by("pk")
    )
    if not regs:
        raise Http404
    slips = []
    for reg in regs:
        slip = {"reg": reg, "confirmed": reg.status == RegistrationStatus.CONFIRMED}
        if slip["confirmed"]:
            token = tickets.token_for(reg)
            url = request.build_absolute_uri(tickets.path_for(token))
            slip["qr"] = qr_svg(url, _("QR code of the ticket"))
            slip["code"] = tickets.short_code_for(reg)
        slips.append(slip)
    return render(request, "activities/staff_slip.html", {"activity": activity, "slips": slips})


# Weekly series ---------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def series_new(request: HttpRequest) -> HttpResponse:
    centers = _centers(request).order_by("name")
    initial: dict[str, Any] = {}
    if request.GET.get("center"):
        initial["center"] = _center(request, request.GET["center"])
    form = SeriesForm(request.POST or None, centers=centers, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            result = generate_series(
                center_id=d["center"].pk,
                by=_staff(request),
                weekday=d["weekday"],
                start_time=d["start_time"],
                duration_minutes=d["duration_minutes"],
                first_date=d["first_date"],
                last_date=d["last_date"],
                window=form.window(),
                settings=form.settings(),
                publish=d["publish"],
            )
        except RegistrationError as exc:
            if exc.status == 404:
                raise Http404 from None
            _error_field(form, exc)
        else:
            messages.success(
                request,
                _(
                    "%(created)s sessions created; %(existing)s weeks already had one; "
                    "%(past)s were in the past."
                )
                % {
                    "created": len(result.created),
                    "existing": result.existing,
                    "past": result.past,
                },
            )
            return redirect(f"{reverse('staff:dashboard')}#center-{d['center'].pk}")
    return render(
        request,
        "activities/staff_series_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


# Roster and exports ----------------------------------------------------------------------


def roster_rows(activity: Activity) -> list[dict[str, Any]]:
    """Registrations in roster order, each with its place in the waiting line."""
    regs = list(
        Registration.objects.filter(activity=activity)
        .select_related("person", "account")
        .order_by(F("queue_rank").asc(nulls_last=True), "id")
    )
    position = 0
    rows: list[dict[str, Any]] = []
    for r in regs:
        waiting = None
        if r.status == RegistrationStatus.WAITLISTED:
            position += 1
            waiting = position
        rows.append(
            {
                "registration": r,
                "waiting_position": waiting,
                # Who brings a child: the account holder (parent-child classes).
                "guardian": r.account.display_name if not r.person.is_account_holder else "",
                "age": (
                    timezone.localtime(activity.starts_at).year - r.person.birth_year
                    if r.person.birth_year
                    else None
                ),
            }
        )
    order = {s: i for i, s in enumerate(RegistrationStatus.values)}
    rows.sort(key=lambda row: order.get(row["registration"].status, 99))
    return rows


def _roster_page(
    request: HttpRequest, activity: Activity, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "activities/staff_roster.html",
        {
            "activity": activity,
            "rows": roster_rows(activity),
            "with_guardian": activity.audience == Audience.CHILDREN_WITH_PARENT,
            "with_age": activity.age_min is not None or activity.age_max is not None,
            "active_statuses": [s.value for s in ACTIVE_STATUSES],
            "page_errors": [error] if error else [],
        },
        status=status,
    )


@staff_required
@require_GET
def roster(request: HttpRequest, activity_id: int) -> HttpResponse:
    return _roster_page(request, _activity(request, activity_id))


@staff_required
@require_GET
def roster_csv(request: HttpRequest, activity_id: int) -> HttpResponse:
    return _roster_export(request, activity_id, "csv")


def _roster_export(request: HttpRequest, activity_id: int, fmt: str) -> HttpResponse:
    """A roster holds personal data (names, masked phones): every download is audited."""
    activity = _activity(request, activity_id)
    rows = roster_rows(activity)
    audit.record_export(
        actor=_staff(request),
        what="roster",
        obj=activity,
        center_id=activity.center_id,
        rows=len(rows),
        fmt=fmt,
    )
    if fmt == "csv":
        return exports.csv_response(activity, rows)
    return exports.xlsx_response(activity, rows)


@staff_required
@require_GET
def roster_xlsx(request: HttpRequest, activity_id: int) -> HttpResponse:
    return _roster_export(request, activity_id, "xlsx")


@staff_required
@require_POST
def registration_cancel(
    request: HttpRequest, activity_id: int, registration_id: int
) -> HttpResponse:
    activity = _activity(request, activity_id)
    # services.cancel(as_staff=True) trusts its caller: the scope is checked here.
    if not Registration.objects.filter(pk=registration_id, activity=activity).exists():
        raise Http404
    try:
        reg = services.cancel(
            registration_id=registration_id,
            by=_staff(request),
            reason=" ".join(request.POST.get("reason", "").split()),
            as_staff=True,
        )
    except RegistrationError as exc:
        return _roster_page(request, activity, error=str(exc.message), status=400)
    messages.success(
        request, _("The registration of %(name)s has been cancelled.") % {"name": reg.person.name}
    )
    return redirect("staff:roster", activity_id=activity.pk)


# Door check-in ---------------------------------------------------------------------------

OTHER_ACTIVITY = "other_activity"
CHECKIN_MESSAGES = {
    CheckInCode.WELCOME: gettext_lazy("Welcome!"),
    CheckInCode.ALREADY: gettext_lazy("Already checked in."),
    CheckInCode.WRONG_DAY: gettext_lazy("This ticket is for another day."),
    CheckInCode.CANCELLED: gettext_lazy("This registration was cancelled."),
    CheckInCode.NOT_CONFIRMED: gettext_lazy("No confirmed place on this ticket."),
    CheckInCode.NOT_FOUND: gettext_lazy("Ticket not found."),
    CheckInCode.INVALID: gettext_lazy("Not a valid ticket."),
    OTHER_ACTIVITY: gettext_lazy("This ticket is for another activity."),
}


def checkin_counts(activity: Activity) -> dict[str, int]:
    counts = Registration.objects.filter(activity=activity).aggregate(
        checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
        confirmed=Count("id", filter=Q(status=RegistrationStatus.CONFIRMED)),
    )
    fresh = Activity.objects.filter(pk=activity.pk).values("walk_ins", "taken", "capacity").get()
    return {**counts, **fresh, "empty": max(0, fresh["capacity"] - fresh["taken"])}


def _checkin_result(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    """Check in what was scanned or typed (the QR's URL or token, or the short code), or the
    person picked on the roster; the answer for the big result panel."""
    token = request.POST.get("token", "").strip()
    nonce = request.POST.get("nonce", "").strip()
    registration = request.POST.get("registration", "").strip()
    claim = tickets.verify(tickets.token_from_scan(token)) if token else None
    if claim is not None and claim.activity_id != activity.pk:
        # Never check someone in for another activity from this door.
        return {"code": OTHER_ACTIVITY, "message": CHECKIN_MESSAGES[OTHER_ACTIVITY]}
    staff = _staff(request)
    try:
        if registration.isdigit() and hotpath.valid_id(int(registration)):
            result = check_in_registration(
                activity_id=activity.pk,
                registration_id=int(registration),
                nonce=nonce,
                staff=staff,
            )
        elif claim is None and tickets.normalize_short_code(token):
            result = check_in_code(activity_id=activity.pk, code=token, nonce=nonce, staff=staff)
        else:
            result = check_in(token=token, nonce=nonce, staff=staff)
    except RegistrationError:
        # A missing nonce (a hand-made request) reads as an unusable ticket.
        return {"code": CheckInCode.INVALID, "message": CHECKIN_MESSAGES[CheckInCode.INVALID]}
    reg = result.registration
    return {
        "code": result.code,
        "ok": result.ok,
        "message": CHECKIN_MESSAGES.get(result.code, result.code),
        "person": reg.person.name if reg else "",
        "checked_in_at": result.checked_in_at,
        "ticket_day": claim.day if claim else None,
    }


@staff_required
@require_http_methods(["GET", "POST"])
# The QR reader is WebAssembly: compiling it needs this one allowance, on this page only.
@csp_update({"script-src": ["'wasm-unsafe-eval'"]})
def checkin_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The door phone's page: a scan or a typed code, then one big answer.

    Each rendered form carries a fresh nonce (checkin.js makes one per scan), so a repeated
    submission of the same scan gets the first answer and records nothing new.
    """
    activity = _activity(request, activity_id)
    result = _checkin_result(request, activity) if request.method == "POST" else None
    find = request.GET.get("find", "").strip()[:40]
    day = timezone.localdate(activity.starts_at)
    context = {
        "activity": activity,
        "result": result,
        # For checking tickets on the phone while offline: the day's public key only.
        "ticket_day": f"{day:%Y%m%d}",
        "day_key": tickets.day_public_key(day),
        "conflicts": [
            {
                "at": c.at,
                "person": c.registration.person.name if c.registration else "",
                "message": CHECKIN_MESSAGES.get(c.result, c.result),
            }
            for c in CheckIn.objects.filter(activity=activity, method="offline")
            .exclude(result=CheckInCode.WELCOME)
            .select_related("registration__person")
            .order_by("-at")[:20]
        ],
        "find": find,
        "found": _with_nonces(selectors.find_on_roster(activity, find)) if find else None,
        "counts": checkin_counts(activity),
        "nonce": secrets.token_urlsafe(16),
        "today": timezone.localdate() == timezone.localdate(activity.starts_at),
    }
    if request.headers.get("HX-Request"):
        return render(request, "activities/staff_checkin_result.html", context)
    return render(request, "activities/staff_checkin.html", context)


@staff_required
@require_POST
def checkin_sync(request: HttpRequest, activity_id: int) -> JsonResponse:
    """The door phone's queue of scans made offline, applied once each (by nonce)."""
    activity = _activity(request, activity_id)
    try:
        body = json.loads(request.body or b"{}")
        scans = body["scans"]
        if not isinstance(scans, list) or not all(isinstance(x, dict) for x in scans):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"code": "invalid_input", "message": _('Send {"scans": [...]}.')}, status=400
        )
    outcomes = apply_offline(activity_id=activity.pk, staff=_staff(request), scans=scans)
    return JsonResponse(
        {
            "results": [
                {
                    "nonce": o.nonce,
                    "code": o.code,
                    "person": o.person,
                    "conflict": o.conflict,
                    "message": str(CHECKIN_MESSAGES.get(o.code, o.code)),
                }
                for o in outcomes
            ],
            "counts": checkin_counts(activity),
        }
    )


@require_GET
def checkin_service_worker(request: HttpRequest) -> HttpResponse:
    """Served under /staff/ so that it may control the check-in pages; it holds no data."""
    response = render(request, "activities/js/checkin-sw.js", content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


def _with_nonces(regs: list[Registration]) -> list[Registration]:
    # Each "check in" button is one scan: its own nonce, so a double tap records one arrival.
    for r in regs:
        r.lookup_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
    return regs


@staff_required
@require_GET
def checkin_counts_view(request: HttpRequest, activity_id: int) -> JsonResponse:
    return JsonResponse(checkin_counts(_activity(request, activity_id)))


@staff_required
@require_POST
def walk_ins(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(request, activity_id)
    try:
        count = int(request.POST.get("count", "1"))
    except ValueError:
        count = 0
    if activity.status != ActivityStatus.PUBLISHED:
        messages.error(request, _("Only a published activity takes walk-ins."))
    elif activity.allocation == Allocation.LOTTERY and activity.drawn_at is None:
        messages.error(request, _("Walk-ins can be seated once the lottery has been drawn."))
    else:
        try:
            add_walk_ins(activity_id=activity.pk, staff=_staff(request), count=count)
        except RegistrationError as exc:
            if exc.code == "full":
                messages.error(request, _("There are not that many empty places."))
            else:
                messages.error(request, _("Give a number of people between 1 and 50."))
        else:
            messages.success(request, _("%(n)s walk-ins have been given a place.") % {"n": count})
    return redirect("staff:checkin", activity_id=activity.pk)


# Lottery draw ----------------------------------------------------------------------------

TIER_LABELS = {
    "local": gettext_lazy("Local residents"),
    "first_timer": gettext_lazy("First-timers"),
    "penalised": gettext_lazy("Drawn last (missed activities)"),
    "general": gettext_lazy("Everyone else"),
}


def _draw_context(activity: Activity) -> dict[str, Any]:
    now = timezone.now()
    record = services.draw_record(activity, now=now)
    tiers: dict[str, dict[str, Any]] = {
        key: {"label": label, "parties": 0, "people": 0} for key, label in TIER_LABELS.items()
    }
    for e in record["entries"]:
        keys = [k for k in ("local", "first_timer", "penalised") if e[k]] or ["general"]
        for key in keys:
            tiers[key]["parties"] += 1
            tiers[key]["people"] += e["size"]
    names: dict[str, list[str]] = {}
    parties = set(record["chosen"]) | set(record["waiting"])
    for party, name in (
        Registration.objects.filter(activity=activity, party__in=parties)
        .order_by("id")
        .values_list("party", "person__name")
    ):
        names.setdefault(party, []).append(name)
    return {
        "activity": activity,
        "record": record,
        "tiers": list(tiers.values()),
        "entries_total": len(record["entries"]),
        "people_total": sum(e["size"] for e in record["entries"]),
        "chosen": [{"party": p, "names": names.get(p, [])} for p in record["chosen"]],
        "waiting": [{"party": p, "names": names.get(p, [])} for p in record["waiting"]],
        "can_draw": (
            activity.drawn_at is None
            and activity.status == ActivityStatus.PUBLISHED
            and now >= activity.registration_closes_at
        ),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def draw_report(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The lottery as staff see it: the public record, with names beside the party ids."""
    activity = _activity(request, activity_id)
    if activity.allocation != Allocation.LOTTERY:
        raise Http404
    if request.method == "POST":
        if services.draw(activity_id=activity.pk):
            messages.success(request, _("The draw has been made."))
        elif activity.drawn_at:
            messages.info(request, _("The draw had already been made."))
        else:
            messages.error(request, _("The draw can run once registration has closed."))
        return redirect("staff:draw", activity_id=activity.pk)
    return render(request, "activities/staff_draw.html", _draw_context(activity))
