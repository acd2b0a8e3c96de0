"""The gym monitor at a city's load: 1,000 bands at 1 Hz for 60 s through Mosquitto into one
`doorstep gym-monitor` process, on PostgreSQL. See docs/gym.md and docs/performance.md.

It builds a fresh PostgreSQL database (`doorstep_gym_bench`, dropped at the end), makes
--gyms gyms of --bands-per-gym synthetic bands in sessions (50 × 20 = 1,000), starts the
monitor and granian serving the site, and opens the first gym's board event stream as a
logged-in coach. First, as the ceiling, a bare Paho subscriber that only parses JSON takes
20,000 messages as fast as a publisher sends them through the same broker. Then a publisher
process sends every band's reading once a second for --seconds;
every 3 s one band of the watched gym presses its alarm button. It reports readings handled
per second, the monitor's CPU per reading, and each button's latency from publish to the
alert's first appearance on the board's event stream (p50/p99; target p99 < 1 s), and the
ratios to the ceiling. Only 127.0.0.1 is contacted; it stops by
itself.

    .venv/bin/python bench/gym.py [--gyms 50] [--bands-per-gym 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from run import (
    HOST,
    Postgres,
    PostgresUnavailable,
    base_env,
    bin_path,
    code_version,
    percentile,
    run_command,
)

ROOT = Path(__file__).resolve().parent.parent
PRESS_EVERY = 3


def setup(args: argparse.Namespace) -> None:
    """Gyms, bands and sessions (synthetic), a coach of the first gym with a session cookie."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from doorstep.accounts.models import StaffRole, User
    from doorstep.centers.models import Center
    from doorstep.gym.simulate import ensure_sessions

    centers = list(Center.objects.order_by("pk").values_list("pk", flat=True)[: args.gyms])
    bands = {}
    for cid in centers:
        bands[cid] = ensure_sessions(cid, args.bands_per_gym)
    coach = User.objects.create(username="bench-coach", is_staff=True)
    StaffRole.objects.create(user=coach, scope="center", center_id=centers[0])
    store = SessionStore()
    store[SESSION_KEY] = str(coach.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = coach.get_session_auth_hash()
    store.create()
    print(json.dumps({"centers": centers, "bands": bands, "cookie": store.session_key}))


def publish(args: argparse.Namespace, plan: dict, start_at: float, out: Path) -> None:
    """One process: every band once a second; the watched gym's bands press their button in
    turn every PRESS_EVERY seconds. Writes the press times to `out`."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.max_queued_messages_set(0)
    client.connect(HOST, 1883, keepalive=60)
    client.loop_start()
    watched = str(plan["centers"][0])
    presses: dict[str, float] = {}
    sent = 0
    while time.time() < start_at:
        time.sleep(0.01)
    for second in range(args.seconds):
        tick = start_at + second
        press = None
        if second % PRESS_EVERY == 1:
            idx = (second // PRESS_EVERY) % len(plan["bands"][watched])
            press = plan["bands"][watched][idx][0]
        for cid, bands in plan["bands"].items():
            for band_id, _label in bands:
                now = time.time()
                payload = {
                    "band": band_id,
                    "ts": round(now, 3),
                    "bpm": 95 + (second % 7),
                    "battery": 80,
                }
                if band_id == press:
                    payload["button"] = True
                    presses[band_id] = now
                client.publish(f"doorstep/{cid}/hr/{band_id}", json.dumps(payload), qos=0)
                sent += 1
        time.sleep(max(0.0, tick + 1 - time.time()))
    client.loop_stop()
    client.disconnect()
    out.write_text(json.dumps({"presses": presses, "sent": sent}))


def watch(
    port: int, center: int, cookie: str, seconds: float, seen: dict[int, tuple[float, str]]
) -> None:
    """Read the board's event stream (reconnecting as the browser does) and note when each
    alert id first appears."""
    until = time.time() + seconds
    while time.time() < until:
        conn = http.client.HTTPConnection(HOST, port, timeout=70)
        conn.request(
            "GET", f"/staff/gym/{center}/events", headers={"Cookie": f"sessionid={cookie}"}
        )
        resp = conn.getresponse()
        buffer = b""
        while time.time() < until:
            chunk = resp.readline()  # decodes the chunked transfer encoding
            if not chunk:
                break
            if chunk.startswith(b"data: "):
                stamp = time.time()
                try:
                    state = json.loads(chunk[6:])
                except ValueError:
                    continue
                for alert in state["alerts"]:
                    seen.setdefault(alert["id"], (stamp, alert["session"]))
            buffer = b""
        conn.close()
        del buffer


def ceiling(n: int) -> dict[str, float]:
    """The same path without doorstep: a Paho subscriber that only parses each message's JSON,
    fed by a Paho publisher as fast as it can through the same Mosquitto."""
    import paho.mqtt.client as mqtt

    got = 0
    done = threading.Event()
    topic = f"bench/ceiling/{os.getpid()}"

    def on_message(client, userdata, msg):  # type: ignore[no-untyped-def]
        nonlocal got
        json.loads(msg.payload)
        got += 1
        if got >= n:
            done.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.connect(HOST, 1883)
    sub.subscribe(topic, qos=0)
    sub.loop_start()
    time.sleep(0.5)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.max_queued_messages_set(0)
    pub.connect(HOST, 1883)
    pub.loop_start()
    c0, t0 = time.process_time(), time.perf_counter()
    body = json.dumps({"band": "x", "ts": 1.0, "bpm": 90, "battery": 80})
    for _i in range(n):
        pub.publish(topic, body, qos=0)
    done.wait(timeout=120)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    for client in (pub, sub):
        client.loop_stop()
        client.disconnect()
    return {
        "messages": got,
        "per_s": round(got / elapsed, 1),
        "cpu_us_per_message_pub_and_sub": round(1e6 * cpu / max(1, got), 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gyms", type=int, default=50)
    p.add_argument("--bands-per-gym", type=int, default=20)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--pg-name", default="doorstep_gym_bench")
    p.add_argument("--inner", choices=["setup", "publish", "alerts"], help=argparse.SUPPRESS)
    p.add_argument("--plan", help=argparse.SUPPRESS)
    p.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.inner == "setup":
        setup(args)
        return 0
    if args.inner == "publish":
        plan = json.loads(Path(args.plan).read_text())
        publish(args, plan, args.start_at, Path(args.out))
        return 0
    if args.inner == "alerts":
        import django

        django.setup()
        from doorstep.gym.models import Alert

        rows = Alert.objects.filter(kind="button").values_list("pk", "session__band__band_id")
        print(json.dumps(list(rows)))
        return 0
    print(
        f"doorstep gym monitor at {code_version()}: {args.gyms} gyms x {args.bands_per_gym} "
        f"bands at 1 Hz for {args.seconds} s, {os.cpu_count()} CPUs",
        flush=True,
    )
    pg = Postgres(HOST, 5432, "postgres", args.pg_name)
    env = base_env()
    env["DATA_DIR"] = str(Path("/tmp") / f"doorstep-gym-bench-{os.getpid()}")
    Path(env["DATA_DIR"]).mkdir(exist_ok=True)
    procs: list[subprocess.Popen] = []
    summary: dict[str, object] = {"bench": "gym_monitor", "code": code_version()}
    try:
        env["DATABASE_URL"] = pg.url
        pg.create()
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        run_command(["synth-city", "--centers", str(args.gyms)], env, "synth-city")
        proc = subprocess.run(
            [sys.executable, __file__, "--inner", "setup", *sys.argv[1:]],
            cwd=ROOT / "bench",
            env={**env, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"setup failed:\n{proc.stderr}")
        plan = json.loads(proc.stdout.strip().splitlines()[-1])
        plan["bands"] = {str(k): v for k, v in plan["bands"].items()}
        summary["broker_ceiling"] = ceiling(20_000)
        print(f"  ceiling  {summary['broker_ceiling']}", flush=True)
        from run import free_port, granian_command

        port = free_port()
        web = subprocess.Popen(
            granian_command("doorstep.wsgi:application", port, 1, 8),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(web)
        monitor_log = Path(env["DATA_DIR"]) / "monitor.log"
        monitor = subprocess.Popen(
            [bin_path("doorstep"), "gym-monitor", "--seconds", str(args.seconds + 12)],
            cwd=ROOT,
            env=env,
            stdout=monitor_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        procs.append(monitor)
        time.sleep(4)  # subscribed, sessions loaded, server up
        seen: dict[int, tuple[float, str]] = {}
        watcher = threading.Thread(
            target=watch,
            args=(port, plan["centers"][0], plan["cookie"], args.seconds + 8, seen),
            daemon=True,
        )
        watcher.start()
        out = Path(env["DATA_DIR"]) / "presses.json"
        start_at = time.time() + 2
        plan_file = Path(env["DATA_DIR"]) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        publisher = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--inner",
                "publish",
                "--seconds",
                str(args.seconds),
                "--plan",
                str(plan_file),
                "--start-at",
                str(start_at),
                "--out",
                str(out),
            ],
            cwd=ROOT / "bench",
            env={**env, "PYTHONPATH": str(ROOT / "src")},
        )
        procs.append(publisher)
        publisher.wait(timeout=args.seconds + 60)
        _pid, status, usage = os.wait4(monitor.pid, 0)
        procs.remove(monitor)
        watcher.join(timeout=args.seconds + 20)
        sent = json.loads(out.read_text())
        tail = monitor_log.read_text().strip().splitlines()[-1]
        handled = int(tail.split("gym-monitor: ")[1].split(" readings")[0])
        cpu = usage.ru_utime + usage.ru_stime
        # Match presses to alerts by band: one button alert per band's session.
        proc = subprocess.run(
            [sys.executable, __file__, "--inner", "alerts"],
            cwd=ROOT / "bench",
            env={**env, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True,
            text=True,
        )
        alerts = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
        latencies = sorted(
            (seen[pk][0] - sent["presses"][band]) * 1000
            for pk, band in alerts.items()
            if pk in seen and band in sent["presses"]
        )
        summary["measure"] = {
            "readings_sent": sent["sent"],
            "readings_handled": handled,
            "handled_per_s": round(handled / args.seconds, 1),
            "monitor_cpu_s": round(cpu, 2),
            "cpu_us_per_reading": round(1e6 * cpu / max(1, handled), 1),
            "monitor_cpu_share": round(cpu / (args.seconds + 12), 3),
            "button_presses": len(sent["presses"]),
            "button_alerts_raised": len(alerts),
            "alerts_seen_on_board": len(latencies),
            "latency_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
            "latency_p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
            "latency_max_ms": round(latencies[-1], 1) if latencies else None,
        }
        ceil = summary["broker_ceiling"]
        summary["ratios"] = {
            "handled_per_s_to_broker_ceiling": round(handled / args.seconds / ceil["per_s"], 3),
            "cpu_per_reading_to_bare_client": round(
                summary["measure"]["cpu_us_per_reading"] / ceil["cpu_us_per_message_pub_and_sub"], 1
            ),
        }
        print(f"  measure  {summary['measure']} {summary['ratios']}", flush=True)
    except PostgresUnavailable as exc:
        print(f"!! PostgreSQL is not reachable: {exc}")
        return 1
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"!! {exc}")
        return 1
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg.drop()
        import shutil

        shutil.rmtree(env["DATA_DIR"], ignore_errors=True)
    print("\n== JSON")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
