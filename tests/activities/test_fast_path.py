"""The registration hot path (docs/performance.md, "Registration rush"): few statements per
answer, and the rules of docs/concurrency.md kept while doing so."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.accounts.tokens import issue_token, user_for_token
from doorstep.activities.models import (
    Activity,
    NoShowPolicy,
    Registration,
    RegistrationRequest,
)
from doorstep.activities.services import RegistrationError, cancel, register
from tests.factories import make_account, make_activity, make_center
from tests.races import failures, run_at_once


def postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def center(regions):
    return make_center("浦东新区东明路街道社区党群服务中心", district="浦东新区")


def holder(account):
    return [account.people.get(is_account_holder=True).pk]


def counted(ctx) -> list[str]:
    """The statements, without the savepoints the test's own transaction turns BEGIN and
    COMMIT into."""
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def statements(fn, **kw):
    with CaptureQueriesContext(connection) as ctx:
        result = fn(**kw)
    return result, counted(ctx)


# Before this path a confirmed registration ran 10 statements in register() on both databases
# (15 through the API); these bounds fail on that code.
@pytest.mark.django_db
def test_a_confirmed_place_costs_three_statements_on_postgres(center):
    activity = make_activity(center, audience="everyone")
    first = make_account()
    register(account=first, activity_id=activity.pk, person_ids=holder(first))  # facts read
    a = make_account()
    result, sql = statements(
        register, account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="k"
    )
    assert result.status == "confirmed"
    # One statement on PostgreSQL: the people, the version check, the household check, the
    # place, the registration, the idempotency record, the notice with its deliveries. The
    # activity comes from this worker's facts.
    assert not any("FROM activities_activity a" in q for q in sql), sql
    assert len(sql) <= (1 if postgres() else 8), sql
    notice = a.notices.get()
    first = result.registrations[0].pk
    assert notice.url == f"/me/registrations/{first}/ticket/"
    assert notice.event_key == f"a{activity.pk}:confirmed:{first}"
    assert notice.kind == "reg_confirmed" and notice.language == a.language
    stored = RegistrationRequest.objects.get(account=a, key="k")
    assert stored.registration_ids == [result.registrations[0].pk]
    assert Activity.objects.get(pk=activity.pk).taken == 2


@pytest.mark.django_db
def test_full_is_answered_from_the_workers_facts(center):
    activity = make_activity(center, capacity=1, waitlist_enabled=False, audience="everyone")
    a, b, c = make_account(), make_account(), make_account()
    register(account=a, activity_id=activity.pk, person_ids=holder(a))
    with pytest.raises(RegistrationError) as exc:  # the statement finds no place
        register(account=b, activity_id=activity.pk, person_ids=holder(b))
    assert exc.value.code == "full"
    c_ids = holder(c)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(RegistrationError) as exc:
        register(account=c, activity_id=activity.pk, person_ids=c_ids)
    assert exc.value.code == "full"
    assert counted(ctx) == []  # this worker now knows it is full
    # With a key: one look-up, for an answer stored by an earlier try of the same request.
    with CaptureQueriesContext(connection) as ctx, pytest.raises(RegistrationError):
        register(account=c, activity_id=activity.pk, person_ids=c_ids, idempotency_key="x")
    assert len(counted(ctx)) == 1, counted(ctx)


@pytest.mark.django_db
def test_a_staff_edit_is_seen_at_once_through_the_version(center):
    """A worker's cached facts say the activity is open; another process cancels it (no
    signal reaches this one): the writing statement sees the new version and refuses."""
    from doorstep.activities import facts

    activity = make_activity(center, audience="everyone")
    a, b = make_account(), make_account()
    register(account=a, activity_id=activity.pk, person_ids=holder(a))
    assert facts._cache[activity.pk][1].version == activity.version
    activity.refresh_from_db()
    activity.save(update_fields=["title"])  # a save in this process drops its copy at once
    assert activity.pk not in facts._cache
    facts.for_registration(activity.pk)  # read again, with the new version
    Activity.objects.filter(pk=activity.pk).update(
        status="cancelled", version=activity.version + 1
    )  # as another process's save() writes it
    with pytest.raises(RegistrationError) as exc:
        register(account=b, activity_id=activity.pk, person_ids=holder(b))
    assert exc.value.code != "confirmed" and exc.value.status in (400, 409)
    assert not Registration.objects.filter(account=b).exists()
    assert Activity.objects.get(pk=activity.pk).taken == 1
    # Reopened elsewhere with one place: this worker's copy still says "cancelled" (a "no"
    # sooner) until it lapses, then the new facts decide.
    Activity.objects.filter(pk=activity.pk).update(
        status="published", capacity=2, version=activity.version + 2
    )
    c = make_account()
    with pytest.raises(RegistrationError) as exc:
        register(account=c, activity_id=activity.pk, person_ids=holder(c))
    assert exc.value.code == "cancelled"
    later = facts.time.monotonic() + facts.FACTS_SECONDS + 1
    with mock.patch.object(facts.time, "monotonic", return_value=later):
        result = register(account=c, activity_id=activity.pk, person_ids=holder(c))
    assert result.status == "confirmed"
    assert Activity.objects.get(pk=activity.pk).taken == 2


@pytest.mark.django_db
def test_a_lottery_application_is_a_few_statements(center):
    activity = make_activity(
        center, audience="everyone", allocation="lottery", publish=True, capacity=5
    )
    first = make_account()
    register(account=first, activity_id=activity.pk, person_ids=holder(first))  # facts read
    a = make_account()
    result, sql = statements(
        register, account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="k"
    )
    assert result.status == "applied"
    assert len(sql) <= (1 if postgres() else 7), sql  # + the notice
    # The activity row (the hot one in a rush) is never written by an application.
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in sql)
    assert Activity.objects.get(pk=activity.pk).taken == 0


@pytest.mark.django_db
def test_the_api_answers_from_what_register_returned(center, client):
    activity = make_activity(center, audience="everyone", title="剪纸")
    a = make_account(name="王阿姨")
    token = issue_token(a)
    url = f"/api/v1/activities/{activity.pk}/registrations"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
    payload = {"person_ids": holder(a)}
    with CaptureQueriesContext(connection) as ctx:
        resp = client.post(url, payload, content_type="application/json", headers=headers)
    assert resp.status_code == 201, resp.content
    # token (+ its touch on SQLite), the activity's facts (this worker has none yet) and
    # register()'s statements (with the notice).
    assert len(counted(ctx)) <= (5 if postgres() else 11), counted(ctx)
    body = resp.json()
    reg = Registration.objects.select_related("activity", "person").get(activity=activity)
    assert body["replayed"] is False
    assert body["registrations"] == [
        {
            "id": reg.pk,
            "public_id": reg.public_id,
            "activity_id": activity.pk,
            "activity_title": "剪纸",
            "starts_at": body["registrations"][0]["starts_at"],
            "person_id": reg.person_id,
            "person_name": "王阿姨",
            "status": "confirmed",
            "queue_position": None,
            "offer_expires_at": None,
            "checked_in_at": None,
        }
    ]
    again = client.post(url, payload, content_type="application/json", headers=headers)
    assert again.status_code == 200, again.content
    assert again.json()["replayed"] is True
    assert again.json()["registrations"] == body["registrations"]


@pytest.mark.django_db
def test_a_token_is_one_statement_on_postgres_then_none_and_touched_once_a_minute(center):
    a = make_account()
    token = issue_token(a)
    now = timezone.now()
    with CaptureQueriesContext(connection) as ctx:
        assert user_for_token(token, now=now) == a
    assert len(ctx.captured_queries) == (1 if postgres() else 2)
    row = a.api_tokens.get()
    assert row.last_used_at == now
    with CaptureQueriesContext(connection) as ctx:
        assert user_for_token(token, now=now + timedelta(seconds=30)) == a
    assert len(ctx.captured_queries) == 0  # verified by this process within the bound
    row.refresh_from_db()
    assert row.last_used_at == now
    assert user_for_token("not-a-token", now=now) is None
    a.is_active = False
    a.save(update_fields=["is_active"])
    assert user_for_token(token, now=now + timedelta(hours=1)) is None
    row.refresh_from_db()
    assert row.last_used_at == now  # a disabled account's token is not noted as used


@pytest.mark.django_db
def test_a_retry_after_the_places_are_gone_still_gets_its_place(center):
    activity = make_activity(center, capacity=1, waitlist_enabled=False, audience="everyone")
    a, b = make_account(), make_account()
    first = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="r")
    with pytest.raises(RegistrationError):
        register(account=b, activity_id=activity.pk, person_ids=holder(b))
    again = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="r")
    assert again.replayed
    assert [r.pk for r in again.registrations] == [r.pk for r in first.registrations]
    assert again.status == "confirmed"


@pytest.mark.django_db
def test_a_retry_after_cancelling_replays_and_takes_no_second_place(center):
    activity = make_activity(center, capacity=3, audience="everyone")
    a = make_account()
    first = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="c")
    cancel(registration_id=first.registrations[0].pk, by=a)
    again = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="c")
    assert again.replayed
    assert [r.pk for r in again.registrations] == [first.registrations[0].pk]
    assert again.status == "cancelled"
    assert Registration.objects.filter(activity=activity).count() == 1
    assert Activity.objects.get(pk=activity.pk).taken == 0


@pytest.mark.django_db
def test_a_policy_that_does_not_block_costs_one_look_at_the_no_shows(center):
    NoShowPolicy.objects.create(center=center, threshold=2, window_days=90, block_days=14)
    activity = make_activity(center, audience="everyone")
    a = make_account()
    result, sql = statements(register, account=a, activity_id=activity.pk, person_ids=holder(a))
    assert result.status == "confirmed"
    assert len(sql) <= (5 if postgres() else 9)  # with the notice
    NoShowPolicy.objects.filter(center=center).update(block_days=0)
    other = make_activity(center, audience="everyone")
    result, sql = statements(register, account=a, activity_id=other.pk, person_ids=holder(a))
    assert result.status == "confirmed"
    assert len(sql) <= (4 if postgres() else 8)


@pytest.mark.django_db
def test_a_family_takes_its_places_together_in_one_statement(center):
    this_year = timezone.now().year
    activity = make_activity(center, capacity=3, age_min=4, age_max=8)
    family = make_account(children=(("明明", this_year - 5),))
    ids = list(family.people.values_list("id", flat=True))
    result = register(account=family, activity_id=activity.pk, person_ids=ids)
    assert [r.status for r in result.registrations] == ["confirmed", "confirmed"]
    assert [r.person_id for r in result.registrations] == ids
    assert len({r.party for r in result.registrations}) == 1
    assert result.registrations[0].party == result.registrations[0].public_id
    stored = Registration.objects.filter(activity=activity).order_by("id")
    assert [(r.pk, r.person_id, r.party) for r in stored] == [
        (r.pk, r.person_id, r.party) for r in result.registrations
    ]
    other = make_account(children=(("多多", this_year - 6),))
    ids = list(other.people.values_list("id", flat=True))
    result = register(account=other, activity_id=activity.pk, person_ids=ids)
    assert [r.status for r in result.registrations] == ["waitlisted", "waitlisted"]
    assert Activity.objects.get(pk=activity.pk).taken == 2


def racing(target, args_list):
    """Each call's answer (a RegistrationError as its code), all started at once."""

    def at_the_barrier(barrier, *args):
        barrier.wait()
        return target(*args)

    outcomes = run_at_once(at_the_barrier, args_list)
    assert not failures(outcomes, RegistrationError), outcomes
    return [o.code if isinstance(o, RegistrationError) else o for o in outcomes]


@pytest.mark.django_db(transaction=True)
def test_one_households_simultaneous_requests_keep_its_limit(regions):
    """Three people of one household asking at once for an activity that allows two places
    per household. PostgreSQL takes no lock here: the requests take the household's lowest
    free slots, collide on the unique slot index, and each loser is decided again."""
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, audience="everyone", places_per_household=2)
    year = timezone.now().year
    family = make_account(children=(("大宝", year - 9), ("二宝", year - 7)))
    ids = list(family.people.values_list("id", flat=True))

    def one(person_id):
        return register(account=family, activity_id=activity.pk, person_ids=[person_id]).status

    results = racing(one, [(pid,) for pid in ids])
    assert sorted(results) == ["confirmed", "confirmed", "limit_reached"]
    assert Registration.objects.filter(activity=activity).count() == 2
    assert Activity.objects.get(pk=activity.pk).taken == 2
    slots = Registration.objects.filter(activity=activity).values_list("household_slot", flat=True)
    assert sorted(slots, key=str) == ([1, 2] if postgres() else [None, None])


@pytest.mark.django_db
def test_a_cancelled_place_frees_its_household_slot(center):
    activity = make_activity(center, audience="everyone", places_per_household=2)
    year = timezone.now().year
    family = make_account(children=(("大宝", year - 9), ("二宝", year - 7)))
    holder_id, first, second = family.people.order_by("id").values_list("id", flat=True)
    a, b = register(
        account=family, activity_id=activity.pk, person_ids=[holder_id, first]
    ).registrations
    with pytest.raises(RegistrationError) as exc:
        register(account=family, activity_id=activity.pk, person_ids=[second])
    assert exc.value.code == "limit_reached"
    cancel(registration_id=b.pk, by=family)
    (c,) = register(account=family, activity_id=activity.pk, person_ids=[second]).registrations
    assert c.status == "confirmed"
    c.refresh_from_db()
    b.refresh_from_db()
    if postgres():
        assert c.household_slot == b.household_slot == 2  # the lowest free one, reused


@pytest.mark.django_db
def test_a_refusal_after_the_statement_leaves_nothing(center):
    """PostgreSQL reads the people in the writing statement and checks ages after it, in its
    transaction: an adult for a children's class is refused and nothing stays written."""
    activity = make_activity(center, audience="teenagers", age_min=12, age_max=17)
    a = make_account(name="王叔叔")
    adult = a.people.get(is_account_holder=True)
    adult.birth_year = timezone.now().year - 40
    adult.save(update_fields=["birth_year"])
    with pytest.raises(RegistrationError) as exc:
        register(account=a, activity_id=activity.pk, person_ids=[adult.pk], idempotency_key="k")
    assert exc.value.code == "age_not_eligible"
    assert not Registration.objects.filter(activity=activity).exists()
    assert not RegistrationRequest.objects.filter(account=a).exists()
    assert not a.notices.exists()
    assert Activity.objects.get(pk=activity.pk).taken == 0
    # Someone else's person is not found, and nothing is written either.
    other = make_account(name="李阿姨")
    with pytest.raises(RegistrationError) as exc:
        register(account=a, activity_id=activity.pk, person_ids=holder(other))
    assert exc.value.code == "not_in_household"
    assert not Registration.objects.filter(activity=activity).exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_with_one_key_gets_one_place_and_one_answer(regions):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, audience="everyone")
    a = make_account()
    person = holder(a)

    def one():
        result = register(
            account=a, activity_id=activity.pk, person_ids=person, idempotency_key="dbl"
        )
        return (result.replayed, [r.pk for r in result.registrations])

    results = racing(one, [(), (), ()])
    assert sorted(r[0] for r in results) == [False, True, True]
    assert len({tuple(r[1]) for r in results}) == 1
    assert Registration.objects.filter(activity=activity).count() == 1
    assert Activity.objects.get(pk=activity.pk).taken == 1


@pytest.mark.django_db
def test_numbers_beyond_the_databases_range_are_clean_answers(center, client):
    activity = make_activity(center, audience="everyone")
    a = make_account()
    token = issue_token(a)
    headers = {"Authorization": f"Bearer {token}"}
    huge = 2**70
    resp = client.post(
        f"/api/v1/activities/{huge}/registrations",
        {"person_ids": holder(a)},
        content_type="application/json",
        headers=headers,
    )
    # The API's input rule: integers fit in 64 bits, wherever they come (tests/core).
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_parameter"
    resp = client.post(
        f"/api/v1/activities/{activity.pk}/registrations",
        {"person_ids": [huge]},
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_parameter"


@pytest.mark.django_db
def test_is_anyone_waiting_is_read_from_the_index_of_those_waiting():
    """Every first-come registration asks whether anyone waits; the answer comes from the
    partial index `waiting_in_line`, never from the (activity, status, queue_rank) index whose
    last leaf page every new registration writes (PostgreSQL: also in the generic plan of the
    prepared statement, which is why the status is written out in the SQL)."""
    from doorstep.activities import hotpath
    from doorstep.activities.models import RegistrationStatus

    assert RegistrationStatus.WAITLISTED == "waitlisted"
    probe = "w.activity_id = %(activity)s AND w.status = 'waitlisted'"
    assert probe in hotpath._SQL[(False, True)]
    query = (
        "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM activities_registration w "
        "WHERE w.activity_id = {} AND w.status = 'waitlisted')"
    )
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "activities_registration")
        assert indexes["waiting_in_line"]["columns"] == ["activity_id"]
        if not postgres():
            return  # SQLite's IMMEDIATE transactions serialise writers: no page to share
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE anyone_waiting(bigint) AS {query.format('$1')}")
        cursor.execute("EXPLAIN EXECUTE anyone_waiting(1)")
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE anyone_waiting")
    assert "waiting_in_line" in plan, plan
