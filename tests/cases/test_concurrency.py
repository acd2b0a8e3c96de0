"""Races on one request: two workers escalating it, several staff accepting it, the applicant
answering while staff resolve. Each has one outcome, on SQLite and PostgreSQL."""

import pytest

from doorstep.cases import services
from doorstep.cases.models import Event, EventKind, ServiceRequest
from doorstep.inbox.models import Notice
from tests.factories import make_staff
from tests.races import failures, run_at_once

from .conftest import MON, local, make_scene

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene(regions):
    return make_scene()


def _policy(scene):
    return services.submit(
        user=scene["resident"],
        center_id=scene["center"].pk,
        type_code="policy_advice",
        description="想咨询补贴政策",
        now=local(MON, 9),
    )


def test_two_workers_escalate_once(scene):
    req = _policy(scene)

    def worker(barrier):
        barrier.wait()
        return services.escalate_due(local(MON, 14))

    outcomes = run_at_once(worker, [(), (), ()])
    assert failures(outcomes) == []
    assert sorted(outcomes) == [0, 0, 1]
    assert Event.objects.filter(request=req, kind=EventKind.ESCALATED).count() == 1
    assert Notice.objects.filter(user=scene["supervisor"], kind="case_escalated").count() == 1


def test_one_of_several_staff_accepts(scene):
    req = _policy(scene)
    staff = [scene["staff"], *(make_staff(center=scene["center"]) for _ in range(3))]

    def accept(barrier, user):
        barrier.wait()
        return services.move(request_id=req.pk, by=user, action="accept", now=local(MON, 10))

    outcomes = run_at_once(accept, [(u,) for u in staff])
    assert failures(outcomes, services.CaseError) == []
    won = [o for o in outcomes if isinstance(o, ServiceRequest)]
    lost = [o for o in outcomes if isinstance(o, services.CaseError)]
    assert len(won) == 1 and {e.code for e in lost} == {"wrong_state"}
    req.refresh_from_db()
    assert req.owner_id == won[0].owner_id
    assert Event.objects.filter(request=req, kind=EventKind.ACCEPTED).count() == 1
