"""make bench: p50/p99 latency of the directory API as make run serves it (granian), on SQLite
and PostgreSQL.

For each database this builds a fresh one (SQLite in a temporary DATA_DIR; PostgreSQL as the
database `doorstep_bench`, dropped at the end), runs migrate, load-demo and synth-city, starts
granian (or gunicorn, --server) on a free loopback port and drives three workloads from
client processes in this script, each over keep-alive HTTP/1.1 connections:

  search    /api/v1/centers?q=...  Chinese fragments, full pinyin, initials, traditional
  filtered  district/subdistrict + theme + facilities + level + open_now, with and without q
  nearby    a point in urban Shanghai, radius_m 500-5000, sometimes a theme or q

It prints requests, errors, throughput and p50/p90/p99/max per workload and client count,
the slowest requests (replayed in-process with their SQL and query plan by bench/explain.py),
and one JSON line per database. Every loop is bounded in requests and time, and only
127.0.0.1 is ever contacted. See docs/performance.md.

    .venv/bin/python bench/run.py [--db sqlite|postgres|both] [--centers 12600]
        [--clients 4 16] [--requests 2000] [--duration 20] [--worker-class sync]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

HOST = "127.0.0.1"
TARGET_P99_MS = 50.0
WORKLOADS = ("search", "filtered", "nearby")
PG_DEFAULT_NAME = "doorstep_bench"

# --- realistic inputs --------------------------------------------------------------------

# Words people type: the kinds of center, parts of their names, and places the newspaper
# feature (data/article_centers.json) names.
GENERIC_WORDS = (
    "党群服务站",
    "党群服务中心",
    "党群服务点",
    "家门口服务站",
    "居民区",
    "驿站",
    "暖心驿站",
    "服务中心",
    "新就业群体",
    "楼宇党群服务站",
    "滨江",
    "苏州河",
)
ARTICLE_WORDS = (
    "古北",
    "徐家汇",
    "陆家嘴",
    "虹桥",
    "人人屋",
    "梧桐院",
    "苏河湾",
    "杨浦滨江",
    "徐汇滨江",
    "万有引力",
    "小哥来吧",
    "上新所",
    "恒隆广场",
    "九星家园",
    "梅陇",
    "吴房村",
    "城市沙滩",
    "互联宝地",
    "两岸智塔",
    "南翔智地",
    "章堰",
    "市民驿站",
    "初心驿",
    "白玉兰",
)
NAME_WORDS = ("阳光", "翠竹", "春江", "梅园", "锦绣", "和平", "康乐", "长风", "海棠", "明珠")
NAME_SUFFIXES = ("新村", "花园", "苑", "公寓", "家园", "大厦", "广场", "科技园")
# Points inside the outer ring road (urban Shanghai), WGS84.
URBAN_BOX = {"lat": (31.12, 31.34), "lng": (121.36, 121.60)}
RADII_M = (500, 1000, 2000, 5000)


@dataclass
class Vocab:
    themes: list[str]
    facilities: list[str]
    levels: list[str]
    # (name, code) of districts, and (name, code, district code) of subdistricts.
    districts: list[tuple[str, str]]
    subdistricts: list[tuple[str, str, str]]


def _short(name: str) -> str:
    for suffix in ("新区", "街道", "区", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class Inputs:
    """Query strings for the three workloads, from a seeded generator."""

    def __init__(self, vocab: Vocab, seed: int) -> None:
        from pypinyin import Style, lazy_pinyin
        from zhconv import convert

        self.v = vocab
        self.rng = random.Random(seed)
        self._lazy_pinyin, self._style, self._convert = lazy_pinyin, Style, convert
        places = [n for n, _c in vocab.districts] + [n for n, _c, _d in vocab.subdistricts]
        self.chinese: list[str] = [
            *GENERIC_WORDS,
            *ARTICLE_WORDS,
            *places,
            *{_short(p) for p in places},
        ]
        self.named = [*ARTICLE_WORDS, *{_short(p) for p in places}]

    def pinyin(self, text: str) -> str:
        return "".join(self._lazy_pinyin(text))

    def initials(self, text: str) -> str:
        return "".join(self._lazy_pinyin(text, style=self._style.FIRST_LETTER))

    def q(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.50:  # Chinese: a name, a place, a kind of center, or a numbered station
            k = rng.random()
            if k < 0.15:
                sub = _short(rng.choice(self.v.subdistricts)[0])
                return f"{sub}第{rng.randint(1, 12)}居民区"
            if k < 0.25:
                return rng.choice(NAME_WORDS) + rng.choice(NAME_SUFFIXES)
            if k < 0.35:
                return f"{rng.choice(self.named)} {rng.choice(GENERIC_WORDS)}"
            return rng.choice(self.chinese)
        if r < 0.72:  # full pinyin, sometimes with spaces between syllables
            word = rng.choice(self.named)
            if rng.random() < 0.2:
                return " ".join(self._lazy_pinyin(word))
            return self.pinyin(word)
        if r < 0.90:  # initials
            return self.initials(rng.choice(self.named + list(GENERIC_WORDS[:4])))
        # traditional characters
        return self._convert(rng.choice(self.chinese), "zh-hant")

    def search(self) -> dict[str, object]:
        return {"q": self.q()}

    def filtered(self) -> dict[str, object]:
        rng, v = self.rng, self.v
        params: dict[str, object] = {}
        r = rng.random()
        if r < 0.45:  # district only, by name or by code
            name, code = rng.choice(v.districts)
            params["district"] = rng.choice((name, code))
        elif r < 0.8:  # district and one of its subdistricts
            name, code, district = rng.choice(v.subdistricts)
            params["district"] = district
            params["subdistrict"] = rng.choice((name, code))
        else:  # subdistrict only
            name, code, _district = rng.choice(v.subdistricts)
            params["subdistrict"] = rng.choice((name, code))
        params["theme"] = rng.sample(v.themes, 1 if rng.random() < 0.8 else 2)
        params["facility"] = rng.sample(v.facilities, rng.randint(1, 2))
        if rng.random() < 0.7:
            params["level"] = rng.choice(v.levels)
        if rng.random() < 0.8:
            params["open_now"] = "true"
        if rng.random() < 0.5:
            params["q"] = self.q()
        return params

    def nearby(self) -> dict[str, object]:
        rng = self.rng
        params: dict[str, object] = {
            "lat": round(rng.uniform(*URBAN_BOX["lat"]), 6),
            "lng": round(rng.uniform(*URBAN_BOX["lng"]), 6),
            "radius_m": rng.choice(RADII_M),
        }
        if rng.random() < 0.3:
            params["theme"] = rng.choice(self.v.themes)
        if rng.random() < 0.2:
            params["q"] = self.q()
        return params

    def paths(self, workload: str, n: int) -> list[str]:
        make = getattr(self, workload)
        return ["/api/v1/centers?" + urllib.parse.urlencode(make(), doseq=True) for _ in range(n)]


def load_vocab(port: int) -> Vocab:
    from doorstep.centers.vocab import Facility, Level, Theme

    status, body = http_get(port, "/api/v1/regions")
    if status != 200:
        raise RuntimeError(f"/api/v1/regions answered {status}")
    districts, subdistricts = [], []

    def walk(node: dict, district: str) -> None:
        if node["level"] == "district":
            districts.append((node["name"], node["code"]))
            district = node["code"]
        elif node["level"] == "subdistrict":
            subdistricts.append((node["name"], node["code"], district))
        for child in node["children"]:
            walk(child, district)

    for root in json.loads(body):
        walk(root, "")
    if not districts or not subdistricts:
        raise RuntimeError("the region tree is empty: did load-demo run?")
    return Vocab(
        themes=list(Theme.values),
        facilities=[f for f in Facility.values],
        levels=list(Level.values),
        districts=districts,
        subdistricts=subdistricts,
    )


# --- HTTP client -------------------------------------------------------------------------


def http_get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def client_loop(
    port: int, jobs: list[tuple[int, str]], start_at: float, deadline: float, timeout: float
) -> tuple[list[tuple[int, float, int]], float, int]:
    """One client: its requests in order over one keep-alive connection.

    Returns ([(job index, latency s, status)], wall-clock end, connections opened); status 0
    is a network error or timeout. Stops at the deadline even with jobs left.
    """
    headers = {"Accept": "application/json", "Connection": "keep-alive"}
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    opened = 0
    out: list[tuple[int, float, int]] = []
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    for index, path in jobs:
        if time.time() >= deadline:
            break
        if conn.sock is None:
            opened += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
        out.append((index, time.perf_counter() - t0, status))
    conn.close()
    return out, time.time(), opened


# --- server ------------------------------------------------------------------------------


def bin_path(name: str) -> str:
    for folder in (ROOT / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    raise SystemExit(f"{name} not found: run `make install` first")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class ServerConfig:
    workers: int
    worker_class: str
    threads: int

    def describe(self) -> dict[str, object]:
        if self.worker_class == "granian":
            return {
                "server": "granian",
                "interface": "wsgi",
                "workers": self.workers,
                "blocking_threads": self.threads,
            }
        out: dict[str, object] = {"workers": self.workers, "worker_class": self.worker_class}
        if self.worker_class == "gthread":
            out["threads"] = self.threads
        return out


def granian_command(app: str, port: int, workers: int, threads: int) -> list[str]:
    """granian's WSGI interface as `make run` serves (HTTP/1, no websockets, one event loop
    per worker): at most workers x threads requests run Python at once."""
    return [
        bin_path("granian"),
        "--interface",
        "wsgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--runtime-mode",
        "st",
        "--http",
        "1",
        "--no-ws",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        app,
    ]


class Server:
    """granian or gunicorn (`config.worker_class`) serving `app` on a free loopback port."""

    def __init__(
        self,
        config: ServerConfig,
        env: dict[str, str],
        log: Path,
        app: str = "doorstep.wsgi:application",
    ) -> None:
        self.config, self.env, self.log_path, self.app = config, env, log, app
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_s: float = 60.0) -> None:
        if self.config.worker_class == "granian":
            cmd = granian_command(self.app, self.port, self.config.workers, self.config.threads)
        else:
            cmd = self.gunicorn_command()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.wait_until_up(wait_s)

    def gunicorn_command(self) -> list[str]:
        cmd = [
            bin_path("gunicorn"),
            self.app,
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.config.workers),
            "--worker-class",
            self.config.worker_class,
            "--keep-alive",
            "30",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        if self.config.worker_class == "gthread":
            cmd += ["--threads", str(self.config.threads)]
        return cmd

    def wait_until_up(self, wait_s: float) -> None:
        assert self.proc is not None
        until = time.monotonic() + wait_s
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if http_get(self.port, "/api/v1/centers?limit=1", timeout=10)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer in {wait_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """Every process below the server's (workers, and theirs), from /proc."""
        found: list[int] = []
        todo = [self.proc.pid] if self.proc else []
        while todo:
            pid = todo.pop()
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    kids = [
                        int(c)
                        for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                    ]
                    found += kids
                    todo += kids
            except OSError:
                continue
        return found

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds of the server and each live worker, by pid."""
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[int, float] = {}
        for pid in [self.proc.pid if self.proc else 0, *self.worker_pids()]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        return out

    def describe(self) -> dict[str, object]:
        if self.config.worker_class == "granian":
            return {**self.config.describe(), "app": self.app}
        return {"server": "gunicorn", **self.config.describe(), "app": self.app}

    def settle(self, max_s: float = 90.0) -> None:
        """Wait until requests abandoned by timed-out clients have drained."""
        until = time.monotonic() + max_s
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                http_get(self.port, "/api/v1/centers?limit=1", timeout=max_s)
            except OSError:
                pass
            if time.perf_counter() - t0 < 0.2:
                return

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- measuring ---------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


@dataclass
class RunResult:
    workload: str
    clients: int
    planned: int
    samples: list[tuple[int, float, int]] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    connections: int = 0
    machine_busy_s: float = 0.0
    machine_s: float = 0.0
    worker_restarts: int = 0
    paths: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for _i, _t, status in self.samples if status != 200)

    def figures(self) -> dict[str, object]:
        lat = sorted(t * 1000 for _i, t, _s in self.samples)
        n = max(1, self.requests)
        slow = max(self.samples, key=lambda s: s[1]) if self.samples else None
        return {
            "requests": self.requests,
            "planned": self.planned,
            "errors": self.errors,
            "rps": round(self.requests / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 1),
            "p90_ms": round(percentile(lat, 90), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(lat[-1], 1) if lat else float("nan"),
            "server_cpu_ms_per_req": round(self.server_cpu_s * 1000 / n, 2),
            "client_cpu_ms_per_req": round(self.client_cpu_s * 1000 / n, 2),
            # Everything else that ran meanwhile: PostgreSQL's backends, the kernel, and any
            # other process on the machine.
            "other_cpu_ms_per_req": round(
                max(0.0, self.machine_busy_s - self.server_cpu_s - self.client_cpu_s) * 1000 / n,
                2,
            ),
            "machine_busy_pct": round(100 * self.machine_busy_s / self.machine_s, 1)
            if self.machine_s
            else None,
            "connections": self.connections,
            "worker_restarts": self.worker_restarts,
            "slowest": self.paths[slow[0]] if slow else None,
        }

    def slowest_paths(self, k: int) -> list[str]:
        seen: list[str] = []
        for index, _t, _s in sorted(self.samples, key=lambda s: -s[1]):
            path = self.paths[index]
            if path not in seen:
                seen.append(path)
            if len(seen) == k:
                break
        return seen


@dataclass
class Drive:
    samples: list[tuple[int, float, int]]
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    connections: int
    machine_busy_s: float
    machine_s: float
    worker_restarts: int


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    total = sum(fields)
    idle = fields[3] + fields[4]
    return (total - idle) / tick, total / tick


def drive(
    server: Server,
    paths: list[str],
    clients: int,
    *,
    duration_s: float,
    timeout_s: float,
    mode: str,
) -> Drive:
    """Send paths from `clients` concurrent clients and measure time and CPU."""
    jobs: list[list[tuple[int, str]]] = [[] for _ in range(clients)]
    for i, path in enumerate(paths):
        jobs[i % clients].append((i, path))
    if mode == "process":
        pool: cf.Executor = cf.ProcessPoolExecutor(
            max_workers=clients, mp_context=multiprocessing.get_context("fork")
        )
    else:
        pool = cf.ThreadPoolExecutor(max_workers=clients)
    with pool:
        if mode == "process":  # fork the clients before the clock starts
            list(pool.map(time.sleep, [0.0] * clients))
        who = resource.RUSAGE_CHILDREN if mode == "process" else resource.RUSAGE_SELF
        before_c = resource.getrusage(who)
        before_s = server.cpu_seconds()
        before_m = machine_cpu()
        start_at = time.time() + 0.3
        deadline = start_at + duration_s
        futures = [
            pool.submit(client_loop, server.port, job, start_at, deadline, timeout_s)
            for job in jobs
        ]
        results = [f.result() for f in futures]
        after_s = server.cpu_seconds()
        # A worker that gunicorn replaced mid-run takes its CPU with it: count what is known.
        server_cpu = sum(t - before_s.get(pid, 0.0) for pid, t in after_s.items())
        restarts = len(set(before_s) - set(after_s))
        after_m = machine_cpu()
    after_c = resource.getrusage(who)  # process clients are reaped when the pool closes
    client_cpu = (after_c.ru_utime + after_c.ru_stime) - (before_c.ru_utime + before_c.ru_stime)
    samples = [s for out, _end, _o in results for s in out]
    wall = max(end for _out, end, _o in results) - start_at
    return Drive(
        samples,
        wall,
        server_cpu,
        client_cpu,
        sum(o for _out, _e, o in results),
        after_m[0] - before_m[0],
        after_m[1] - before_m[1],
        restarts,
    )


# --- databases ---------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATA_DIR", "DATABASE_TEST_TEMPLATE", "DEBUG"}
    }
    env.update(DJANGO_SETTINGS_MODULE="doorstep.settings", LOG_LEVEL="WARNING")
    return env


def run_command(args: list[str], env: dict[str, str], label: str) -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [bin_path("doorstep"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    said = " / ".join(line.strip() for line in proc.stdout.splitlines() if line.strip())
    print(f"  {label:<12} {time.perf_counter() - t0:5.1f} s  {said[:150]}", flush=True)


class PostgresUnavailable(Exception):
    pass


class Postgres:
    def __init__(self, host: str, port: int, user: str, name: str) -> None:
        self.host, self.port, self.user, self.name = host, port, user, name

    def _admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname="postgres",
                connect_timeout=5,
                autocommit=True,
            )
        except psycopg.Error as exc:
            raise PostgresUnavailable(str(exc).strip()) from exc

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.name}"

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(
                f"CREATE DATABASE \"{self.name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )

    def drop(self) -> None:
        try:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except PostgresUnavailable as exc:
            print(f"  could not drop {self.name}: {exc}")


def postgres_analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def postgres_settings(url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size', "
            "'jit', 'random_page_cost')"
        ).fetchall()
    return {n: f"{s}{' ' + u if u else ''}" for n, s, u in rows}


def sqlite_analyze(data_dir: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(data_dir / "doorstep.sqlite3")
    try:
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


# --- the benchmark -----------------------------------------------------------------------


def print_table(db: str, results: list[RunResult]) -> None:
    head = (
        f"{'workload':<9} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'CPU ms/req: srv':>15} {'cli':>5} {'other':>5} {'busy':>5}  p99<50"
    )
    print(f"\n== {db}: results")
    print(head)
    print("-" * len(head))
    for r in results:
        f = r.figures()
        ok = "ok" if f["p99_ms"] < TARGET_P99_MS and not f["errors"] else "MISS"  # type: ignore[operator]
        cut = "" if r.requests == r.planned else f" (stopped at {r.requests}/{r.planned})"
        if r.worker_restarts:
            cut += f" ({r.worker_restarts} worker(s) restarted: srv CPU undercounted)"
        print(
            f"{r.workload:<9} {r.clients:>7} {f['requests']:>8} {f['errors']:>6} {f['rps']:>7} "
            f"{f['p50_ms']:>7} {f['p90_ms']:>7} {f['p99_ms']:>7} {f['max_ms']:>7} "
            f"{f['server_cpu_ms_per_req']:>15} {f['client_cpu_ms_per_req']:>5} "
            f"{f['other_cpu_ms_per_req']:>5} {f['machine_busy_pct']:>4}%  {ok}{cut}"
        )


def explain(env: dict[str, str], urls: list[str], label: str) -> None:
    print(f"\n-- {label}: the slowest requests, replayed in-process (bench/explain.py)")
    cmd = [sys.executable, str(ROOT / "bench" / "explain.py"), "--rank", "--repeat", "2", *urls]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
        print(proc.stdout.rstrip())
        if proc.returncode != 0:
            print(proc.stderr.rstrip()[-2000:])
    except subprocess.TimeoutExpired:
        print("  (explain.py took over 150 s and was stopped)")


def bench_db(db: str, args: argparse.Namespace, config: ServerConfig) -> dict[str, object]:
    print(f"\n======== {db} ========", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"doorstep-bench-{db}-"))
    env = base_env()
    env["DATA_DIR"] = str(workdir)
    pg: Postgres | None = None
    server: Server | None = None
    summary: dict[str, object] = {"db": db}
    try:
        if args.existing:
            # Measure the database the environment names, exactly as it is.
            if db == "postgres":
                env["DATABASE_URL"] = os.environ["DATABASE_URL"]
            else:
                env["DATA_DIR"] = os.environ["DATA_DIR"]
            print(f"  database     {env.get('DATABASE_URL') or env['DATA_DIR']} (existing)")
        elif db == "postgres":
            new = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
            new.create()
            pg = new  # created: dropped in `finally`
            env["DATABASE_URL"] = pg.url
            print(f"  database     {pg.url} (fresh; dropped at the end)")
        else:
            print(f"  database     {workdir / 'doorstep.sqlite3'} (fresh)")
        if not args.existing:
            run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
            run_command(["load-demo"], env, "load-demo")
            run_command(
                [
                    "synth-city",
                    *("--centers", str(args.centers), "--seed", str(args.seed)),
                    "--replace",
                ],
                env,
                "synth-city",
            )
        analyze = args.analyze == "always" or (
            args.analyze == "auto" and db == "postgres" and not args.existing
        )
        if analyze:
            t0 = time.perf_counter()
            if db == "postgres":
                postgres_analyze(env["DATABASE_URL"])
            else:
                sqlite_analyze(Path(env["DATA_DIR"]))
            print(f"  ANALYZE      {time.perf_counter() - t0:5.1f} s")
        summary["analyzed"] = analyze
        if db == "postgres":
            summary["postgres_settings"] = postgres_settings(env["DATABASE_URL"])

        if args.directory_cache is not None:
            env["DIRECTORY_CACHE_SECONDS"] = str(args.directory_cache)
        summary["directory_cache_seconds"] = int(env.get("DIRECTORY_CACHE_SECONDS", "90"))
        server = Server(config, env, workdir / "server.log")
        server.start()
        status, body = http_get(server.port, "/api/v1/centers?limit=1")
        summary["centers"] = json.loads(body)["count"] if status == 200 else None
        print(
            f"  server       127.0.0.1:{server.port} {config.describe()}; "
            f"{summary['centers']} centers",
            flush=True,
        )
        vocab = load_vocab(server.port)
        inputs = Inputs(vocab, args.seed)
        planned = {w: inputs.paths(w, args.requests) for w in args.workloads}
        # The answer cache only helps questions asked before (in the same minute): say how
        # many of each workload's requests are distinct.
        distinct = {w: len(set(planned[w])) for w in args.workloads}
        summary["distinct_requests"] = distinct
        print(
            f"  inputs       distinct of {args.requests}: "
            + ", ".join(f"{w} {n}" for w, n in distinct.items())
            + f"; answer cache {summary['directory_cache_seconds']} s",
            flush=True,
        )
        warm = Inputs(vocab, args.seed + 1000)
        warm_paths = [p for w in args.workloads for p in warm.paths(w, args.warmup)]
        random.Random(args.seed).shuffle(warm_paths)
        t0 = time.perf_counter()
        drive(
            server,
            warm_paths,
            max(args.clients),
            duration_s=args.warmup_duration,
            timeout_s=args.timeout,
            mode=args.client_mode,
        )
        server.settle()
        print(f"  warm-up      {time.perf_counter() - t0:5.1f} s, {len(warm_paths)} requests")

        results: list[RunResult] = []
        for workload in args.workloads:
            for clients in args.clients:
                run = RunResult(workload, clients, len(planned[workload]))
                run.paths = planned[workload]
                d = drive(
                    server,
                    planned[workload],
                    clients,
                    duration_s=args.duration,
                    timeout_s=args.timeout,
                    mode=args.client_mode,
                )
                run.samples, run.wall_s, run.connections = d.samples, d.wall_s, d.connections
                run.server_cpu_s, run.client_cpu_s = d.server_cpu_s, d.client_cpu_s
                run.machine_busy_s, run.machine_s = d.machine_busy_s, d.machine_s
                run.worker_restarts = d.worker_restarts
                results.append(run)
                f = run.figures()
                print(
                    f"  {workload:<9} {clients:>2} clients: {f['requests']} requests in "
                    f"{d.wall_s:.1f} s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms",
                    flush=True,
                )
                server.settle()
        server.stop()

        print_table(db, results)
        print(f"\n-- {db}: the slowest request of each workload (curl to reproduce)")
        for r in results:
            f = r.figures()
            if not f["slowest"]:
                continue
            path = str(f["slowest"])
            print(
                f"  {r.workload:<9} {r.clients:>2} clients {f['max_ms']:>8} ms  "
                f"{urllib.parse.unquote(path)}\n"
                f"      curl -s 'http://127.0.0.1:8000{path}'"
            )
        if args.explain:
            for workload in args.workloads:
                urls: list[str] = []
                for r in results:
                    if r.workload == workload:
                        urls += [u for u in r.slowest_paths(args.explain) if u not in urls]
                explain(env, urls, f"{db} {workload}")

        for workload in args.workloads:
            summary[workload] = {
                str(r.clients): {k: v for k, v in r.figures().items() if k != "slowest"}
                | {"slowest": urllib.parse.unquote(str(r.figures()["slowest"]))}
                for r in results
                if r.workload == workload
            }
        summary["server"] = config.describe()
        summary["client_mode"] = args.client_mode
        summary["target_p99_ms"] = TARGET_P99_MS
        return summary
    finally:
        if server is not None:
            server.stop()
        if pg is not None and not args.keep:
            pg.drop()
        if args.keep:
            print(f"  kept {workdir}" + (f" and {pg.url}" if pg else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Directory API latency through granian or gunicorn on SQLite and PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--centers", type=int, default=12600, help="synthetic centers")
    p.add_argument("--seed", type=int, default=1, help="seed for the city and the inputs")
    p.add_argument(
        "--clients", type=int, nargs="+", default=[4, 16], help="concurrent clients, each run"
    )
    p.add_argument("--requests", type=int, default=2000, help="requests per workload and run")
    p.add_argument("--duration", type=float, default=20.0, help="max seconds per run")
    p.add_argument("--timeout", type=float, default=20.0, help="per-request client timeout, s")
    p.add_argument("--warmup", type=int, default=100, help="warm-up requests per workload")
    p.add_argument("--warmup-duration", type=float, default=10.0, help="max warm-up seconds")
    p.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    p.add_argument(
        "--server",
        choices=("granian", "gunicorn"),
        default="granian",
        help="granian's WSGI interface as make run serves (2 workers x 2 blocking threads), "
        "or gunicorn (--worker-class, as measured before 2026-12-04)",
    )
    p.add_argument("--workers", type=int, default=2, help="server worker processes")
    p.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default="sync",
        help="sync was faster here: gthread pins each keep-alive connection to one worker",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="granian blocking threads per worker (default 2) or gunicorn gthread threads (4)",
    )
    p.add_argument(
        "--client-mode",
        choices=("process", "thread"),
        default="process",
        help="one process per client (no shared GIL) or threads in this process",
    )
    p.add_argument(
        "--analyze",
        choices=("auto", "always", "never"),
        default="auto",
        help="run ANALYZE after loading: auto = on PostgreSQL only (autovacuum would within "
        "a minute; SQLite never gathers statistics by itself)",
    )
    p.add_argument(
        "--explain",
        type=int,
        default=2,
        help="replay the N slowest distinct requests of each workload in-process (0: skip)",
    )
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-name", default=PG_DEFAULT_NAME, help="scratch database (dropped)")
    p.add_argument("--json", type=Path, help="also write the JSON lines to this file")
    p.add_argument("--keep", action="store_true", help="keep the databases for inspection")
    p.add_argument(
        "--directory-cache",
        type=int,
        default=None,
        metavar="SECONDS",
        help="DIRECTORY_CACHE_SECONDS for the server (0 = answer every request from the "
        "database; default: as shipped, 90)",
    )
    p.add_argument(
        "--existing",
        action="store_true",
        help="measure the database in DATABASE_URL (--db postgres) or DATA_DIR (--db sqlite) "
        "as it is: no create, load, ANALYZE or drop",
    )
    args = p.parse_args(argv)
    if args.existing:
        need = {"postgres": "DATABASE_URL", "sqlite": "DATA_DIR"}.get(args.db)
        if need is None or not os.environ.get(need):
            p.error("--existing needs --db postgres with DATABASE_URL or --db sqlite with DATA_DIR")
    if args.pg_host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("the benchmark only talks to this machine (loopback)")
    return args


def code_version() -> str:
    """The commit measured, and whether src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes in src/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.server == "granian":
        config = ServerConfig(args.workers, "granian", args.threads or 2)
    else:
        config = ServerConfig(args.workers, args.worker_class, args.threads or 4)
    started = time.perf_counter()
    version = code_version()
    print(
        f"doorstep bench at {version}: {args.centers} synthetic centers, clients {args.clients}, "
        f"{args.requests} requests or {args.duration:.0f} s per run, "
        f"{config.describe()}, {args.client_mode} clients, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    summaries: list[dict[str, object]] = []
    skipped: list[str] = []
    for db in dbs:
        try:
            summaries.append({**bench_db(db, args, config), "code": version})
        except PostgresUnavailable as exc:
            print(
                f"\n!! PostgreSQL at {args.pg_host}:{args.pg_port} is not reachable as "
                f"{args.pg_user}; skipping it.\n   ({exc})",
                flush=True,
            )
            skipped.append(db)
        except RuntimeError as exc:
            print(f"\n!! {db}: {exc}", flush=True)
            skipped.append(db)
    print("\n== JSON (one line per database)")
    lines = [json.dumps(s, ensure_ascii=False) for s in summaries]
    for line in lines:
        print(line)
    if args.json:
        args.json.write_text("".join(line + "\n" for line in lines))
    misses = [
        f"{s['db']} {w} ({c} clients): p99 {fig['p99_ms']} ms"
        for s in summaries
        for w in args.workloads
        for c, fig in s.get(w, {}).items()  # type: ignore[union-attr]
        if fig["p99_ms"] >= TARGET_P99_MS
    ]
    if not summaries:
        verdict = "nothing was measured"
    else:
        verdict = "met" if not misses else "missed by"
    print(f"\nTarget p99 < {TARGET_P99_MS:.0f} ms: {verdict}")
    for m in misses:
        print(f"  {m}")
    if skipped:
        print(f"Skipped: {', '.join(skipped)}")
    print(f"Total time {time.perf_counter() - started:.0f} s")
    return 0 if summaries else 1


if __name__ == "__main__":
    sys.exit(main())


def city_bench_arguments(p: argparse.ArgumentParser, pg_name: str) -> None:
    """The options every "synthetic city on a fresh PostgreSQL" benchmark shares."""
    p.add_argument("--centers", type=int, default=12600)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-name", default=pg_name)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--reuse", action="store_true", help="measure a kept database again")
    p.add_argument("--inner", choices=["setup", "measure"], help=argparse.SUPPRESS)


def run_city_bench(
    p: argparse.ArgumentParser,
    args: argparse.Namespace,
    *,
    script: str,
    name: str,
    title: str,
    steps: dict[str, Callable[[argparse.Namespace], None]],
) -> int:
    """Run `steps["setup"]` then `steps["measure"]` (each in a child process, printing one
    JSON line) against a fresh database with `synth-city --centers N`; print the summary.
    Called with `--inner STEP`, runs that step here instead."""
    if args.inner:
        steps[args.inner](args)
        return 0
    if args.pg_host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("the benchmark only talks to this machine (loopback)")
    started = time.perf_counter()
    print(f"{title} at {code_version()}, {os.cpu_count()} CPUs", flush=True)
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
    env = base_env()
    env["DATA_DIR"] = str(Path("/tmp") / f"doorstep-{name}-bench-{os.getpid()}")
    Path(env["DATA_DIR"]).mkdir(exist_ok=True)
    summary: dict[str, object] = {"bench": name, "code": code_version()}
    try:
        env["DATABASE_URL"] = pg.url
        if not args.reuse:
            pg.create()
            run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
            run_command(["load-regions"], env, "load-regions")
            run_command(["synth-city", "--centers", str(args.centers)], env, "synth-city")
        root = Path(script).resolve().parent
        for step in ("measure",) if args.reuse else ("setup", "measure"):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, script, "--inner", step, *sys.argv[1:]],
                cwd=root,
                env={**env, "PYTHONPATH": str(root.parent / "src")},
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"{step} failed:\n{proc.stdout}\n{proc.stderr}")
            summary[step] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"  {step:<12} {time.perf_counter() - t0:5.1f} s  {summary[step]}", flush=True)
    except PostgresUnavailable as exc:
        print(f"!! PostgreSQL is not reachable: {exc}")
        return 1
    except RuntimeError as exc:
        print(f"!! {exc}")
        return 1
    finally:
        if not args.keep:
            pg.drop()
        shutil.rmtree(env["DATA_DIR"], ignore_errors=True)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    print("\n== JSON")
    print(json.dumps(summary, ensure_ascii=False))
    return 0
