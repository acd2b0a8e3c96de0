"""Lotteries: the entries, the draw (commit-reveal, activities/lottery.py) and its public record."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from doorstep.accounts.models import User
from doorstep.core import audit

from .. import notices
from ..models import (
    Activity,
    ActivityStatus,
    Allocation,
    NoShowPolicy,
    Registration,
    RegistrationStatus,
)
from .registration import _now


def lottery_entries(activity: Activity, *, now: datetime) -> list:
    """The public list a draw is computed from: one entry per party, with its tier flags."""
    from ..lottery import Entry

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
    from ..lottery import allocate

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
