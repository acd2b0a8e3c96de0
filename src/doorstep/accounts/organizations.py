"""Organizations (groups and companies) and who may act for them: services and reads.

A resident registers an organization at a center and becomes its manager; the center's
staff confirm it (or refuse, with a reason); colleagues join with the invite code the
manager shares; a manager may remove a member or stop them booking. Only a confirmed
organization's members with `may_book` book for it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core import audit

from .models import Membership, Organization, User
from .services import AccountError


def _code() -> str:
    return secrets.token_hex(4).upper()


def _no_such() -> AccountError:
    return AccountError(_("No such organization."), code="not_found")


@transaction.atomic
def create_organization(
    *, by: User, name: str, kind: str, center_id: int, now: datetime | None = None
) -> Organization:
    from doorstep.centers.models import Center

    name = " ".join((name or "").split())[:80]
    if not name:
        raise AccountError(_("Give the organization's name."), code="invalid", field="name")
    if kind not in Organization.Kind.values:
        raise AccountError(
            _("Choose what kind of organization it is."), code="invalid", field="kind"
        )
    if not Center.objects.filter(pk=center_id).exists():
        raise AccountError(_("No such center."), code="not_found")
    org = Organization.objects.create(
        name=name,
        kind=kind,
        center_id=center_id,
        invite_code=_code(),
        created_by=by,
        created_at=now or timezone.now(),
    )
    Membership.objects.create(organization=org, user=by, is_manager=True)
    audit.record(actor=by, action="organization.create", obj=org, center_id=center_id, now=now)
    return org


@transaction.atomic
def decide_organization(
    *, by: User, organization_id: int, confirm: bool, reason: str = "", now: datetime | None = None
) -> Organization:
    """The center's staff confirm an organization, or refuse it with a reason."""
    from .scopes import can_manage

    org = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if org is None or not can_manage(by, org.center_id):
        raise _no_such()
    reason = " ".join((reason or "").split())[:200]
    if not confirm and not reason:
        raise AccountError(
            _("Give a reason: the organization will see it."), code="reason_required"
        )
    org.status = Organization.Status.CONFIRMED if confirm else Organization.Status.REFUSED
    org.reason = "" if confirm else reason
    org.decided_by = by
    org.decided_at = now or timezone.now()
    org.save()
    audit.record(
        actor=by,
        action="organization.confirm" if confirm else "organization.refuse",
        obj=org,
        center_id=org.center_id,
        changes={"given_reason": org.reason} if org.reason else None,
        now=now,
    )
    return org


@transaction.atomic
def join_organization(*, user: User, code: str) -> Membership:
    org = Organization.objects.filter(invite_code=(code or "").strip().upper()).first()
    if org is None or org.status == Organization.Status.REFUSED:
        raise AccountError(_("No organization has this code."), code="bad_code")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(organization=org, user=user)
    except IntegrityError:
        membership = Membership.objects.get(organization=org, user=user)
    return membership


def _managed(by: User, organization_id: int) -> Organization:
    org = Organization.objects.filter(
        pk=organization_id, memberships__user=by, memberships__is_manager=True
    ).first()
    if org is None:
        raise _no_such()
    return org


@transaction.atomic
def set_member(
    *,
    by: User,
    organization_id: int,
    member_id: int,
    may_book: bool | None = None,
    remove: bool = False,
) -> None:
    """A manager lets a member book or not, or removes them (never the last manager)."""
    org = _managed(by, organization_id)
    membership = Membership.objects.filter(organization=org, user_id=member_id).first()
    if membership is None:
        raise AccountError(_("No such member."), code="not_found")
    if remove:
        managers = Membership.objects.filter(organization=org, is_manager=True)
        if membership.is_manager and managers.count() == 1:
            raise AccountError(
                _("An organization keeps at least one manager."), code="last_manager"
            )
        membership.delete()
    elif may_book is not None:
        membership.may_book = may_book
        membership.save(update_fields=["may_book"])
    audit.record(
        actor=by,
        action="organization.member_remove" if remove else "organization.member",
        obj=org,
        center_id=org.center_id,
        changes={"member_id": member_id}
        if remove
        else {"member_id": member_id, "may_book": may_book},
    )


@transaction.atomic
def new_invite_code(*, by: User, organization_id: int) -> Organization:
    org = _managed(by, organization_id)
    org.invite_code = _code()
    org.save(update_fields=["invite_code"])
    return org


def organizations_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization", "organization__center")
        .order_by("organization__name")
    )


def acting_for(user: User, organization_id: int) -> Organization:
    """The organization `user` may book for, or an error saying why not."""
    membership = (
        Membership.objects.filter(user=user, organization_id=organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        raise _no_such()
    org = membership.organization
    if org.status != Organization.Status.CONFIRMED:
        raise AccountError(
            _("The center has not confirmed this organization yet."),
            code="organization_not_confirmed",
        )
    if not membership.may_book:
        raise AccountError(
            _("Your organization's manager has not let you book for it."),
            code="may_not_book",
        )
    return org
