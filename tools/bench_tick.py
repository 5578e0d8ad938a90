"""Benchmark: how long one control tick takes against the simulated site over real Modbus TCP.

A tick = poll every device (real Modbus TCP on 127.0.0.1), build the state, safety,
policy, actuator writes, and record everything in the local store (SQLite WAL).
Time is a manual clock advanced 30 s per tick, so the plant moves as in a real run.

    .venv/bin/python tools/bench_tick.py [--site site_profiles/exmouth_pool.yaml] [--ticks 2000]
    .venv/bin/python tools/bench_tick.py --racks 48 --ticks 300     # a generated 48-rack site
    .venv/bin/python tools/bench_tick.py --racks 200 --ticks 100

``--racks N`` generates a site from the profile: N rack groups, each with its own rack
controller served over Modbus TCP (its own port, as rack controllers with their own
addresses would be), every device simulated. Prints the median, p90 and p99 tick
time, the process's peak memory and its CPU time per tick.
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
from thermalctl.config.loader import Site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.runtime.app import percentile
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.sim.site import SimulatedSite

REPO = Path(__file__).resolve().parents[1]


def with_racks(site: Site, racks: int) -> Site:
    """``site`` with ``racks`` copies of its first rack group, each behind its own rack
    controller (a copy of the first device that binds the group's signals)."""
    profile = site.profile
    template = profile.rack_groups[0]
    ctrl = next(d for d in profile.devices if any(a.startswith(f"rack.{template.id}.")
                                                  for a in d.actuators))
    groups, devices, maps = [], [d for d in profile.devices if d is not ctrl], dict(site.maps)
    for i in range(racks):
        gid = f"r{i:03d}"
        groups.append(template.model_copy(update={"id": gid}))
        rename = {k.replace(f"rack.{template.id}.", f"rack.{gid}."): v
                  for k, v in ctrl.signals.items()}
        acts = {k.replace(f"rack.{template.id}.", f"rack.{gid}."): v
                for k, v in ctrl.actuators.items()}
        dev = ctrl.model_copy(update={"id": f"{gid}_ctrl", "signals": rename, "actuators": acts,
                                      "port": 40000 + i,
                                      "bus": None})
        devices.append(dev)
        maps[dev.id] = site.maps[ctrl.id]
    limits = profile.limits.model_copy(update={"plausible_power_w": (-1e3, 1e9)})
    # The loop and its dry cooler grow with the racks, so the plant stays in its envelope
    # (no trips) and the tick does the same work as on a healthy site.
    loop = profile.heat_loop
    dry = loop.dry_cooler.model_copy(update={
        "ua_w_per_k": loop.dry_cooler.ua_w_per_k * racks,
        "air_flow_m3_per_s": loop.dry_cooler.air_flow_m3_per_s * racks,
        "rated_fan_power_w": loop.dry_cooler.rated_fan_power_w * racks})
    loop = loop.model_copy(update={"flow_m3_per_h": loop.flow_m3_per_h * racks,
                                   "volume_m3": loop.volume_m3 * racks, "dry_cooler": dry})
    new = profile.model_copy(update={"rack_groups": tuple(groups), "devices": tuple(devices),
                                     "limits": limits, "heat_loop": loop})
    return Site(new, maps, site.path)


async def bench(site_path: Path, ticks: int, racks: int | None = None) -> None:
    site = load_site(site_path)
    if racks:
        site = with_racks(site, racks)
    site = relocate_to_free_ports(site)
    now = [1_767_571_200.0]
    clock = lambda: now[0]  # noqa: E731
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "bench.sqlite")
        controller = Controller(site, store, BaselinePolicy(site.profile), clock)
        wall: list[float] = []
        cpu_s = 0.0
        for _ in range(ticks):
            now[0] += 30.0
            sim.sync()
            start = time.perf_counter()
            cpu0 = time.process_time()
            await controller.tick()
            wall.append((time.perf_counter() - start) * 1000.0)
            cpu_s += time.process_time() - cpu0
        await controller.close()
        await sim.stop()
        readings = store.count("readings")
        store.close()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n_groups = len(site.profile.rack_groups)
    print(f"site {site.profile.site.id} ({n_groups} rack groups, "
          f"{len(site.profile.devices)} Modbus devices): {ticks} ticks, {readings} readings stored")
    print(f"tick ms: median {statistics.median(wall):.2f}  p90 {percentile(wall, 90):.2f}  "
          f"p99 {percentile(wall, 99):.2f}  max {max(wall):.2f}")
    print(f"peak RSS {rss_mib:.0f} MiB; CPU per tick {cpu_s / ticks * 1e3:.2f} ms "
          "(controller and simulated devices share this process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--racks", type=int, default=None,
                        help="generate a site with this many rack groups and controllers")
    args = parser.parse_args()
    asyncio.run(bench(args.site, args.ticks, args.racks))


if __name__ == "__main__":
    main()
