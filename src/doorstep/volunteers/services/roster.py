"""Profiles, opportunities, shifts (once or weekly) and clearance."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center
from doorstep.core import audit

from ..models import Clearance, Language, Opportunity, Profile, Role, Shift, Source
from .common import VolunteerError, _now, require_manager

MAX_SERIES = 26


@transaction.atomic
def save_profile(
    *,
    user: User,
    skills: Iterable[str],
    languages: Iterable[str] = (),
    areas: Iterable[str] = (),
    availability: str = "",
    party_member: bool = False,
    now: datetime | None = None,
) -> Profile:
    """Opt in (or update): what I can do, in which languages, where and when."""
    from doorstep.centers.models import Region

    if not (user.is_authenticated and user.is_active):
        raise VolunteerError(_("Please sign in."), code="unauthorized", status=401)
    skills = sorted({s for s in skills if s in Role.values})
    if not skills:
        raise VolunteerError(
            _("Choose at least one thing you can do."), code="invalid", field="skills"
        )
    languages = sorted({x for x in languages if x in Language.values})
    areas = sorted(
        set(
            Region.objects.filter(pk__in=list(areas), level="district").values_list("pk", flat=True)
        )
    )
    availability = " ".join((availability or "").split())[:200]
    profile, _created = Profile.objects.update_or_create(
        user=user,
        defaults={
            "skills": skills,
            "languages": languages,
            "areas": areas,
            "availability": availability,
            "party_member": bool(party_member),
            "active": True,
            "created_at": _now(now),
        },
    )
    return profile


@transaction.atomic
def leave(*, user: User) -> None:
    """Stop volunteering: the profile goes (hours already approved stay, as service done)."""
    Profile.objects.filter(user=user).delete()


@transaction.atomic
def create_opportunity(
    *,
    by: User,
    center_id: int,
    role: str,
    title: str,
    title_en: str = "",
    description: str = "",
    skills: Iterable[str] = (),
    min_age: int | None = None,
    needs_clearance: bool = True,
    party_members_only: bool = False,
    cancel_hours: int = 24,
    site_id: int | None = None,
    source: str = Source.MANUAL,
    source_detail: str = "",
    now: datetime | None = None,
) -> Opportunity:
    if not can_manage(by, center_id) or not Center.objects.filter(pk=center_id).exists():
        raise VolunteerError(_("Not your center."), code="forbidden", status=403)
    if role not in Role.values:
        raise VolunteerError(_("Choose a role."), code="invalid", field="role")
    title = " ".join((title or "").split())[:80]
    if not title:
        raise VolunteerError(_("Give the opportunity a title."), code="invalid", field="title")
    if site_id is not None:
        from doorstep.heritage.models import HeritageSite

        center = Center.objects.get(pk=center_id)
        if not HeritageSite.objects.filter(pk=site_id, district_id=center.district_id).exists():
            raise VolunteerError(
                _("Choose a heritage site in the center's district."), code="invalid", field="site"
            )
    if min_age is not None and not 0 < min_age < 100:
        raise VolunteerError(_("The minimum age is 1 to 99."), code="invalid", field="min_age")
    opp = Opportunity.objects.create(
        center_id=center_id,
        site_id=site_id,
        role=role,
        title=title,
        title_en=" ".join((title_en or "").split())[:120],
        description=(description or "").strip()[:2000],
        skills=sorted({s for s in skills if s in Role.values}),
        min_age=min_age,
        needs_clearance=needs_clearance,
        party_members_only=party_members_only,
        cancel_hours=max(0, min(int(cancel_hours), 168)),
        source=source,
        source_detail=source_detail[:300],
        created_at=_now(now),
    )
    audit.record(actor=by, action="volunteer.opportunity", obj=opp, center_id=center_id, now=now)
    return opp


@transaction.atomic
def add_shifts(
    *,
    by: User,
    opportunity_id: int,
    starts_at: datetime,
    ends_at: datetime,
    places: int,
    weeks: int = 1,
    now: datetime | None = None,
) -> list[Shift]:
    """One shift, or the same time on `weeks` consecutive weeks (a recurring shift)."""
    now = _now(now)
    opp = Opportunity.objects.filter(pk=opportunity_id).first()
    if opp is None:
        raise VolunteerError(_("No such opportunity."), code="not_found", status=404)
    require_manager(by, opp)
    if ends_at <= starts_at or ends_at - starts_at > timedelta(hours=12):
        raise VolunteerError(
            _("A shift ends after it starts, within 12 hours."), code="invalid", field="ends_at"
        )
    if starts_at < now:
        raise VolunteerError(_("A shift starts in the future."), code="invalid", field="starts_at")
    if not 1 <= places <= 500:
        raise VolunteerError(_("Places are 1 to 500."), code="invalid", field="places")
    if not 1 <= weeks <= MAX_SERIES:
        raise VolunteerError(
            _("A series has 1 to %(n)s weeks.") % {"n": MAX_SERIES}, code="invalid", field="weeks"
        )
    series = uuid.uuid4().hex if weeks > 1 else ""
    shifts = [
        Shift.objects.create(
            opportunity=opp,
            starts_at=starts_at + timedelta(weeks=w),
            ends_at=ends_at + timedelta(weeks=w),
            places=places,
            series=series,
        )
        for w in range(weeks)
    ]
    audit.record(
        actor=by,
        action="volunteer.shifts",
        obj=opp,
        center_id=opp.center_id,
        label=f"{opp.title} ×{weeks}",
        now=now,
    )
    return shifts


@transaction.atomic
def clear(
    *, by: User, user_id: int, center_id: int, role: str, now: datetime | None = None
) -> Clearance:
    """Staff clear a volunteer for a role at their center, once trained."""
    if not can_manage(by, center_id):
        raise VolunteerError(_("Not your center."), code="forbidden", status=403)
    if role not in Role.values:
        raise VolunteerError(_("Choose a role."), code="invalid", field="role")
    if not Profile.objects.filter(user_id=user_id, active=True).exists():
        raise VolunteerError(_("That person is not a volunteer."), code="no_profile", status=404)
    clearance, created = Clearance.objects.get_or_create(
        user_id=user_id,
        center_id=center_id,
        role=role,
        defaults={"cleared_by": by, "cleared_at": _now(now)},
    )
    if created:
        audit.record(
            actor=by,
            action="volunteer.clear",
            obj=clearance,
            center_id=center_id,
            label=str(Role(role).label),
            now=now,
        )
    return clearance
