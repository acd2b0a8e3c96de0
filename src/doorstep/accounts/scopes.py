"""Staff scope: which centers a staff account may manage. Checked on every staff page and API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from doorstep.centers.models import Center

from .models import StaffRole, User


def scope_q(
    user: User,
    *,
    center: str = "pk",
    subdistrict: str = "subdistrict_id",
    district: str = "district_id",
) -> Q | None:
    """A filter for what `user` manages, over the given columns (a Center's own by default;
    a row that copies its center's place names its columns); None when nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Q()
    q: Q | None = None
    for role in user.staff_roles.all():
        if role.scope == StaffRole.Scope.CITY:
            return Q()
        part = {
            StaffRole.Scope.DISTRICT: Q(**{district: role.region_id}),
            StaffRole.Scope.SUBDISTRICT: Q(**{subdistrict: role.region_id}),
            StaffRole.Scope.CENTER: Q(**{center: role.center_id}),
        }[StaffRole.Scope(role.scope)]
        q = part if q is None else q | part
    return q


def center_scope_q(user: User) -> Q | None:
    """A filter on Center for what `user` manages; None when nothing."""
    return scope_q(user)


def managed_centers(user: User) -> QuerySet[Center]:
    q = center_scope_q(user)
    return Center.objects.none() if q is None else Center.objects.filter(q)


def can_manage(user: User, center_id: int) -> bool:
    return managed_centers(user).filter(pk=center_id).exists()


def is_staff_member(user: User) -> bool:
    return center_scope_q(user) is not None
