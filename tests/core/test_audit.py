"""The audit trail of staff writes (core/audit.py): one entry per edit, cancellation,
walk-in, draw, export and role change, in the change's own transaction; readable by scope in
the back office; never editable."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from doorstep.accounts.models import StaffRole, User
from doorstep.activities import services as activities
from doorstep.activities.checkin import add_walk_ins
from doorstep.activities.models import Activity
from doorstep.core import audit
from doorstep.core.models import AuditEntry
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道")
    elsewhere = make_center("东明路街道社区党群服务中心", district="浦东新区")
    return {
        "center": center,
        "elsewhere": elsewhere,
        "staff": make_staff(center=center, username="zhang"),
        "activity": make_activity(center, audience="everyone", capacity=5),
    }


def entries(action: str):
    return list(AuditEntry.objects.filter(action=action))


def edit_input(activity: Activity, **changes) -> activities.ActivityInput:
    fields = {f: getattr(activity, f) for f in activities.ActivityInput.__dataclass_fields__}
    return activities.ActivityInput(**{**fields, **changes})


def test_an_edit_is_recorded_with_before_and_after(world):
    activity, staff = world["activity"], world["staff"]
    activities.update_activity(
        activity_id=activity.pk, by=staff, data=edit_input(activity, capacity=8, room="二楼")
    )
    [entry] = entries("activity.update")
    assert entry.actor_id == staff.pk and entry.actor_label == "zhang"
    assert (entry.object_type, entry.object_id) == ("activities.activity", str(activity.pk))
    assert entry.center_id == world["center"].pk
    assert entry.changes == {
        "capacity": {"before": 5, "after": 8},
        "room": {"before": "", "after": "二楼"},
    }


def test_a_refused_edit_leaves_no_entry_and_a_failed_entry_undoes_the_edit(world, monkeypatch):
    activity, staff = world["activity"], world["staff"]
    with pytest.raises(activities.RegistrationError):
        activities.update_activity(
            activity_id=activity.pk, by=staff, data=edit_input(activity, capacity=-1)
        )
    assert not AuditEntry.objects.exists()

    def broken(**kwargs):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(DatabaseError):
        activities.update_activity(
            activity_id=activity.pk, by=staff, data=edit_input(activity, capacity=9)
        )
    assert Activity.objects.get(pk=activity.pk).capacity == 5  # no change without its entry


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused(world):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(actor=world["staff"], action="activity.update")


def test_cancellations_walk_ins_publishing_and_draws_are_recorded(world):
    center, staff = world["center"], world["staff"]
    account = make_account()
    reg = activities.register(
        account=account,
        activity_id=world["activity"].pk,
        person_ids=[account.people.first().pk],
    ).registrations[0]
    activities.cancel(registration_id=reg.pk, by=staff, reason="家中有事", as_staff=True)
    [cancelled] = entries("registration.cancel")
    assert cancelled.changes["reason"] == "家中有事"
    assert cancelled.changes["status"] == {"before": "confirmed", "after": "cancelled"}
    assert account.people.first().name not in cancelled.object_label  # no names in the trail
    add_walk_ins(activity_id=world["activity"].pk, staff=staff, count=2)
    assert entries("activity.walk_ins")[0].changes["added"] == 2
    activities.cancel_activity(activity_id=world["activity"].pk, by=staff, reason="停电")
    assert entries("activity.cancel")[0].changes == {
        "reason": "停电",
        "registrations_cancelled": 0,
    }
    now = timezone.now()
    lottery = make_activity(center, audience="everyone", allocation="lottery", publish=False)
    activities.publish(activity_id=lottery.pk, by=staff)
    assert entries("activity.publish")[0].object_id == str(lottery.pk)
    Activity.objects.filter(pk=lottery.pk).update(registration_closes_at=now - timedelta(minutes=1))
    assert activities.draw(activity_id=lottery.pk, now=now)
    [drawn] = entries("lottery.draw")
    assert drawn.actor_id is None and drawn.changes["entries"] == 0  # the system drew it


def test_creating_an_activity_records_every_field(world):
    data = edit_input(world["activity"], title="围棋课")
    created = activities.create_activity(center_id=world["center"].pk, by=world["staff"], data=data)
    [entry] = entries("activity.create")
    assert entry.object_id == str(created.pk)
    assert entry.changes["title"] == {"before": None, "after": "围棋课"}
    assert set(entry.changes) == {k for k, v in asdict(data).items() if v is not None}


def test_roster_exports_are_recorded_with_the_address(client, world):
    client.force_login(world["staff"])
    for fmt in ("csv", "xlsx"):
        r = client.get(
            f"/staff/activities/{world['activity'].pk}/roster.{fmt}", REMOTE_ADDR="198.51.100.4"
        )
        assert r.status_code == 200
    exports = entries("export.roster")
    assert [e.changes["format"] for e in exports] == ["csv", "xlsx"]
    assert {e.ip for e in exports} == {"198.51.100.4"}


def test_role_changes_in_the_admin_are_recorded(client, world):
    admin = User.objects.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    newcomer = User.objects.create(username="li", is_staff=True)
    r = client.post(
        "/admin/accounts/staffrole/add/",
        {"user": newcomer.pk, "scope": "center", "center": world["center"].pk, "region": ""},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    role = StaffRole.objects.get(user=newcomer)
    [added] = entries("admin.staffrole.create")
    assert added.actor_label == "root" and added.center_id == world["center"].pk
    assert added.changes["scope"] == {"before": None, "after": "center"}
    r = client.post(f"/admin/accounts/staffrole/{role.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert entries("admin.staffrole.delete")[0].object_id == str(role.pk)
    page = client.get("/staff/audit/").content.decode()
    assert "管理后台：新增工作人员角色" in page  # the kind of object in the reader's language


def test_entries_cannot_be_changed(world):
    with transaction.atomic():
        entry = audit.record(actor=world["staff"], action="activity.update")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="nothing happened")
    assert AuditEntry.objects.get(pk=entry.pk).action == "activity.update"


def test_the_admin_shows_entries_but_offers_no_change(client, world):
    with transaction.atomic():
        audit.record(actor=world["staff"], action="activity.update", center_id=1)
    admin = User.objects.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/core/auditentry/").status_code == 200
    entry = AuditEntry.objects.get()
    assert client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/change/", {}).status_code == 403


def test_each_staff_member_reads_the_trail_of_their_scope(client, world):
    center, elsewhere = world["center"], world["elsewhere"]
    with transaction.atomic():
        audit.record(actor=world["staff"], action="activity.update", center_id=center.pk)
        audit.record(actor=None, action="activity.update", center_id=elsewhere.pk)
        audit.record(actor=None, action="admin.staffrole.create", region_code="310105")
    district = make_staff(scope="district", region=center.district, username="district")
    city = make_staff(scope="city", username="city")
    other = make_staff(center=elsewhere, username="other")
    from doorstep.accounts.selectors import audit_trail

    def seen(user):
        return sorted((e.center_id or 0, e.region_code) for e in audit_trail(user))

    assert seen(world["staff"]) == [(center.pk, "")]
    assert seen(other) == [(elsewhere.pk, "")]
    assert seen(district) == sorted([(center.pk, ""), (0, "310105")])
    assert len(seen(city)) == 3
    assert list(audit_trail(make_account())) == []  # a resident reads nothing
    client.force_login(world["staff"])
    page = client.get("/staff/audit/")
    assert page.status_code == 200 and "修改活动" in page.content.decode()
    assert client.get("/staff/audit/", {"from": "yesterday"}).status_code == 400
