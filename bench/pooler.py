"""PgBouncer in transaction mode in front of this machine's PostgreSQL, for the benchmarks.

    with PgBouncer(db="doorstep_rush", pool_size=20) as bouncer:
        bouncer.url  # postgres://postgres@127.0.0.1:<port>/doorstep_rush

Debian's `pgbouncer` package (`apt-get install pgbouncer`; 1.18 on bookworm). It runs as
the `postgres` system user when this process is root (PgBouncer refuses root), listens on a
free loopback port, trusts loopback (as this machine's PostgreSQL does), and sets
`jit = off` on each server connection (`connect_query`): doorstep sends that as a startup
option when it talks to PostgreSQL directly, and PgBouncer 1.18 refuses startup options.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgBouncer:
    def __init__(
        self,
        *,
        db: str,
        pool_size: int = 20,
        pg_host: str = "127.0.0.1",
        pg_port: int = 5432,
        user: str = "postgres",
    ) -> None:
        self.db, self.pool_size, self.user = db, pool_size, user
        self.pg_host, self.pg_port = pg_host, pg_port
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="doorstep-pgbouncer-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.db}"

    def version(self) -> str:
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True)
        return out.stdout.split("\n", 1)[0].strip()

    def start(self) -> PgBouncer:
        if not os.path.exists(BINARY):
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        (self.dir / "users.txt").write_text(f'"{self.user}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.db} = host={self.pg_host} port={self.pg_port} dbname={self.db} "
            f"user={self.user} connect_query='SET jit = off'\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
            "max_client_conn = 2000\n"
            "server_reset_query =\n"
            "log_connections = 0\nlog_disconnections = 0\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
        )
        cmd = [BINARY, str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            for f in self.dir.iterdir():
                shutil.chown(f, "postgres", "postgres")
            cmd = [BINARY, "-u", "postgres", str(self.dir / "pgbouncer.ini")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        until = time.monotonic() + 10
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.proc.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pgbouncer did not start")

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
