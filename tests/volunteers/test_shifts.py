"""Sign-ups with the registration engine's guarantees, cancelling, swaps, the poster's
scans, closing open shifts and no-shows."""

from datetime import timedelta

import pytest

from doorstep.inbox.models import Notice
from doorstep.visits import codes
from doorstep.volunteers import services
from doorstep.volunteers.models import Signup
from tests.factories import make_account

from .conftest import MON, NOW, SAT, cleared, local, volunteer

pytestmark = pytest.mark.django_db


def test_confirmed_then_waiting_list_and_a_second_tap_changes_nothing(hall):
    people = [hall["vol"], *(cleared(hall, f"志愿者{i}") for i in range(3))]
    got = [services.sign_up(user=u, shift_id=hall["shift"].pk, now=NOW) for u in people]
    assert [s.status for s in got] == ["confirmed"] * 3 + ["waitlisted"]
    again = services.sign_up(user=people[0], shift_id=hall["shift"].pk, now=NOW)
    assert again.pk == got[0].pk and Signup.objects.count() == 4


def test_who_may_sign_up(hall):
    stranger = volunteer("未培训")
    with pytest.raises(services.VolunteerError) as e:
        services.sign_up(user=stranger, shift_id=hall["shift"].pk, now=NOW)
    assert e.value.code == "not_cleared"
    with pytest.raises(services.VolunteerError) as e:
        services.sign_up(user=make_account(name="没有登记"), shift_id=hall["shift"].pk, now=NOW)
    assert e.value.code == "no_profile"
    opp = services.create_opportunity(
        by=hall["staff"],
        center_id=hall["center"].pk,
        role="guide",
        title="党员志愿者引导",
        needs_clearance=False,
        party_members_only=True,
        min_age=18,
        now=NOW,
    )
    (shift,) = services.add_shifts(
        by=hall["staff"],
        opportunity_id=opp.pk,
        starts_at=local(SAT, 14),
        ends_at=local(SAT, 16),
        places=2,
        now=NOW,
    )
    with pytest.raises(services.VolunteerError) as e:
        services.sign_up(user=stranger, shift_id=shift.pk, now=NOW)
    assert e.value.code == "party_members_only"
    member = volunteer("党员", skills=("guide",), party_member=True)
    member.people.update(birth_year=2012)
    with pytest.raises(services.VolunteerError) as e:
        services.sign_up(user=member, shift_id=shift.pk, now=NOW)
    assert e.value.code == "too_young"
    member.people.update(birth_year=1970)
    assert services.sign_up(user=member, shift_id=shift.pk, now=NOW).status == "confirmed"
    with pytest.raises(services.VolunteerError) as e:
        services.sign_up(user=hall["vol"], shift_id=hall["shift"].pk, now=local(SAT, 9, 1))
    assert e.value.code == "closed"


def test_cancelling_moves_the_waiting_list_up_and_too_late_is_refused(hall):
    people = [hall["vol"], *(cleared(hall, f"志愿者{i}") for i in range(3))]
    signups = [services.sign_up(user=u, shift_id=hall["shift"].pk, now=NOW) for u in people]
    services.cancel(user=people[1], signup_id=signups[1].pk, now=NOW)
    assert Signup.objects.get(pk=signups[3].pk).status == "confirmed"
    assert Notice.objects.filter(user=people[3], kind="volunteer_promoted").exists()
    with pytest.raises(services.VolunteerError) as e:
        services.cancel(user=people[0], signup_id=signups[0].pk, now=local(SAT, 8))
    assert e.value.code == "too_late"


def test_a_swap_moves_the_place_in_one_step(hall):
    mine = services.sign_up(user=hall["vol"], shift_id=hall["shift"].pk, now=NOW)
    swap = services.offer_swap(user=hall["vol"], signup_id=mine.pk, now=NOW)
    with pytest.raises(services.VolunteerError) as e:
        services.take_swap(user=volunteer("未培训"), swap_id=swap.pk, now=NOW)
    assert e.value.code == "not_cleared"
    other = cleared(hall, "志愿者乙")
    theirs = services.take_swap(user=other, swap_id=swap.pk, now=NOW)
    assert theirs.status == "confirmed"
    assert Signup.objects.get(pk=mine.pk).status == "cancelled"
    assert Signup.objects.filter(shift=hall["shift"], status="confirmed").count() == 1
    with pytest.raises(services.VolunteerError) as e:
        services.take_swap(user=cleared(hall, "志愿者丙"), swap_id=swap.pk, now=NOW)
    assert e.value.code == "swap_gone"
    assert Notice.objects.filter(user=hall["vol"], kind="volunteer_swapped").exists()


def test_scans_check_in_and_out_and_bad_codes_are_refused(hall):
    center = hall["center"]
    signup = services.sign_up(user=hall["vol"], shift_id=hall["shift"].pk, now=NOW)
    code = codes.code_for(center.pk, SAT)
    for bad, expected in (
        ("ABCDEFGHIJ", "code_invalid"),
        (codes.code_for(center.pk, MON), "code_expired"),
    ):
        with pytest.raises(services.VolunteerError) as e:
            services.scan(user=hall["vol"], center_id=center.pk, code=bad, now=local(SAT, 8, 50))
        assert e.value.code == expected
    with pytest.raises(services.VolunteerError) as e:
        services.scan(user=hall["vol"], center_id=center.pk, code=code, now=local(SAT, 7))
    assert e.value.code == "no_shift_now"
    assert (
        services.scan(user=hall["vol"], center_id=center.pk, code=code, now=local(SAT, 8, 50))[0]
        == "in"
    )
    outcome, s = services.scan(
        user=hall["vol"], center_id=center.pk, code=code, now=local(SAT, 12, 5)
    )
    assert outcome == "out" and s.proposed_minutes == 195 and s.approval == "pending"
    assert (
        services.scan(user=hall["vol"], center_id=center.pk, code=code, now=local(SAT, 12, 6))[0]
        == "done"
    )
    assert Signup.objects.get(pk=signup.pk).estimated is False


def test_an_open_shift_is_closed_at_its_end_as_estimated_and_absentees_are_no_shows(hall):
    there = services.sign_up(user=hall["vol"], shift_id=hall["shift"].pk, now=NOW)
    absent_user = cleared(hall, "缺席者")
    absent = services.sign_up(user=absent_user, shift_id=hall["shift"].pk, now=NOW)
    services.scan(
        user=hall["vol"],
        center_id=hall["center"].pk,
        code=codes.code_for(hall["center"].pk, SAT),
        now=local(SAT, 9, 10),
    )
    assert services.close_open(local(SAT, 11, 59)) == 0
    assert services.close_open(local(SAT, 12, 1)) == 1
    there.refresh_from_db()
    assert (
        there.checked_out_at == local(SAT, 12) and there.estimated and there.proposed_minutes == 170
    )
    assert services.mark_no_shows(local(SAT, 12, 30)) == 0
    assert services.mark_no_shows(local(SAT, 13, 1)) == 1
    assert Signup.objects.get(pk=absent.pk).status == "no_show"


def test_weekly_shifts_and_bad_shifts(hall):
    shifts = services.add_shifts(
        by=hall["staff"],
        opportunity_id=hall["opp"].pk,
        starts_at=local(SAT, 14),
        ends_at=local(SAT, 16),
        places=2,
        weeks=4,
        now=NOW,
    )
    assert [s.starts_at for s in shifts] == [local(SAT, 14) + timedelta(weeks=w) for w in range(4)]
    assert len({s.series for s in shifts}) == 1
    for kw, field in (
        ({"starts_at": local(SAT, 16), "ends_at": local(SAT, 14)}, "ends_at"),
        ({"starts_at": local(MON, 8), "ends_at": local(MON, 10)}, "starts_at"),
    ):
        with pytest.raises(services.VolunteerError) as e:
            services.add_shifts(
                by=hall["staff"], opportunity_id=hall["opp"].pk, places=2, now=NOW, **kw
            )
        assert e.value.extra["field"] == field
