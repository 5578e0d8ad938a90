"""Benchmark: how long one control tick takes against the simulated site over real Modbus TCP.

A tick = poll every device (real Modbus TCP on 127.0.0.1), build the state, safety,
policy, actuator writes, and record everything in the local store (SQLite WAL).
Time is a manual clock advanced 30 s per tick, so the plant moves as in a real run.

    .venv/bin/python tools/bench_tick.py [--site site_profiles/exmouth_pool.yaml] [--ticks 2000]

Prints the median, p90 and p99 tick time and the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.runtime.app import percentile
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.sim.site import SimulatedSite

REPO = Path(__file__).resolve().parents[1]


async def bench(site_path: Path, ticks: int) -> None:
    site = relocate_to_free_ports(load_site(site_path))
    now = [1_767_571_200.0]
    clock = lambda: now[0]  # noqa: E731
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "bench.sqlite")
        controller = Controller(site, store, BaselinePolicy(site.profile), clock)
        wall: list[float] = []
        for _ in range(ticks):
            now[0] += 30.0
            sim.sync()
            start = time.perf_counter()
            await controller.tick()
            wall.append((time.perf_counter() - start) * 1000.0)
        await controller.close()
        await sim.stop()
        readings = store.count("readings")
        store.close()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"site {site.profile.site.id}: {ticks} ticks, {readings} readings stored")
    print(f"tick ms: median {statistics.median(wall):.2f}  p90 {percentile(wall, 90):.2f}  "
          f"p99 {percentile(wall, 99):.2f}  max {max(wall):.2f}")
    print(f"peak RSS {rss_mib:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--ticks", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(bench(args.site, args.ticks))


if __name__ == "__main__":
    main()
