"""A bench-only WSGI app: the one-statement booking with no authentication and no rules.

    granian --interface wsgi ceiling:application      (PYTHONPATH=bench, DATABASE_URL set)

It answers `POST /api/v1/activities/<id>/registrations` by running, on a persistent psycopg
connection per thread with a prepared statement, the least any correct first-come booking
must do durably: the guarded capacity UPDATE feeding one INSERT, committed with
synchronous_commit on. `bench/rush.py --scenario ceiling` serves it with the same server and
database as doorstep and drives it with the same clients, so doorstep's figures can be read
as a ratio to it in the same minute. It writes its own table (`bench_ceiling_booking`), never
doorstep's, and is never imported by doorstep.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

ROUTE = re.compile(r"/api/v1/activities/([0-9]{1,18})/registrations")
SETUP = """
CREATE TABLE IF NOT EXISTS bench_ceiling_activity (
  id bigint PRIMARY KEY, capacity integer NOT NULL, taken integer NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bench_ceiling_booking (
  id bigserial PRIMARY KEY, activity_id bigint NOT NULL, created_at timestamptz NOT NULL);
"""
BOOK = """
WITH took AS (
  UPDATE bench_ceiling_activity SET taken = taken + 1
  WHERE id = %s AND taken < capacity RETURNING id)
INSERT INTO bench_ceiling_booking (activity_id, created_at)
SELECT id, now() FROM took RETURNING id
"""
_local = threading.local()


def _url() -> str:
    url = os.environ["DATABASE_URL"]
    return url.replace("postgres://", "postgresql://", 1)


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(_url(), autocommit=True, prepare_threshold=1)
        _local.conn = conn
    return conn


def prepare(activity_id: int, capacity: int) -> None:
    """Create the tables and one activity (called by bench/rush.py before serving)."""
    with psycopg.connect(_url(), autocommit=True) as conn:
        conn.execute(SETUP)
        conn.execute(
            "INSERT INTO bench_ceiling_activity (id, capacity) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity, taken = 0",
            [activity_id, capacity],
        )


def booked(activity_id: int) -> int:
    with psycopg.connect(_url(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM bench_ceiling_booking WHERE activity_id = %s", [activity_id]
        ).fetchone()
    return int(row[0]) if row else 0


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    match = ROUTE.fullmatch(environ.get("PATH_INFO", ""))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    if environ.get("REQUEST_METHOD") == "GET":  # the bench's "are you up" probe
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"items": []}']
    if match is None or environ.get("REQUEST_METHOD") != "POST":
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"code": "not_found", "message": "Not found."}']
    row = _connection().execute(BOOK, [int(match.group(1))], prepare=True).fetchone()
    if row is None:
        body = b'{"code": "full", "message": "All places are taken."}'
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [body]
    body = b'{"replayed": false, "registrations": [{"id": %d, "status": "confirmed"}]}' % row[0]
    start_response("201 Created", [("Content-Type", "application/json")])
    return [body]
