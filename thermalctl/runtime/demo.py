"""``thermalctl demo``: the simulated site and the controller together on loopback.

The simulator serves every device over real Modbus TCP on 127.0.0.1 (free ports
picked at start), the controller polls and writes them under APScheduler in
accelerated time, telemetry goes to the local store. No external service.

The demo's store is its own: ``var/demo-<site>.sqlite`` unless ``--store`` says
otherwise, marked ``simulated`` in its meta table and started afresh each time. The
demo only ever deletes a store that it wrote itself: a ``--store`` that holds measured
data (a real controller's, or one from before stores recorded their origin), or a file
that is not a thermalctl store, is refused with an error and left untouched. The
audit trail (``<store stem>.audit.jsonl``) goes and comes with the store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from thermalctl.adapters.audit import AuditTrail, audit_path_for
from thermalctl.adapters.store import SIMULATED, LocalStore, StoreLock, StoreRefused, store_origin
from thermalctl.config.loader import Site
from thermalctl.runtime.app import ScaledClock, make_policy, percentile, run_scheduler
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.paths import store_path
from thermalctl.runtime.reporting import write_report
from thermalctl.runtime.service import StoreUpkeep
from thermalctl.runtime.services import start_services
from thermalctl.sim.site import SimulatedSite

__all__ = [
    "DemoOptions",
    "default_demo_store",
    "free_port",
    "open_demo_store",
    "relocate_to_free_ports",
    "run_demo",
]

log = logging.getLogger(__name__)

DEMO_START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DemoOptions:
    hours: float = 24.0
    speed: float = 960.0
    fast_period_s: float = 60.0
    plan_period_s: float = 900.0
    policy: str = "mpc"
    store_path: Path | None = None
    start: dt.datetime = DEMO_START
    progress: bool = True
    report: bool = True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def relocate_to_free_ports(site: Site) -> Site:
    """The same site with every device on 127.0.0.1 and a free port (gateways kept shared)."""
    mapping: dict[tuple[str, int], int] = {}
    devices = []
    for dev in site.profile.devices:
        key = (dev.host, dev.port)
        if key not in mapping:
            mapping[key] = free_port()
        devices.append(dev.model_copy(update={"host": "127.0.0.1", "port": mapping[key]}))
    profile = site.profile.model_copy(update={"devices": tuple(devices)})
    return Site(profile, site.maps, site.path)


def default_demo_store(site_id: str) -> Path:
    """``<state dir>/demo-<site>.sqlite``: never the path ``thermalctl run`` uses by default."""
    return store_path(f"demo-{site_id}")


def open_demo_store(path: Path) -> LocalStore:
    """A fresh simulated store at ``path``, locked for this process.

    An existing store there is deleted (with its WAL and audit trail) only when it is
    a simulated one; anything else raises :class:`StoreRefused` and stays as it is.
    """
    lock = StoreLock(path).acquire()  # before looking: no other demo deletes under us
    try:
        origin = store_origin(path)
        if origin not in (None, SIMULATED):
            raise StoreRefused(
                f"local store {path} holds measured data (origin {origin}): a demo never "
                "touches a store it did not create; give it its own --store (default "
                "var/demo-<site>.sqlite)"
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        audit_path_for(path).unlink(missing_ok=True)
        return LocalStore(path, origin=SIMULATED, exclusive=lock)
    except BaseException:
        lock.release()
        raise


async def run_demo(site: Site, opts: DemoOptions) -> dict[str, Any]:
    """Run the demo and return its summary (the ``--json`` object)."""
    site = relocate_to_free_ports(site)
    store_path = opts.store_path or default_demo_store(site.profile.site.id)
    store = open_demo_store(store_path)
    clock = ScaledClock(opts.start.timestamp(), opts.speed)
    audit = AuditTrail(audit_path_for(store_path), store=store, clock=clock)
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    controller = Controller(site, store, make_policy(opts.policy, site), clock)
    controller.audit = audit
    services = await start_services(controller)
    upkeep = StoreUpkeep(site.profile, store, audit, clock, lambda: services.shipper is not None)
    audit.record("start", source="cli", site=site.profile.site.id, policy=opts.policy,
                 demo=True, store=str(store_path))
    end_s = opts.start.timestamp() + opts.hours * 3600.0
    next_report = [0.1]

    def progress() -> None:
        done = (clock() - opts.start.timestamp()) / (opts.hours * 3600.0)
        if opts.progress and done >= next_report[0]:
            hours = (clock() - opts.start.timestamp()) / 3600.0
            print(
                f"  {min(done, 1.0):4.0%} simulated {hours:5.1f} h,"
                f" {_sinks(sim)}, loop {sim.plant.loop_temp_c:.1f} degC,"
                f" mode {controller.mode.value}",
                file=sys.stderr,
                flush=True,
            )
            next_report[0] += 0.1

    try:
        sup = await run_scheduler(
            controller,
            speed=opts.speed,
            fast_period_s=opts.fast_period_s,
            plan_period_s=opts.plan_period_s,
            until=lambda: clock() >= end_s,
            extra_jobs=[(sim.sync, opts.fast_period_s / 2.0), *upkeep.jobs()],
            progress=progress,
        )
    finally:
        await services.stop()
        await controller.close()
        await sim.stop()
        await upkeep.finish()
    sim.sync()
    upkeep.seal()  # the days the demo completed
    audit.record("stop", source="cli", site=site.profile.site.id)
    audit.close()
    summary = summarise(sim, controller, sup.tick_wall_s, store, store_path)
    summary["audit"] = str(audit.path)
    if opts.report:
        start = pd.Timestamp(opts.start)
        files = write_report(site.profile, store, start, start + pd.Timedelta(hours=opts.hours))
        summary["report"] = str(files.pdf)
    store.close()
    return summary


def _sinks(sim: SimulatedSite) -> str:
    return ", ".join(f"{k} {v:.1f} degC" for k, v in sim.plant.sink_temp_c.items())


def summarise(
    sim: SimulatedSite,
    controller: Controller,
    tick_wall_s: list[float],
    store: LocalStore,
    store_path: Path,
) -> dict[str, Any]:
    t = sim.plant.totals
    it = t.it_kwh
    facility = t.facility_kwh
    reused = sum(t.sink_kwh.values())
    pue = facility / it if it > 0 else math.nan
    erf = reused / facility if facility > 0 else math.nan
    raised = sorted({row[1] for row in store.alarms() if row[4]})
    ms = [x * 1000.0 for x in tick_wall_s]
    return {
        "site": controller.profile.site.id,
        "policy": controller.policy.name,
        "simulated_hours": round((sim.plant.time_s - sim.start_s) / 3600.0, 3),
        "it_energy_kwh": round(it, 3),
        "facility_energy_kwh": round(facility, 3),
        "reused_heat_kwh": round(reused, 3),
        "dumped_heat_kwh": round(t.dumped_kwh, 3),
        "backup_heat_kwh": round(sum(t.backup_kwh.values()), 3),
        "energy_balance_residual_kwh": round(sim.plant.balance_residual_kwh(), 6),
        "pue": round(pue, 4),
        "erf": round(erf, 4),
        "ere": round((facility - reused) / it, 4) if it > 0 else None,
        "comfort_violation_kh": round(t.comfort_violation_kh, 3),
        "sink_temp_c": {k: round(v, 2) for k, v in sim.plant.sink_temp_c.items()},
        "alarms": raised,
        "mode": controller.mode.value,
        "ticks": controller.ticks,
        "tick_ms_median": round(percentile(ms, 50), 2),
        "tick_ms_p99": round(percentile(ms, 99), 2),
        "readings_stored": store.count("readings"),
        "store": str(store_path),
    }


def run_demo_sync(site: Site, opts: DemoOptions) -> dict[str, Any]:
    return asyncio.run(run_demo(site, opts))
