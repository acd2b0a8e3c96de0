"""Run by tests/core/test_replica.py in a fresh process against a real primary and replica.

    python tests/core/replica_probe.py PAIR_JSON

PAIR_JSON: {"root", "primary_port", "replica_port"} of a tests/pgpair.Pair whose primary has
doorstep migrated; DATABASE_URL and DATABASE_REPLICA_URL point at them. Each step prints one
JSON line {"step", ...what it saw}; which server answered is told by the data: the replica's
replay is paused, so a row written after that is only on the primary.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository (tests.*)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (pgpair)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from doorstep.centers.models import Center  # noqa: E402
from doorstep.centers.regions import load_regions  # noqa: E402
from doorstep.core import replica  # noqa: E402
from pgpair import Pair  # noqa: E402
from tests.factories import make_center  # noqa: E402


def say(step: str, **seen: object) -> None:
    print(json.dumps({"step": step, **seen}, ensure_ascii=False), flush=True)


def found(client: Client, name: str) -> bool:
    r = client.get("/api/v1/centers", {"q": name})
    assert r.status_code == 200, (r.status_code, r.content[:300])
    return any(c["name"] == name for c in r.json()["items"])


def replay(pair: Pair, action: str) -> None:
    with psycopg.connect(pair.replica_url, autocommit=True) as c:
        c.execute(f"SELECT pg_wal_replay_{action}()")


def main() -> None:
    spec = json.loads(sys.argv[1])
    pair = Pair(Path(spec["root"]), spec["primary_port"], spec["replica_port"])
    load_regions()
    make_center("复制甲党群服务站", district="长宁区")
    pair.wait_replayed()
    client = Client(HTTP_HOST="127.0.0.1")
    with replica.stale_reads():
        say("routing", stale=replica.read_alias(), lag=replica.health.lag)
    say("routing_plain", alias=replica.read_alias())
    say("first", found=found(client, "复制甲党群服务站"))

    replay(pair, "pause")
    make_center("复制乙党群服务站", district="长宁区")  # on the primary only, from now on
    with override_settings(REPLICA_MAX_LAG_SECONDS=60):
        replica.health.forget()
        say("stale", found=found(client, "复制乙党群服务站"), lag=replica.health.lag)
        with transaction.atomic(), replica.stale_reads():
            in_tx = Center.objects.filter(name="复制乙党群服务站").exists()
        say("in_transaction", found=in_tx)
        # The same person writes (any request that is not GET), then reads at once.
        writer = Client(HTTP_HOST="127.0.0.1")
        writer.post("/api/v1/centers", {})
        say(
            "writer_fresh",
            cookie=replica.FRESH_COOKIE in writer.cookies,
            found=found(writer, "复制乙党群服务站"),
            other=found(client, "复制乙党群服务站"),
        )
        time.sleep(replica.fresh_seconds() + 0.3)
        say("writer_later", found=found(writer, "复制乙党群服务站"))

    with override_settings(REPLICA_MAX_LAG_SECONDS=0.5):
        time.sleep(0.8)
        make_center("复制丙党群服务站", district="长宁区")
        replica.health.forget()
        say("lagging", found=found(client, "复制乙党群服务站"), lag=replica.health.lag)

    replay(pair, "resume")
    pair.wait_replayed()
    replica.health.forget()
    say("caught_up", found=found(client, "复制丙党群服务站"), lag=replica.health.lag)

    replay(pair, "pause")
    make_center("复制丁党群服务站", district="长宁区")
    pair.stop_replica()
    replica.health.forget()
    started = time.monotonic()
    say(
        "replica_stopped",
        found=found(client, "复制丁党群服务站"),
        seconds=round(time.monotonic() - started, 2),
        usable=replica.health.usable(),
    )
    pair.start_replica()  # replay resumes from its own WAL after a restart
    pair.wait_replayed()
    connections["replica"].close()
    replica.health.forget()
    say("replica_back", found=found(client, "复制丁党群服务站"), usable=replica.health.usable())


if __name__ == "__main__":
    main()
