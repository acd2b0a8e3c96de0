"""doorstep gym-simulate --center ID --bands 20 [--seconds 600] [--anomaly LABEL:KIND@SECOND]:
synthetic heart-rate readings over MQTT for the demo, the tests and the benchmark (docs/gym.md).

With --start-sessions it first makes synthetic bands, members and sessions at the center
(labelled synthetic); then each band publishes once a second: warm-up, exercise, rest, with
occasional dropouts; --anomaly forces one (high, low, sudden, dropout, button, battery) on a
band at a second of the run."""

from __future__ import annotations

import json
import math
import os
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Publish synthetic heart-rate readings over MQTT (labelled synthetic)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--center", type=int, required=True)
        parser.add_argument("--bands", type=int, default=20)
        parser.add_argument("--seconds", type=float, default=600)
        parser.add_argument("--host", default=os.environ.get("MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MQTT_PORT", "1883")))
        parser.add_argument("--start-sessions", action="store_true")
        parser.add_argument("--anomaly", action="append", default=[], help="LABEL:KIND@SECOND")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        import paho.mqtt.client as mqtt

        from doorstep.gym.simulate import ensure_sessions, reading

        center = options["center"]
        bands = ensure_sessions(center, options["bands"]) if options["start_sessions"] else None
        if bands is None:
            from doorstep.gym.models import Session

            bands = list(
                Session.objects.filter(center_id=center, ended_at__isnull=True).values_list(
                    "band__band_id", "band__label"
                )[: options["bands"]]
            )
        if not bands:
            raise CommandError("no band is in a session at that center (use --start-sessions)")
        anomalies: dict[tuple[str, int], str] = {}
        for spec in options["anomaly"]:
            label, _sep, rest = spec.partition(":")
            kind, _sep, second = rest.partition("@")
            anomalies[(label, int(second or 0))] = kind
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect(options["host"], options["port"], keepalive=30)
        client.loop_start()
        rng = random.Random(options["seed"])
        phase = {b: rng.uniform(0, math.pi * 2) for b, _l in bands}
        start = time.time()
        second = 0
        try:
            while time.time() - start < options["seconds"]:
                for band_id, label in bands:
                    kind = anomalies.get((label, second)) or anomalies.get((label, -1))
                    payload = reading(band_id, second, phase[band_id], rng, kind)
                    if payload is not None:
                        client.publish(
                            f"doorstep/{center}/hr/{band_id}", json.dumps(payload), qos=0
                        )
                second += 1
                time.sleep(max(0.0, start + second - time.time()))
        finally:
            client.loop_stop()
            client.disconnect()
            connection.close()  # the thread's own, when run in a thread
