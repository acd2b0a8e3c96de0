"""Reads by the replica rules (core/replica.py) against a real streaming replica.

A fresh primary and a `pg_basebackup` standby (tests/pgpair.py) on their own ports; doorstep
is migrated onto the primary and tests/core/replica_probe.py drives the directory API in
another process with DATABASE_URL and DATABASE_REPLICA_URL pointing at them. This runs in both
suite runs (SQLite and PostgreSQL): it needs PostgreSQL's server binaries, not the suite's
database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pgpair import Pair  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    pair = Pair.start()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": pair.url(pair.primary_port),
            "DATABASE_REPLICA_URL": pair.url(pair.replica_port),
            "DATA_DIR": str(tmp_path_factory.mktemp("replica-data")),
            "REPLICA_FRESH_SECONDS": "2",
            "REPLICA_CHECK_SECONDS": "0",
            "DIRECTORY_CACHE_SECONDS": "0",
        }
        env.pop("DATABASE_TEST_TEMPLATE", None)
        subprocess.run(
            [sys.executable, "-m", "doorstep.manage", "migrate", "-v", "0"],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        spec = json.dumps(
            {
                "root": str(pair.root),
                "primary_port": pair.primary_port,
                "replica_port": pair.replica_port,
            }
        )
        out = subprocess.run(
            [sys.executable, str(ROOT / "tests/core/replica_probe.py"), spec],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
        return {x["step"]: x for x in lines}
    finally:
        pair.stop()


def test_stale_tolerant_reads_go_to_the_replica(steps: dict[str, dict]) -> None:
    assert steps["routing"]["stale"] == "replica"
    assert steps["routing_plain"]["alias"] == "default"  # outside a marked read
    assert steps["first"]["found"] is True
    # Replay paused, a center written on the primary: the directory answers from the replica.
    assert steps["stale"]["found"] is False
    assert steps["stale"]["lag"] is not None and steps["stale"]["lag"] >= 0


def test_reads_in_a_transaction_go_to_the_primary(steps: dict[str, dict]) -> None:
    assert steps["in_transaction"]["found"] is True


def test_the_writer_reads_its_writes_for_a_few_seconds(steps: dict[str, dict]) -> None:
    s = steps["writer_fresh"]
    assert s["cookie"] is True
    assert s["found"] is True  # the person who wrote reads the primary
    assert s["other"] is False  # everybody else still reads the replica
    assert steps["writer_later"]["found"] is False  # the window has passed


def test_a_lagging_replica_is_not_read(steps: dict[str, dict]) -> None:
    s = steps["lagging"]
    assert s["lag"] > 0.5
    assert s["found"] is True  # from the primary
    c = steps["caught_up"]
    assert c["lag"] == 0 and c["found"] is True  # replay resumed: the replica again


def test_a_stopped_replica_falls_back_to_the_primary(steps: dict[str, dict]) -> None:
    s = steps["replica_stopped"]
    assert s["found"] is True
    assert s["usable"] is False
    assert s["seconds"] < 3
    back = steps["replica_back"]
    assert back["usable"] is True and back["found"] is True
