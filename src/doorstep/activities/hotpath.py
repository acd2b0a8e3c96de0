"""The statements of a registration, written for the rush (docs/concurrency.md).

`services.register()` owns the rules and the transaction; this module only runs its few
statements. Raw SQL because here the ORM's cost is the request's cost: compiling a guarded
UPDATE with a subquery took longer than PostgreSQL took to run the whole transaction. Every
statement has one shape for PostgreSQL (one round trip that takes the places, inserts the
registrations and the idempotency record) and a plain one for SQLite, whose IMMEDIATE
transactions already serialise writers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from doorstep.accounts.models import Person, User
from doorstep.core.db import concrete_columns, instances
from doorstep.inbox.services import PG_PLANNED_NOTICE, PlannedNotice

from .models import ACTIVE_STATUSES, Activity, ActivityStatus, RegistrationStatus

_ACTIVE = [str(s) for s in ACTIVE_STATUSES]


# Ids beyond a 64-bit key cannot exist; the drivers refuse to send them (SQLite overflows).
MAX_ID = 2**63 - 1


def valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def household_people(account: User, person_ids: Sequence[int]) -> list[Person]:
    """Those of `person_ids` who belong to the account's household, read before the writing
    statement where a check must read the household's other registrations first (a weekly
    limit, a no-show block; and always on SQLite). Elsewhere the statement reads them itself.

    On PostgreSQL this also locks the account row until the end of the transaction, so one
    household's requests pass those checks one after the other. The lock is its own statement
    on purpose: a statement's snapshot is taken before it waits for a lock, so the
    registrations must be read by a later statement to see what the household's previous
    request committed.
    """
    person_ids = [i for i in person_ids if valid_id(i)]
    if not person_ids:
        return []
    marks = ", ".join(["%s"] * len(person_ids))
    sql = (
        f"SELECT {concrete_columns(Person, 'p')} "  # noqa: S608 (columns from the model)
        "FROM accounts_user u JOIN accounts_person p ON p.account_id = u.id "
        f"WHERE u.id = %s AND p.id IN ({marks})"
    )
    if _postgres():
        sql += " FOR UPDATE OF u"
    return [person for person, _extra in instances(Person, sql, [account.pk, *person_ids])]


@dataclass
class Taken:
    """What the writing statement did."""

    household_ok: bool  # nobody already registered and the household limit holds
    fresh: bool  # the activity's version and status were those the caller decided on
    already_registered: bool
    rows: list[tuple[int, str, int, str]]  # (id, public id, person id, status), by id
    notice_id: int | None = None  # the planned notice, when the statement wrote it
    deliveries: int = 0
    people: list[Person] | None = None  # the household's people asked for (PostgreSQL)


def take_places(
    *,
    activity: Activity,
    account: User,
    person_ids: Sequence[int],
    public_ids: Sequence[str],
    lottery: bool,
    key: str | None,
    created: datetime,
    notice: PlannedNotice | None = None,
) -> Taken:
    """Check the household's registrations, take places (first come), insert the
    registrations and the idempotency record. No rows: the activity is full (no waiting list)."""
    if _postgres():
        return _take_postgres(
            activity=activity,
            account=account,
            person_ids=person_ids,
            public_ids=public_ids,
            lottery=lottery,
            key=key,
            created=created,
            notice=notice,
        )
    return _take_sqlite(
        activity=activity,
        account=account,
        person_ids=person_ids,
        public_ids=public_ids,
        lottery=lottery,
        key=key,
        created=created,
    )


# The people, the household check, the guarded UPDATE, the INSERTs: one round trip, one
# snapshot. The UPDATE waits for the activity row and re-checks its guard on the latest
# version (READ COMMITTED), so two requests never both get the last place. The new
# registrations take the household's lowest free slots: a request of the same household
# running at the same time takes the same ones, waits for the first to commit and fails on
# the unique slot index (then is decided again, seeing it). Only the household's own people
# are written, all of them or none. `took` runs only for first come; for a lottery the
# statement is contention-free INSERTs.
_PG_SEEN = """
people AS (
  SELECT p.id, p.name, p.birth_year, p.is_account_holder, x.ord
  FROM unnest(%(people)s::bigint[]) WITH ORDINALITY AS x(id, ord)
  JOIN accounts_person p ON p.id = x.id AND p.account_id = %(account)s),
seen AS (
  SELECT count(*) FILTER (WHERE r.person_id = ANY(%(people)s::bigint[])) AS dup, count(*) AS held,
    coalesce(array_agg(r.household_slot) FILTER (WHERE r.household_slot IS NOT NULL), '{}')
      AS used
  FROM activities_registration r
  WHERE r.activity_id = %(activity)s AND r.account_id = %(account)s
    AND r.status = ANY(%(active)s::varchar[])),
slots AS (
  SELECT s AS slot, row_number() OVER (ORDER BY s) AS k
  FROM seen, generate_series(1, %(per_household)s::int) AS s
  WHERE NOT s = ANY(seen.used)),
fresh AS (
  SELECT (version = %(version)s AND status = %(published)s) AS same
  FROM activities_activity WHERE id = %(activity)s),
ok AS (SELECT 1 AS one FROM seen, fresh
       WHERE fresh.same AND dup = 0 AND held + %(n)s <= %(per_household)s
         AND (SELECT count(*) FROM people) = %(n)s)"""

_PG_TOOK = """,
took AS (
  UPDATE activities_activity SET taken = taken + %(n)s
  WHERE id = %(activity)s AND status = %(published)s AND taken <= capacity - %(n)s
    AND EXISTS (SELECT 1 FROM ok)
    -- Free places while people wait are kept for them: never jump the line.
    -- The status is written out, not a parameter, so the generic plan can use the partial
    -- index `waiting_in_line`.
    AND NOT EXISTS (SELECT 1 FROM activities_registration w
                    WHERE w.activity_id = %(activity)s AND w.status = 'waitlisted')
  RETURNING id),
chosen AS (
  SELECT CASE WHEN EXISTS (SELECT 1 FROM took) THEN %(confirmed)s ELSE %(otherwise)s END
         AS status
  FROM ok)"""

_PG_APPLY = """,
chosen AS (SELECT %(applied)s::varchar AS status FROM ok)"""

_PG_WRITE = """,
ins AS (
  INSERT INTO activities_registration (public_id, activity_id, person_id, account_id, status,
    party, queue_rank, priority_tier, draw_outcome, offer_expires_at, short_code,
    checked_in_at, cancelled_at, cancel_reason, created_at, updated_at, household_slot)
  SELECT p.public_id, %(activity)s, p.person_id, %(account)s, chosen.status, %(party)s, NULL,
    '', '', NULL, '', NULL, NULL, '', %(created)s, %(created)s, sl.slot
  FROM chosen,
    unnest(%(public_ids)s::varchar[], %(people)s::bigint[]) WITH ORDINALITY
      AS p(public_id, person_id, ord)
    JOIN slots sl ON sl.k = p.ord
  WHERE chosen.status IS NOT NULL
  ORDER BY p.ord
  RETURNING id, public_id, person_id, status),
req AS (
  INSERT INTO activities_registrationrequest (account_id, "key", activity_id,
    registration_ids, created_at)
  SELECT %(account)s, %(key)s, %(activity)s, (SELECT jsonb_agg(id ORDER BY id) FROM ins),
    %(created)s
  WHERE %(key)s::varchar IS NOT NULL AND EXISTS (SELECT 1 FROM ins))"""

_PG_RESULT = """
SELECT (SELECT count(*) FROM ok), (SELECT dup FROM seen), ins.id, ins.public_id, ins.person_id,
  ins.status, coalesce((SELECT same FROM fresh), false), {notice},
  (SELECT json_agg(json_build_array(id, name, birth_year, is_account_holder) ORDER BY ord)
   FROM people)
FROM (SELECT 1) AS one LEFT JOIN ins ON true"""

# With the notice the registration would give (rendered before), written by the same
# statement when its rows are: one round trip for the whole success path.
_SQL = {
    (lottery, with_notice): "WITH"  # noqa: S608 (constant fragments only)
    + _PG_SEEN
    + (_PG_APPLY if lottery else _PG_TOOK)
    + _PG_WRITE
    + (PG_PLANNED_NOTICE if with_notice else "")
    + _PG_RESULT.format(
        notice="(SELECT id FROM note), (SELECT count(*) FROM deliv)" if with_notice else "NULL, 0"
    )
    for lottery in (False, True)
    for with_notice in (False, True)
}


def _take_postgres(
    *,
    activity: Activity,
    account: User,
    person_ids: Sequence[int],
    public_ids: Sequence[str],
    lottery: bool,
    key: str | None,
    created: datetime,
    notice: PlannedNotice | None,
) -> Taken:
    params: dict[str, Any] = {
        "activity": activity.pk,
        "account": account.pk,
        "people": list(person_ids),
        "public_ids": list(public_ids),
        "party": public_ids[0],
        "n": len(person_ids),
        "per_household": activity.places_per_household,
        "version": activity.version,
        "active": _ACTIVE,
        "key": key,
        "created": created,
        "applied": str(RegistrationStatus.APPLIED),
        "confirmed": str(RegistrationStatus.CONFIRMED),
        "published": str(ActivityStatus.PUBLISHED),
        "otherwise": str(RegistrationStatus.WAITLISTED) if activity.waitlist_enabled else None,
    }
    with connection.cursor() as cursor:
        if notice is not None:
            params.update(notice.params(), n_now=created)
        cursor.execute(_SQL[(lottery, notice is not None)], params)
        result = cursor.fetchall()
    ok, dup, fresh = bool(result[0][0]), bool(result[0][1]), bool(result[0][6])
    rows = sorted((r[2], r[3], r[4], r[5]) for r in result if r[2] is not None)
    if not fresh:
        return Taken(household_ok=False, fresh=False, already_registered=False, rows=[])
    found = result[0][9]
    if isinstance(found, str | bytes):
        found = json.loads(found)
    people = [
        Person(id=i, name=name, birth_year=year, is_account_holder=holder, account_id=account.pk)
        for i, name, year, holder in found or []
    ]
    for person in people:
        person._state.adding = False
    return Taken(
        household_ok=ok,
        fresh=True,
        already_registered=dup,
        rows=rows,
        notice_id=result[0][7],
        deliveries=int(result[0][8] or 0),
        people=people,
    )


def _take_sqlite(
    *,
    activity: Activity,
    account: User,
    person_ids: Sequence[int],
    public_ids: Sequence[str],
    lottery: bool,
    key: str | None,
    created: datetime,
) -> Taken:
    from .models import Registration, RegistrationRequest

    n = len(person_ids)
    marks = ", ".join(["%s"] * len(_ACTIVE))
    with connection.cursor() as cursor:
        # IMMEDIATE transactions serialise writers: what this reads stays true until commit.
        cursor.execute(
            "SELECT version = %s AND status = %s FROM activities_activity WHERE id = %s",
            [activity.version, ActivityStatus.PUBLISHED, activity.pk],
        )
        same = cursor.fetchone()
        if not (same and same[0]):
            return Taken(household_ok=False, fresh=False, already_registered=False, rows=[])
        cursor.execute(
            "SELECT person_id FROM activities_registration "  # noqa: S608 (placeholders)
            f"WHERE activity_id = %s AND account_id = %s AND status IN ({marks})",
            [activity.pk, account.pk, *_ACTIVE],
        )
        held = [row[0] for row in cursor.fetchall()]
        dup = bool(set(held) & set(person_ids))
        if dup or len(held) + n > activity.places_per_household:
            return Taken(household_ok=False, fresh=True, already_registered=dup, rows=[])
        if lottery:
            status: str | None = RegistrationStatus.APPLIED
        else:
            cursor.execute(
                "UPDATE activities_activity SET taken = taken + %s "
                "WHERE id = %s AND status = %s AND taken <= capacity - %s "
                "AND NOT EXISTS (SELECT 1 FROM activities_registration w "
                "WHERE w.activity_id = %s AND w.status = 'waitlisted')",
                [n, activity.pk, ActivityStatus.PUBLISHED, n, activity.pk],
            )
            if cursor.rowcount == 1:
                status = RegistrationStatus.CONFIRMED
            elif activity.waitlist_enabled:
                status = RegistrationStatus.WAITLISTED
            else:
                status = None
    if status is None:
        return Taken(household_ok=True, fresh=True, already_registered=False, rows=[])
    regs = Registration.objects.bulk_create(
        [
            Registration(
                public_id=pid,
                party=public_ids[0],
                activity_id=activity.pk,
                person_id=person_id,
                account_id=account.pk,
                status=status,
                created_at=created,
                updated_at=created,
            )
            for pid, person_id in zip(public_ids, person_ids, strict=True)
        ]
    )
    if any(r.pk is None for r in regs):
        # SQLite before 3.35 does not return ids from bulk_create; fetch them.
        by_public = dict(
            Registration.objects.filter(public_id__in=public_ids).values_list("public_id", "id")
        )
        for r in regs:
            r.pk = by_public[r.public_id]
    if key:
        RegistrationRequest.objects.create(
            account_id=account.pk,
            key=key,
            activity_id=activity.pk,
            registration_ids=sorted(r.pk for r in regs),
        )
    return Taken(
        household_ok=True,
        fresh=True,
        already_registered=False,
        rows=[(r.pk, r.public_id, r.person_id, r.status) for r in regs],
    )
