import pytest
from django.utils import timezone

from doorstep.accounts.models import Person
from doorstep.accounts.services import (
    KEEP,
    AccountError,
    add_person,
    remove_person,
    set_profile,
    update_person,
)
from doorstep.activities.services import cancel, register
from tests.factories import make_account, make_activity, make_center

pytestmark = pytest.mark.django_db


def error_of(fn, **kw) -> AccountError:
    with pytest.raises(AccountError) as err:
        fn(**kw)
    return err.value


@pytest.fixture
def account():
    return make_account(name="张伟")


def test_add_person_strips_and_keeps_birth_year(account):
    person = add_person(account=account, name="  小明 ", birth_year=2016)
    assert (person.name, person.birth_year, person.is_account_holder) == ("小明", 2016, False)
    assert add_person(account=account, name="奶奶").birth_year is None


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 41, "小\x07明", "小\u200b明", "小\u2028明", "a\tb"],
)
def test_bad_names(account, name):
    assert error_of(add_person, account=account, name=name).code == "invalid_name"


def test_name_limits_and_emoji(account):
    assert add_person(account=account, name="字" * 40).name == "字" * 40
    family = "👨\u200d👩\u200d👧"
    assert add_person(account=account, name=family).name == family
    assert add_person(account=account, name="Anna-Lena O'Brien").name == "Anna-Lena O'Brien"


def test_birth_year_range(account):
    this_year = timezone.localdate().year
    assert add_person(account=account, name="甲", birth_year=1900).birth_year == 1900
    assert add_person(account=account, name="乙", birth_year=this_year).birth_year == this_year
    for year in [1899, this_year + 1, 0, -5]:
        err = error_of(add_person, account=account, name="丙", birth_year=year)
        assert err.code == "invalid_birth_year"


def test_at_most_ten_people(account):
    for i in range(9):
        add_person(account=account, name=f"孩子{i}")
    assert account.people.count() == 10
    err = error_of(add_person, account=account, name="第十一个")
    assert err.code == "household_full" and err.status == 409
    assert account.people.count() == 10


def test_duplicate_name_is_refused(account):
    add_person(account=account, name="小明")
    assert error_of(add_person, account=account, name=" 小明").code == "person_exists"


def test_update_person_keeps_what_is_not_given(account):
    person = add_person(account=account, name="小明", birth_year=2016)
    update_person(account=account, person_id=person.pk, birth_year=2015)
    person.refresh_from_db()
    assert (person.name, person.birth_year) == ("小明", 2015)
    update_person(account=account, person_id=person.pk, name="王小明", birth_year=KEEP)
    person.refresh_from_db()
    assert (person.name, person.birth_year) == ("王小明", 2015)
    err = error_of(update_person, account=account, person_id=person.pk, name="")
    assert err.code == "invalid_name"


def test_holder_name_is_the_account_name(account):
    holder = account.people.get(is_account_holder=True)
    update_person(account=account, person_id=holder.pk, name="张伟伟")
    account.refresh_from_db()
    assert account.display_name == "张伟伟"
    set_profile(account=account, display_name="张大伟")
    holder.refresh_from_db()
    assert holder.name == "张大伟"


def test_set_profile_subdistrict(account, regions):
    set_profile(account=account, display_name="张伟", home_subdistrict_code="310105001")
    account.refresh_from_db()
    assert account.home_subdistrict_id == "310105001"
    set_profile(account=account, display_name="张伟", home_subdistrict_code=None)
    account.refresh_from_db()
    assert account.home_subdistrict_id is None
    for code in ["310105", "310000", "nope"]:
        err = error_of(
            set_profile, account=account, display_name="张伟", home_subdistrict_code=code
        )
        assert err.code == "invalid_subdistrict"


def test_someone_elses_person(account):
    other = make_account(children=(("别人", 2018),))
    theirs = other.people.get(is_account_holder=False)
    err = error_of(update_person, account=account, person_id=theirs.pk, name="x")
    assert err.code == "not_found" and err.status == 404
    assert error_of(remove_person, account=account, person_id=theirs.pk).code == "not_found"
    assert Person.objects.filter(pk=theirs.pk).exists()


def test_person_with_active_registration_cannot_be_removed(regions):
    this_year = timezone.localdate().year
    parent = make_account(children=(("多多", this_year - 7),))
    child = parent.people.get(is_account_holder=False)
    holder = parent.people.get(is_account_holder=True)
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=10, age_min=5, age_max=10)
    result = register(account=parent, activity_id=activity.pk, person_ids=[holder.pk, child.pk])
    err = error_of(remove_person, account=parent, person_id=child.pk)
    assert err.code == "person_has_registrations" and err.status == 409
    assert "多多" in str(err.message)
    for registration in result.registrations:
        cancel(registration_id=registration.pk, by=parent)
    # Cancelled registrations stay on the center's records and keep the person.
    err = error_of(remove_person, account=parent, person_id=child.pk)
    assert err.code == "person_has_history"
    assert Person.objects.filter(pk=child.pk).exists()


def test_remove_person(account):
    person = add_person(account=account, name="小明")
    remove_person(account=account, person_id=person.pk)
    assert not Person.objects.filter(pk=person.pk).exists()
