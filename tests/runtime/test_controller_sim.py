"""The controller against the simulated site over real Modbus TCP on 127.0.0.1.

Time is a manual clock the test advances, so nothing depends on wall-clock speed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE, ManualClock
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.points import Mode
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.sim.site import SimulatedSite


@dataclass
class Rig:
    clock: ManualClock
    sim: SimulatedSite
    controller: Controller
    store: LocalStore

    async def run(self, ticks: int, step_s: float = 30.0) -> None:
        for _ in range(ticks):
            self.clock.now += step_s
            self.sim.sync()
            await self.controller.tick()


async def _rig(site_path: Path, tmp_path: Path) -> AsyncIterator[Rig]:
    site = relocate_to_free_ports(load_site(site_path))
    clock = ManualClock()
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    store = LocalStore(tmp_path / "store.sqlite")
    controller = Controller(site, store, BaselinePolicy(site.profile), clock)
    try:
        yield Rig(clock, sim, controller, store)
    finally:
        await controller.close()
        await sim.stop()
        store.close()


@pytest.fixture
async def pool_rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for rig in _rig(POOL_SITE, tmp_path):
        yield rig


async def test_loop_runs_and_records_good_readings(pool_rig: Rig) -> None:
    await pool_rig.run(5)
    c = pool_rig.controller
    assert c.ticks == 5 and c.mode is Mode.AUTO
    assert not c.active_alarms
    supply = c.state.value("loop.supply_temp_c")
    assert supply == pytest.approx(pool_rig.sim.plant.supply_temp_c(), abs=0.1)  # 0.1 K register
    must = c.state.value("rack.pod.must_run_w")
    assert must is not None and 4_000.0 <= must <= 40_000.0  # idle .. max of the pod
    assert pool_rig.store.count("readings") > 0
    ledger = pool_rig.store.counters_frame()
    assert len(ledger) == 5 and ledger["it_kwh"].is_monotonic_increasing
    assert ledger["it_kwh"].iloc[-1] == pytest.approx(pool_rig.sim.plant.totals.it_kwh, rel=1e-3)


async def test_decisions_reach_the_simulated_devices(pool_rig: Rig) -> None:
    sim = pool_rig.sim
    sim.plant.sink_temp_c["pool"] = 31.0  # warm: the thermostat stops heating
    await pool_rig.run(2)
    sim.read_commands()
    assert sim.plant.commands.sink_heat_request_w["pool"] == 0.0
    sim.plant.sink_temp_c["pool"] = 28.0  # cold: heat goes to the pool
    await pool_rig.run(2)
    sim.read_commands()
    assert sim.plant.commands.sink_heat_request_w["pool"] == pytest.approx(80_000.0)
    assert sim.plant.commands.gpu_power_cap_w["pod"] == pytest.approx(40_000.0)


async def test_safety_trips_on_hot_coolant_and_caps_gpu_power(pool_rig: Rig) -> None:
    await pool_rig.run(2)
    pool_rig.sim.override("loop.supply_temp_c", 53.0)
    pool_rig.sim.override("ambient.temp_c", 42.0)
    await pool_rig.run(2)
    c = pool_rig.controller
    assert c.mode is Mode.SAFE
    assert "coolant.supply_trip" in c.active_alarms
    pool_rig.sim.read_commands()
    cap = pool_rig.sim.plant.commands.gpu_power_cap_w["pod"]
    assert cap < 40_000.0  # capped to what the dump can reject on a 42 degC day
    assert pool_rig.sim.plant.commands.dump_on
    assert any(row[1] == "coolant.supply_trip" for row in pool_rig.store.alarms())


async def test_safety_trips_when_a_device_goes_silent_and_recovers(pool_rig: Rig) -> None:
    await pool_rig.run(2)
    await pool_rig.sim.devices.stop_port("loop")
    stale_after = pool_rig.controller.profile.limits.stale_after_s
    await pool_rig.run(int(stale_after // 30) + 2)
    c = pool_rig.controller
    assert c.mode is Mode.SAFE
    assert "loop.supply_temp_c.stale" in c.active_alarms
    await pool_rig.sim.devices.start_port("loop")
    await pool_rig.run(12)  # 6 min > the 2 min hold after the trip clears
    assert "loop.supply_temp_c.stale" not in c.active_alarms
    assert c.mode is Mode.AUTO
    codes = [(row[1], row[4]) for row in pool_rig.store.alarms()]
    assert ("loop.supply_temp_c.stale", True) in codes and (
        "loop.supply_temp_c.stale",
        False,
    ) in codes


async def test_garbage_registers_never_crash_the_tick(pool_rig: Rig) -> None:
    pool_rig.sim.devices.set_fault("pod_ctrl", "garbage")
    await pool_rig.run(3)
    bad = pool_rig.store.readings_frame()
    pod = bad[bad["point"].str.startswith("pod_ctrl.")]
    assert (pod.tail(4)["quality"] == "bad").any()
    assert pool_rig.controller.ticks == 3


async def test_hotel_site_runs_with_two_groups_and_a_shared_gateway(tmp_path: Path) -> None:
    async for rig in _rig(HOTEL_SITE, tmp_path):
        await rig.run(4)
        assert rig.controller.mode is Mode.AUTO, rig.controller.active_alarms
        assert rig.controller.state.value("rack.infer.power_w") is not None
        assert rig.controller.state.value("sink.heating.energy_kwh") is not None
        mean = rig.controller.state.value("sink.dhw.mean_temp_c")
        assert mean == pytest.approx(rig.sim.plant.tank_mean_temp_c("dhw"), abs=0.1)


async def test_manual_mode_writes_nothing_but_safety_still_wins(pool_rig: Rig) -> None:
    c, sim = pool_rig.controller, pool_rig.sim
    await pool_rig.run(1)
    c.set_mode(Mode.MANUAL)
    sim.devices.set_value("pod_ctrl", "gpu_power_cap", 12_345.0)  # an operator's own setting
    await pool_rig.run(2)
    assert sim.devices.get_value("pod_ctrl", "gpu_power_cap") == pytest.approx(12_345.0)
    sim.override("loop.supply_temp_c", 53.0)
    sim.override("ambient.temp_c", 42.0)
    await pool_rig.run(1)
    assert c.mode is Mode.SAFE
    assert sim.devices.get_value("pod_ctrl", "gpu_power_cap") != pytest.approx(12_345.0)


async def test_operator_cap_override_limits_the_policy(pool_rig: Rig) -> None:
    pool_rig.controller.set_gpu_cap("pod", 20_000.0)
    await pool_rig.run(2)
    assert pool_rig.sim.devices.get_value("pod_ctrl", "gpu_power_cap") == pytest.approx(20_000.0)


class _BrokenPolicy(BaselinePolicy):
    def decide(self, state, settings):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug in a policy")


async def test_a_failing_policy_gives_safe_targets_and_the_tick_goes_on(pool_rig: Rig) -> None:
    c = pool_rig.controller
    await pool_rig.run(1)
    c.policy = _BrokenPolicy(c.profile)
    before = pool_rig.store.count("readings")
    await pool_rig.run(2)
    assert c.mode is Mode.SAFE
    assert "policy.failed" in c.active_alarms
    assert pool_rig.store.count("readings") > before  # telemetry keeps flowing
    assert c.last_decision is not None and c.last_decision.mode is Mode.SAFE
    c.policy = BaselinePolicy(c.profile)
    await pool_rig.run(1)  # no physical hazard behind it: back as soon as the policy works
    assert c.mode is Mode.AUTO and "policy.failed" not in c.active_alarms


async def test_supervisor_turns_a_crashing_tick_into_safe_mode_and_an_alarm(
    pool_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from thermalctl.runtime.app import Supervisor

    c = pool_rig.controller
    sup = Supervisor(c)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(c, "_record", broken)
    pool_rig.clock.now += 30.0
    pool_rig.sim.sync()
    await sup.fast()  # must not raise
    assert c.mode is Mode.SAFE and "fast" in sup.failing
    assert "runtime.fast" in c.runtime_alarms
    assert any(
        row[1] == "runtime.fast" and "disk full" in row[3] for row in pool_rig.store.alarms()
    )
    monkeypatch.undo()
    pool_rig.clock.now += 30.0
    await sup.fast()
    assert "fast" not in sup.failing and "runtime.fast" not in c.runtime_alarms


async def test_operator_safe_mode_is_never_released_by_the_controller(pool_rig: Rig) -> None:
    c = pool_rig.controller
    pool_rig.sim.override("loop.supply_temp_c", 53.0)
    await pool_rig.run(1)
    pool_rig.sim.clear_faults()
    await pool_rig.run(6)  # the trip clears and its hold runs out
    assert c.mode is Mode.AUTO
    c.set_mode(Mode.SAFE)
    await pool_rig.run(12)  # 6 min, far past any hold
    assert c.mode is Mode.SAFE
    assert c.last_decision is not None and c.last_decision.mode is Mode.SAFE
    c.set_mode(Mode.AUTO)
    await pool_rig.run(1)
    assert c.mode is Mode.AUTO


async def test_actuator_changed_behind_our_back_is_rewritten_at_once(pool_rig: Rig) -> None:
    await pool_rig.run(1)
    pool_rig.sim.devices.set_value("pod_ctrl", "gpu_power_cap", 7_000.0)  # rebooted to default
    await pool_rig.run(1)  # read back differs from what was written: rewrite now
    assert pool_rig.sim.devices.get_value("pod_ctrl", "gpu_power_cap") == pytest.approx(40_000.0)


async def test_operator_cap_override_holds_in_safe_mode_too(pool_rig: Rig) -> None:
    c = pool_rig.controller
    c.set_gpu_cap("pod", 5_000.0)
    pool_rig.sim.override("loop.supply_temp_c", 53.0)
    await pool_rig.run(1)
    assert c.mode is Mode.SAFE
    assert pool_rig.sim.devices.get_value("pod_ctrl", "gpu_power_cap") == pytest.approx(5_000.0)


async def test_a_dead_meter_is_a_gap_in_the_ledger_not_a_flat_line(pool_rig: Rig) -> None:
    await pool_rig.run(2)
    await pool_rig.sim.devices.stop_port("it_meter")
    await pool_rig.run(4)  # 2 min > stale_after_s
    await pool_rig.sim.devices.start_port("it_meter")
    await pool_rig.run(2)
    ledger = pool_rig.store.counters_frame()
    assert ledger["it_kwh"].isna().sum() >= 2
    assert ledger["it_kwh"].dropna().is_monotonic_increasing


async def test_mpc_plans_from_modbus_readings_and_routes_heat(pool_rig: Rig) -> None:
    from thermalctl.runtime.app import make_policy

    c = pool_rig.controller
    c.policy = make_policy("mpc", c.site)
    await pool_rig.run(1)
    c.plan()  # the slow job, on the snapshot of the last tick
    await pool_rig.run(2)
    d = c.last_decision
    assert d is not None and d.policy == "mpc"
    assert not d.reasons, d.reasons  # a plan, not the baseline fallback
    assert "policy.mpc" not in c.active_alarms


def test_counter_sum_survives_one_meter_replaced_and_ignores_a_glitch() -> None:
    from thermalctl.runtime.controller import CounterSum

    s = CounterSum()
    assert s.update([("a", 100.0), ("b", 40_000.0)]) == 40_100.0
    assert s.update([("a", 110.0), ("b", 40_010.0)]) == 40_120.0
    assert s.update([("a", 120.0), ("b", 0.0)]) is None  # a drop: unconfirmed yet
    assert s.update([("a", 130.0), ("b", 40_030.0)]) == 40_160.0  # it was a glitch
    assert s.update([("a", 140.0), ("b", 2.0)]) is None  # meter b replaced ...
    assert s.update([("a", 150.0), ("b", 5.0)]) == pytest.approx(150.0 + 40_030.0 + 5.0)
    assert s.update([("a", 160.0), ("b", None)]) is None  # a meter missing: no sum


async def test_a_critical_value_beyond_its_register_range_trips_in_the_same_tick(
    pool_rig: Rig,
) -> None:
    c = pool_rig.controller
    await pool_rig.run(1)
    pool_rig.sim.override("loop.supply_temp_c", 130.0)  # the loop map's register ends at 120
    await pool_rig.run(1)
    assert c.mode is Mode.SAFE
    assert "loop.supply_temp_c.implausible_high" in c.active_alarms


async def test_a_silent_rack_controller_raises_an_alarm_naming_it(pool_rig: Rig) -> None:
    c = pool_rig.controller
    await pool_rig.run(1)
    pool_rig.sim.devices.set_fault("pod_ctrl", "silent")
    await pool_rig.run(2)  # 60 s > stale_after_s (30 s)
    alarm = c.active_alarms.get("device.pod_ctrl.silent")
    assert alarm is not None and "rack.pod.coolant_out_temp_c" in alarm.message
    pool_rig.sim.devices.set_fault("pod_ctrl", "none")
    await pool_rig.run(1)
    assert "device.pod_ctrl.silent" not in c.active_alarms
