"""The desk (代办): staff register people without a smartphone under the same rules and
limits as online, find a household only by its whole number, and print a slip."""

import re

import pytest

from doorstep.accounts.models import User
from doorstep.accounts.services import AccountError, create_desk_household, desk_household
from doorstep.activities import services
from doorstep.activities.models import Registration
from doorstep.activities.services import RegistrationError
from doorstep.core.models import AuditEntry
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(regions):
    center = make_center("虹桥街道社区党群服务中心", district="长宁区")
    return {
        "center": center,
        "staff": make_staff(center=center),
        "activity": make_activity(center, audience="everyone", places_per_household=2),
    }


def test_a_desk_household_needs_no_phone_and_no_id(desk):
    h = create_desk_household(
        by=desk["staff"],
        center_id=desk["center"].pk,
        name="陈奶奶",
        members=[("陈爷爷", 1948), ("小孙女", 2018)],
    )
    assert h.phone is None and h.desk_center_id == desk["center"].pk
    assert sorted(h.people.values_list("name", flat=True)) == ["小孙女", "陈奶奶", "陈爷爷"]
    assert AuditEntry.objects.filter(action="household.desk_create").count() == 1
    other = make_staff(center=make_center("别的中心", district="徐汇区"))
    with pytest.raises(AccountError):
        create_desk_household(by=other, center_id=desk["center"].pk, name="x")


def test_a_desk_household_keeps_the_online_limits(desk):
    h = create_desk_household(
        by=desk["staff"],
        center_id=desk["center"].pk,
        name="陈奶奶",
        members=[("陈爷爷", 1948), ("小孙女", 2018)],
    )
    everyone = list(h.people.values_list("pk", flat=True))
    with pytest.raises(RegistrationError) as too_many:
        services.register_at_desk(
            by=desk["staff"], activity_id=desk["activity"].pk, account_id=h.pk, person_ids=everyone
        )
    assert too_many.value.code == "limit_reached"
    ok = services.register_at_desk(
        by=desk["staff"], activity_id=desk["activity"].pk, account_id=h.pk, person_ids=everyone[:2]
    )
    assert ok.status == "confirmed"
    with pytest.raises(RegistrationError) as third:
        services.register_at_desk(
            by=desk["staff"],
            activity_id=desk["activity"].pk,
            account_id=h.pk,
            person_ids=everyone[2:],
        )
    assert third.value.code == "limit_reached"  # the household's cap counts both ways in
    assert AuditEntry.objects.filter(action="registration.desk").count() == 1


def test_staff_of_another_center_cannot_register_there(desk):
    h = make_account()
    other = make_staff(center=make_center("别的中心", district="徐汇区"))
    with pytest.raises(RegistrationError) as refused:
        services.register_at_desk(
            by=other,
            activity_id=desk["activity"].pk,
            account_id=h.pk,
            person_ids=[h.people.first().pk],
        )
    assert refused.value.status == 404
    assert Registration.objects.count() == 0


def test_found_only_by_the_whole_number(desk):
    a = make_account(name="李阿姨")
    assert desk_household(by=desk["staff"], center_id=desk["center"].pk, phone=a.phone) == a
    with pytest.raises(AccountError):
        desk_household(by=desk["staff"], center_id=desk["center"].pk, phone=a.phone[-4:])
    with pytest.raises(AccountError) as taken:
        create_desk_household(
            by=desk["staff"], center_id=desk["center"].pk, name="李阿姨", phone=a.phone
        )
    assert taken.value.code == "phone_taken"


def test_the_desk_pages_register_and_print_the_slip(client, desk):
    client.force_login(desk["staff"])
    aid = desk["activity"].pk
    r = client.post(
        f"/staff/activities/{aid}/desk/household",
        {"name": "陈奶奶", "phone": "139 1234 5678", "by_sms": "1", "member-0-name": "小孙女",
         "member-0-year": "2018"},
    )  # fmt: skip
    assert r.status_code == 302
    household = User.objects.get(phone="+8613912345678")
    assert household.notice_preference.by_sms
    page = client.get(r["Location"]).content.decode()
    assert "陈奶奶" in page and "小孙女" in page and "13912345678" not in page
    people = list(household.people.values_list("pk", flat=True))
    r = client.post(
        f"/staff/activities/{aid}/desk/register",
        {"household": household.pk, "person": people, "idempotency_key": "desk-key-1"},
    )
    assert r.status_code == 302 and "/desk/slip?r=" in r["Location"]
    slip = client.get(r["Location"]).content.decode()
    codes = re.findall(r"data-short-code>([A-Z0-9]+)<", slip)
    assert len(codes) == 2 and 'role="img"' in slip and "陈奶奶" in slip
    # The same form sent again takes nothing twice.
    r = client.post(
        f"/staff/activities/{aid}/desk/register",
        {"household": household.pk, "person": people, "idempotency_key": "desk-key-1"},
    )
    assert Registration.objects.filter(account=household).count() == 2
    # Found by the number at the desk; a wrong number says so.
    page = client.get(f"/staff/activities/{aid}/desk", {"phone": "13912345678"}).content
    assert "陈奶奶" in page.decode()
    page = client.get(f"/staff/activities/{aid}/desk", {"phone": "12"}).content.decode()
    assert "11" in page  # the phone rule is explained
    # An online household is registered only with the number the resident gave.
    online = make_account(name="赵先生")
    form = {"household": online.pk, "person": [online.people.first().pk]}
    assert client.post(f"/staff/activities/{aid}/desk/register", form).status_code == 404
    form["phone"] = online.phone
    assert client.post(f"/staff/activities/{aid}/desk/register", form).status_code == 302
    assert Registration.objects.filter(account=online).count() == 1
    # Another center's staff see neither the page nor the household by id.
    client.force_login(make_staff(center=make_center("别的中心", district="徐汇区")))
    assert client.get(f"/staff/activities/{aid}/desk").status_code == 404
