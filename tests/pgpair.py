"""A PostgreSQL primary and its streaming replica, started from scratch in a temporary folder.

Used by the replica tests (tests/core/test_replica.py) and the scaling bench
(bench/scaling.py). The primary is a fresh cluster (initdb) on a free loopback port that
allows replication from 127.0.0.1; the replica is a `pg_basebackup -R` copy of it started on
another port, so it streams the primary's WAL as a production standby does. Both run as the
`postgres` system user when this process is root (initdb refuses root) and are stopped and
deleted by `stop()`.

    pair = Pair.start()
    pair.primary_url, pair.replica_url   # postgres://postgres@127.0.0.1:<port>/postgres
    pair.stop_replica(); pair.start_replica()
    pair.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


@dataclass
class Pair:
    root: Path
    primary_port: int
    replica_port: int

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.root / "replica"

    def url(self, port: int, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{db}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    @classmethod
    def start(cls, *, settings: str = "") -> Pair:
        root = Path(tempfile.mkdtemp(prefix="doorstep-pgpair-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        pair = cls(root, free_port(), free_port())
        _as_postgres(
            [
                str(BIN / "initdb"),
                "-D",
                str(pair.primary_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        conf = (
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
            "fsync = off\nsynchronous_commit = on\nfull_page_writes = off\n"
            "autovacuum = off\nshared_buffers = 128MB\n" + settings
        )
        with open(pair.primary_dir / "postgresql.conf", "a") as f:
            f.write(conf)
        with open(pair.primary_dir / "pg_hba.conf", "a") as f:
            f.write("host replication all 127.0.0.1/32 trust\n")
        pair._ctl(pair.primary_dir, pair.primary_port, "start")
        _as_postgres(
            [
                str(BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(pair.primary_port),
                "-U",
                "postgres",
                "-D",
                str(pair.replica_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        pair.start_replica()
        return pair

    def _ctl(self, data: Path, port: int, action: str) -> None:
        args = [str(BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
        if action == "start":
            args += ["-o", f"-p {port}", "-l", str(self.root / f"{data.name}.log"), "start"]
        else:
            args += ["-m", "fast", "stop"]
        _as_postgres(args)

    def start_replica(self) -> None:
        self._ctl(self.replica_dir, self.replica_port, "start")

    def stop_replica(self) -> None:
        self._ctl(self.replica_dir, self.replica_port, "stop")

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        import psycopg

        with psycopg.connect(self.primary_url, autocommit=True) as p:
            lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.replica_url, autocommit=True) as r:
            while time.monotonic() < deadline:
                done = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[
                    0
                ]  # type: ignore[index]
                if done:
                    return
                time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")

    def stop(self) -> None:
        for data in (self.replica_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                try:
                    self._ctl(data, 0, "stop")
                except subprocess.CalledProcessError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)
