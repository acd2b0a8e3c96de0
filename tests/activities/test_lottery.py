from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.activities.lottery import Entry, allocate, commitment_for, draw_order, party_key
from doorstep.activities.models import Registration
from doorstep.activities.services import draw, lottery_entries, register
from tests.factories import make_account, make_activity, make_center

entries_st = st.lists(
    st.builds(
        Entry,
        party=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12),
        size=st.integers(1, 3),
        local=st.booleans(),
        first_timer=st.booleans(),
        penalised=st.booleans(),
    ),
    max_size=60,
    unique_by=lambda e: e.party,
)
seed_st = st.text("0123456789abcdef", min_size=64, max_size=64)


@settings(max_examples=200, deadline=None)
@given(
    seed=seed_st,
    entries=entries_st,
    capacity=st.integers(0, 40),
    local=st.integers(0, 100),
    first=st.integers(0, 100),
)
def test_lottery_invariants(seed, entries, capacity, local, first):
    out = allocate(seed, entries, capacity=capacity, local_percent=local, first_timer_percent=first)
    chosen = [e.party for e in out.chosen]
    waiting = [e.party for e in out.waiting]
    # No one twice, no one lost.
    assert len(set(chosen)) == len(chosen)
    assert set(chosen).isdisjoint(waiting)
    assert sorted(chosen + waiting) == sorted(e.party for e in entries)
    # Places never exceeded.
    assert sum(e.size for e in out.chosen) <= capacity
    # The waiting list keeps the draw order.
    order = [e.party for e in out.order]
    assert waiting == [p for p in order if p in set(waiting)]
    # Penalised parties only go ahead of nobody.
    ranked = [e for e in out.order]
    seen_penalised = False
    for e in ranked:
        seen_penalised = seen_penalised or e.penalised
        assert not (seen_penalised and not e.penalised)
    # Reproducible: the same seed and entries, in any input order, give the same outcome.
    again = allocate(
        seed,
        list(reversed(entries)),
        capacity=capacity,
        local_percent=local,
        first_timer_percent=first,
    )
    assert [e.party for e in again.chosen] == chosen and [e.party for e in again.waiting] == waiting
    # No place is left empty while a party that fits is waiting.
    left = capacity - sum(e.size for e in out.chosen)
    assert all(e.size > left for e in out.waiting)


def test_reserved_shares_go_to_their_tiers_first():
    seed = "0" * 64
    entries = [Entry(party=f"p{i}", local=i < 3, first_timer=3 <= i < 5) for i in range(20)]
    out = allocate(seed, entries, capacity=10, local_percent=30, first_timer_percent=20)
    chosen = {e.party for e in out.chosen}
    assert {"p0", "p1", "p2"} <= chosen  # 3 local places, 3 local applicants
    assert {"p3", "p4"} <= chosen  # 2 first-timer places
    assert len(chosen) == 10


def test_the_order_is_the_documented_hash_order():
    seed = "ab" * 32
    entries = [Entry(party=p) for p in ["x1", "x2", "x3", "x4"]]
    expect = sorted(["x1", "x2", "x3", "x4"], key=lambda p: party_key(seed, p))
    assert [e.party for e in draw_order(seed, entries)] == expect
    import hashlib

    assert party_key(seed, "x1") == hashlib.sha256(f"{seed}:x1".encode()).hexdigest()


@pytest.mark.django_db
def test_draw_end_to_end(regions):
    now = timezone.now()
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=3, allocation="lottery", audience="everyone")
    assert len(activity.lottery_commitment) == 64
    assert commitment_for(activity.lottery_seed) == activity.lottery_commitment
    accounts = [make_account() for _ in range(8)]
    for a in accounts:
        result = register(account=a, activity_id=activity.pk, person_ids=[a.people.first().pk])
        assert result.status == "applied"
    activity.refresh_from_db()
    assert activity.taken == 0
    # Not before the window closes; then once only.
    assert draw(activity_id=activity.pk, now=now) is False
    closes = activity.registration_closes_at
    assert draw(activity_id=activity.pk, now=closes + timedelta(seconds=1)) is True
    assert draw(activity_id=activity.pk, now=closes + timedelta(seconds=2)) is False
    activity.refresh_from_db()
    regs = Registration.objects.filter(activity=activity)
    assert regs.filter(status="confirmed").count() == 3 == activity.taken
    assert regs.filter(status="waitlisted").count() == 5
    # Anyone can recompute the outcome from the revealed seed and the public entries.
    public = lottery_entries(activity, now=closes)
    out = allocate(activity.lottery_seed, public, capacity=3)
    assert {e.party for e in out.chosen} == set(
        regs.filter(status="confirmed").values_list("party", flat=True)
    )
    waiting = list(
        regs.filter(status="waitlisted").order_by("queue_rank").values_list("party", flat=True)
    )
    assert waiting == [e.party for e in out.waiting]


@pytest.mark.django_db
def test_published_record_verifies_and_tampering_is_caught(regions, tmp_path):
    import json

    from django.core.management import CommandError, call_command

    from doorstep.activities.services import cancel, draw_record
    from doorstep.activities.verify import verify_record

    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(
        center, capacity=4, allocation="lottery", places_per_household=2, local_share_percent=50
    )
    this_year = timezone.now().year
    accounts = [make_account(children=(("孩子", this_year - 6),)) for _ in range(6)]
    for a in accounts:
        register(
            account=a,
            activity_id=activity.pk,
            person_ids=list(a.people.values_list("id", flat=True)),
        )
    before = draw_record(activity)
    assert before["seed"] is None and len(before["entries"]) == 6
    assert verify_record(before).ok is False
    draw(activity_id=activity.pk, now=activity.registration_closes_at)
    activity.refresh_from_db()
    record = draw_record(activity)
    assert record["commitment"] == before["commitment"]
    assert len(record["chosen"]) == 2 and len(record["waiting"]) == 4
    assert verify_record(record).ok
    # A later cancellation changes statuses, not what the draw decided.
    winner = Registration.objects.filter(activity=activity, party=record["chosen"][0]).first()
    cancel(registration_id=winner.pk, by=winner.account, now=activity.registration_closes_at)
    assert verify_record(draw_record(activity)).ok
    call_command("verify-draw", str(activity.pk))
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record))
    call_command("verify-draw", "--file", str(path))
    swapped = dict(
        record, chosen=record["waiting"][:2], waiting=record["chosen"] + record["waiting"][2:]
    )
    path.write_text(json.dumps(swapped))
    with pytest.raises(CommandError):
        call_command("verify-draw", "--file", str(path))
    other_seed = dict(record, seed="f" * 64)
    assert "commitment" in " ".join(verify_record(other_seed).problems)


@pytest.mark.django_db
def test_worker_runs_due_work_once(regions):
    from django.core.management import call_command

    from doorstep.activities.services import run_due_work

    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    now = timezone.now()
    activity = make_activity(
        center,
        allocation="lottery",
        audience="everyone",
        registration_closes_at=now + timedelta(minutes=1),
        starts_at=now + timedelta(hours=1),
    )
    a = make_account()
    register(account=a, activity_id=activity.pk, person_ids=[a.people.first().pk])
    assert run_due_work(now=now)["drawn"] == 0
    assert run_due_work(now=now + timedelta(minutes=2))["drawn"] == 1
    assert run_due_work(now=now + timedelta(minutes=3))["drawn"] == 0
    assert Registration.objects.get(activity=activity).status == "confirmed"
    call_command("worker", "--once")
