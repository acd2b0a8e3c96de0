"""Registration: first come, lottery, waiting list, cancellation. See docs/concurrency.md.

Every write here runs in one transaction. Places are taken with one guarded UPDATE
(`taken = taken + n WHERE taken + n <= capacity`), so two requests can never both get the
last place; the unique constraint on (activity, person) for active registrations is the guard
against one person holding two.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.core import audit
from doorstep.core.errors import DoorstepError

from . import facts, hotpath, notices
from .models import (
    ACTIVE_STATUSES,
    HOLDS_PLACE,
    WAITLIST_ORDER,
    Activity,
    ActivityMessage,
    ActivityStatus,
    Allocation,
    NoShowPolicy,
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
        for attempt in range(2):
            # This worker's copy of the facts; the writing statement re-checks its version.
            activity = facts.for_registration(activity_id, fresh=attempt > 0)
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
                return _write(account=account, activity=activity, ids=ids, key=key, now=now)
            except _StaleFacts:
                continue  # the activity changed since this worker read it: read it again
        raise _StaleFacts  # changed twice while we decided: rare enough to be an error
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


def _write(
    *, account: User, activity: Activity, ids: list[int], key: str | None, now: datetime
) -> RegistrationResult:
    lottery = activity.allocation == Allocation.LOTTERY
    created = timezone.now()
    public_ids = [new_public_id() for _i in ids]
    with transaction.atomic():
        people = _check_people(hotpath.household_people(account, ids), ids)
        _check_ages(activity, people)
        if len(people) > activity.places_per_household:
            raise _household_limit(activity)
        _check_weekly_limit(activity, people)
        if not lottery:
            _check_no_show_block(account, activity, now)
        taken = hotpath.take_places(
            activity=activity,
            account=account,
            person_ids=ids,
            public_ids=public_ids,
            lottery=lottery,
            key=key,
            created=created,
        )
        if not taken.fresh:
            facts.forget(activity.pk)
            raise _StaleFacts
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
        # In the same transaction: the notice exists exactly when the registration does.
        notices.registered(activity, regs, account=account, now=now)
    return RegistrationResult(registrations=regs)


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


def expire_offers(*, activity_id: int | None = None, now: datetime | None = None) -> int:
    """Move expired offers on to the next person. Idempotent; run on read and by the worker."""
    now = _now(now)
    qs = Registration.objects.filter(status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
    if activity_id is not None:
        qs = qs.filter(activity_id=activity_id)
    done = 0
    for reg_id in list(qs.values_list("id", flat=True)[:500]):
        with transaction.atomic():
            reg = (
                Registration.objects.select_for_update()
                .filter(pk=reg_id, status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
                .first()
            )
            if reg is None:
                continue
            release_place(
                registration=reg,
                new_status=RegistrationStatus.CANCELLED,
                reason="offer expired",
                now=now,
            )
            notices.offer_expired(
                Activity.objects.select_related("center").get(pk=reg.activity_id), [reg], now=now
            )
            done += 1
    return done


@transaction.atomic
def publish(*, activity_id: int, by: User | None = None) -> Activity:
    """Publish a draft; a lottery gets its secret seed and public commitment now. `by`, the
    staff member who publishes, is audited (None: published as part of creating it)."""
    from .lottery import commitment_for, new_seed

    activity = Activity.objects.select_for_update().get(pk=activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(_("A cancelled activity cannot be published."), code="cancelled")
    if activity.allocation == Allocation.LOTTERY and not activity.lottery_commitment:
        activity.lottery_seed = new_seed()
        activity.lottery_commitment = commitment_for(activity.lottery_seed)
    was = activity.status
    activity.status = ActivityStatus.PUBLISHED
    activity.save(update_fields=["status", "lottery_seed", "lottery_commitment", "updated_at"])
    if by is not None:
        audit.record(
            actor=by,
            action="activity.publish",
            obj=activity,
            center_id=activity.center_id,
            changes=audit.diff({"status": was}, {"status": activity.status}),
        )
    return activity


def lottery_entries(activity: Activity, *, now: datetime) -> list:
    """The public list a draw is computed from: one entry per party, with its tier flags."""
    from .lottery import Entry

    # After the draw, the entries are those the draw saw, whatever happened to them since.
    drawn = Registration.objects.filter(activity=activity).exclude(draw_outcome="")
    waiting_draw = Registration.objects.filter(activity=activity, status=RegistrationStatus.APPLIED)
    regs = list(
        (drawn if activity.drawn_at else waiting_draw).select_related("account").order_by("id")
    )
    parties: dict[str, list[Registration]] = {}
    for r in regs:
        parties.setdefault(r.party or r.public_id, []).append(r)
    center_sub = activity.center.subdistrict_id
    attended_before = set(
        Registration.objects.filter(
            person_id__in=[r.person_id for r in regs],
            checked_in_at__isnull=False,
            activity__category=activity.category,
        )
        .exclude(activity=activity)
        .values_list("person_id", flat=True)
    )
    policy = NoShowPolicy.objects.filter(center_id=activity.center_id).first()
    entries = []
    for party, members in parties.items():
        account = members[0].account
        if activity.drawn_at:
            tier = members[0].priority_tier
            entries.append(
                Entry(
                    party=party,
                    size=len(members),
                    local="local" in tier,
                    first_timer="first" in tier,
                    penalised="penalised" in tier,
                )
            )
            continue
        penalised = bool(
            policy
            and policy.lower_lottery_tier
            and _no_show_count(account, activity, policy, now) >= policy.threshold
        )
        entries.append(
            Entry(
                party=party,
                size=len(members),
                local=bool(center_sub and account.home_subdistrict_id == center_sub),
                first_timer=not any(m.person_id in attended_before for m in members),
                penalised=penalised,
            )
        )
    return entries


def _no_show_count(account: User, activity: Activity, policy: NoShowPolicy, now: datetime) -> int:
    return Registration.objects.filter(
        account=account,
        status=RegistrationStatus.NO_SHOW,
        activity__center_id=activity.center_id,
        activity__starts_at__gte=now - timedelta(days=policy.window_days),
    ).count()


def _tier_label(entry: object) -> str:
    flags = [
        name
        for name, on in (
            ("local", getattr(entry, "local", False)),
            ("first_timer", getattr(entry, "first_timer", False)),
            ("penalised", getattr(entry, "penalised", False)),
        )
        if on
    ]
    return ",".join(flags) or "general"


def draw(*, activity_id: int, now: datetime | None = None) -> bool:
    """Run the lottery if its window has closed and it has not run. Idempotent."""
    from .lottery import allocate

    now = _now(now)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().select_related("center").get(pk=activity_id)
        if (
            activity.allocation != Allocation.LOTTERY
            or activity.drawn_at is not None
            or activity.status != ActivityStatus.PUBLISHED
            or now < activity.registration_closes_at
        ):
            return False
        entries = lottery_entries(activity, now=now)
        outcome = allocate(
            activity.lottery_seed,
            entries,
            capacity=activity.capacity,
            local_percent=activity.local_share_percent,
            first_timer_percent=activity.first_timer_share_percent,
        )
        rank = {e.party: i for i, e in enumerate(outcome.order, start=1)}
        chosen = {e.party for e in outcome.chosen}
        tiers = {e.party: _tier_label(e) for e in outcome.order}
        regs = list(
            Registration.objects.filter(activity=activity, status=RegistrationStatus.APPLIED)
        )
        new_status = (
            RegistrationStatus.WAITLISTED
            if activity.waitlist_enabled
            else RegistrationStatus.NOT_SELECTED
        )
        for r in regs:
            party = r.party or r.public_id
            r.queue_rank = rank[party]
            r.priority_tier = tiers[party]
            r.status = RegistrationStatus.CONFIRMED if party in chosen else new_status
            r.draw_outcome = "chosen" if party in chosen else "waiting"
        Registration.objects.bulk_update(
            regs, ["queue_rank", "priority_tier", "status", "draw_outcome"]
        )
        notices.drawn(activity, regs, now=now)
        activity.taken = sum(e.size for e in outcome.chosen) + activity.walk_ins
        activity.drawn_at = now
        activity.save(update_fields=["taken", "drawn_at", "updated_at"])
        audit.record(
            actor=None,
            action="lottery.draw",
            obj=activity,
            center_id=activity.center_id,
            changes={
                "entries": len(entries),
                "chosen_parties": len(outcome.chosen),
                "places_taken": activity.taken,
                "commitment": activity.lottery_commitment,
            },
            now=now,
        )
    return True


NO_SHOW_GRACE = timedelta(minutes=30)


def mark_no_shows(*, activity_id: int, now: datetime | None = None) -> int:
    """After an activity, confirmed places nobody checked in for become no-shows. Idempotent."""
    now = _now(now)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity_id)
        if activity.no_shows_marked_at or now < activity.ends_at + NO_SHOW_GRACE:
            return 0
        if activity.status != ActivityStatus.PUBLISHED:
            return 0
        missed = list(
            Registration.objects.filter(
                activity=activity,
                status=RegistrationStatus.CONFIRMED,
                checked_in_at__isnull=True,
            ).select_related("person")
        )
        n = Registration.objects.filter(pk__in=[r.pk for r in missed]).update(
            status=RegistrationStatus.NO_SHOW, updated_at=now
        )
        activity.no_shows_marked_at = now
        activity.save(update_fields=["no_shows_marked_at", "updated_at"])
        if missed:
            policy = NoShowPolicy.objects.filter(center_id=activity.center_id).first()
            notices.no_show(activity, missed, policy=policy, now=now)
    return n


def settle(activity: Activity, *, now: datetime | None = None) -> Activity:
    """Bring an activity up to date (draw, expired offers, no-shows) before showing it.

    The worker does the same on time; whichever comes first does the work, the other finds
    nothing to do.
    """
    now = _now(now)
    changed = False
    if (
        activity.allocation == Allocation.LOTTERY
        and activity.drawn_at is None
        and now >= activity.registration_closes_at
    ):
        changed |= draw(activity_id=activity.pk, now=now)
    if activity.offer_hours:
        changed |= bool(expire_offers(activity_id=activity.pk, now=now))
    if activity.no_shows_marked_at is None and now >= activity.ends_at + NO_SHOW_GRACE:
        changed |= bool(mark_no_shows(activity_id=activity.pk, now=now))
    if changed:
        activity.refresh_from_db()
    return activity


def run_due_work(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the worker: everything whose time has come. Safe to run anywhere, any time."""
    now = _now(now)
    drawn = 0
    for pk in Activity.objects.filter(
        allocation=Allocation.LOTTERY,
        status=ActivityStatus.PUBLISHED,
        drawn_at__isnull=True,
        registration_closes_at__lte=now,
    ).values_list("pk", flat=True)[:200]:
        drawn += draw(activity_id=pk, now=now)
    expired = expire_offers(now=now)
    no_shows = 0
    for pk in Activity.objects.filter(
        status=ActivityStatus.PUBLISHED,
        no_shows_marked_at__isnull=True,
        ends_at__lte=now - NO_SHOW_GRACE,
    ).values_list("pk", flat=True)[:200]:
        no_shows += mark_no_shows(activity_id=pk, now=now)
    return {
        "drawn": drawn,
        "offers_expired": expired,
        "offer_reminders": remind_offers(now=now),
        "reminders": send_reminders(now=now),
        "no_shows": no_shows,
    }


DAY_AHEAD = timedelta(hours=24)


def reminder_offsets(activity: Activity) -> tuple[timedelta, ...]:
    """The activity's reminders, as time before its start (for calendar alarms too)."""
    offsets = []
    if activity.remind_day_before:
        offsets.append(DAY_AHEAD)
    if activity.remind_hours_before:
        offsets.append(timedelta(hours=activity.remind_hours_before))
    return tuple(offsets)


# An offer is recalled this long before it lapses (or halfway, for short offers).
OFFER_REMINDER = timedelta(hours=2)


def _reminder_due(
    *,
    starts_at: datetime,
    remind_day_before: bool,
    remind_hours_before: int,
    reminded_day_at: datetime | None,
    reminded_hours_at: datetime | None,
    now: datetime,
) -> str | None:
    """Which reminder is due now ("hours" or "day"), if any. The later one replaces an
    earlier one not yet sent; the caller has already kept to the next 24 hours."""
    hours_pending = remind_hours_before and reminded_hours_at is None
    if hours_pending and starts_at - timedelta(hours=remind_hours_before) <= now:
        return "hours"
    if remind_day_before and reminded_day_at is None:
        return "day"
    return None


REMINDER_FIELDS = (
    "starts_at",
    "remind_day_before",
    "remind_hours_before",
    "reminded_day_at",
    "reminded_hours_at",
)


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind everyone with a place, the day before and some hours before (each activity
    says which). Only activities with a reminder due now are locked; each reminder is marked
    sent on the activity in the transaction that writes its notices. Idempotent."""
    now = _now(now)
    told = 0
    window = Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=now + DAY_AHEAD
    ).filter(
        Q(remind_day_before=True, reminded_day_at__isnull=True)
        | Q(remind_hours_before__gt=0, reminded_hours_at__isnull=True)
    )
    # Decided from the plain columns first: an activity whose day reminder went out waits
    # up to 22 hours for the next one, and must neither be locked nor crowd out the due.
    due = [
        row["pk"]
        for row in window.values("pk", *REMINDER_FIELDS)
        if _reminder_due(**{f: row[f] for f in REMINDER_FIELDS}, now=now)
    ]
    for pk in due[:200]:
        with transaction.atomic():
            activity = (
                Activity.objects.select_for_update(of=("self",)).select_related("center").get(pk=pk)
            )
            # Lock, then re-check: another worker may have sent it meanwhile.
            which = _reminder_due(**{f: getattr(activity, f) for f in REMINDER_FIELDS}, now=now)
            if which is None:
                continue
            regs = list(
                Registration.objects.filter(
                    activity=activity, status=RegistrationStatus.CONFIRMED
                ).select_related("person")
            )
            told += notices.reminder(activity, regs, which=which, now=now)
            fields = {"reminded_hours_at": now} if which == "hours" else {}
            fields["reminded_day_at"] = activity.reminded_day_at or now
            Activity.objects.filter(pk=pk).update(**fields)
    return told


def remind_offers(*, now: datetime | None = None) -> int:
    """Recall open offers shortly before they lapse (once each: the notice's event key)."""
    now = _now(now)
    offers = list(
        Registration.objects.filter(
            status=RegistrationStatus.OFFERED,
            offer_expires_at__gt=now,
            offer_expires_at__lte=now + OFFER_REMINDER,
        )
        .select_related("person", "activity__center")
        .order_by("activity_id", "id")[:1000]
    )
    told = 0
    by_activity: dict[int, list[Registration]] = {}
    for r in offers:
        hours = r.activity.offer_hours or 0
        # A short offer (an hour) is recalled halfway, not the moment it is made.
        lead = min(OFFER_REMINDER, timedelta(hours=hours) / 2)
        if r.offer_expires_at and r.offer_expires_at - now <= lead:
            by_activity.setdefault(r.activity_id, []).append(r)
    for regs in by_activity.values():
        with transaction.atomic():
            told += notices.offer_reminder(regs[0].activity, regs, now=now)
    return told


MESSAGES_PER_DAY = 3


@transaction.atomic
def message_registrants(
    *, activity_id: int, by: User, text: str, now: datetime | None = None
) -> ActivityMessage:
    """A message from staff to everyone holding or awaiting a place, as a notice. At most
    MESSAGES_PER_DAY per activity in 24 hours, so residents are not flooded."""
    now = _now(now)
    text = " ".join(text.split())[:300]
    if not text:
        raise RegistrationError(_("Write the message."), code="message_required", field="text")
    activity = _locked_activity(activity_id, by)
    if activity.status != ActivityStatus.PUBLISHED or activity.ends_at <= now:
        raise RegistrationError(
            _("Messages go only to registrants of a published activity that has not ended."),
            code="not_open",
            status=409,
        )
    recent = ActivityMessage.objects.filter(
        activity=activity, sent_at__gt=now - timedelta(hours=24)
    ).count()
    if recent >= MESSAGES_PER_DAY:
        raise RegistrationError(
            _("At most %(n)s messages a day per activity; this one was not sent.")
            % {"n": MESSAGES_PER_DAY},
            code="too_many_messages",
            status=429,
        )
    regs = list(
        Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
        .select_related("person")
        .only("id", "account_id", "person__name")
    )
    message = ActivityMessage.objects.create(activity=activity, text=text, by=by, sent_at=now)
    activity = Activity.objects.select_related("center").get(pk=activity.pk)
    message.recipients = notices.staff_message(
        activity, regs, message_id=message.pk, text=text, now=now
    )
    message.save(update_fields=["recipients"])
    audit.record(
        actor=by,
        action="activity.message",
        obj=activity,
        center_id=activity.center_id,
        changes={"text": text, "recipients": message.recipients},
        now=now,
    )
    return message


def draw_record(activity: Activity, *, now: datetime | None = None) -> dict:
    """The public record of a lottery: enough for anyone to recompute the draw.

    Before the draw: the commitment and the entries so far. After: also the seed, who was
    chosen and the waiting list in order. Entries name pseudonymous parties only.
    """
    now = _now(now)
    entries = lottery_entries(activity, now=now)
    record: dict = {
        "activity": activity.pk,
        "capacity": activity.capacity,
        "local_share_percent": activity.local_share_percent,
        "first_timer_share_percent": activity.first_timer_share_percent,
        "commitment": activity.lottery_commitment,
        "seed": activity.lottery_seed if activity.drawn_at else None,
        "drawn_at": activity.drawn_at.isoformat() if activity.drawn_at else None,
        "entries": [
            {
                "party": e.party,
                "size": e.size,
                "local": e.local,
                "first_timer": e.first_timer,
                "penalised": e.penalised,
            }
            for e in sorted(entries, key=lambda e: e.party)
        ],
        "chosen": [],
        "waiting": [],
    }
    if activity.drawn_at:
        rows = (
            Registration.objects.filter(activity=activity)
            .exclude(draw_outcome="")
            .order_by("queue_rank", "id")
            .values_list("party", "draw_outcome")
        )
        seen: set[str] = set()
        for party, outcome in rows:
            if party in seen:
                continue
            seen.add(party)
            record["chosen" if outcome == "chosen" else "waiting"].append(party)
    return record


# ---------------------------------------------------------------------------------------------
# Staff back office: create, edit and cancel activities.
#
# Every function here checks that `by` manages the activity's center and answers `not_found`
# (404) otherwise, so a page or API built on them cannot leak another center's activities.
# ---------------------------------------------------------------------------------------------

MAX_CAPACITY = 10_000


@dataclass
class ActivityInput:
    """What staff set on an activity; the counters, status and lottery fields are not here."""

    title: str
    category: str
    audience: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_opens_at: datetime
    registration_closes_at: datetime
    title_en: str = ""
    description: str = ""
    room: str = ""
    age_min: int | None = None
    age_max: int | None = None
    cancel_deadline: datetime | None = None
    allocation: str = Allocation.FIRST_COME
    places_per_household: int = 2
    weekly_limit_per_person: int | None = None
    waitlist_enabled: bool = True
    offer_hours: int | None = None
    local_share_percent: int = 0
    first_timer_share_percent: int = 0
    remind_day_before: bool = True
    remind_hours_before: int = 2


def activity_problems(
    data: ActivityInput, *, now: datetime | None = None
) -> list[tuple[str | None, str]]:
    """Everything wrong with `data`, as (field, message) pairs; empty when it can be saved.

    The form shows all of them at once; the services refuse the first. With `now`, an
    activity must also start in the future (new activities; edits may touch past ones).
    """
    problems: list[tuple[str | None, str]] = []
    if not data.title.strip():
        problems.append(("title", _("Give the activity a title.")))
    if data.ends_at <= data.starts_at:
        problems.append(("ends_at", _("The end must be after the start.")))
    if now is not None and data.starts_at <= now:
        problems.append(("starts_at", _("The start must be in the future.")))
    if data.registration_closes_at <= data.registration_opens_at:
        problems.append(("registration_closes_at", _("Registration must close after it opens.")))
    elif data.registration_closes_at > data.starts_at:
        problems.append(
            ("registration_closes_at", _("Registration must close before the activity starts."))
        )
    if data.cancel_deadline is not None and data.cancel_deadline > data.starts_at:
        problems.append(
            ("cancel_deadline", _("Residents can cancel online until the start at the latest."))
        )
    if not 1 <= data.capacity <= MAX_CAPACITY:
        problems.append(
            ("capacity", _("Places must be between 1 and %(max)s.") % {"max": MAX_CAPACITY})
        )
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        problems.append(("age_max", _("The maximum age is below the minimum age.")))
    if not 1 <= data.places_per_household <= 10:
        problems.append(("places_per_household", _("Allow 1 to 10 places per household.")))
    if data.weekly_limit_per_person is not None and data.weekly_limit_per_person < 1:
        problems.append(("weekly_limit_per_person", _("Leave empty for no limit, or at least 1.")))
    if data.offer_hours is not None and not 1 <= data.offer_hours <= 720:
        problems.append(("offer_hours", _("Leave empty, or give 1 to 720 hours.")))
    if data.allocation not in Allocation.values:
        problems.append(("allocation", _("Choose how places are given.")))
    if not 0 <= data.remind_hours_before <= 23:
        problems.append(("remind_hours_before", _("Give 0 to 23 hours (0: no reminder).")))
    for name in ("local_share_percent", "first_timer_share_percent"):
        if not 0 <= getattr(data, name) <= 100:
            problems.append((name, _("A share is a percentage between 0 and 100.")))
    shares = data.local_share_percent + data.first_timer_share_percent
    if data.allocation != Allocation.LOTTERY and shares:
        problems.append(
            ("local_share_percent", _("Reserved shares apply only when places are drawn by lot."))
        )
    elif shares > 100:
        problems.append(
            ("first_timer_share_percent", _("Together, the reserved shares cannot pass 100%."))
        )
    return problems


def _refuse_problems(problems: list[tuple[str | None, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise RegistrationError(message, code="invalid", field=field)


def _require_manager(by: User, center_id: int) -> None:
    from doorstep.accounts.scopes import can_manage

    if not can_manage(by, center_id):
        raise RegistrationError(_("No such activity."), code="not_found", status=404)


def _locked_activity(activity_id: int, by: User) -> Activity:
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise RegistrationError(_("No such activity."), code="not_found", status=404)
    _require_manager(by, activity.center_id)
    return activity


def _input_values(data: ActivityInput) -> dict[str, object]:
    from dataclasses import asdict

    values = asdict(data)
    values["title"] = data.title.strip()
    values["title_en"] = " ".join((data.title_en or "").split())[:160]
    return values


@transaction.atomic
def create_activity(
    *,
    center_id: int,
    by: User,
    data: ActivityInput,
    publish_now: bool = False,
    series_id: int | None = None,
    now: datetime | None = None,
) -> Activity:
    """Create a draft activity at a center `by` manages; publish it at once if asked."""
    now = _now(now)
    _require_manager(by, center_id)
    _refuse_problems(activity_problems(data, now=now))
    activity = Activity.objects.create(
        center_id=center_id, series_id=series_id, **_input_values(data)
    )
    audit.record(
        actor=by,
        action="activity.create",
        obj=activity,
        center_id=center_id,
        changes=audit.diff({}, _input_values(data)),
        now=now,
    )
    if publish_now:
        activity = publish(activity_id=activity.pk, by=by)
    return activity


def _fill_new_places(activity: Activity, places: int, now: datetime) -> int:
    """Places added by a capacity increase go to those waiting, in line order."""
    return fill_from_waitlist(activity.pk, now)


@transaction.atomic
def update_activity(
    *, activity_id: int, by: User, data: ActivityInput, now: datetime | None = None
) -> Activity:
    """Change an activity's settings, holding its row lock so registrations wait for us.

    Refused: places below those already held; switching first come/lottery once anyone has
    registered; changing places or shares after the draw (the published record must stay
    recomputable). Extra places go to the waiting list at once, in line order. When the time
    or the place changes, everyone registered gets a notice; tickets carry the activity's
    day, so moving it to another day re-issues them (the ticket page shows the new one, the
    old one answers "wrong day") and the notice says so.
    """
    now = _now(now)
    activity = _locked_activity(activity_id, by)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(
            _("A cancelled activity cannot be changed."), code="cancelled", status=409
        )
    _refuse_problems(activity_problems(data))
    if data.capacity < activity.taken:
        raise RegistrationError(
            _("%(n)s places are already taken; places cannot go below that.")
            % {"n": activity.taken},
            code="capacity_below_taken",
            field="capacity",
        )
    if (
        data.allocation != activity.allocation
        and Registration.objects.filter(activity=activity).exists()
    ):
        raise RegistrationError(
            _("People have registered already, so how places are given cannot change."),
            code="allocation_locked",
            field="allocation",
        )
    if activity.drawn_at is not None:
        for name in ("capacity", "local_share_percent", "first_timer_share_percent"):
            if getattr(data, name) != getattr(activity, name):
                raise RegistrationError(
                    _("The lottery has been drawn: its places and shares can no longer change."),
                    code="drawn",
                    field=name,
                )
    added = data.capacity - activity.capacity
    values = _input_values(data)
    before = audit.snapshot(activity, values)
    was = {"starts_at": activity.starts_at, "room": activity.room}
    for name, value in values.items():
        setattr(activity, name, value)
    if activity.allocation == Allocation.LOTTERY:
        if activity.status == ActivityStatus.PUBLISHED and not activity.lottery_commitment:
            from .lottery import commitment_for, new_seed

            activity.lottery_seed = new_seed()
            activity.lottery_commitment = commitment_for(activity.lottery_seed)
    else:
        activity.lottery_seed = activity.lottery_commitment = ""
    activity.save()
    audit.record(
        actor=by,
        action="activity.update",
        obj=activity,
        center_id=activity.center_id,
        changes=audit.diff(before, audit.snapshot(activity, values)),
        now=now,
    )
    if activity.starts_at != was["starts_at"] or activity.room != was["room"]:
        Activity.objects.filter(pk=activity.pk).update(ics_sequence=F("ics_sequence") + 1)
        _tell_changed(activity, was, now)
    taking_places = activity.allocation == Allocation.FIRST_COME or activity.drawn_at is not None
    if (
        added > 0
        and taking_places
        and activity.status == ActivityStatus.PUBLISHED
        and activity.starts_at > now
    ):
        _fill_new_places(activity, added, now)
    activity.refresh_from_db()
    return activity


def _tell_changed(activity: Activity, was: dict[str, Any], now: datetime) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        return
    regs = list(
        Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
        .select_related("person")
        .only("id", "account_id", "person__name")
    )
    if not regs:
        return
    activity = Activity.objects.select_related("center").get(pk=activity.pk)
    before = {
        "starts_at": was["starts_at"],
        "where": f"{activity.center.name} {was['room']}".strip(),
    }
    notices.changed(
        activity,
        regs,
        # Each change is its own event: the time of the change tells them apart.
        version=int(now.timestamp() * 1000),
        before=before,
        new_day=timezone.localdate(was["starts_at"]) != timezone.localdate(activity.starts_at),
        now=now,
    )


@dataclass
class CancelledActivity:
    activity: Activity
    registrations_cancelled: int


@transaction.atomic
def cancel_activity(
    *, activity_id: int, by: User, reason: str, now: datetime | None = None
) -> CancelledActivity:
    """Cancel an activity and, in the same transaction, every active registration on it.

    Each registration keeps the reason, and residents see it on their pages; each account
    gets one notice, written in this transaction in batches. SMS and email go after the
    commit (the first few at once, the rest from the worker), so cancelling never waits for a
    gateway.
    """
    now = _now(now)
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise RegistrationError(
            _("Give a reason: residents will see it."), code="reason_required", field="reason"
        )
    activity = _locked_activity(activity_id, by)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(
            _("This activity has already been cancelled."), code="cancelled", status=409
        )
    if activity.ends_at <= now:
        raise RegistrationError(
            _("This activity has already taken place."), code="finished", status=409
        )
    active = Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
    told = list(active.select_related("person").only("id", "account_id", "person__name"))
    held = active.filter(status__in=HOLDS_PLACE).count()
    n = active.update(
        status=RegistrationStatus.CANCELLED,
        cancelled_at=now,
        cancel_reason=reason,
        offer_expires_at=None,
        updated_at=now,
    )
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason
    activity.ics_sequence += 1
    activity.save(update_fields=["status", "cancel_reason", "ics_sequence", "updated_at"])
    Activity.objects.filter(pk=activity.pk).update(taken=F("taken") - held)
    notices.activity_cancelled(activity, told, reason=reason, now=now)
    audit.record(
        actor=by,
        action="activity.cancel",
        obj=activity,
        center_id=activity.center_id,
        changes={"reason": reason, "registrations_cancelled": n},
        now=now,
    )
    activity.refresh_from_db()
    return CancelledActivity(activity=activity, registrations_cancelled=n)
