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

By default the simulated devices run in this process, on the controller's event loop,
so a tick's time includes the devices answering it. ``--devices-process`` serves them
from a child process instead (as ``tools/serve_sim.py`` does; the plant there is
advanced in lock-step with the manual clock before each tick), so the figures are the
controller's own; ``--profile FILE`` writes a cProfile of the ticks (``python -m pstats
FILE``) to see where the controller's time goes.

    .venv/bin/python tools/bench_tick.py --racks 48 --ticks 300 --devices-process
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.loader import Site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.runtime.app import percentile
from thermalctl.runtime.controller import Controller
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


#: The manual clock's start: a Monday in January, 00:00 UTC.
START_S = 1_767_571_200.0
#: Simulated seconds per tick.
TICK_S = 30.0


def _site(site_path: Path, racks: int | None) -> Site:
    site = load_site(site_path)
    return with_racks(site, racks) if racks else site


def _relocated(site: Site) -> Site:
    """``site`` with every bus on its own free 127.0.0.1 port (devices sharing a gateway
    keep sharing it). The ports are held open together while they are chosen, so no two
    buses get the same one (``relocate_to_free_ports`` can repeat a port for 200 buses)."""
    buses = list(dict.fromkeys((d.host, d.port) for d in site.profile.devices))
    held = []
    try:
        for _ in buses:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind(("127.0.0.1", 0))
        port_of = {bus: int(s.getsockname()[1]) for bus, s in zip(buses, held, strict=True)}
    finally:
        for s in held:
            s.close()
    return _on_ports(site, {d.id: port_of[(d.host, d.port)] for d in site.profile.devices})


def _on_ports(site: Site, ports: dict[str, int]) -> Site:
    """``site`` with each device on 127.0.0.1 at ``ports[device id]``."""
    devices = tuple(d.model_copy(update={"host": "127.0.0.1", "port": ports[d.id]})
                    for d in site.profile.devices)
    return Site(site.profile.model_copy(update={"devices": devices}), site.maps, site.path)


async def serve_devices(site_path: Path, racks: int | None, ports: dict[str, int]) -> None:
    """Child process of ``--devices-process``: the simulated site on ``ports``; each line
    on stdin is the clock's new time: the plant is synced to it and ``ok`` answered."""
    now = [START_S]
    sim = SimulatedSite(_on_ports(_site(site_path, racks), ports), lambda: now[0])
    await sim.start()
    sim.initialise_actuators()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    try:
        while line := await reader.readline():
            now[0] = float(line)
            sim.sync()
            print("ok", flush=True)
    finally:
        await sim.stop()


class _ChildDevices:
    """The simulated devices in a child process, synced over its stdin/stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, site_path: Path, racks: int | None, site: Site) -> _ChildDevices:
        ports = {d.id: d.port for d in site.profile.devices}
        args = [sys.executable, __file__, "--site", str(site_path),
                "--serve-devices", json.dumps(ports)]
        if racks:
            args += ["--racks", str(racks)]
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        child = cls(proc)
        await child._expect(b"ready")
        return child

    async def _expect(self, word: bytes) -> None:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=120.0)
        if line.strip() != word:
            raise RuntimeError(f"device process said {line!r}, not {word!r}")

    async def sync(self, now_s: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{now_s!r}\n".encode())
        await self.proc.stdin.drain()
        await self._expect(b"ok")

    async def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=30.0)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def bench(
    site_path: Path,
    ticks: int,
    racks: int | None = None,
    *,
    devices_process: bool = False,
    profile_path: Path | None = None,
) -> None:
    site = _relocated(_site(site_path, racks))
    now = [START_S]
    clock = lambda: now[0]  # noqa: E731
    sim: SimulatedSite | None = None
    child: _ChildDevices | None = None
    if devices_process:
        child = await _ChildDevices.start(site_path, racks, site)
    else:
        sim = SimulatedSite(site, clock)
        await sim.start()
        sim.initialise_actuators()
    profiler = cProfile.Profile() if profile_path else None
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "bench.sqlite")
        controller = Controller(site, store, BaselinePolicy(site.profile), clock)
        wall: list[float] = []
        cpu_s = 0.0
        try:
            for _ in range(ticks):
                now[0] += TICK_S
                if sim is not None:
                    sim.sync()
                if child is not None:
                    await child.sync(now[0])
                start = time.perf_counter()
                cpu0 = time.process_time()
                if profiler is not None:
                    profiler.enable()
                await controller.tick()
                if profiler is not None:
                    profiler.disable()
                wall.append((time.perf_counter() - start) * 1000.0)
                cpu_s += time.process_time() - cpu0
        finally:
            await controller.close()
            if sim is not None:
                await sim.stop()
            if child is not None:
                await child.stop()
        readings = store.count("readings")
        store.close()
    if profiler is not None and profile_path is not None:
        profiler.dump_stats(str(profile_path))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n_groups = len(site.profile.rack_groups)
    where = ("devices served by a child process: the figures are the controller's own"
             if devices_process else "controller and simulated devices share this process")
    print(f"site {site.profile.site.id} ({n_groups} rack groups, "
          f"{len(site.profile.devices)} Modbus devices): {ticks} ticks, {readings} readings stored")
    print(f"tick ms: median {statistics.median(wall):.2f}  p90 {percentile(wall, 90):.2f}  "
          f"p99 {percentile(wall, 99):.2f}  max {max(wall):.2f}")
    print(f"peak RSS {rss_mib:.0f} MiB; CPU per tick {cpu_s / ticks * 1e3:.2f} ms ({where}); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--racks", type=int, default=None,
                        help="generate a site with this many rack groups and controllers")
    parser.add_argument("--devices-process", action="store_true",
                        help="serve the simulated devices from a child process")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="write a cProfile of the controller's ticks to FILE")
    parser.add_argument("--serve-devices", metavar="PORTS_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_devices:
        asyncio.run(serve_devices(args.site, args.racks, json.loads(args.serve_devices)))
        return
    asyncio.run(bench(args.site, args.ticks, args.racks, devices_process=args.devices_process,
                      profile_path=args.profile))


if __name__ == "__main__":
    main()
