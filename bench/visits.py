"""Visit check-ins through the HTTP API, on PostgreSQL, through gunicorn or granian. See
docs/visits.md, "Speed".

It builds a fresh PostgreSQL database (`doorstep_visits_bench`, dropped at the end), runs
migrate and load-regions, creates --centers centers (this file's `setup` step, in a
subprocess with the project's settings) and computes each center's poster code for today.
Then it starts the server (--server gunicorn: 4 sync workers; granian: its WSGI interface, 2
workers x 2 blocking threads; doorstep.wsgi, as make run serves it) on a free loopback
port and drives POST /api/v1/centers/{id}/visits {"k": code, "device": id} from --clients
keep-alive connections of bench/loadgen.py (--client processes: forked http.client
processes), for --duration seconds.

Every visitor (a center and a device id) scans once; one visitor in --dup-every also scans a
second time, sent by another client in the same instant, as a phone that double-submits
does. The right answer is 201 for the first scan of each visitor and 200 (counted once) for
the repeat; afterwards SQL checks that the database holds exactly one visit per visitor that
was answered, no visitor twice, and as many visits as 201 answers.

Figures: check-ins answered per second (201 + 200), visits counted per second (201), p50 and
p99 latency, CPU per request, and the deduplication check. Target (the issue): at least
1,500 check-ins/s with 64 clients. Only 127.0.0.1 is contacted; it stops by itself.

    .venv/bin/python bench/visits.py [--clients 64] [--duration 20] [--server granian]
        [--workers N] [--threads N] [--no-health-checks] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_S = 1500
PG_DEFAULT_NAME = "doorstep_visits_bench"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

# One attempt: (index, path, body); one answer: (index, latency s, HTTP status, code).
Job = tuple[int, str, bytes]
Sample = tuple[int, float, int, str]


# --- setup (runs inside Django, in a subprocess) ------------------------------------------------


def setup(centers: int, out: Path) -> None:
    sys.path.append(str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    import django

    django.setup()
    from doorstep.centers.services import CenterInput, save_center
    from doorstep.visits import codes

    districts = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区"]
    rows = []
    for i in range(centers):
        center, _outcome = save_center(
            data=CenterInput(
                external_key=f"bench:visits:{i}",
                name=f"基准测试党群服务站{i}",
                level="residential",
                district=districts[i % len(districts)],
                source="synthetic",
            )
        )
        rows.append([center.pk, codes.today_code(center.pk)])
    out.write_text(json.dumps({"centers": rows}))


def probe(repeat: int, out: Path) -> None:
    """Check-ins replayed in-process (full middleware, the real API view): SQL statements
    and CPU per answer, one at a time."""
    sys.path.append(str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    import django

    django.setup()
    from statistics import median

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from doorstep.centers.models import Center
    from doorstep.visits import codes

    center = Center.objects.filter(external_key__startswith="bench:visits:").first()
    assert center is not None
    path = f"/api/v1/centers/{center.pk}/visits"
    client = Client()
    result: dict[str, object] = {}
    for kind in ("counted", "repeat"):
        cpu: list[float] = []
        statements = 0
        for i in range(repeat):
            device = f"probe-device-{i:09d}"
            body = {"k": codes.today_code(center.pk), "device": device}
            if kind == "repeat":
                client.post(path, body, content_type="application/json")
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.process_time()
                r = client.post(path, body, content_type="application/json")
                cpu.append(time.process_time() - t0)
            assert r.status_code == (201 if kind == "counted" else 200), r.content
            statements = len(ctx.captured_queries)
        result[kind] = {
            "statements": statements,
            "sql": [q["sql"][:120] for q in ctx.captured_queries],
            "in_process_cpu_ms_median": round(median(cpu) * 1000, 2),
        }
    out.write_text(json.dumps(result))


# --- client ---------------------------------------------------------------------------------------


def outcome(status: int, body: bytes) -> str:
    if status == 0:
        return "connection_error"
    try:
        data = json.loads(body)
    except ValueError:
        return f"http_{status}_not_json"
    if status == 201:
        return "counted"
    if status == 200:
        return "repeat" if data.get("counted") is False else "unexpected_200"
    return str(data.get("code", f"http_{status}"))


def make_jobs(centers: list[list], n_visitors: int, dup_every: int, clients: int) -> list[Job]:
    """Visitors in blocks of `clients`; a repeat follows its first scan one block later at most,
    from another client (jobs go round robin), so repeats really race their first scans."""
    jobs: list[Job] = []
    index = 0
    block: list[tuple[int, str]] = []

    def body(center_pk: int, code: str, device: str) -> tuple[str, bytes]:
        path = f"/api/v1/centers/{center_pk}/visits"
        return path, json.dumps({"k": code, "device": device}).encode()

    pending: list[tuple[str, bytes]] = []
    for v in range(n_visitors):
        center_pk, code = centers[v % len(centers)]
        device = f"bench-device-{v:09d}"
        path, data = body(center_pk, code, device)
        block.append((v, device))
        jobs.append((index, path, data))
        index += 1
        if dup_every and v % dup_every == 0:
            pending.append((path, data))
        if len(block) == clients:
            # The repeats go out right after their block: the same instant, other clients.
            for path, data in pending:
                jobs.append((index, path, data))
                index += 1
            pending, block = [], []
    for path, data in pending:
        jobs.append((index, path, data))
        index += 1
    return jobs


# --- the benchmark --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    s = sub.add_parser("setup")
    s.add_argument("--centers", type=int, default=50)
    s.add_argument("--out", type=Path, required=True)
    pr = sub.add_parser("probe")
    pr.add_argument("--repeat", type=int, default=200)
    pr.add_argument("--out", type=Path, required=True)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--visitors", type=int, default=200000, help="most distinct visitors sent")
    p.add_argument("--dup-every", type=int, default=4, help="one visitor in N scans twice")
    p.add_argument("--centers", type=int, default=50)
    from rush import add_server_args

    add_server_args(p)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-name", default=PG_DEFAULT_NAME)
    p.add_argument("--keep", action="store_true", help="keep the database and work folder")
    p.add_argument("--json", type=Path, help="append the figures as one JSON line")
    return p.parse_args(argv)


def check_database(url: str, answered: set[tuple[int, str]]) -> dict[str, int]:
    import psycopg

    from_db: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        from_db["visits"] = conn.execute("SELECT count(*) FROM visits_visit").fetchone()[0]
        from_db["visitors_twice"] = conn.execute(
            "SELECT count(*) FROM (SELECT center_id, device FROM visits_visit "
            "GROUP BY center_id, device HAVING count(*) > 1) d"
        ).fetchone()[0]
        from_db["distinct_visitors"] = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT center_id, device FROM visits_visit) d"
        ).fetchone()[0]
        from_db["guards"] = conn.execute("SELECT count(*) FROM visits_visitguard").fetchone()[0]
    from_db["visitors_answered"] = len(answered)
    return from_db


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "setup":
        setup(args.centers, args.out)
        return 0
    if args.command == "probe":
        probe(args.repeat, args.out)
        return 0
    import rush
    from run import (
        Postgres,
        PostgresUnavailable,
        base_env,
        code_version,
        postgres_analyze,
        run_command,
    )

    rush.CLIENT.update(kind=args.client, procs=args.client_procs)

    if args.pg_host not in {"127.0.0.1", "localhost", "::1"}:
        print("!! this benchmark only talks to a local PostgreSQL")
        return 1
    started = time.perf_counter()
    print(f"== visit check-ins ({code_version()})", flush=True)
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-visits-bench-"))
    env = base_env()
    env.update(DATABASE_URL=pg.url, DATA_DIR=str(workdir))
    # Every scan comes from 127.0.0.1: exactly the burst the anonymous limits refuse
    # (docs/visits.md, "Abuse"). Lifted out of reach, so each scan still pays for counting
    # its device and network but none is refused or marked.
    env.update(VISIT_NETWORK_PER_HOUR="1000000000", VISIT_SUSPECT_PER_HOUR="1000000000")
    server = None
    created = False
    summary: dict[str, object] = {"benchmark": "visits", "code": code_version()}
    try:
        pg.create()
        created = True
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        data_file = workdir / "centers.json"
        subprocess.run(
            [
                sys.executable,
                __file__,
                "setup",
                "--centers",
                str(args.centers),
                "--out",
                str(data_file),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        centers = json.loads(data_file.read_text())["centers"]
        postgres_analyze(pg.url)
        print(f"  centers      {len(centers)}", flush=True)
        rush.PG_ACCOUNTING.update(url=pg.url, name=args.pg_name)
        rush.settings_overrides(env, workdir, args)
        server = rush.make_server(args, rush.APPS["django"], env, workdir / "server.log")
        server.start()
        print(f"  {args.server:<12} 127.0.0.1:{server.port} {server.describe()}", flush=True)

        def http_jobs(jobs: list[Job]) -> list[rush.Job]:
            return [(i, path, body, HEADERS) for i, path, body in jobs]

        # Warm every worker on visitors nobody counts (a center of their own).
        warm = make_jobs(centers[-1:], 2000, 0, 16)
        warm = [(i, p, b.replace(b"bench-device", b"warm-device")) for i, p, b in warm]
        rush.drive(server, http_jobs(warm), 16, duration_s=5.0, timeout_s=args.timeout)
        with __import__("psycopg").connect(pg.url, autocommit=True) as conn:
            conn.execute("DELETE FROM visits_visit")
            conn.execute("DELETE FROM visits_visitguard")
        jobs = make_jobs(centers, args.visitors, args.dup_every, args.clients)
        d = rush.drive(
            server,
            http_jobs(jobs),
            args.clients,
            duration_s=args.duration,
            timeout_s=args.timeout,
            outcome=outcome,
        )
        samples, wall = d.samples, d.wall_s
        f = d.figures()
        outcomes = Counter(o for _i, _t, _s, o in samples)
        by_index = {i: json.loads(b) for i, _p, b in jobs}
        paths = {i: p for i, p, _b in jobs}
        answered = {
            (int(paths[i].split("/")[4]), by_index[i]["device"])
            for i, _t, s, _o in samples
            if s in (200, 201)
        }
        db = check_database(pg.url, answered)
        answers = len(samples)
        counted = outcomes.get("counted", 0)
        repeats = outcomes.get("repeat", 0)
        per_visitor = Counter(
            (paths[i], by_index[i]["device"]) for i, _t, s, _o in samples if s in (200, 201)
        )
        twice = sum(1 for n in per_visitor.values() if n == 2)
        problems = []
        if repeats != twice:
            problems.append(f"{repeats} answers 'counted once' for {twice} visitors sent twice")
        if db["visitors_twice"]:
            problems.append(f"{db['visitors_twice']} visitors counted twice")
        if db["visits"] != counted:
            problems.append(f"{db['visits']} visits in the database but {counted} answers 201")
        if db["distinct_visitors"] != len(answered):
            problems.append(
                f"{db['distinct_visitors']} visitors in the database, {len(answered)} answered"
            )
        other = {k: v for k, v in outcomes.items() if k not in ("counted", "repeat")}
        if other:
            problems.append(f"unexpected answers {other}")
        if f["connection_errors"]:
            problems.append(f"{f['connection_errors']} connection errors")
        figures = {
            "clients": args.clients,
            "server": {
                **server.describe(),
                "client": args.client,
                **rush.settings_described(args),
            },
            "centers": len(centers),
            "answers": answers,
            "wall_s": round(wall, 2),
            "checkins_per_s": round((counted + repeats) / wall, 1) if wall else 0.0,
            "counted_per_s": round(counted / wall, 1) if wall else 0.0,
            "counted": counted,
            "deduplicated": repeats,
            "visitors_answered_twice": twice,
            **{k: f[k] for k in ("p50_ms", "p99_ms", "max_ms", "http_status")},
            **{k: v for k, v in f.items() if k.endswith("_cpu_ms_per_req")},
            "machine_busy_pct": f["machine_busy_pct"],
            "tcp_connections": f["tcp_connections"],
            "database": db,
        }
        figures["target_met"] = figures["checkins_per_s"] >= TARGET_PER_S  # type: ignore[operator]
        summary["run"] = figures
        summary["problems"] = problems
        print(
            f"  check-ins    {answers} answers in {figures['wall_s']} s: "
            f"{figures['checkins_per_s']}/s ({figures['counted_per_s']}/s counted, "
            f"{repeats} repeats answered 'counted once'), p50 {figures['p50_ms']} ms, "
            f"p99 {figures['p99_ms']} ms; CPU ms/req srv {f['server_cpu_ms_per_req']} "
            f"cli {f['client_cpu_ms_per_req']} pg {f['db_cpu_ms_per_req']} "
            f"(+exited {f['db_exited_cpu_ms_per_req']}) "
            f"other {f['other_cpu_ms_per_req']}, machine busy {figures['machine_busy_pct']} %",
            flush=True,
        )
        print(
            f"  database     {db['visits']} visits for {db['distinct_visitors']} visitors "
            f"({db['visitors_answered']} answered), counted twice: {db['visitors_twice']}",
            flush=True,
        )
        server.stop()
        probe_file = workdir / "probe.json"
        subprocess.run(
            [sys.executable, __file__, "probe", "--out", str(probe_file)],
            cwd=ROOT,
            env={**env, "ALLOWED_HOSTS": "testserver"},
            check=True,
            timeout=600,
        )
        summary["probe"] = json.loads(probe_file.read_text())
        for kind, entry in summary["probe"].items():  # type: ignore[union-attr]
            print(
                f"  {kind:<12} {entry['statements']} SQL statements, "
                f"{entry['in_process_cpu_ms_median']} ms CPU in-process (median, one at a time)",
                flush=True,
            )
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        if "Traceback" in log:
            problems.append(f"the server logged {log.count('Traceback')} tracebacks")
            print(server.log_tail(30))
    except PostgresUnavailable as exc:
        print(f"!! PostgreSQL at {args.pg_host}:{args.pg_port} is not reachable: {exc}")
        return 1
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"!! {exc}")
        return 1
    finally:
        if server is not None:
            server.stop()
        if created and not args.keep:
            pg.drop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    line = json.dumps(summary, ensure_ascii=False)
    print("\n== JSON")
    print(line)
    if args.json:
        with args.json.open("a") as fh:
            fh.write(line + "\n")
    run = summary["run"]
    print(
        f"check-ins: {run['checkins_per_s']}/s at {run['clients']} clients "  # type: ignore[index]
        f"(target >= {TARGET_PER_S}/s): {'met' if run['target_met'] else 'MISSED'}"  # type: ignore[index]
    )
    print(
        "correctness: "
        + ("no problem seen" if not summary["problems"] else "; ".join(summary["problems"]))
    )  # type: ignore[arg-type]
    return 2 if summary["problems"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
