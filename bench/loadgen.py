"""A cheap closed-loop HTTP/1.1 load generator: asyncio, raw sockets, keep-alive, stdlib only.

The benchmarks' earlier client (bench/run.py's forked `http.client` processes, one per
simulated client) burns 1-2 ms of CPU per request on the same two cores as the server it
measures. This one drives N keep-alive connections from one (or a few) processes, each an
asyncio Protocol whose callbacks send the next request the moment the previous answer is
complete: no coroutine per request, no header dictionaries, no http.client. Requests are
bytes built once before the clock starts (`http_request`), each with its own headers (every
registration carries its own bearer token and Idempotency-Key); answers are parsed just
enough to find the status, the end of the body (Content-Length, or chunked as a fallback)
and whether the server closes the connection. Bodies are kept and handed back, so the
caller judges the answers after the clock stops.

    from loadgen import http_request, run
    jobs = [(i, http_request("POST", path, body, headers)) for i, ... in enumerate(...)]
    result = run(port, jobs, connections=64, duration_s=20, timeout_s=30)
    result.samples     # [(index, latency s, HTTP status or 0, body bytes), ...]
    result.cpu_s       # the generator's own CPU while it was sending (user + system)

Jobs go to connections round robin (connection k sends jobs k, k+N, k+2N, ... in order), as
the forked clients did, so a job list can make two requests race on purpose. A connection
stops sending at the deadline; what is in flight is still awaited (up to the timeout). A
request that gets no answer within `timeout_s`, or whose connection fails, is a sample with
status 0 and its connection is reopened. Only loopback addresses are contacted.

Its own cost, measured against a WSGI hello under granian (`python bench/loadgen.py
selftest`): see bench/README.md and docs/performance.md.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# One job: (index, request bytes). One sample: (index, latency s, status or 0, body).
Job = tuple[int, bytes]
Sample = tuple[int, float, int, bytes]


def http_request(
    method: str, path: str, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request (Host, Content-Length added)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Client:
    """One simulated client: its jobs, sent one at a time over a keep-alive connection,
    each as soon as the last is answered; a new connection when the server closes one."""

    def __init__(self, gen: _Generator, jobs: list[Job]) -> None:
        self.gen = gen
        self.jobs = jobs
        self.next = 0  # the next job to send
        self.conn: _Conn | None = None  # the current connection (None while reconnecting)
        self.sent_at = 0.0  # 0: nothing in flight
        self.index = -1
        self.done = False
        self.port = 0  # the server this client talks to (0: the generator's)

    def send(self) -> None:
        if self.next >= len(self.jobs) or time.perf_counter() >= self.gen.deadline:
            self.finish()
            return
        conn = self.conn
        if conn is None or conn.transport is None:
            self.gen.reconnect(self)
            return
        self.index, data = self.jobs[self.next]
        self.next += 1
        conn.expect()
        self.sent_at = time.perf_counter()
        conn.transport.write(data)

    def answered(self, status: int, body: bytes, keep: bool) -> None:
        now = time.perf_counter()
        self.gen.samples.append((self.index, now - self.sent_at, status, body))
        self.sent_at = 0.0
        if not keep:
            self.drop()
        if self.next < len(self.jobs) and now < self.gen.deadline:
            if keep:
                self.send()
            else:
                self.gen.reconnect(self)
        else:
            self.finish()

    def drop(self) -> None:
        """Forget the current connection (its late callbacks are then ignored) and close it."""
        conn, self.conn = self.conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    def timed_out(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.abort()
        self.answered(0, b"", keep=False)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        self.drop()
        self.gen.finished()


class _Conn(asyncio.Protocol):
    """One TCP connection of a client, with a minimal response parser."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.expect()

    def expect(self) -> None:
        self.buf = b""
        self.body_at = -1  # where the body starts in buf, once the head is read
        self.need = -1  # bytes of buf that make the whole answer (-1 chunked, -2 until close)
        self.status = 0
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.client.gen.opened += 1

    def data_received(self, data: bytes) -> None:
        if self.client.conn is not self or not self.client.sent_at:
            return
        buf = self.buf + data if self.buf else data
        if self.body_at < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[:end].lower()
            try:
                self.status = int(head[9:12])
            except ValueError:
                self.status = 0
            self.body_at = end + 4
            i = head.find(b"\r\ncontent-length:")
            if i >= 0:
                j = head.find(b"\r\n", i + 17)
                self.need = self.body_at + int(head[i + 17 : j if j >= 0 else len(head)])
            elif b"\r\ntransfer-encoding: chunked" in head:
                self.need = -1
            else:  # no length: the body ends when the server closes (not expected here)
                self.need = -2
            self.closing = b"\r\nconnection: close" in head or head.startswith(b"http/1.0")
        if self.need >= 0:
            if len(buf) < self.need:
                self.buf = buf
                return
            body = buf[self.body_at : self.need]
        elif self.need == -1 and buf.endswith(b"0\r\n\r\n"):
            body = _dechunk(buf[self.body_at :])  # type: ignore[assignment]
            if body is None:
                self.buf = buf
                return
        else:
            self.buf = buf
            return
        self.buf = b""
        self.client.answered(self.status, body, keep=not self.closing)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        client = self.client
        if client.conn is not self:
            return  # a connection the client already let go
        client.conn = None
        if client.sent_at:
            if self.need == -2 and self.body_at >= 0:
                client.answered(self.status, self.buf[self.body_at :], keep=False)
            else:  # closed or reset with a request in flight
                client.answered(0, b"", keep=False)
        elif not client.done:
            client.gen.reconnect(client)


def _dechunk(data: bytes) -> bytes | None:
    out, pos = [], 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(data[pos:eol].split(b";", 1)[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[eol + 2 : eol + 2 + size])
        pos = eol + 2 + size + 2
        if pos > len(data):
            return None


@dataclass
class _Generator:
    port: int
    timeout_s: float
    deadline: float = float("inf")  # perf_counter time
    started: bool = False
    opened: int = 0
    samples: list[Sample] = field(default_factory=list)
    clients: list[_Client] = field(default_factory=list)
    live: int = 0
    all_done: asyncio.Future | None = None

    def reconnect(self, client: _Client) -> None:
        task = asyncio.get_running_loop().create_task(self.open(client, send=True))
        task.add_done_callback(lambda t: t.exception())

    async def open(self, client: _Client, send: bool) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(50):
            try:
                port = client.port or self.port
                _t, conn = await loop.create_connection(lambda: _Conn(client), HOST, port)
            except OSError:
                if time.perf_counter() >= self.deadline:
                    break
                await asyncio.sleep(min(0.5, 0.01 * (attempt + 1)))
                continue
            client.conn = conn
            if send:
                client.send()
            return
        client.finish()

    def finished(self) -> None:
        self.live -= 1
        if self.live <= 0 and self.all_done is not None and not self.all_done.done():
            self.all_done.set_result(None)

    async def watch_timeouts(self) -> None:
        while True:
            await asyncio.sleep(min(0.25, self.timeout_s / 4))
            now = time.perf_counter()
            for client in self.clients:
                if client.sent_at and now - client.sent_at > self.timeout_s:
                    client.timed_out()


@dataclass
class _Part:
    """What one generator process measured."""

    samples: list[Sample]
    start_wall: float
    end_wall: float
    cpu_s: float
    opened: int
    machine: tuple[float, float]  # (busy, total) CPU seconds of the machine in the window


async def _drive(
    port: int | list[int],
    per_conn: list[list[Job]],
    start_at: float,
    duration_s: float,
    timeout_s: float,
) -> _Part:
    loop = asyncio.get_running_loop()
    # One port per connection, or one for all (several app instances: round-robin by connection).
    ports = port if isinstance(port, list) else [port] * len(per_conn)
    gen = _Generator(ports[0] if ports else 0, timeout_s)
    gen.all_done = loop.create_future()
    gen.clients = [_Client(gen, jobs) for jobs in per_conn]
    for client, client_port in zip(gen.clients, ports, strict=False):
        client.port = client_port
    gen.live = len(gen.clients)
    # Open every connection before the clock starts.
    await asyncio.gather(*(gen.open(c, send=False) for c in gen.clients))
    gc.collect()
    gc.disable()  # the samples list grows by the thousand: no collector pauses mid-run
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    m0 = machine_cpu()
    start_wall = time.time()
    gen.deadline = time.perf_counter() + duration_s
    gen.started = True
    for client in gen.clients:
        if not client.done:
            client.send()
    watcher = loop.create_task(gen.watch_timeouts())
    if gen.live > 0:
        await gen.all_done
    end_wall = time.time()
    m1 = machine_cpu()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    watcher.cancel()
    gc.enable()
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    machine = (m1[0] - m0[0], m1[1] - m0[1])
    return _Part(gen.samples, start_wall, end_wall, cpu, gen.opened, machine)


def _child(port, per_conn, start_at, duration_s, timeout_s, pipe) -> None:  # type: ignore[no-untyped-def]
    try:
        part = asyncio.run(_drive(port, per_conn, start_at, duration_s, timeout_s))
        pipe.send(part)
    finally:
        pipe.close()


@dataclass
class LoadResult:
    samples: list[Sample]
    wall_s: float  # from the common start to the last answer
    cpu_s: float  # the generator processes' CPU while sending (user + system)
    connections_opened: int
    processes: int
    machine_busy_s: float  # every process on the machine, in the first generator's window
    machine_s: float  # CPU seconds the machine had in that window (cores x seconds)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_s / max(1, len(self.samples))


def run(
    port: int | list[int],
    jobs: list[Job],
    connections: int,
    *,
    duration_s: float,
    timeout_s: float,
    processes: int = 1,
    host: str = HOST,
) -> LoadResult:
    """Send the jobs over `connections` keep-alive connections from `processes` forked
    processes (the calling process only waits), closed loop, until the jobs run out or
    `duration_s` has passed; in-flight requests are still awaited. A list of ports spreads
    the connections over several servers in turn (two app instances behind one database)."""
    if host not in LOOPBACK:
        raise ValueError("the load generator only talks to this machine")
    connections = max(1, min(connections, len(jobs))) if jobs else 1
    per_conn: list[list[Job]] = [[] for _ in range(connections)]
    for k, job in enumerate(jobs):
        per_conn[k % connections].append(job)
    processes = max(1, min(processes, connections))
    ports = port if isinstance(port, list) else [port]
    conn_ports = [ports[k % len(ports)] for k in range(connections)]
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + 0.5 + 0.01 * connections
    children = []
    for p in range(processes):
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child,
            args=(
                conn_ports[p::processes],
                per_conn[p::processes],
                start_at,
                duration_s,
                timeout_s,
                send,
            ),
            daemon=True,
        )
        proc.start()
        send.close()
        children.append((proc, recv))
    parts: list[_Part] = []
    for proc, recv in children:
        try:
            parts.append(recv.recv())
        except EOFError:
            pass
        proc.join()
    if len(parts) != processes:
        raise RuntimeError("a load generator process failed")
    start = min(p.start_wall for p in parts)
    return LoadResult(
        samples=[s for p in parts for s in p.samples],
        wall_s=max(p.end_wall for p in parts) - start,
        cpu_s=sum(p.cpu_s for p in parts),
        connections_opened=sum(p.opened for p in parts),
        processes=processes,
        machine_busy_s=parts[0].machine[0],
        machine_s=parts[0].machine[1],
    )


# --- self-test: the generator's own cost against a WSGI hello ------------------------------


def hello(environ, start_response):  # type: ignore[no-untyped-def]
    """The smallest WSGI answer, for `selftest` (served by granian or gunicorn)."""
    body = b'{"hello": "world"}'
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _selftest(argv: list[str]) -> int:
    """Serve `hello` with granian (2 workers) and drive it: answers/s and the generator's
    CPU per request, beside the server's. Usage: loadgen.py selftest [connections] [seconds]"""
    import signal
    import socket
    import subprocess
    from pathlib import Path

    connections = int(argv[0]) if argv else 64
    seconds = float(argv[1]) if len(argv) > 1 else 8.0
    here = Path(__file__).resolve().parent
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    granian = Path(sys.executable).parent / "granian"
    cmd = [str(granian), "--interface", "wsgi", "--workers", "2", "--blocking-threads", "1"]
    cmd += ["--host", HOST, "--port", str(port), "--no-ws", "--log-level", "warning"]
    cmd += ["--working-dir", str(here), "loadgen:hello"]
    server = subprocess.Popen(cmd)
    try:
        for _ in range(100):
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        req = http_request("GET", "/", headers=[("Accept", "application/json")])
        n = 2_000_000
        run(port, [(i, req) for i in range(2000)], connections, duration_s=1, timeout_s=10)
        srv0 = tree_cpu(server.pid)
        r = run(port, [(i, req) for i in range(n)], connections, duration_s=seconds, timeout_s=10)
        srv = tree_cpu(server.pid) - srv0
        busy = r.machine_busy_s
        ok = sum(1 for s in r.samples if s[2] == 200)
        lat = sorted(s[1] * 1000 for s in r.samples)
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99)]
        print(
            f"loadgen selftest: granian WSGI hello, 2 workers, {connections} connections, "
            f"{r.wall_s:.1f} s: {ok / r.wall_s:,.0f} answers/s ({len(r.samples) - ok} not 200), "
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; "
            f"CPU ms per request: generator {r.cpu_ms_per_request:.3f}, server "
            f"{1000 * srv / max(1, len(r.samples)):.3f}, other "
            f"{1000 * max(0.0, busy - srv - r.cpu_s) / max(1, len(r.samples)):.3f}; "
            f"{r.connections_opened} connections opened"
        )
        # The same load from forked http.client processes, one per connection (the old way).
        ctx = multiprocessing.get_context("fork")
        start_at = time.time() + 1.0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        srv0 = tree_cpu(server.pid)
        with ctx.Pool(connections) as pool:
            counts = pool.starmap(
                _http_client_loop, [(port, start_at, seconds)] * connections, chunksize=1
            )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        srv = tree_cpu(server.pid) - srv0
        done = sum(c for c, _cpu in counts)
        cpu = sum(c for _n, c in counts)
        whole = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"http.client processes, same load: {done / seconds:,.0f} answers/s; CPU ms per "
            f"request: client {1000 * cpu / max(1, done):.3f} in the loop "
            f"({1000 * whole / max(1, done):.3f} with the processes' start and end), "
            f"server {1000 * srv / max(1, done):.3f}"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    return 0


def _http_client_loop(port: int, start_at: float, seconds: float) -> tuple[int, float]:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    time.sleep(max(0.0, start_at - time.time()))
    c0 = time.process_time()
    n, until = 0, start_at + seconds
    while time.time() < until:
        conn.request("GET", "/", headers={"Accept": "application/json"})
        conn.getresponse().read()
        n += 1
    cpu = time.process_time() - c0
    conn.close()
    return n, cpu


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    total = sum(fields)
    return (total - fields[3] - fields[4]) / tick, total / tick


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return total


if __name__ == "__main__":
    if sys.argv[1:2] == ["selftest"]:
        sys.exit(_selftest(sys.argv[2:]))
    print(__doc__)
