"""Registration: first come, lottery, waiting list, cancellation. See docs/concurrency.md.

Every write here runs in one transaction. Places are taken with one guarded UPDATE
(`taken = taken + n WHERE taken + n <= capacity`), so two requests can never both get the
last place; the unique constraint on (activity, person) for active registrations is the guard
against one person holding two. The statements are in `activities/hotpath.py`, the cached
activity facts in `activities/facts.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.core import audit
from doorstep.core.commits import CommitGroup
from doorstep.core.errors import DoorstepError
from doorstep.inbox.services import planned_written

from .. import facts, hotpath, notices
from ..models import (
    ACTIVE_STATUSES,
    HOLDS_PLACE,
    WAITLIST_ORDER,
    Activity,
    ActivityStatus,
    Allocation,
    Registration,
    RegistrationRequest,
    RegistrationStatus,
)


class RegistrationError(DoorstepError):
    """A registration that cannot be made (full, not open, limit reached, ...)."""


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


@dataclass
class RegistrationResult:
    registrations: list[Registration]
    replayed: bool = False  # True when an Idempotency-Key repeat returned the first answer

    @property
    def status(self) -> str:
        return self.registrations[0].status if self.registrations else ""


def _age_on(person: Person, when: datetime) -> int | None:
    if person.birth_year is None:
        return None
    return timezone.localtime(when).year - person.birth_year


def _check_window(activity: Activity, now: datetime) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        if activity.status == ActivityStatus.CANCELLED:
            raise RegistrationError(_("This activity has been cancelled."), code="cancelled")
        raise RegistrationError(_("This activity is not published."), code="not_found", status=404)
    if now < activity.registration_opens_at:
        raise RegistrationError(
            _("Registration opens at %(t)s.")
            % {"t": timezone.localtime(activity.registration_opens_at).strftime("%Y-%m-%d %H:%M")},
            code="not_open",
            opens_at=activity.registration_opens_at.isoformat(),
        )
    if now >= activity.registration_closes_at or now >= activity.starts_at:
        raise RegistrationError(_("Registration has closed."), code="closed")


def _clean_ids(person_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        raise RegistrationError(_("Choose who will attend."), code="no_attendee")
    if len(ids) > 10:
        raise RegistrationError(_("Too many people in one registration."), code="limit_reached")
    return ids


def _check_people(people: list[Person], ids: list[int]) -> list[Person]:
    if len(people) != len(ids):
        raise RegistrationError(
            _("One of the people is not in your household."), code="not_in_household"
        )
    unnamed = [p for p in people if not p.name.strip()]
    if unnamed:
        raise RegistrationError(
            _("Please add a name for everyone attending first (on your account page)."),
            code="name_required",
        )
    return sorted(people, key=lambda p: ids.index(p.pk))


def _block_end(
    *,
    account: User,
    center_id: int,
    threshold: int,
    window_days: int,
    block_days: int,
    now: datetime,
) -> datetime | None:
    """When a no-show block on first-come registration at this center ends, if one applies."""
    if block_days == 0:
        return None
    since = now - timedelta(days=window_days)
    latest_first = list(
        Registration.objects.filter(
            account=account,
            status=RegistrationStatus.NO_SHOW,
            activity__center_id=center_id,
            activity__starts_at__gte=since,
        )
        .order_by("-activity__ends_at")
        .values_list("activity__ends_at", flat=True)[:threshold]
    )
    if len(latest_first) < threshold:
        return None
    # The block runs from the latest no-show, the one that reached the threshold.
    until = latest_first[0] + timedelta(days=block_days)
    return until if until > now else None


def _check_ages(activity: Activity, people: list[Person]) -> None:
    if activity.age_min is None and activity.age_max is None:
        return
    for person in people:
        age = _age_on(person, activity.starts_at)
        if age is None and not person.is_account_holder:
            raise RegistrationError(
                _("Add %(name)s's birth year: this activity has an age range.")
                % {"name": person.name},
                code="age_not_eligible",
            )
        if age is not None and (
            (activity.age_min is not None and age < activity.age_min)
            or (activity.age_max is not None and age > activity.age_max)
        ):
            # An accompanying adult (the account holder) may come with an eligible child.
            if not (
                person.is_account_holder
                and activity.audience == "children_with_parent"
                and len(people) > 1
            ):
                raise RegistrationError(
                    _("%(name)s is not in this activity's age range (%(min)s-%(max)s).")
                    % {
                        "name": person.name,
                        "min": activity.age_min if activity.age_min is not None else "",
                        "max": activity.age_max if activity.age_max is not None else "",
                    },
                    code="age_not_eligible",
                )


def _check_weekly_limit(activity: Activity, people: list[Person]) -> None:
    if not activity.weekly_limit_per_person:
        return
    local = timezone.localtime(activity.starts_at)
    week_start = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for person in people:
        n = Registration.objects.filter(
            person=person,
            status__in=ACTIVE_STATUSES,
            activity__starts_at__gte=week_start,
            activity__starts_at__lt=week_start + timedelta(days=7),
        ).count()
        if n >= activity.weekly_limit_per_person:
            raise RegistrationError(
                _("%(name)s already has %(n)s registrations that week.")
                % {"name": person.name, "n": n},
                code="limit_reached",
            )


def _check_no_show_block(account: User, activity: Activity, now: datetime) -> None:
    threshold = getattr(activity, "policy_threshold", None)
    if threshold is None:
        return  # the center has no policy (read with the activity: no extra statement)
    until = _block_end(
        account=account,
        center_id=activity.center_id,
        threshold=threshold,
        window_days=activity.policy_window_days,  # type: ignore[attr-defined]
        block_days=activity.policy_block_days,  # type: ignore[attr-defined]
        now=now,
    )
    if until:
        raise RegistrationError(
            _("After missed activities, first-come registration here is paused until %(t)s.")
            % {"t": timezone.localtime(until).strftime("%Y-%m-%d")},
            code="blocked_no_show",
            blocked_until=until.isoformat(),
        )


def _full() -> RegistrationError:
    return RegistrationError(_("All places are taken."), code="full")


def _replayed(activity_id: int, stored_activity_id: int, ids: list[int]) -> RegistrationResult:
    if stored_activity_id != activity_id:
        raise RegistrationError(
            _("This Idempotency-Key was already used for another activity."),
            code="idempotency_key_reused",
            status=409,
        )
    regs = list(Registration.objects.filter(pk__in=ids).order_by("id"))
    return RegistrationResult(registrations=regs, replayed=True)


def _replay(account: User, key: str, activity_id: int) -> RegistrationResult | None:
    request = RegistrationRequest.objects.filter(account=account, key=key).first()
    if request is None:
        return None
    return _replayed(activity_id, request.activity_id, list(request.registration_ids))


def register(
    *,
    account: User,
    activity_id: int,
    person_ids: Sequence[int],
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> RegistrationResult:
    """Take places for people of one household, or put them on the waiting list.

    First-come activities confirm at once while places last; lottery activities record an
    application that the draw decides. A group gets all its places or none (a child is not
    confirmed without the parent registered with it); without places, the group joins the
    waiting list in order. A repeated Idempotency-Key returns the first answer.

    The statements, in order (docs/concurrency.md): none for the activity when this worker
    holds its facts (activities/facts.py); then, in one transaction, the household lock with
    its people, and one statement that re-checks the activity's version, checks the
    household's registrations, takes the places, inserts the registrations and the
    idempotency record (PostgreSQL; SQLite runs the same steps one by one), and the notice.
    A stored Idempotency-Key is looked up only when the request is refused (a retry).
    """
    now = _now(now)
    key = (idempotency_key or "").strip()[:80] or None
    try:
        ids = _clean_ids(person_ids)
        stale = collided = 0
        while True:
            # This worker's copy of the facts; the writing statement re-checks its version.
            activity = facts.for_registration(activity_id, fresh=stale > 0)
            if activity is None:
                raise RegistrationError(_("No such activity."), code="not_found", status=404)
            _check_window(activity, now)
            lottery = activity.allocation == Allocation.LOTTERY
            if (
                not lottery
                and activity.taken + len(ids) > activity.capacity
                and not activity.waitlist_enabled
            ):
                # Cheap "no" before any write or any other read: the counter only says no
                # sooner, never yes.
                raise _full()
            try:
                return _decide(account=account, activity=activity, ids=ids, key=key, now=now)
            except _StaleFacts:
                stale += 1  # the activity changed since this worker read it: read it again
                if stale > 1:
                    raise  # changed twice while we decided: rare enough to be an error
            except IntegrityError as exc:
                collided += 1
                if _violated(exc) != "one_household_slot" or collided > SLOT_RETRIES:
                    raise
                # Another request of this household took the same slot and committed first
                # (we waited for it): decide again, seeing it. Each collision is another of
                # its registrations committed, so this ends within the household's places.
    except (RegistrationError, IntegrityError) as exc:
        # A retry of a request that was answered (its people registered, or its key stored by
        # a concurrent request we waited for): the first answer.
        if key and not (isinstance(exc, RegistrationError) and exc.code == "not_found"):
            replay = _replay(account, key, activity_id)
            if replay:
                return replay
        if isinstance(exc, IntegrityError):
            # The same person registered twice at once: the unique constraint refused one.
            raise RegistrationError(
                _("Already registered for this activity."), code="already_registered"
            ) from None
        raise


SLOT_RETRIES = 10  # more than any household's places


def _violated(exc: IntegrityError) -> str:
    """The name of the constraint a unique violation hit (PostgreSQL), else ""."""
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")


class _StaleFacts(RegistrationError):
    def __init__(self) -> None:
        super().__init__(
            _("The activity was just changed. Please try again."), code="try_again", status=409
        )


def register_at_desk(
    *,
    by: User,
    activity_id: int,
    account_id: int,
    person_ids: Sequence[int],
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> RegistrationResult:
    """Staff register a household's members at the center's desk (代办): the same service,
    rules and limits as online (`register`), for an activity of a center they manage; the
    act is on the audit trail."""
    from doorstep.accounts.scopes import can_manage

    activity = Activity.objects.filter(pk=activity_id).values_list("center_id", flat=True)
    account = User.objects.filter(pk=account_id, is_active=True).first()
    if not activity or not can_manage(by, activity[0]) or account is None:
        raise RegistrationError(_("No such activity."), code="not_found", status=404)
    result = register(
        account=account,
        activity_id=activity_id,
        person_ids=person_ids,
        idempotency_key=idempotency_key,
        now=now,
    )
    if not result.replayed:
        audit.record(
            actor=by,
            action="registration.desk",
            obj=result.registrations[0],
            label=" · ".join(r.public_id for r in result.registrations),
            center_id=activity[0],
            changes={"status": result.status, "people": len(result.registrations)},
            now=now,
        )
    return result


# Lottery applications of this process that arrive at once share one commit (core/commits.py).
APPLICATIONS: CommitGroup[RegistrationResult] = CommitGroup("lottery applications")


def _decide(
    *, account: User, activity: Activity, ids: list[int], key: str | None, now: datetime
) -> RegistrationResult:
    """Write the registration: a lottery application in this process's commit group (an
    application the group could not write, for any reason, is decided alone, exactly);
    first come in its own transaction, where the guarded UPDATE of the activity's row is
    the point every request of the rush passes one at a time."""

    def alone() -> RegistrationResult:
        return _write(account=account, activity=activity, ids=ids, key=key, now=now)

    if activity.allocation != Allocation.LOTTERY:
        return alone()
    return APPLICATIONS.run(
        lambda: _write(account=account, activity=activity, ids=ids, key=key, now=now, grouped=True),
        alone,
    )


def _write(
    *,
    account: User,
    activity: Activity,
    ids: list[int],
    key: str | None,
    now: datetime,
    grouped: bool = False,
) -> RegistrationResult:
    """One registration's statements in a transaction of its own, or (`grouped`) in the
    commit group's transaction, where any refusal rolls the group back (no savepoint)."""
    lottery = activity.allocation == Allocation.LOTTERY
    created = timezone.now()
    public_ids = [new_public_id() for _i in ids]
    postgres = connection.vendor == "postgresql"
    # PostgreSQL reads the people in the writing statement, unless a check must read the
    # household's other registrations first, under the household lock.
    read_first = (
        not postgres
        or bool(activity.weekly_limit_per_person)
        or (not lottery and getattr(activity, "policy_threshold", None) is not None)
    )
    with transaction.atomic(savepoint=not grouped):
        if read_first:
            people = _check_people(hotpath.household_people(account, ids), ids)
            _check_people_may_come(activity, people)
            _check_weekly_limit(activity, people)
            if not lottery:
                _check_no_show_block(account, activity, now)
        planned = (
            notices.plan_registered(activity, account=account, lottery=lottery, now=created)
            if postgres
            else None
        )
        taken = hotpath.take_places(
            activity=activity,
            account=account,
            person_ids=ids,
            public_ids=public_ids,
            lottery=lottery,
            key=key,
            created=created,
            notice=planned,
        )
        if not taken.fresh:
            facts.forget(activity.pk)
            raise _StaleFacts
        if not read_first:
            # Checked after the statement, in its transaction: a refusal here rolls it back.
            people = _check_people(taken.people or [], ids)
            _check_people_may_come(activity, people)
        if not taken.household_ok:
            if taken.already_registered:
                raise RegistrationError(
                    _("Already registered for this activity."), code="already_registered"
                )
            raise _household_limit(activity)
        if not taken.rows:
            facts.note_full(activity.pk, activity.version)
            raise _full()
        by_person = {p.pk: p for p in people}
        regs = []
        for pk, public_id, person_id, status in taken.rows:
            reg = Registration(
                pk=pk,
                public_id=public_id,
                party=public_ids[0],
                activity=activity,
                person=by_person[person_id],
                account=account,
                status=status,
                created_at=created,
                updated_at=created,
            )
            reg._state.adding = False
            reg._state.db = activity._state.db
            regs.append(reg)
        # In the same transaction: the notice exists exactly when the registration does
        # (written by the statement itself when it was planned and the status is its own).
        if not planned_written(taken.notice_id, taken.deliveries):
            notices.registered(activity, regs, account=account, now=now)
    return RegistrationResult(registrations=regs)


def _check_people_may_come(activity: Activity, people: list[Person]) -> None:
    _check_ages(activity, people)
    if len(people) > activity.places_per_household:
        raise _household_limit(activity)


def _household_limit(activity: Activity) -> RegistrationError:
    return RegistrationError(
        _("A household may take at most %(n)s places in this activity.")
        % {"n": activity.places_per_household},
        code="limit_reached",
    )


def fill_from_waitlist(activity_id: int, now: datetime) -> int:
    """Give free places to those waiting, whole parties in strict line order.

    A party (a parent and a child) moves up only when all its members fit; until then the
    places stay free for it and `register()` does not hand them to newcomers, so the line is
    never jumped. Caller is atomic; this takes the activity row lock.
    """
    activity = Activity.objects.select_for_update().get(pk=activity_id)
    if activity.status != ActivityStatus.PUBLISHED or activity.starts_at <= now:
        return 0
    free = activity.capacity - activity.taken
    waiting = list(
        Registration.objects.filter(activity=activity, status=RegistrationStatus.WAITLISTED)
        .order_by(*WAITLIST_ORDER)
        .select_related("person")
        .only("id", "party", "public_id", "status", "account_id", "person__name")
    )
    parties: dict[str, list[Registration]] = {}
    for r in waiting:
        parties.setdefault(r.party or r.public_id, []).append(r)
    moved: list[Registration] = []
    for members in parties.values():
        if len(members) > free:
            break
        moved.extend(members)
        free -= len(members)
    if not moved:
        return 0
    ids = [m.pk for m in moved]
    deadline = now + timedelta(hours=activity.offer_hours) if activity.offer_hours else None
    if deadline:
        Registration.objects.filter(pk__in=ids).update(
            status=RegistrationStatus.OFFERED, offer_expires_at=deadline, updated_at=now
        )
    else:
        Registration.objects.filter(pk__in=ids).update(
            status=RegistrationStatus.CONFIRMED, updated_at=now
        )
    Activity.objects.filter(pk=activity.pk).update(taken=F("taken") + len(moved))
    notices.promoted(activity, moved, offered_until=deadline)
    return len(moved)


def release_place(
    *, registration: Registration, new_status: str, reason: str, now: datetime
) -> None:
    """End a registration; a place it held passes to those waiting. Caller is atomic."""
    held = registration.status in HOLDS_PLACE
    activity = Activity.objects.select_for_update().get(pk=registration.activity_id)
    registration.status = new_status
    registration.cancelled_at = now
    registration.cancel_reason = reason[:200]
    registration.offer_expires_at = None
    registration.save(
        update_fields=["status", "cancelled_at", "cancel_reason", "offer_expires_at", "updated_at"]
    )
    if held:
        Activity.objects.filter(pk=activity.pk).update(taken=F("taken") - 1)
    fill_from_waitlist(activity.pk, now)


@transaction.atomic
def cancel(
    *,
    registration_id: int,
    by: User,
    reason: str = "",
    as_staff: bool = False,
    now: datetime | None = None,
) -> Registration:
    """Cancel a registration: the resident until the deadline, staff at any time."""
    now = _now(now)
    reg = (
        Registration.objects.select_for_update()
        .select_related("activity")
        .filter(pk=registration_id)
        .first()
    )
    if reg is None or (not as_staff and reg.account_id != by.pk):
        raise RegistrationError(_("No such registration."), code="not_found", status=404)
    if reg.status not in ACTIVE_STATUSES:
        raise RegistrationError(_("This registration is no longer active."), code="not_active")
    activity = reg.activity
    if not as_staff and reg.checked_in_at is not None:
        raise RegistrationError(
            _("You have already checked in; the place cannot be cancelled."),
            code="checked_in",
        )
    if not as_staff:
        deadline = activity.cancel_deadline or activity.starts_at
        if now >= deadline:
            raise RegistrationError(
                _("It is too late to cancel online; please tell the center."),
                code="cancel_deadline_passed",
            )
    else:
        from doorstep.accounts.scopes import can_manage

        if not can_manage(by, activity.center_id):
            raise RegistrationError(_("No such registration."), code="not_found", status=404)
        if not reason.strip():
            raise RegistrationError(_("Staff must give a reason."), code="reason_required")
    was = reg.status
    release_place(
        registration=reg,
        new_status=RegistrationStatus.CANCELLED,
        reason=reason,
        now=now,
    )
    if as_staff:
        notices.cancelled_by_staff(activity, [reg], reason=reason, now=now)
        audit.record(
            actor=by,
            action="registration.cancel",
            obj=reg,
            # The ticket's pseudonymous id, not the person's name: the trail holds no more
            # personal data than it must.
            label=f"{activity.title} · {reg.public_id}",
            center_id=activity.center_id,
            changes={
                **audit.diff({"status": was}, {"status": RegistrationStatus.CANCELLED}),
                "reason": reason,
            },
            now=now,
        )
    reg.refresh_from_db()
    return reg


def accept_offer(
    *, registration_id: int, account: User, now: datetime | None = None
) -> Registration:
    now = _now(now)
    expired = False
    with transaction.atomic():
        reg = (
            Registration.objects.select_for_update()
            .filter(pk=registration_id, account=account)
            .first()
        )
        if reg is None:
            raise RegistrationError(_("No such registration."), code="not_found", status=404)
        if reg.status != RegistrationStatus.OFFERED:
            raise RegistrationError(_("There is no open offer."), code="no_offer")
        if reg.offer_expires_at and reg.offer_expires_at <= now:
            # Commit the hand-on to the next person before answering.
            release_place(
                registration=reg,
                new_status=RegistrationStatus.CANCELLED,
                reason="offer expired",
                now=now,
            )
            expired = True
        else:
            reg.status = RegistrationStatus.CONFIRMED
            reg.offer_expires_at = None
            reg.save(update_fields=["status", "offer_expires_at", "updated_at"])
            notices.registered(
                Activity.objects.select_related("center").get(pk=reg.activity_id),
                [reg],
                account=account,
                now=now,
            )
    if expired:
        raise RegistrationError(_("The offer has expired."), code="offer_expired")
    return reg
