"""doorstep past one database server, measured on this machine (docs/scaling.md).

    .venv/bin/python bench/scaling.py [--part pool,replica,partition] [--visits 50000000]

pool       the registration rush (bench/rush.py: first come a, 30 places b, the meals burst m,
           the room rush r) four ways, each on a fresh database: one app instance (2 granian
           workers) talking to PostgreSQL directly; the same through PgBouncer in transaction
           mode (bench/pooler.py); two app instances (two granian processes of 1 worker on two
           ports, the load generator spreading its connections over both) directly; and two
           instances through PgBouncer. Prints accepted/s, p99, CPU per request, the ratio of
           each to the direct run in the same session, and every invariant (exactly the
           places, the portions, one booking of the room; no 5xx).
replica    a fresh primary and its pg_basebackup streaming replica (tests/pgpair.py), doorstep
           migrated with a synthetic city of 12,600 centers; directory searches through
           granian with DATABASE_REPLICA_URL set and unset; which server answered them
           (pg_stat_database on each), and the replica's lag under the load.
partition  see bench/partition.py (a year of visits in monthly partitions).

Only 127.0.0.1 is contacted; everything it starts it stops. One JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

POOL_RUNS = [
    ("direct, 1 instance x 2 workers", ["--via", "direct"]),
    ("PgBouncer, 1 instance x 2 workers", ["--via", "pgbouncer"]),
    ("direct, 2 instances x 1 worker", ["--via", "direct", "--instances", "2", "--workers", "1"]),
    (
        "PgBouncer, 2 instances x 1 worker",
        ["--via", "pgbouncer", "--instances", "2", "--workers", "1"],
    ),
]


def part_pool(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for label, extra in POOL_RUNS:
        print(f"\n== pool: {label}", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
            json_path = Path(f.name)
        cmd = [
            sys.executable,
            str(BENCH / "rush.py"),
            "--scenario",
            "a,b,m,r",
            "--a-duration",
            str(args.a_duration),
            "--b-runs",
            "1",
            "--no-ceiling",
            "--probe",
            "0",
            "--json",
            str(json_path),
            *extra,
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        lines = [x for x in proc.stdout.splitlines() if not x.startswith("{")]
        print(
            "\n".join(
                x for x in lines if x.startswith(("  a ", "  b_", "  m ", "  r ", "  pooler"))
            )
        )
        text = json_path.read_text().strip()
        json_path.unlink()
        if not text:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            out[label] = {"failed": proc.returncode}
            continue
        s = json.loads(text.splitlines()[-1])
        a = s["a"]
        out[label] = {
            "accepted_per_s": a["accepted_per_s"],
            "p50_ms": a["p50_ms"],
            "p99_ms": a["p99_ms"],
            "server_cpu_ms_per_req": a["server_cpu_ms_per_req"],
            "db_cpu_ms_per_req": a["db_cpu_ms_per_req"],
            "http_5xx": sum(
                int(s[k].get("http_5xx", 0)) for k in ("a", "m", "r") if isinstance(s.get(k), dict)
            ),
            "b_confirmed": [r["db_confirmed"] for v in s["b"].values() for r in v],
            "b_overbooked": [r["overbooked"] for v in s["b"].values() for r in v],
            "m_placed": s["m"].get("db_orders"),
            "r_confirmed": s["r"].get("db_holding"),
            "db_connections": s.get("db_connections"),
            "correctness_problems": s["correctness_problems"],
        }
    base = out.get(POOL_RUNS[0][0])
    if isinstance(base, dict) and base.get("accepted_per_s"):
        for label, _extra in POOL_RUNS:
            r = out.get(label)
            if isinstance(r, dict) and r.get("accepted_per_s"):
                r["ratio_to_direct"] = round(r["accepted_per_s"] / base["accepted_per_s"], 2)
    print("\n== pool: summary (a: first come, accepted/s; invariants of b, m, r)")
    for label, _extra in POOL_RUNS:
        r = out.get(label, {})
        if not isinstance(r, dict) or "accepted_per_s" not in r:
            print(f"  {label:<36} FAILED")
            continue
        print(
            f"  {label:<36} {r['accepted_per_s']:>7}/s ({r.get('ratio_to_direct', '-')}x direct)"
            f"  p99 {r['p99_ms']:>6} ms  CPU/req app {r['server_cpu_ms_per_req']} ms "
            f"db {r['db_cpu_ms_per_req']} ms  b confirmed {r['b_confirmed']} overbooked "
            f"{r['b_overbooked']}  m {r['m_placed']}/300  r {r['r_confirmed']}/1  "
            f"5xx {r['http_5xx']}  db connections {r['db_connections']}  "
            f"problems {r['correctness_problems'] or 'none'}"
        )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--part", default="pool,replica", help="pool, replica, partition (joined by ,)")
    p.add_argument("--a-duration", type=float, default=15.0, help="seconds of the rush's a")
    p.add_argument("--centers", type=int, default=12600)
    p.add_argument("--search-seconds", type=float, default=15.0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = [x for x in args.part.split(",") if x]
    started = time.perf_counter()
    summary: dict[str, object] = {"bench": "scaling", "cpus": os.cpu_count()}
    if "pool" in parts:
        summary["pool"] = part_pool(args)
    if "replica" in parts:
        from replica_bench import part_replica

        summary["replica"] = part_replica(args)
    if "partition" in parts:
        subprocess.run([sys.executable, str(BENCH / "partition.py")], cwd=ROOT, check=False)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    print("\n== JSON")
    print(json.dumps(summary, ensure_ascii=False))
    problems = [
        label
        for label, r in (summary.get("pool") or {}).items()  # type: ignore[attr-defined]
        if not isinstance(r, dict) or r.get("correctness_problems") or r.get("failed")
    ]
    print(f"Total time {summary['total_s']} s")
    return 2 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
