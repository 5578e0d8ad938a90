"""One control core: the same scenario offline and over real Modbus TCP gives the same
decisions; the runtime around the core works on in-memory ports without sockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE, ManualClock
from thermalctl.adapters.ports import MemoryPort
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.loader import Site
from thermalctl.control.core import ControlCore, CoreMemory
from thermalctl.control.policies import build_policy
from thermalctl.points import Decision, Mode
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.sim.offline import measured_signals, plant_state
from thermalctl.sim.site import SimulatedSite

#: Register resolution of the shipped maps: 0.1 K for temperatures, 1 W for powers. A cap
#: or a heat request computed from rounded readings may differ by a few of those counts.
POWER_TOLERANCE_W = 50.0


def _same(online: Decision, offline: Decision) -> list[str]:
    diffs = []
    if online.mode is not offline.mode:
        diffs.append(f"mode {online.mode} != {offline.mode}")
    if online.policy != offline.policy:
        diffs.append(f"policy {online.policy} != {offline.policy}")
    if online.dump_on != offline.dump_on:
        diffs.append(f"dump_on {online.dump_on} != {offline.dump_on}")
    for name in ("gpu_power_cap_w", "sink_heat_request_w"):
        a, b = getattr(online, name), getattr(offline, name)
        if a.keys() != b.keys():
            diffs.append(f"{name} keys {sorted(a)} != {sorted(b)}")
            continue
        for key in a:
            if abs(a[key] - b[key]) > POWER_TOLERANCE_W:
                diffs.append(f"{name}[{key}] {a[key]:.1f} != {b[key]:.1f}")
    return diffs


@pytest.mark.integration
@pytest.mark.parametrize(
    ("site_path", "policy"),
    [(POOL_SITE, "baseline"), (POOL_SITE, "mpc"), (HOTEL_SITE, "baseline")],
    ids=["pool-thermostat", "pool-mpc", "hotel-thermostat"],
)
async def test_offline_and_modbus_runs_take_the_same_decisions(
    site_path: Path, policy: str, tmp_path: Path
) -> None:
    site = relocate_to_free_ports(load_site(site_path))
    profile = site.profile
    clock = ManualClock()
    sim = SimulatedSite(site, clock)
    # Start every sink half a kelvin below its set point: a thermostat exactly at its
    # threshold would flip on the 0.1 K register rounding alone.
    for sink in profile.sinks:
        temp = sink.setpoint_c - 0.5
        sim.plant.sink_temp_c[sink.id] = temp
        if sink.id in sim.plant.tank_nodes_c:
            sim.plant.tank_nodes_c[sink.id] = [temp] * len(sim.plant.tank_nodes_c[sink.id])
    await sim.start()
    sim.initialise_actuators()
    store = LocalStore(tmp_path / "store.sqlite")
    online = Controller(site, store, build_policy(policy, profile), clock)
    signals = measured_signals(profile)
    offline = ControlCore(profile, build_policy(policy, profile), signals)
    memory = CoreMemory()
    compared = 0
    try:
        for tick in range(40):
            clock.now += 60.0
            sim.sync()
            if tick == 20:  # a hot loop: both must trip and hold safe targets
                sim.plant.loop_temp_c = profile.limits.coolant_supply_trip_c + 3.0
                sim.publish()
            if tick == 30:
                online.set_gpu_cap(profile.rack_groups[0].id, 9_000.0)
            snapshot = plant_state(sim.plant, signals=signals)
            if tick % 15 == 0:
                await online.observe()
                online.plan()
                offline.plan(snapshot, online.settings)
            result = await online.tick()
            step = offline.step(snapshot, online.settings, memory)
            memory = step.memory
            diffs = _same(result.decision, step.decision)
            assert not diffs, f"tick {tick}: {diffs}"
            compared += 1
        assert online.memory.latched == memory.latched
    finally:
        await online.close()
        await sim.stop()
        store.close()
    assert compared == 40


# -- the runtime on in-memory ports ------------------------------------------------------
def _memory_site() -> tuple[Site, MemoryPort, MemoryPort]:
    site = load_site(POOL_SITE)
    loop = MemoryPort(
        "loop",
        values={
            "loop.supply_temp_c": 35.0,
            "loop.return_temp_c": 42.0,
            "sink.pool.temp_c": 29.0,
            "ambient.temp_c": 8.0,
            "it.energy_kwh": 100.0,
            "facility.energy_kwh": 110.0,
            "sink.pool.energy_kwh": 80.0,
        },
        writable=("sink.pool.heat_request_w", "dump.on"),
    )
    rack = MemoryPort(
        "rack", values={"rack.pod.power_w": 20_000.0}, writable=("rack.pod.gpu_power_cap_w",),
        poll_period_s=120.0,
    )
    return site, loop, rack


@pytest.fixture
async def memory_controller(tmp_path: Path) -> AsyncIterator[tuple[Controller, MemoryPort,
                                                                     MemoryPort, ManualClock]]:
    site, loop, rack = _memory_site()
    clock = ManualClock()
    store = LocalStore(tmp_path / "store.sqlite")
    c = Controller(site, store, build_policy("baseline", site.profile), clock, ports=[loop, rack])
    try:
        yield c, loop, rack, clock
    finally:
        await c.close()
        store.close()


async def test_each_port_is_polled_at_its_own_period(memory_controller) -> None:  # type: ignore[no-untyped-def]
    c, _loop, _rack, clock = memory_controller
    counts = []
    for _ in range(6):
        clock.now += 30.0
        readings = await c.observe()
        counts.append(sum(1 for r in readings if r.point.startswith("rack.")))
    # The rack is read every 120 s, the loop every tick.
    assert counts == [2, 0, 0, 0, 2, 0]


async def test_decisions_reach_the_ports_and_a_failed_write_is_an_alarm(memory_controller) -> None:  # type: ignore[no-untyped-def]
    c, loop, rack, clock = memory_controller
    clock.now += 1.0
    await c.tick()
    assert ("rack.pod.gpu_power_cap_w", 40_000.0) in rack.writes
    assert loop.values["sink.pool.heat_request_w"] > 0  # the pool is below its set point
    rack.fail_writes = True
    c.set_gpu_cap("pod", 10_000.0)
    clock.now += 1.0
    result = await c.tick()
    assert "actuator.rack.pod.gpu_power_cap_w" in [a.code for a in result.alarms]


async def test_dead_critical_device_trips_after_the_stale_limit(memory_controller) -> None:  # type: ignore[no-untyped-def]
    c, loop, _rack, clock = memory_controller
    clock.now += 1.0
    await c.tick()
    loop.fail_reads = True
    clock.now += 10.0
    assert (await c.tick()).decision.mode is Mode.AUTO  # one lost poll is not a trip
    clock.now += c.profile.limits.stale_after_s
    assert (await c.tick()).decision.mode is Mode.SAFE


async def test_operator_settings_survive_a_restart_within_the_profiles_bounds(
    tmp_path: Path,
) -> None:
    site, loop, rack = _memory_site()
    clock = ManualClock()
    path = tmp_path / "store.sqlite"
    with LocalStore(path) as store:
        c = Controller(site, store, build_policy("baseline", site.profile), clock,
                       ports=[loop, rack])
        c.set_mode(Mode.MANUAL)
        c.set_sink_setpoint("pool", 30.5)
        c.set_gpu_cap("pod", 12_000.0)
    with LocalStore(path) as store:
        again = Controller(site, store, build_policy("baseline", site.profile), clock,
                           ports=[loop, rack])
        assert again.requested_mode is Mode.MANUAL and again.mode is Mode.MANUAL
        assert again.settings.setpoint_c(site.profile.sink("pool")) == 30.5
        assert again.overrides == {"pod": 12_000.0}
    # A profile whose bounds changed drops what no longer fits (and keeps the rest).
    pool = site.profile.sink("pool")
    narrower = pool.model_copy(update={"band_high_c": 30.2})
    changed = Site(site.profile.model_copy(update={"sinks": (narrower,)}), site.maps)
    with LocalStore(path) as store:
        third = Controller(changed, store, build_policy("baseline", changed.profile), clock,
                           ports=[loop, rack])
        assert third.settings.sink_setpoint_c == {}
        assert third.overrides == {"pod": 12_000.0}
