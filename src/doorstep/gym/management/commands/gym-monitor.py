"""doorstep gym-monitor [--host 127.0.0.1] [--port 1883]: bands' readings from MQTT to the
coach's board (docs/gym.md). Runs beside the web server and the worker; stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection


class Command(BaseCommand):
    help = "Subscribe to doorstep/+/hr/+ and raise the gym's alerts (docs/gym.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MQTT_PORT", "1883")))
        parser.add_argument("--username", default=os.environ.get("MQTT_USERNAME", ""))
        parser.add_argument("--password", default=os.environ.get("MQTT_PASSWORD", ""))
        parser.add_argument("--tls", action="store_true", help="connect with TLS (port 8883)")
        parser.add_argument("--seconds", type=float, default=0, help="stop after (0: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        import paho.mqtt.client as mqtt

        from doorstep.gym.monitor import Monitor

        inbox: queue.Queue[tuple[str, bytes, float]] = queue.Queue(maxsize=100_000)
        stop = False

        def on_signal(signum: int, frame: object) -> None:
            nonlocal stop
            stop = True

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)

        def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            client.subscribe("doorstep/+/hr/+", qos=0)

        def on_message(client: Any, userdata: Any, msg: Any) -> None:
            try:
                inbox.put_nowait((msg.topic, msg.payload, time.time()))
            except queue.Full:
                pass  # the monitor is behind by 100k messages: drop rather than grow

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"doorstep-gym-{os.getpid()}"
        )
        if options["username"]:
            client.username_pw_set(options["username"], options["password"])
        if options["tls"]:
            client.tls_set()
        client.on_connect = on_connect
        client.on_message = on_message
        client.connect(options["host"], options["port"], keepalive=30)
        client.loop_start()
        monitor = Monitor()
        monitor.refresh()
        started = last_tick = time.time()
        self.stdout.write(f"gym-monitor: subscribed at {options['host']}:{options['port']}")
        try:
            while not stop:
                try:
                    topic, payload, received = inbox.get(timeout=0.1)
                    monitor.handle(topic, payload, received)
                    while True:  # drain what is waiting before the clock work
                        topic, payload, received = inbox.get_nowait()
                        monitor.handle(topic, payload, received)
                except queue.Empty:
                    pass
                now = time.time()
                if now - last_tick >= 0.5:
                    monitor.tick(now)
                    close_old_connections()
                    last_tick = now
                if options["seconds"] and now - started >= options["seconds"]:
                    break
        finally:
            monitor.tick()
            client.loop_stop()
            client.disconnect()
            # Run in a thread (the tests), the command's connection is the thread's: close it.
            connection.close()
        self.stdout.write(
            f"gym-monitor: {monitor.handled} readings, {monitor.alerts_raised} alerts, "
            f"ignored {dict(monitor.ignored_total)}"
        )
