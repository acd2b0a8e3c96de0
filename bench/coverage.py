"""The 15-minute coverage over the whole city (docs/city.md), on SQLite, in one process.

    .venv/bin/python bench/coverage.py [--centers 12600] [--cell 100] [--repeat 3]

A fresh SQLite database in a temporary folder: migrate, load-regions, `synth-city --centers
N` (12,600 synthetic centers), `synth-population --cell M` (a synthetic grid over the district
outlines, about 720,000 cells at 100 m). Then `city.coverage.compute()` as the page calls it:
every center, the elderly theme, canteens, and centers open at 20:00; wall and CPU seconds
each (best of --repeat). As a peer in the same run: one pass over the same cells in plain
NumPy (the distance from each cell to a fixed point), the floor of any per-cell computation.
Stops by itself; contacts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(args: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    from datetime import datetime

    import numpy as np
    from django.utils import timezone

    from doorstep.city import coverage
    from doorstep.city.models import Cell

    lat = np.array(list(Cell.objects.values_list("lat", flat=True)))
    lng = np.array(list(Cell.objects.values_list("lng", flat=True)))
    out: dict[str, object] = {"cells": int(lat.size)}
    evening = timezone.make_aware(datetime(2026, 12, 9, 20, 0))

    def best(fn) -> dict[str, float]:  # type: ignore[no-untyped-def]
        walls, cpus = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        return {"wall_s": round(min(walls), 4), "cpu_s": round(min(cpus), 4)}

    out["numpy_pass"] = best(
        lambda: np.hypot((lat - 31.2) * 111_320, (lng - 121.45) * 95_000).min()
    )
    runs = {
        "all_centers": {},
        "elderly": {"theme": "elderly"},
        "canteens": {"facility": "canteen"},
        "open_at_20": {"open_at": evening},
    }
    for name, kw in runs.items():
        out[name] = best(lambda kw=kw: coverage.compute(**kw))
        r = coverage.compute(**kw)
        city = r.city
        out[name]["share_15min"] = (
            round(city.within["15min"] / city.people, 4) if city.people else None
        )
        out[name]["centers_used"] = r.centers_used
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--centers", type=int, default=12600)
    p.add_argument("--cell", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(measure(args)))
        return 0
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="doorstep-coverage-") as data:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(DATA_DIR=data, DJANGO_SETTINGS_MODULE="doorstep.settings")
        doorstep = str(ROOT / ".venv" / "bin" / "doorstep")
        for cmd in (
            ["migrate", "-v", "0"],
            ["load-regions"],
            ["synth-city", "--centers", str(args.centers)],
            ["synth-population", "--cell", str(args.cell)],
        ):
            t0 = time.perf_counter()
            subprocess.run([doorstep, *cmd], env=env, check=True, capture_output=True)
            print(f"  {cmd[0]:<18} {time.perf_counter() - t0:6.1f} s", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--repeat", str(args.repeat)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(next(x for x in child.stdout.splitlines() if x.startswith("RESULT "))[7:])
    floor = result["numpy_pass"]["wall_s"] or 0.001
    for name in ("all_centers", "elderly", "canteens", "open_at_20"):
        r = result[name]
        print(
            f"  coverage {name:<12} {r['wall_s']:5.2f} s wall {r['cpu_s']:5.2f} s CPU "
            f"({r['wall_s'] / floor:,.0f}x one NumPy pass over the cells), {r['centers_used']} "
            f"centers, {result['cells']:,} cells, 15-min share {r['share_15min']}"
        )
    result["total_s"] = round(time.perf_counter() - began, 1)
    print("== JSON")
    print(json.dumps({"bench": "coverage", **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
