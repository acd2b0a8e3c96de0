"""bench/scaling.py's replica part: directory searches with and without a streaming replica.

A fresh primary and its `pg_basebackup` standby (tests/pgpair.py) on their own ports; doorstep
migrated with `synth-city --centers N`; granian (2 workers x 2 threads, as `make run`) serves
filtered directory searches (bench/run.py's "filtered" workload, answered by SQL, the
directory's answer cache off) from 32 keep-alive clients, first with DATABASE_REPLICA_URL
unset, then set. It counts the transactions each server ran during each run
(pg_stat_database) to show who answered, and meanwhile a writer commits 200 small
transactions a second on the primary so the replica has something to replay: its replay lag
is sampled from pg_stat_replication.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import psycopg
from loadgen import http_request
from loadgen import run as loadgen_run
from run import (
    Inputs,
    Server,
    ServerConfig,
    base_env,
    load_vocab,
    percentile,
    run_command,
)

from pgpair import Pair


def _commits(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


class Writer(threading.Thread):
    """~200 commits a second on the primary; samples the replica's replay lag."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop_at = url, 0.0
        self.lags: list[float] = []
        self.running = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as c:
            c.execute("CREATE TABLE IF NOT EXISTS bench_tick (at timestamptz)")
            n = 0
            while not self.running.is_set():
                c.execute("INSERT INTO bench_tick VALUES (now())")
                n += 1
                if n % 100 == 0:
                    row = c.execute(
                        "SELECT EXTRACT(EPOCH FROM replay_lag) FROM pg_stat_replication"
                    ).fetchone()
                    if row and row[0] is not None:
                        self.lags.append(float(row[0]) * 1000)
                time.sleep(0.005)


def _drive(server: Server, paths: list[str], seconds: float) -> dict[str, object]:
    jobs = [(i, http_request("GET", p)) for i, p in enumerate(paths)]
    before = server.cpu_seconds()
    r = loadgen_run(server.port, jobs, 32, duration_s=seconds, timeout_s=30)
    after = server.cpu_seconds()
    lat = sorted(t * 1000 for _i, t, _s, _b in r.samples)
    statuses = [s for _i, _t, s, _b in r.samples]
    n = max(1, len(lat))
    return {
        "answers": len(lat),
        "per_s": round(len(lat) / r.wall_s, 1),
        "p50_ms": round(percentile(lat, 50), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "non_200": sum(1 for s in statuses if s != 200),
        "app_cpu_ms_per_req": round(
            sum(t - before.get(pid, 0.0) for pid, t in after.items()) * 1000 / n, 2
        ),
    }


def part_replica(args: argparse.Namespace) -> dict[str, object]:
    print("\n== replica: a primary and its streaming replica (pg_basebackup)", flush=True)
    pair = Pair.start(settings="shared_buffers = 256MB\n")
    workdir = pair.root / "data"
    workdir.mkdir()
    out: dict[str, object] = {}
    try:
        env = base_env()
        env.update(
            DATA_DIR=str(workdir),
            DATABASE_URL=pair.primary_url,
            DIRECTORY_CACHE_SECONDS="0",
        )
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        run_command(["synth-city", "--centers", str(args.centers)], env, "synth-city")
        with psycopg.connect(pair.primary_url, autocommit=True) as c:
            c.execute("ANALYZE")
        pair.wait_replayed()
        for label, replica in (("primary only", False), ("with the replica", True)):
            run_env = dict(env)
            if replica:
                run_env["DATABASE_REPLICA_URL"] = pair.replica_url
            server = Server(ServerConfig(2, "granian", 2), run_env, Path(workdir / "server.log"))
            server.start()
            try:
                inputs = Inputs(load_vocab(server.port), seed=7)
                paths = inputs.paths("filtered", 200_000)
                _drive(server, paths[:400], 5)  # warm both workers
                writer = Writer(pair.primary_url)
                writer.start()
                p0, r0 = _commits(pair.primary_url), _commits(pair.replica_url)
                figures = _drive(server, paths[400:], args.search_seconds)
                p1, r1 = _commits(pair.primary_url), _commits(pair.replica_url)
                writer.running.set()
                writer.join()
                lags = sorted(writer.lags)
                figures.update(
                    primary_commits=p1 - p0,
                    replica_commits=r1 - r0,
                    replay_lag_p50_ms=round(percentile(lags, 50), 2) if lags else None,
                    replay_lag_max_ms=round(lags[-1], 2) if lags else None,
                )
            finally:
                server.stop()
            out[label] = figures
            print(
                f"  {label:<18} {figures['per_s']:>7}/s p50 {figures['p50_ms']} ms p99 "
                f"{figures['p99_ms']} ms, app CPU {figures['app_cpu_ms_per_req']} ms/req, "
                f"non-200 {figures['non_200']}; transactions on the primary "
                f"{figures['primary_commits']}, on the replica {figures['replica_commits']}; "
                f"replay lag p50 {figures['replay_lag_p50_ms']} ms, max "
                f"{figures['replay_lag_max_ms']} ms",
                flush=True,
            )
        base = out["primary only"]
        with_r = out["with the replica"]
        if isinstance(base, dict) and isinstance(with_r, dict) and base["per_s"]:
            out["ratio"] = round(float(with_r["per_s"]) / float(base["per_s"]), 2)  # type: ignore[arg-type]
            print(f"  with the replica / primary only: {out['ratio']}x searches per second")
    finally:
        pair.stop()
    return out
