"""Hours: shifts left open are closed at their end (marked estimated), no-shows marked;
staff approve proposed hours in bulk (an adjustment needs a reason; each is audited);
points by the district's rule (1 an hour by default); a year's certificate whose code
anyone can check; the CSV the city's volunteer platforms take."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User, mask_phone
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit

from ..models import Approval, Certificate, PointRule, Signup, SignupStatus
from .common import VolunteerError, _now

NO_SHOW_AFTER = timedelta(hours=1)
DEFAULT_POINTS = Decimal("1")
# The columns of the export (docs/volunteers.md); never an ID number.
EXPORT_COLUMNS = [
    "record_id",
    "volunteer_id",
    "volunteer_name",
    "phone_masked",
    "center",
    "district",
    "opportunity",
    "role",
    "date",
    "start",
    "end",
    "hours",
    "points",
    "estimated",
    "approved_at",
]


def close_open(now: datetime | None = None) -> int:
    """A volunteer who checked in and never out is out at the shift's end, estimated."""
    now = _now(now)
    done = 0
    rows = Signup.objects.filter(
        status=SignupStatus.CONFIRMED,
        checked_in_at__isnull=False,
        checked_out_at__isnull=True,
        shift__ends_at__lte=now,
    ).select_related("shift")[:500]
    for s in rows:
        assert s.checked_in_at is not None
        with transaction.atomic():
            updated = Signup.objects.filter(pk=s.pk, checked_out_at__isnull=True).update(
                checked_out_at=s.shift.ends_at,
                estimated=True,
                proposed_minutes=max(
                    0, int((s.shift.ends_at - s.checked_in_at).total_seconds() // 60)
                ),
                approval=Approval.PENDING,
            )
            done += updated
    return done


def mark_no_shows(now: datetime | None = None) -> int:
    now = _now(now)
    return Signup.objects.filter(
        status=SignupStatus.CONFIRMED,
        checked_in_at__isnull=True,
        shift__ends_at__lte=now - NO_SHOW_AFTER,
    ).update(status=SignupStatus.NO_SHOW)


def points_per_hour(district_id: str) -> Decimal:
    rule = PointRule.objects.filter(district_id=district_id).first()
    return rule.points_per_hour if rule else DEFAULT_POINTS


def _points(minutes: int, per_hour: Decimal) -> Decimal:
    return (Decimal(minutes) / 60 * per_hour).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def approve(
    *,
    by: User,
    signup_ids: list[int],
    adjust: Mapping[int, tuple[int, str]] | None = None,
    now: datetime | None = None,
) -> list[Signup]:
    """Approve the proposed hours of these sign-ups at once; `adjust` gives some of them
    other minutes, each with its reason. All or nothing: one sign-up out of scope, not
    waiting, or adjusted without a reason, and nothing is approved."""
    now = _now(now)
    adjust = dict(adjust or {})
    rows = list(
        Signup.objects.select_for_update(of=("self",))
        .select_related("shift__opportunity__center", "user")
        .filter(pk__in=signup_ids)
    )
    if len(rows) != len(set(signup_ids)):
        raise VolunteerError(_("No such sign-up."), code="not_found", status=404)
    for s in rows:
        if not can_manage(by, s.shift.opportunity.center_id):
            raise VolunteerError(_("No such sign-up."), code="not_found", status=404)
        if s.approval != Approval.PENDING:
            raise VolunteerError(
                _("Those hours are not waiting for approval."), code="not_pending", status=409
            )
        if s.pk in adjust:
            minutes, reason = adjust[s.pk]
            if not 0 <= minutes <= 24 * 60:
                raise VolunteerError(_("Hours are 0 to 24."), code="invalid", field="minutes")
            if not (reason or "").strip():
                raise VolunteerError(
                    _("Say why the hours were changed."), code="reason_required", field="reason"
                )
    rates: dict[str, Decimal] = {}
    for s in rows:
        district = s.shift.opportunity.center.district_id
        rate = rates.setdefault(district, points_per_hour(district))
        minutes, reason = adjust.get(s.pk, (s.proposed_minutes or 0, ""))
        s.approved_minutes = minutes
        s.adjust_reason = " ".join(reason.split())[:200]
        s.approval = Approval.APPROVED
        s.approved_by, s.approved_at = by, now
        s.points = _points(minutes, rate)
        s.save(
            update_fields=[
                "approved_minutes",
                "adjust_reason",
                "approval",
                "approved_by",
                "approved_at",
                "points",
            ]
        )
        changes = (
            {"minutes": {"before": s.proposed_minutes, "after": minutes}, "reason": s.adjust_reason}
            if s.pk in adjust
            else None
        )
        audit.record(
            actor=by,
            action="volunteer.hours",
            obj=s,
            center_id=s.shift.opportunity.center_id,
            label=f"{s.user.display_name or s.user_id} {minutes // 60}:{minutes % 60:02d}",
            changes=changes,
            now=now,
        )
    return rows


@dataclass
class Year:
    year: int
    minutes: int
    points: Decimal
    shifts: int

    @property
    def hours(self) -> str:
        return f"{self.minutes / 60:.1f}"


def years(user: User) -> list[Year]:
    rows = Signup.objects.filter(user=user, approval=Approval.APPROVED).values_list(
        "shift__starts_at", "approved_minutes", "points"
    )
    by: dict[int, Year] = {}
    for starts, minutes, points in rows:
        y = timezone.localtime(starts).year
        item = by.setdefault(y, Year(y, 0, Decimal(0), 0))
        item.minutes += minutes or 0
        item.points += points or 0
        item.shifts += 1
    return sorted(by.values(), key=lambda x: -x.year)


# ---- certificates ------------------------------------------------------------------------


def _mac(c: Certificate) -> str:
    key = hashlib.sha256(
        b"doorstep.volunteers.certificate:" + settings.SECRET_KEY.encode()
    ).digest()
    text = f"{c.pk}:{c.user_id}:{c.year}:{c.name}:{c.minutes}:{c.points}:{c.shifts}"
    return base64.b32encode(hmac.new(key, text.encode(), hashlib.sha256).digest()[:10]).decode()


@transaction.atomic
def issue_certificate(*, user: User, year: int, now: datetime | None = None) -> Certificate:
    """A certificate of the year's approved hours (a new one each time hours change)."""
    now = _now(now)
    summary = next((y for y in years(user) if y.year == year), None)
    if summary is None or summary.minutes == 0:
        raise VolunteerError(
            _("No approved hours in %(y)s yet.") % {"y": year}, code="no_hours", status=404
        )
    name = (
        user.display_name or (user.people.filter(is_account_holder=True).first() or user).__str__()
    )
    existing = Certificate.objects.filter(
        user=user, year=year, minutes=summary.minutes, points=summary.points, shifts=summary.shifts
    ).first()
    if existing is not None:
        return existing
    cert = Certificate.objects.create(
        user=user,
        year=year,
        name=name[:40],
        minutes=summary.minutes,
        points=summary.points,
        shifts=summary.shifts,
        code=f"pending-{user.pk}-{now.timestamp()}",
        issued_at=now,
    )
    cert.code = f"V{cert.pk}-{_mac(cert)}"
    cert.save(update_fields=["code"])
    return cert


def verify(code: str) -> Certificate | None:
    """The certificate a code stands for, or None when the code is not one we made (made
    up, altered, or for figures that were changed)."""
    code = "".join((code or "").split()).upper()[:40]
    head, _sep, mac = code.partition("-")
    if not head.startswith("V") or not head[1:].isdigit() or len(mac) != 16:
        return None
    cert = Certificate.objects.filter(pk=int(head[1:])).first()
    if cert is None or not hmac.compare_digest(_mac(cert), mac) or cert.code != code:
        return None
    return cert


def certificate_pdf(cert: Certificate, verify_url: str) -> bytes:
    """A one-page PDF (reportlab, with the Adobe song font for Chinese: nothing embedded)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1)
    page.setTitle(f"{cert.year} 志愿服务证明 {cert.code}")
    width, height = A4
    page.setFont("STSong-Light", 26)
    page.drawCentredString(width / 2, height - 120, "志愿服务证明")
    page.setFont("STSong-Light", 14)
    lines = [
        f"兹证明 {cert.name} 于 {cert.year} 年在家门口平台登记的党群服务阵地参加志愿服务",
        f"共 {cert.shifts} 次，经审核的服务时长 {cert.minutes / 60:.1f} 小时，积分 {cert.points}。",
        "",
        f"Certificate of volunteer service: {cert.shifts} shifts, "
        f"{cert.minutes / 60:.1f} approved hours, {cert.points} points in {cert.year}.",
        "",
        f"验证码 Verification code: {cert.code}",
        f"核验 Verify at: {verify_url}",
        f"签发时间 Issued: {timezone.localtime(cert.issued_at):%Y-%m-%d}",
    ]
    y = height - 190
    for line in lines:
        page.drawString(72, y, line)
        y -= 26
    page.showPage()
    page.save()
    return out.getvalue()


# ---- export --------------------------------------------------------------------------------


def export_csv(*, by: User, start: date, end: date) -> str:
    """Approved hours in `by`'s scope for shifts from `start` to `end` (inclusive)."""
    from doorstep.accounts.scopes import center_scope_q

    q = center_scope_q(by)
    if q is None:
        raise VolunteerError(_("Staff only."), code="forbidden", status=403)
    from doorstep.centers.models import Center

    centers = Center.objects.filter(q).values_list("pk", flat=True)
    rows = (
        Signup.objects.filter(
            approval=Approval.APPROVED,
            shift__opportunity__center_id__in=centers,
            shift__starts_at__date__gte=start,
            shift__starts_at__date__lte=end,
        )
        .select_related("user", "shift__opportunity__center__district")
        .order_by("shift__starts_at", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for s in rows.iterator(chunk_size=2000):
        opp = s.shift.opportunity
        local_s, local_e = (
            timezone.localtime(s.shift.starts_at),
            timezone.localtime(s.shift.ends_at),
        )
        writer.writerow(
            [
                s.pk,
                s.user_id,
                s.user.display_name,
                mask_phone(s.user.phone),
                opp.center.name,
                opp.center.district.name,
                opp.title,
                opp.role,
                f"{local_s:%Y-%m-%d}",
                f"{local_s:%H:%M}",
                f"{local_e:%H:%M}",
                f"{(s.approved_minutes or 0) / 60:.2f}",
                s.points,
                "1" if s.estimated else "0",
                timezone.localtime(s.approved_at).isoformat() if s.approved_at else "",
            ]
        )
        count += 1
    audit.record_export(actor=by, what="volunteer_hours", rows=count, fmt="csv")
    return out.getvalue()


def figures(*, by: User, start: date, end: date) -> dict[str, object]:
    """Volunteers active, hours per center and month, fill rate of shifts, no-shows."""
    from doorstep.accounts.scopes import center_scope_q
    from doorstep.centers.models import Center

    from ..models import Shift

    q = center_scope_q(by)
    if q is None:
        return {}
    centers = Center.objects.filter(q).values_list("pk", flat=True)
    shifts = Shift.objects.filter(
        opportunity__center_id__in=centers,
        starts_at__date__gte=start,
        starts_at__date__lte=end,
        cancelled=False,
    )
    signups = Signup.objects.filter(shift__in=shifts)
    places = shifts.aggregate(n=Sum("places"))["n"] or 0
    filled = signups.filter(status__in=(SignupStatus.CONFIRMED, SignupStatus.NO_SHOW)).count()
    hours: dict[tuple[str, str], float] = {}
    for name, starts, minutes in signups.filter(approval=Approval.APPROVED).values_list(
        "shift__opportunity__center__name", "shift__starts_at", "approved_minutes"
    ):
        key = (name, f"{timezone.localtime(starts):%Y-%m}")
        hours[key] = hours.get(key, 0) + (minutes or 0) / 60
    return {
        "active": signups.filter(approval=Approval.APPROVED).values("user").distinct().count(),
        "shifts": shifts.count(),
        "places": places,
        "filled": filled,
        "fill_rate": filled / places if places else None,
        "no_shows": signups.filter(status=SignupStatus.NO_SHOW).count(),
        "hours": sorted(
            ((c, m, round(h, 1)) for (c, m), h in hours.items()), key=lambda r: (r[1], r[0])
        ),
        "by_status": dict(signups.values_list("status").annotate(n=Count("id"))),
    }
