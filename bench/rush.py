"""The registration rush: thousands of residents registering at once, through gunicorn or
granian, on PostgreSQL. See docs/performance.md, "Registration rush".

It builds a fresh PostgreSQL database (`doorstep_rush`, dropped at the end), runs migrate and
load-regions, creates accounts, tokens and activities in bulk (bench/rush_setup.py), starts
the server on a free loopback port and drives POST /api/v1/activities/{id}/registrations
(bearer token, Idempotency-Key, {"person_ids": [holder]}) with bench/loadgen.py (one asyncio
process, one keep-alive connection per client; `--client processes`: the earlier forked
http.client processes), one distinct account per attempt:

  floor  the same endpoint refusing unknown tokens (401) for 8 s: the stack's own ceiling
  a      64 clients register for a first-come activity with 10^7 places, for 20 s:
         accepted/s, p50/p99 (target: >= 1,000/s with p99 < 250 ms)
  b      5,000 attempts from 256 clients for 30 places, 3 fresh activities without a waiting
         list and 3 with one: exactly 30 confirmed (checked in SQL, with the taken counter),
         every other answer a clean 400 `full` (or 201 `waitlisted`), no 5xx, answers and
         stored idempotency records matching the database
  c      20,000 lottery applications from 128 clients (target >= 3,000/s)
  m      the meals burst: 2,000 orders from 128 clients for a set meal of 300 portions:
         exactly 300 ordered (checked in SQL with the portions counter), every other answer
         a clean 400 `sold_out`, no 5xx
  r      the room rush: 500 residents (one account each, 250 clients) ask for overlapping
         times of one meeting room at once: exactly one booking holds it (checked in SQL),
         every other answer a clean 409 `slot_taken`, no 5xx

Each b run stops sending after 10 s and c after 30 s (--b-duration, --c-duration), so the
whole benchmark ends within 5 minutes even at today's ~100 requests/s; raise them to send
every attempt. Then it replays each kind of answer in-process (rush_setup.py probe) to count
its SQL statements and the CPU each one costs. Progress goes to stdout and the figures end in
one JSON line. Only 127.0.0.1 is contacted. Exit status 2 if any correctness check failed.

    .venv/bin/python bench/rush.py [--scenario a|b|c|floor|all] [--server gunicorn|granian]
        [--workers N] [--worker-class sync|gthread] [--threads N] [--no-ceiling]
        [--client loadgen|processes] [--no-health-checks] [--json figures.jsonl]

It serves doorstep.wsgi (as make run) with granian (2 workers, 2 blocking threads each) or
gunicorn (4 sync workers); --no-health-checks serves with CONN_HEALTH_CHECKS off.

Before a, the same server, database and clients serve bench/ceiling.py (the one-statement
booking, prepared and durable, with no authentication and no rules) for as long as a runs:
a's accepted/s is printed as a ratio to it (target >= 0.6), both measured in the same minute.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# bench/run.py (the directory benchmark): database, server and CPU accounting helpers.
from loadgen import http_request
from loadgen import run as loadgen_run
from pooler import PgBouncer
from run import (
    HOST,
    Postgres,
    PostgresUnavailable,
    Server,
    ServerConfig,
    base_env,
    code_version,
    machine_cpu,
    percentile,
    postgres_analyze,
    postgres_settings,
    run_command,
)

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT_NAME = "doorstep_rush"
CAPACITY_B = 30

# Targets (the issue) and the references they are set against (shared/PERFORMANCE.md).
TARGETS = {"a_accepted_per_s": 1000, "a_p99_ms": 250, "c_applications_per_s": 3000}
REFERENCE = {
    "pretix_pg_hot_quota_orders_per_s": 23.5,
    "pretix_pg_hot_quota_p50_ms": 2660,
    "pretix_pg_hot_quota_p99_ms": 3340,
    "pretix_30_seats_attempts_per_s": 107,
    "pretix_sql_per_order": 80,
    "pretix_cpu_ms_per_order": 82,
    "http_gunicorn_sync_one_statement_booking_per_s": 1950,
    "http_gunicorn_sync_for_update_tx_per_s": 1730,
    "http_gunicorn_sync_hello_no_middleware_per_s": 6600,
    "http_granian_hello_default_middleware_per_s": 15700,
    "http_granian_sold_out_rejection_per_s": 6200,
    "pg_one_statement_booking_tps_1_8_clients": 3850,
    "pg_insert_only_tps": "18000-23000",
    "pg_hot_row_update_tps_8_clients": 5300,
}


# WSGI applications the server can serve: doorstep as make run serves it, and the bench-only
# ceiling (bench/ceiling.py, the one-statement booking without authentication).
APPS = {
    "django": "doorstep.wsgi:application",
    "ceiling": "ceiling:application",
}
CEILING_ACTIVITY = 1


def make_server(args: argparse.Namespace, app: str, env: dict[str, str], log: Path) -> Server:
    """The server --server, --workers, --worker-class and --threads ask for."""
    if args.server == "granian":
        config = ServerConfig(args.workers or 2, "granian", args.threads or 2)
    else:
        config = ServerConfig(args.workers or 4, args.worker_class, args.threads or 2)
    return Server(config, env, log, app=app)


def _cpu_of(pids: list[int]) -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


class Servers:
    """Several instances of the same server on their own ports (--instances), as one: the
    load generator spreads its connections over them in turn; their CPU (and the pooler's,
    when --via pgbouncer) is counted as the server's. They share one log file."""

    def __init__(self, servers: list[Server], extra_pids: Callable[[], list[int]]) -> None:
        self.servers, self.extra_pids = servers, extra_pids
        self.log_path = servers[0].log_path
        self.log_tail = servers[0].log_tail

    @property
    def port(self) -> int | list[int]:  # type: ignore[override]
        ports = [s.port for s in self.servers]
        return ports[0] if len(ports) == 1 else ports

    def start(self) -> None:
        for s in self.servers:
            s.start()

    def stop(self) -> None:
        for s in self.servers:
            s.stop()

    def cpu_seconds(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for s in self.servers:
            out |= s.cpu_seconds()
        return out | _cpu_of(self.extra_pids())

    def describe(self) -> dict[str, object]:
        return {**self.servers[0].describe(), "instances": len(self.servers)}


def make_servers(
    args: argparse.Namespace, env: dict[str, str], log: Path, extra_pids: Callable[[], list[int]]
) -> Servers:
    return Servers(
        [make_server(args, APPS["django"], env, log) for _ in range(args.instances)], extra_pids
    )


def add_server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="granian",
        help="granian's WSGI interface (as make run) or gunicorn",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="server processes (gunicorn 4, granian 2)"
    )
    p.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gunicorn gthread worker, or granian's blocking threads per worker "
        "(default 2 each)",
    )
    p.add_argument(
        "--client",
        choices=("loadgen", "processes"),
        default="loadgen",
        help="loadgen = bench/loadgen.py (asyncio, keep-alive, one process); processes = one "
        "forked http.client process per client (the earlier client; ~10x its CPU)",
    )
    p.add_argument("--client-procs", type=int, default=1, help="loadgen processes")
    p.add_argument(
        "--instances",
        type=int,
        default=1,
        help="app instances (each its own server on its own port, --workers each) behind the "
        "one database; the load generator spreads its connections over them",
    )
    p.add_argument(
        "--via",
        choices=("direct", "pgbouncer"),
        default="direct",
        help="pgbouncer: the servers talk to PostgreSQL through PgBouncer in transaction mode "
        "(bench/pooler.py; DATABASE_POOLED=1)",
    )
    p.add_argument("--pool-size", type=int, default=20, help="PgBouncer's server connections")
    p.add_argument(
        "--no-health-checks",
        action="store_true",
        help="serve with CONN_HEALTH_CHECKS off (a settings module in the work dir): measures "
        "what the per-request SELECT 1 costs",
    )
    p.add_argument(
        "--no-prepared",
        action="store_true",
        help="serve with DATABASE_PREPARED=0 (client-side binding, nothing prepared), as "
        "behind a pooler in transaction mode",
    )


def settings_overrides(env: dict[str, str], workdir: Path, args: argparse.Namespace) -> None:
    """--no-prepared sets DATABASE_PREPARED=0; --no-health-checks points env at a settings
    module in the work dir: doorstep.settings with CONN_HEALTH_CHECKS off."""
    if args.no_prepared:
        env["DATABASE_PREPARED"] = "0"
    if not args.no_health_checks:
        return
    (workdir / "bench_settings.py").write_text(
        "from doorstep.settings import *  # noqa: F403\n"
        'DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405\n'
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(workdir), env.get("PYTHONPATH", "")]))
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"


def settings_described(args: argparse.Namespace) -> dict[str, object]:
    return {
        "conn_health_checks": not args.no_health_checks,
        "prepared_statements": not args.no_prepared,
    }


# --- client ------------------------------------------------------------------------------

# One attempt: (index, path, body, headers).
Job = tuple[int, str, bytes, dict[str, str]]
# One answer: (index, latency s, HTTP status or 0 for a network error, outcome), where the
# outcome is the registration's status for a 2xx and the error `code` otherwise.
Sample = tuple[int, float, int, str]


def _first_registration(data: dict) -> str:
    regs = data.get("registrations") or []
    return str(regs[0]["status"]) if regs else "empty"


def outcome_of(
    status: int, body: bytes, success: Callable[[dict], str] = _first_registration
) -> str:
    if status == 0:
        return "connection_error"
    try:
        data = json.loads(body)
    except ValueError:
        return f"http_{status}_not_json"
    if 200 <= status < 300:
        return success(data)
    return str(data.get("code", f"http_{status}"))


def client_loop(
    port: int,
    jobs: list[Job],
    start_at: float,
    deadline: float,
    timeout: float,
    outcome: Callable[[int, bytes], str] = outcome_of,
) -> tuple[list[Sample], float, int]:
    """One client: its attempts in order over one keep-alive connection (reopened when the
    server closes it, as sync workers do after every answer). Stops at the deadline."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    opened = 0
    raw: list[tuple[int, float, int, bytes]] = []
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    for index, path, body, headers in jobs:
        if time.time() >= deadline:
            break
        if conn.sock is None:
            opened += 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            status, data = 0, b""
            conn.close()
        raw.append((index, time.perf_counter() - t0, status, data))
    end = time.time()
    conn.close()
    # Parsing after the clock stops keeps the client's CPU out of the way of the server's.
    return [(i, t, s, outcome(s, d)) for i, t, s, d in raw], end, opened


def make_jobs(activity_id: int, accounts: list[list]) -> list[Job]:
    path = f"/api/v1/activities/{activity_id}/registrations"
    jobs: list[Job] = []
    for i, (token, person_id) in enumerate(accounts):
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Connection": "keep-alive",
        }
        jobs.append((i, path, json.dumps({"person_ids": [person_id]}).encode(), headers))
    return jobs


def api_jobs(accounts: list[list], path: str, body_of: Callable[[int, int], dict]) -> list[Job]:
    """One POST per account (bearer token, a fresh Idempotency-Key, keep-alive): body_of(i,
    person_id) gives the JSON body."""
    jobs: list[Job] = []
    for i, (token, person_id) in enumerate(accounts):
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Connection": "keep-alive",
        }
        jobs.append((i, path, json.dumps(body_of(i, person_id)).encode(), headers))
    return jobs


# The benchmark's database (main() sets it): PostgreSQL's CPU is then counted for its
# backends and the shared background processes only, not for other databases' backends
# (other sessions on this machine run their tests on the same PostgreSQL).
PG_ACCOUNTING: dict[str, str] = {}


def postgres_cpu_seconds() -> tuple[float, float]:
    """User + system CPU seconds of (1) the live PostgreSQL processes that serve this benchmark
    (every PostgreSQL process when PG_ACCOUNTING names no database) and (2) the backends that
    have exited so far, of any database (the postmaster's reaped children: an autovacuum
    worker that came and went mid-run, but also other sessions' closed connections)."""
    tick = os.sysconf("SC_CLK_TCK")
    mine: set[int] | None = None
    if PG_ACCOUNTING.get("url"):
        import psycopg

        with psycopg.connect(PG_ACCOUNTING["url"], autocommit=True) as conn:
            mine = {
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                    "OR backend_type <> 'client backend'",
                    [PG_ACCOUNTING["name"]],
                )
            }
    live = exited = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        try:
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip()
        except OSError:
            parent = ""
        if parent != "postgres":  # the postmaster: its reaped children's CPU
            exited += (int(fields[13]) + int(fields[14])) / tick
        if mine is None or int(proc.name) in mine:
            live += (int(fields[11]) + int(fields[12])) / tick
    return live, exited


@dataclass
class Drive:
    samples: list[Sample]
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    db_cpu_s: float
    db_exited_cpu_s: float
    connections: int
    machine_busy_s: float
    machine_s: float
    worker_restarts: int

    def figures(self) -> dict[str, object]:
        n = max(1, len(self.samples))
        lat = sorted(t * 1000 for _i, t, _s, _o in self.samples)
        statuses = Counter(s for _i, _t, s, _o in self.samples)
        return {
            "answers": len(self.samples),
            "wall_s": round(self.wall_s, 2),
            "answers_per_s": round(len(self.samples) / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 1),
            "p90_ms": round(percentile(lat, 90), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(lat[-1], 1) if lat else None,
            "http_status": {str(k): v for k, v in sorted(statuses.items())},
            "outcomes": dict(Counter(o for _i, _t, _s, o in self.samples).most_common()),
            "http_5xx": sum(v for k, v in statuses.items() if k >= 500),
            "connection_errors": statuses.get(0, 0),
            "server_cpu_ms_per_req": round(self.server_cpu_s * 1000 / n, 2),
            "client_cpu_ms_per_req": round(self.client_cpu_s * 1000 / n, 2),
            # PostgreSQL's processes (its backends exit with their connections, so this
            # undercounts only if gunicorn restarted a worker).
            "db_cpu_ms_per_req": round(self.db_cpu_s * 1000 / n, 2),
            # PostgreSQL processes that exited meanwhile, of any database (see
            # postgres_cpu_seconds): an upper bound of what the live count missed.
            "db_exited_cpu_ms_per_req": round(self.db_exited_cpu_s * 1000 / n, 2),
            # The kernel and anything else running meanwhile (other sessions on the machine).
            "other_cpu_ms_per_req": round(
                max(
                    0.0,
                    self.machine_busy_s
                    - self.server_cpu_s
                    - self.client_cpu_s
                    - self.db_cpu_s
                    - self.db_exited_cpu_s,
                )
                * 1000
                / n,
                2,
            ),
            "machine_busy_pct": round(100 * self.machine_busy_s / self.machine_s, 1)
            if self.machine_s
            else None,
            "tcp_connections": self.connections,
            "worker_restarts": self.worker_restarts,
        }

    def latencies_ms(self, outcome: str) -> dict[str, float]:
        lat = sorted(t * 1000 for _i, t, _s, o in self.samples if o == outcome)
        return {"p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1)}


# Which client drives the load (--client, --client-procs); main() sets it.
CLIENT = {"kind": "loadgen", "procs": 1}


def drive(
    server: Server,
    jobs: list[Job],
    clients: int,
    *,
    duration_s: float,
    timeout_s: float,
    outcome: Callable[[int, bytes], str] = outcome_of,
) -> Drive:
    """Send the jobs from `clients` concurrent clients; measure time and CPU. `outcome`
    names each answer (after the clock stops)."""
    if CLIENT["kind"] == "processes":
        return drive_processes(
            server, jobs, clients, duration_s=duration_s, timeout_s=timeout_s, outcome=outcome
        )
    requests = [
        (index, http_request("POST", path, body, headers.items()))
        for index, path, body, headers in jobs
    ]
    before_s = server.cpu_seconds()
    before_db = postgres_cpu_seconds()
    r = loadgen_run(
        server.port,
        requests,
        clients,
        duration_s=duration_s,
        timeout_s=timeout_s,
        processes=int(CLIENT["procs"]),
    )
    after_s = server.cpu_seconds()
    after_db = postgres_cpu_seconds()
    # Parsing the answers after the clock stops keeps it out of the client's CPU.
    return Drive(
        samples=[(i, t, status, outcome(status, body)) for i, t, status, body in r.samples],
        wall_s=r.wall_s,
        server_cpu_s=sum(t - before_s.get(pid, 0.0) for pid, t in after_s.items()),
        client_cpu_s=r.cpu_s,
        db_cpu_s=after_db[0] - before_db[0],
        db_exited_cpu_s=after_db[1] - before_db[1],
        connections=r.connections_opened,
        machine_busy_s=r.machine_busy_s,
        machine_s=r.machine_s,
        worker_restarts=len(set(before_s) - set(after_s)),
    )


def drive_processes(
    server: Server,
    jobs: list[Job],
    clients: int,
    *,
    duration_s: float,
    timeout_s: float,
    outcome: Callable[[int, bytes], str] = outcome_of,
) -> Drive:
    """The earlier client: one forked http.client process per client (--client processes)."""
    per_client: list[list[Job]] = [[] for _ in range(clients)]
    for k, job in enumerate(jobs):
        per_client[k % clients].append(job)
    pool = cf.ProcessPoolExecutor(
        max_workers=clients, mp_context=multiprocessing.get_context("fork")
    )
    with pool:
        list(pool.map(time.sleep, [0.0] * clients))  # fork the clients before the clock
        before_c = resource.getrusage(resource.RUSAGE_CHILDREN)
        before_s = server.cpu_seconds()
        before_db = postgres_cpu_seconds()
        before_m = machine_cpu()
        start_at = time.time() + 0.5
        deadline = start_at + duration_s
        futures = [
            pool.submit(client_loop, server.port, mine, start_at, deadline, timeout_s, outcome)
            for mine in per_client
        ]
        results = [f.result() for f in futures]
        after_s = server.cpu_seconds()
        after_db = postgres_cpu_seconds()
        after_m = machine_cpu()
    after_c = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped when the pool closes
    return Drive(
        samples=[s for out, _end, _o in results for s in out],
        wall_s=max(end for _out, end, _o in results) - start_at,
        server_cpu_s=sum(t - before_s.get(pid, 0.0) for pid, t in after_s.items()),
        client_cpu_s=(after_c.ru_utime + after_c.ru_stime)
        - (before_c.ru_utime + before_c.ru_stime),
        db_cpu_s=after_db[0] - before_db[0],
        db_exited_cpu_s=after_db[1] - before_db[1],
        connections=sum(o for _out, _e, o in results),
        machine_busy_s=after_m[0] - before_m[0],
        machine_s=after_m[1] - before_m[1],
        worker_restarts=len(set(before_s) - set(after_s)),
    )


# --- database checks ---------------------------------------------------------------------


class Db:
    """Direct SQL on the benchmark's database: resets and after-the-run checks."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def forget_token_use(self) -> None:
        # Every first use of a token in a minute writes last_used_at: start each scenario with
        # none used, the costlier case (a resident who browsed a minute before saves it).
        self.conn.execute("UPDATE accounts_apitoken SET last_used_at = NULL")

    def activity_state(self, activity_id: int) -> dict[str, object]:
        capacity, taken, waitlist = self.conn.execute(
            "SELECT capacity, taken, waitlist_enabled FROM activities_activity WHERE id = %s",
            [activity_id],
        ).fetchone()
        rows = self.conn.execute(
            "SELECT status, person_id FROM activities_registration WHERE activity_id = %s",
            [activity_id],
        ).fetchall()
        requests = self.conn.execute(
            "SELECT count(*) FROM activities_registrationrequest WHERE activity_id = %s",
            [activity_id],
        ).fetchone()[0]
        by_status: dict[str, set[int]] = {}
        for status, person in rows:
            by_status.setdefault(status, set()).add(person)
        holds = len(by_status.get("confirmed", ())) + len(by_status.get("offered", ()))
        return {
            "capacity": capacity,
            "taken": taken,
            "waitlist_enabled": waitlist,
            "rows": len(rows),
            "idempotency_rows": requests,
            "by_status": by_status,
            "holding_places": holds,
            "overbooked": max(0, holds - capacity),
        }

    def connections(self, name: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchone()[0]


def crosscheck(d: Drive, accounts: list[list], state: dict[str, object]) -> dict[str, object]:
    """Do the answers the residents got match what the database holds?"""
    answered: dict[str, set[int]] = {}
    for index, _t, _s, outcome in d.samples:
        answered.setdefault(outcome, set()).add(accounts[index][1])
    db: dict[str, set[int]] = state["by_status"]  # type: ignore[assignment]
    problems: dict[str, int] = {}
    for status in ("confirmed", "waitlisted", "applied"):
        told, held = answered.get(status, set()), db.get(status, set())
        if told - held:
            problems[f"told_{status}_not_in_db"] = len(told - held)
        if held - told:  # "ghosts": the database holds it, the resident was told otherwise
            problems[f"in_db_{status}_not_told"] = len(held - told)
    other = set(db) - {"confirmed", "waitlisted", "applied"}
    for status in other:
        problems[f"unexpected_db_status_{status}"] = len(db[status])
    if state["taken"] != state["holding_places"]:
        problems["taken_counter_mismatch"] = 1
    # Every 201 carried an Idempotency-Key: each must have left exactly one stored answer.
    created = sum(1 for _i, _t, status, _o in d.samples if status == 201)
    if state["idempotency_rows"] != created:
        problems["idempotency_rows_vs_201_answers"] = (
            state["idempotency_rows"] - created  # type: ignore[operator]
        )
    return problems


# --- scenarios ---------------------------------------------------------------------------


def print_run(label: str, f: dict[str, object], extra: str = "") -> None:
    print(
        f"  {label:<16} {f['answers']:>6} answers in {f['wall_s']:>5} s "
        f"({f['answers_per_s']}/s), p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
        f"5xx {f['http_5xx']}, conn errors {f['connection_errors']}, "
        f"CPU ms/req srv {f['server_cpu_ms_per_req']} cli {f['client_cpu_ms_per_req']} "
        f"pg {f['db_cpu_ms_per_req']} (+exited {f['db_exited_cpu_ms_per_req']}) "
        f"other {f['other_cpu_ms_per_req']}, "
        f"busy {f['machine_busy_pct']} %{extra}",
        flush=True,
    )


def scenario_floor(
    server: Server, db: Db, data: dict, args: argparse.Namespace
) -> dict[str, object]:
    """The stack's floor: the registration endpoint refusing an unknown token (HTTP 401).

    gunicorn, Django's middleware, ninja's routing and one token lookup (plus the connection
    health check), and nothing of register(): no endpoint that authenticates can go faster.
    """
    jobs = make_jobs(data["activities"]["a"], data["accounts"][: args.a_max])
    jobs = [
        (i, path, body, {**headers, "Authorization": f"Bearer unknown-{i}"})
        for i, path, body, headers in jobs
    ]
    d = drive(server, jobs, args.a_clients, duration_s=args.floor_duration, timeout_s=args.timeout)
    f = d.figures()
    f["clients"] = args.a_clients
    f["unauthorized"] = f["outcomes"].get("unauthorized", 0)  # type: ignore[union-attr]
    f["mismatches"] = {}
    print_run("floor (401)", f)
    return f


def scenario_ceiling(
    args: argparse.Namespace, data: dict, env: dict[str, str], workdir: Path
) -> dict[str, object]:
    """The same server, database and clients as a, serving bench/ceiling.py: the one-statement
    booking (guarded UPDATE feeding an INSERT, prepared, durable) with no authentication and
    no rules. doorstep's a is read as a ratio to this, measured in the same minute."""
    import ceiling

    ceiling_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench"), env.get("PYTHONPATH")])),
    }
    old_url = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    try:
        ceiling.prepare(CEILING_ACTIVITY, 10_000_000)
        server = make_server(args, APPS["ceiling"], ceiling_env, workdir / "ceiling.log")
        server.start()
        try:
            jobs = make_jobs(CEILING_ACTIVITY, data["accounts"][: args.a_max])
            drive(server, jobs[:200], 16, duration_s=5, timeout_s=args.timeout)  # warm-up
            d = drive(
                server, jobs, args.a_clients, duration_s=args.a_duration, timeout_s=args.timeout
            )
        finally:
            server.stop()
        f = d.figures()
        accepted = f["outcomes"].get("confirmed", 0)  # type: ignore[union-attr]
        f.update(
            clients=args.a_clients,
            accepted=accepted,
            accepted_per_s=round(accepted / d.wall_s, 1),
            db_booked=ceiling.booked(CEILING_ACTIVITY),
        )
    finally:
        if old_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old_url
    print_run("ceiling", f, f"; accepted {f['accepted_per_s']}/s")
    return f


def scenario_a(server: Server, db: Db, data: dict, args: argparse.Namespace) -> dict[str, object]:
    activity = data["activities"]["a"]
    accounts = data["accounts"][: args.a_max]
    db.forget_token_use()
    d = drive(
        server,
        make_jobs(activity, accounts),
        args.a_clients,
        duration_s=args.a_duration,
        timeout_s=args.timeout,
    )
    f = d.figures()
    state = db.activity_state(activity)
    accepted = f["outcomes"].get("confirmed", 0)  # type: ignore[union-attr]
    f.update(
        clients=args.a_clients,
        accepted=accepted,
        accepted_per_s=round(accepted / d.wall_s, 1),
        errors=f["answers"] - accepted,  # type: ignore[operator]
        accounts_exhausted=len(d.samples) == len(accounts),
        db_confirmed=len(state["by_status"].get("confirmed", ())),  # type: ignore[union-attr]
        db_taken=state["taken"],
        mismatches=crosscheck(d, accounts, state),
    )
    f["target_met"] = (
        f["accepted_per_s"] >= TARGETS["a_accepted_per_s"]  # type: ignore[operator]
        and f["p99_ms"] < TARGETS["a_p99_ms"]  # type: ignore[operator]
    )
    print_run("a first come", f, f"; accepted {f['accepted_per_s']}/s")
    return f


def scenario_b(server: Server, db: Db, data: dict, args: argparse.Namespace) -> dict[str, object]:
    accounts = data["accounts"][: args.b_attempts]
    out: dict[str, object] = {}
    for variant in ("b_full", "b_waitlist"):
        runs = []
        for n, activity in enumerate(data["activities"][variant][: args.b_runs], start=1):
            db.forget_token_use()
            d = drive(
                server,
                make_jobs(activity, accounts),
                args.b_clients,
                duration_s=args.b_duration,
                timeout_s=args.timeout,
            )
            f = d.figures()
            state = db.activity_state(activity)
            outcomes: dict[str, int] = f["outcomes"]  # type: ignore[assignment]
            expected_rest = "waitlisted" if variant == "b_waitlist" else "full"
            rejected = outcomes.get(expected_rest, 0)
            unclean = {k: v for k, v in outcomes.items() if k not in {"confirmed", expected_rest}}
            by_status: dict[str, set[int]] = state["by_status"]  # type: ignore[assignment]
            f.update(
                run=n,
                activity=activity,
                clients=args.b_clients,
                planned=len(accounts),
                stopped_by_time=len(d.samples) < len(accounts),
                confirmed_answers=outcomes.get("confirmed", 0),
                rest_answers=rejected,
                rest_per_s=round(rejected / d.wall_s, 1),
                rest_latency=d.latencies_ms(expected_rest),
                confirmed_latency=d.latencies_ms("confirmed"),
                unclean_answers=unclean,
                db_confirmed=len(by_status.get("confirmed", ())),
                db_waitlisted=len(by_status.get("waitlisted", ())),
                db_rows=state["rows"],
                db_taken=state["taken"],
                capacity=state["capacity"],
                overbooked=state["overbooked"],
                mismatches=crosscheck(d, accounts, state),
            )
            f["correct"] = (
                f["db_confirmed"] == CAPACITY_B
                and f["db_taken"] == CAPACITY_B
                and f["confirmed_answers"] == CAPACITY_B
                and f["overbooked"] == 0
                and not unclean
                and not f["mismatches"]
                and f["http_5xx"] == 0
                and f["connection_errors"] == 0
                and (variant == "b_waitlist" or f["db_rows"] == CAPACITY_B)
            )
            print_run(
                f"{variant} run {n}",
                f,
                f"; confirmed {f['db_confirmed']} in db (taken {f['db_taken']}), "
                f"{expected_rest} {rejected} ({f['rest_per_s']}/s), overbooked "
                f"{f['overbooked']}, {'correct' if f['correct'] else 'WRONG'}",
            )
            if not f["correct"]:
                print(f"    unclean {unclean} mismatches {f['mismatches']}")
            runs.append(f)
        out[variant] = runs
    return out


def scenario_c(server: Server, db: Db, data: dict, args: argparse.Namespace) -> dict[str, object]:
    activity = data["activities"]["c"]
    accounts = data["accounts"][: args.c_applications]
    db.forget_token_use()
    d = drive(
        server,
        make_jobs(activity, accounts),
        args.c_clients,
        duration_s=args.c_duration,
        timeout_s=args.timeout,
    )
    f = d.figures()
    state = db.activity_state(activity)
    applied = f["outcomes"].get("applied", 0)  # type: ignore[union-attr]
    f.update(
        clients=args.c_clients,
        planned=len(accounts),
        applied=applied,
        applications_per_s=round(applied / d.wall_s, 1),
        stopped_by_time=len(d.samples) < len(accounts),
        db_applied=len(state["by_status"].get("applied", ())),  # type: ignore[union-attr]
        mismatches=crosscheck(d, accounts, state),
    )
    f["target_met"] = f["applications_per_s"] >= TARGETS["c_applications_per_s"]  # type: ignore[operator]
    print_run("c lottery", f, f"; applied {applied} ({f['applications_per_s']}/s)")
    return f


def meal_outcome(status: int, body: bytes) -> str:
    """The order's status for a 2xx, the error `code` otherwise."""
    return outcome_of(status, body, lambda data: str(data.get("order", {}).get("status", "empty")))


def scenario_m(server: Server, db: Db, data: dict, args: argparse.Namespace) -> dict[str, object]:
    """The meals burst: --m-attempts orders (one account each) from --m-clients clients for
    a set meal of 300 portions: exactly 300 orders, every other answer a clean `sold_out`."""
    meals = data["meals"]
    accounts = data["accounts"][: args.m_attempts]
    jobs = api_jobs(
        accounts,
        "/api/v1/meals/orders",
        lambda _i, person_id: {
            "menu_id": meals["menu"],
            "person_id": person_id,
            "lines": [{"item_id": meals["item"], "quantity": 1}],
        },
    )
    db.forget_token_use()
    d = drive(
        server,
        jobs,
        args.m_clients,
        duration_s=args.m_duration,
        timeout_s=args.timeout,
        outcome=meal_outcome,
    )
    f = d.figures()
    outcomes: dict[str, int] = f["outcomes"]  # type: ignore[assignment]
    taken, orders = db.conn.execute(
        "SELECT i.taken, (SELECT count(*) FROM meals_order o WHERE o.menu_id = i.menu_id "
        "AND o.status = 'placed') FROM meals_menuitem i WHERE i.id = %s",
        [meals["item"]],
    ).fetchone()
    unclean = {k: v for k, v in outcomes.items() if k not in {"placed", "sold_out"}}
    f.update(
        clients=args.m_clients,
        planned=len(accounts),
        portions=meals["portions"],
        placed_answers=outcomes.get("placed", 0),
        sold_out_answers=outcomes.get("sold_out", 0),
        placed_latency=d.latencies_ms("placed"),
        sold_out_latency=d.latencies_ms("sold_out"),
        orders_per_s=round(outcomes.get("placed", 0) / d.wall_s, 1),
        db_taken=taken,
        db_orders=orders,
        unclean_answers=unclean,
        mismatches={},
    )
    f["correct"] = (
        taken == orders == f["placed_answers"] == meals["portions"]
        and not unclean
        and f["http_5xx"] == 0
        and f["connection_errors"] == 0
    )
    print_run(
        "m meals burst",
        f,
        f"; placed {f['placed_answers']} (db {orders}, taken {taken}), sold_out "
        f"{f['sold_out_answers']}, {'correct' if f['correct'] else 'WRONG'}",
    )
    return f


def room_outcome(status: int, body: bytes) -> str:
    """The booking's status for a 2xx, the error `code` otherwise."""
    return outcome_of(
        status, body, lambda data: str((data.get("bookings") or [{}])[0].get("status", "empty"))
    )


def scenario_r(server: Server, db: Db, data: dict, args: argparse.Namespace) -> dict[str, object]:
    """The room rush: --r-attempts residents at once for overlapping times of one room."""
    rooms = data["rooms"]
    accounts = data["accounts"][: args.r_attempts]
    jobs = api_jobs(
        accounts,
        "/api/v1/bookings",
        lambda i, _person_id: {
            "space_id": rooms["space"],
            "starts_at": rooms["starts"][i % 3],
            "ends_at": rooms["ends"][i % 3],
            "title": "楼组议事",
        },
    )
    db.forget_token_use()
    d = drive(
        server,
        jobs,
        args.r_clients,
        duration_s=args.r_duration,
        timeout_s=args.timeout,
        outcome=room_outcome,
    )
    f = d.figures()
    outcomes: dict[str, int] = f["outcomes"]  # type: ignore[assignment]
    (holding,) = db.conn.execute(
        "SELECT count(*) FROM rooms_booking WHERE space_id = %s "
        "AND status IN ('pending', 'confirmed', 'checked_in')",
        [rooms["space"]],
    ).fetchone()
    unclean = {k: v for k, v in outcomes.items() if k not in {"confirmed", "slot_taken"}}
    f.update(
        clients=args.r_clients,
        planned=len(accounts),
        confirmed_answers=outcomes.get("confirmed", 0),
        taken_answers=outcomes.get("slot_taken", 0),
        confirmed_latency=d.latencies_ms("confirmed"),
        taken_latency=d.latencies_ms("slot_taken"),
        db_holding=holding,
        unclean_answers=unclean,
        mismatches={},
    )
    f["correct"] = (
        holding == f["confirmed_answers"] == 1
        and f["confirmed_answers"] + f["taken_answers"] == len(accounts)
        and not unclean
        and f["http_5xx"] == 0
        and f["connection_errors"] == 0
    )
    print_run(
        "r room rush",
        f,
        f"; confirmed {f['confirmed_answers']} (db {holding}), slot_taken "
        f"{f['taken_answers']}, {'correct' if f['correct'] else 'WRONG'}",
    )
    return f


def compare_servers(
    args: argparse.Namespace, data: dict, db: Db, env: dict[str, str], workdir: Path
) -> dict[str, object]:
    """Serve a (first come) and c (lottery) with each server:app pair in turn, `rounds` times,
    each run with accounts and a fresh pair of activities of its own; medians per pair. On a
    shared machine only runs minutes apart compare."""
    pairs = [tuple(x.split(":")) for x in args.compare_servers.split(",") if x]
    per_run = len(data["accounts"]) // (len(pairs) * args.rounds)
    runs: dict[str, list[dict[str, object]]] = {f"{s}:{a}": [] for s, a in pairs}
    k = 0
    for rnd in range(1, args.rounds + 1):
        for server_name, app in pairs:
            label = f"{server_name}:{app}"
            ns = argparse.Namespace(**{**vars(args), "server": server_name})
            server = make_server(ns, APPS[app], env, workdir / f"server-{server_name}-{app}.log")
            server.start()
            try:
                mine = data["accounts"][k * per_run : (k + 1) * per_run]
                k += 1
                # Warm-up on the warm activity (repeat accounts answer already_registered).
                drive(
                    server,
                    make_jobs(data["activities"]["warm"], data["accounts"][-200:]),
                    16,
                    duration_s=5,
                    timeout_s=args.timeout,
                )
                entry: dict[str, object] = {
                    "round": rnd,
                    "activity_a": data["activities"]["a_runs"][k - 1],
                }
                for scen, want, clients in (
                    ("a", "confirmed", args.a_clients),
                    ("c", "applied", args.c_clients),
                ):
                    db.forget_token_use()
                    activity = data["activities"][f"{scen}_runs"][k - 1]
                    d = drive(
                        server,
                        make_jobs(activity, mine),
                        clients,
                        duration_s=args.compare_duration,
                        timeout_s=args.timeout,
                    )
                    f = d.figures()
                    ok = f["outcomes"].get(want, 0)  # type: ignore[union-attr]
                    f["per_s"] = round(ok / d.wall_s, 1)
                    f["unexpected"] = f["answers"] - ok  # type: ignore[operator]
                    entry[scen] = f
                    print_run(f"{label} r{rnd} {scen}", f, f"; {want} {f['per_s']}/s")
                runs[label].append(entry)
            finally:
                server.stop()
    out: dict[str, object] = {"runs": runs}
    medians: dict[str, dict[str, object]] = {}
    keys = ("per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_req", "client_cpu_ms_per_req")
    keys += ("db_cpu_ms_per_req", "other_cpu_ms_per_req")
    for label, entries in runs.items():
        medians[label] = {
            f"{scen}_{key}": round(statistics.median(float(e[scen][key]) for e in entries), 2)  # type: ignore[index]
            for scen in ("a", "c")
            for key in keys
        }
        medians[label]["unexpected_answers"] = sum(
            int(e[scen]["unexpected"]) + int(e[scen]["http_5xx"])  # type: ignore[index]
            for e in entries
            for scen in ("a", "c")
        )
    out["medians"] = medians
    told = taken = held = 0
    for entries in runs.values():
        for e in entries:
            state = db.activity_state(e["activity_a"])  # type: ignore[arg-type]
            told += int(e["a"]["outcomes"].get("confirmed", 0))  # type: ignore[index,union-attr]
            taken += int(state["taken"])  # type: ignore[call-overload]
            held += int(state["holding_places"])  # type: ignore[call-overload]
    out["a_confirmed_answers_vs_db"] = [told, taken, held]
    print("  medians (a: accepted/s, c: applications/s; CPU ms per request):")
    for label, m in medians.items():
        print(
            f"    {label:<16} a {m['a_per_s']:>6}/s p99 {m['a_p99_ms']:>7} ms srv "
            f"{m['a_server_cpu_ms_per_req']} pg {m['a_db_cpu_ms_per_req']} cli "
            f"{m['a_client_cpu_ms_per_req']} other {m['a_other_cpu_ms_per_req']} | c "
            f"{m['c_per_s']:>6}/s p99 {m['c_p99_ms']:>7} ms srv {m['c_server_cpu_ms_per_req']} "
            f"pg {m['c_db_cpu_ms_per_req']} other {m['c_other_cpu_ms_per_req']} | "
            f"unexpected {m['unexpected_answers']}"
        )
    print(f"  a: confirmed answers / taken / places held: {out['a_confirmed_answers_vs_db']}")
    return out


# --- main --------------------------------------------------------------------------------


def probe(env: dict[str, str], workdir: Path, repeat: int) -> dict[str, object]:
    out = workdir / "probe.json"
    cmd = [sys.executable, str(ROOT / "bench" / "rush_setup.py"), "probe"]
    cmd += ["--repeat", str(repeat), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        print(f"  probe failed:\n{proc.stderr[-2000:]}")
        return {}
    result = json.loads(out.read_text())
    for kind, entry in result.items():
        print(
            f"  {kind:<11} HTTP {entry['http_status']}: {entry['statements']} SQL statements "
            f"({entry['statements_token_used_this_minute']} with a token used this minute), "
            f"{entry['in_process_cpu_ms_median']} ms CPU in-process (median, one at a time), "
            f"PostgreSQL backend {entry.get('postgres_cpu_ms_mean')} ms (mean)"
        )
        for step in entry.get("cpu_ms_by_statement") or []:
            print(
                f"      {step['statement']:<58} python {step['python_ms_before']:>5} "
                f"driver {step['driver_ms']:>5} postgres {step.get('postgres_ms', 0):>6} ms"
            )
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Registration rush through gunicorn or granian on PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        default="all",
        help="a, b, c, m (the meals burst), r (the room rush), floor, or several joined by "
        "commas; all = floor,a,b,c,m,r",
    )
    p.add_argument("--floor-duration", type=float, default=8.0, help="seconds of the 401 floor run")
    p.add_argument("--accounts", type=int, default=30000, help="resident accounts to create")
    p.add_argument("--a-clients", type=int, default=64)
    p.add_argument("--a-duration", type=float, default=20.0, help="seconds of scenario a")
    p.add_argument("--a-max", type=int, default=30000, help="most attempts in scenario a")
    p.add_argument("--b-clients", type=int, default=256)
    p.add_argument("--b-attempts", type=int, default=5000)
    p.add_argument("--b-runs", type=int, default=3, help="runs per variant (fresh activity)")
    p.add_argument("--b-duration", type=float, default=10.0, help="max seconds per run")
    p.add_argument("--c-clients", type=int, default=128)
    p.add_argument("--c-applications", type=int, default=20000)
    p.add_argument("--c-duration", type=float, default=30.0, help="max seconds of scenario c")
    p.add_argument("--m-clients", type=int, default=128)
    p.add_argument("--m-attempts", type=int, default=2000)
    p.add_argument("--m-duration", type=float, default=30.0, help="max seconds of scenario m")
    p.add_argument("--r-attempts", type=int, default=500, help="residents in the room rush")
    p.add_argument("--r-clients", type=int, default=250)
    p.add_argument("--r-duration", type=float, default=30.0, help="max seconds of scenario r")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request client timeout, s")
    p.add_argument("--warmup", type=int, default=200, help="warm-up registrations")
    add_server_args(p)
    p.add_argument(
        "--no-ceiling",
        action="store_true",
        help="skip the ceiling run before a (bench/ceiling.py through the same server)",
    )
    p.add_argument("--probe", type=int, default=20, help="in-process repeats per kind (0: skip)")
    p.add_argument(
        "--compare-servers",
        default="",
        help="instead of the scenarios: server:app pairs, e.g. "
        "gunicorn:django,granian:django, each serving a then c "
        "for --compare-duration s, in turn, --rounds times (paired, for a shared machine)",
    )
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--compare-duration", type=float, default=10.0)
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-name", default=PG_DEFAULT_NAME, help="scratch database (dropped)")
    p.add_argument("--json", type=Path, help="also append the JSON line to this file")
    p.add_argument("--keep", action="store_true", help="keep the database and the work dir")
    args = p.parse_args(argv)
    if args.pg_host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("the benchmark only talks to this machine (loopback)")
    if args.instances > 1 and (args.client != "loadgen" or args.compare_servers):
        p.error("--instances needs the loadgen client and no --compare-servers")
    # Each attempt of a scenario uses its own account (the same accounts serve every activity).
    chosen = set(args.scenario.split(",")) | (
        {"b", "c", "m", "r"} if args.scenario == "all" else set()
    )
    need = max(
        args.warmup,
        args.b_attempts if "b" in chosen else 0,
        args.c_applications if "c" in chosen else 0,
        args.m_attempts if "m" in chosen else 0,
        args.r_attempts if "r" in chosen else 0,
    )
    if args.accounts < need:
        p.error(f"--accounts must be at least {need}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    CLIENT.update(kind=args.client, procs=args.client_procs)
    scenarios = (
        ["floor", "a", "b", "c", "m", "r"] if args.scenario == "all" else args.scenario.split(",")
    )
    unknown = set(scenarios) - {"floor", "a", "b", "c", "m", "r"}
    if unknown:
        raise SystemExit(f"unknown scenario {sorted(unknown)}")
    started = time.perf_counter()
    version = code_version()
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-rush-"))
    env = base_env()
    env["DATA_DIR"] = str(workdir)
    bouncer: PgBouncer | None = None
    server = make_servers(
        args, env, workdir / "server.log", lambda: bouncer.pids() if bouncer else []
    )
    print(
        f"doorstep registration rush at {version}: scenarios {scenarios}, "
        f"{server.describe()}, client {args.client}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
    summary: dict[str, object] = {"bench": "registration_rush", "code": version}
    created = False
    started_server = False
    try:
        pg.create()
        created = True
        env["DATABASE_URL"] = pg.url
        PG_ACCOUNTING.update(url=pg.url, name=args.pg_name)
        print(f"  database     {pg.url} (fresh; dropped at the end)", flush=True)
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        t0 = time.perf_counter()
        data_file = workdir / "rush.json"
        setup = [sys.executable, str(ROOT / "bench" / "rush_setup.py"), "setup"]
        setup += ["--accounts", str(args.accounts), "--b-runs", str(args.b_runs)]
        if args.compare_servers:
            pairs = len([x for x in args.compare_servers.split(",") if x])
            setup += ["--paired-runs", str(pairs * args.rounds)]
        setup += ["--out", str(data_file)]
        proc = subprocess.run(setup, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"rush_setup.py failed:\n{proc.stdout}\n{proc.stderr}")
        print(f"  setup        {time.perf_counter() - t0:5.1f} s  {proc.stdout.strip()}")
        data = json.loads(data_file.read_text())
        postgres_analyze(pg.url)
        summary["postgres_settings"] = postgres_settings(pg.url)
        summary["setup"] = {"accounts": len(data["accounts"]), "seconds": data["seconds"]}
        db = Db(pg.url)

        settings_overrides(env, workdir, args)
        if args.via == "pgbouncer":
            bouncer = PgBouncer(db=args.pg_name, pool_size=args.pool_size).start()
            env["DATABASE_URL"] = bouncer.url
            env["DATABASE_POOLED"] = "1"
            print(
                f"  pooler       {bouncer.version()} transaction mode, {args.pool_size} server "
                f"connections, {bouncer.url}",
                flush=True,
            )
            summary["pooler"] = {"pgbouncer": bouncer.version(), "pool_size": args.pool_size}
        if args.compare_servers:
            summary["compare_servers"] = compare_servers(args, data, db, env, workdir)
            scenarios = []
        else:
            started_server = True
            server.start()
            print(f"  {args.server:<12} 127.0.0.1:{server.port} {server.describe()}", flush=True)
        if args.warmup and started_server:
            # Warm every worker (imports, prepared caches) on an activity nobody measures.
            warm = drive(
                server,
                make_jobs(data["activities"]["warm"], data["accounts"][-args.warmup :]),
                min(16, args.warmup),
                duration_s=20,
                timeout_s=args.timeout,
            )
            print_run("warm-up", warm.figures())
        summary["server"] = {
            **server.describe(),
            "client": args.client,
            **settings_described(args),
        }
        if "floor" in scenarios:
            summary["floor"] = scenario_floor(server, db, data, args)
        if "a" in scenarios:
            if started_server and not args.no_ceiling:
                server.stop()
                summary["ceiling"] = scenario_ceiling(args, data, env, workdir)
                server.start()
            summary["a"] = scenario_a(server, db, data, args)
            ceiling_f = summary.get("ceiling")
            if isinstance(ceiling_f, dict) and ceiling_f.get("accepted_per_s"):
                a_f = summary["a"]
                a_f["ratio_to_ceiling"] = round(  # type: ignore[index]
                    a_f["accepted_per_s"] / ceiling_f["accepted_per_s"],
                    2,  # type: ignore[index]
                )
                print(f"  a / ceiling  {a_f['ratio_to_ceiling']} (target >= 0.6)")  # type: ignore[index]
        if "b" in scenarios:
            summary["b"] = scenario_b(server, db, data, args)
        if "c" in scenarios:
            summary["c"] = scenario_c(server, db, data, args)
        if "m" in scenarios:
            summary["m"] = scenario_m(server, db, data, args)
        if "r" in scenarios:
            summary["r"] = scenario_r(server, db, data, args)
        summary["db_connections"] = db.connections(args.pg_name) - 1  # minus this one
        server.stop()
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        if "Traceback" in log or "CRITICAL" in log:
            print(f"  server log (tail):\n{server.log_tail(40)}")
        summary["server_log_errors"] = log.count("Traceback")
        if args.probe:
            print("  statements per registration (in-process, bench/rush_setup.py probe):")
            summary["probe"] = {
                k: {kk: vv for kk, vv in v.items() if kk != "sql"}
                for k, v in probe(env, workdir, args.probe).items()
            }
    except PostgresUnavailable as exc:
        print(f"!! PostgreSQL at {args.pg_host}:{args.pg_port} is not reachable: {exc}")
        return 1
    except RuntimeError as exc:  # a failed command, or a server that would not start
        print(f"!! {exc}")
        return 1
    finally:
        if started_server:
            server.stop()
        if bouncer is not None:
            bouncer.stop()
        if created and not args.keep:
            pg.drop()
        if args.keep:
            print(f"  kept {workdir} and {pg.url}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    summary["targets"] = TARGETS
    summary["reference"] = REFERENCE
    summary["total_s"] = round(time.perf_counter() - started, 1)
    problems = correctness_problems(summary)
    summary["correctness_problems"] = problems
    line = json.dumps(summary, ensure_ascii=False)
    print("\n== JSON")
    print(line)
    if args.json:
        with args.json.open("a") as fh:
            fh.write(line + "\n")
    verdicts = []
    if "a" in summary:
        a = summary["a"]
        verdicts.append(
            f"a: {a['accepted_per_s']} accepted/s, p99 {a['p99_ms']} ms "  # type: ignore[index]
            f"(target >= 1000/s, p99 < 250 ms): {'met' if a['target_met'] else 'MISSED'}"  # type: ignore[index]
        )
    if "c" in summary:
        c = summary["c"]
        verdicts.append(
            f"c: {c['applications_per_s']} applications/s (target >= 3000/s): "  # type: ignore[index]
            f"{'met' if c['target_met'] else 'MISSED'}"  # type: ignore[index]
        )
    if "b" in summary:
        b = summary["b"]
        over = [r["overbooked"] for v in b.values() for r in v]  # type: ignore[union-attr]
        verdicts.append(f"b: overbooked per run {over}")
    for v in verdicts:
        print(v)
    print("correctness: " + ("no problem seen" if not problems else "; ".join(problems)))
    print(f"Total time {summary['total_s']} s")
    return 2 if problems else 0


def correctness_problems(summary: dict[str, object]) -> list[str]:
    out = []
    runs: list[tuple[str, dict]] = []
    for key in ("floor", "a", "c", "m", "r"):
        if key in summary:
            runs.append((key, summary[key]))  # type: ignore[arg-type]
    for variant, rs in (summary.get("b") or {}).items():  # type: ignore[attr-defined]
        runs += [(f"{variant} run {r['run']}", r) for r in rs]
    for label, r in runs:
        if r["http_5xx"]:
            out.append(f"{label}: {r['http_5xx']} answers 5xx")
        if r["connection_errors"]:
            out.append(f"{label}: {r['connection_errors']} connection errors")
        if r["mismatches"]:
            out.append(f"{label}: answers and database differ {r['mismatches']}")
        if r.get("overbooked"):
            out.append(f"{label}: overbooked by {r['overbooked']}")
        if "correct" in r and not r["correct"]:
            out.append(f"{label}: not exactly {CAPACITY_B} confirmed with clean answers")
    cmp = summary.get("compare_servers")
    if cmp:
        for label, m in cmp["medians"].items():  # type: ignore[index]
            if m["unexpected_answers"]:
                out.append(f"{label}: {m['unexpected_answers']} answers not 201 or 5xx")
        told, taken, held = cmp["a_confirmed_answers_vs_db"]  # type: ignore[index]
        if not told == taken == held:
            out.append(f"a: {told} confirmed answers, taken {taken}, places held {held}")
    if summary.get("server_log_errors"):
        out.append(f"the server logged {summary['server_log_errors']} tracebacks")
    return out


if __name__ == "__main__":
    sys.exit(main())
