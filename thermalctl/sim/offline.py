"""Fast offline simulation: the plant and the control core in one loop, no network.

Every ``decide_period_s`` the plant's measurements become a
:class:`~thermalctl.control.state.SiteState` (quality GOOD) holding exactly the
signals the profile binds, each read the way its meter reads the plant
(:func:`thermalctl.sim.site.plant_signal`), and go through the same
:class:`~thermalctl.control.core.ControlCore` step as ``thermalctl run``: safety
interlocks, the trip latch and its hold, operator settings, the policy and its
fallback. The core's decision is applied to the plant (not in manual mode), and the
policy re-plans every ``plan_period_s``. The oracle policy reads the true future
through :class:`PlantFuture`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thermalctl.config.site import SiteProfile
from thermalctl.control import safety
from thermalctl.control.core import ControlCore, CoreMemory
from thermalctl.control.policies import PlanningPolicy, build_policy
from thermalctl.control.policy import BaselinePolicy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Decision, Mode, Quality, Reading
from thermalctl.sim.inputs import DrawShape, SyntheticWeather, Weather, Workload
from thermalctl.sim.plant import Plant
from thermalctl.sim.site import plant_signal

__all__ = ["OfflineResult", "PlantFuture", "plant_state", "simulate"]

#: Default re-plan period [s] (the planner's step).
PLAN_PERIOD_S = 900.0
#: Default fast-decision period offline [s]: 5 min keeps the loop feedback tight while a
#: simulated year stays at ~105k decisions.
DECIDE_PERIOD_S = 300.0


@dataclass(frozen=True)
class PlantFuture:
    """The plant's true inputs, for the oracle (implements ``FutureSource``)."""

    plant: Plant
    weather: Callable[[float], Weather]

    def ambient_c(self, time_s: float) -> float:
        return self.weather(time_s).temp_c

    def must_run_w(self, group_id: str, time_s: float) -> float:
        g = self.plant.profile.rack_group(group_id)
        must = self.plant.workloads[group_id].must_run_w(time_s)
        return min(g.idle_power_w + must, g.max_power_w)

    def arrivals_kwh(self, group_id: str, time_s: float, dt_s: float) -> float:
        return self.plant.workloads[group_id].arrivals_kwh(time_s, dt_s)

    def draw_m3_per_s(self, sink_id: str, time_s: float) -> float:
        sink = self.plant.profile.sink(sink_id)
        return self.plant.dhw_draw_m3_per_s(sink, time_s)  # type: ignore[arg-type]

    def queue_jobs(self, group_id: str) -> list[tuple[float, float]]:
        return [(j.arrived_s, j.remaining_kwh) for j in self.plant.queues[group_id]]


def measured_signals(profile: SiteProfile) -> frozenset[str]:
    """The signals the site measures: every device and MQTT sensor binding."""
    bound = {sig for d in profile.devices for sig in d.signals}
    bound |= {m.signal for m in profile.mqtt_sensors}
    return frozenset(bound) or frozenset(safety.CRITICAL_SIGNALS)


def plant_state(
    plant: Plant, state: SiteState | None = None, signals: frozenset[str] | None = None
) -> SiteState:
    """A SiteState of what the site's meters would read from the plant now.

    ``signals`` defaults to every signal the profile binds, so the offline core sees
    what the online controller sees over Modbus and MQTT (without register rounding).
    """
    now = plant.time_s
    names = measured_signals(plant.profile) if signals is None else signals
    st = state or SiteState(now_s=now)
    st.now_s = now
    readings: dict[str, Reading] = {}
    for sig in sorted(names):
        value = plant_signal(plant, sig)
        if value is not None:
            readings[sig] = Reading(sig, value, "", Quality.GOOD, now)
    st.readings = readings
    return st


@dataclass(frozen=True)
class OfflineResult:
    metrics: dict[str, Any]
    plant: Plant


def _apply(plant: Plant, decision: Decision) -> None:
    cmd = plant.commands
    cmd.gpu_power_cap_w.update(decision.gpu_power_cap_w)
    cmd.sink_heat_request_w.update(decision.sink_heat_request_w)
    cmd.dump_on = decision.dump_on
    cmd.dump_heat_request_w = decision.dump_heat_request_w


def simulate(
    profile: SiteProfile,
    policy_name: str,
    days: float,
    *,
    start_s: float = 0.0,
    weather: Callable[[float], Weather] | None = None,
    workloads: Mapping[str, Workload] | None = None,
    draw_shape: DrawShape | None = None,
    plan_period_s: float = PLAN_PERIOD_S,
    decide_period_s: float = DECIDE_PERIOD_S,
    backend: str = "auto",
    settings: OperatorSettings | None = None,
) -> OfflineResult:
    """Run ``policy_name`` through the control core on the simulated plant for ``days``."""
    wall_start = time.perf_counter()
    weather_fn = weather or SyntheticWeather.for_site(profile)
    plant = Plant(profile, start_s, workloads=workloads, draw_shape=draw_shape)
    plant.ambient = weather_fn(start_s)
    policy = build_policy(
        policy_name, profile, future=PlantFuture(plant, weather_fn), backend=backend
    )
    signals = measured_signals(profile)
    core = ControlCore(profile, policy, signals)
    memory = CoreMemory()
    operator = settings or OperatorSettings()
    end_s = start_s + days * 86_400.0
    next_plan = start_s
    state = plant_state(plant, signals=signals)
    trips = 0
    safe_decisions = 0
    while plant.time_s < end_s - 1e-6:
        state = plant_state(plant, state, signals)
        if plant.time_s >= next_plan - 1e-6:
            core.plan(state, operator)
            next_plan += plan_period_s
        step = core.step(state, operator, memory)
        if step.memory.latched and not memory.latched:
            trips += 1
        memory = step.memory
        if step.decision.mode is Mode.SAFE:
            safe_decisions += 1
        if step.decision.mode is not Mode.MANUAL:
            _apply(plant, step.decision)
        dt = min(decide_period_s, end_s - plant.time_s)
        plant.step(dt, weather_fn(plant.time_s))
    metrics = _metrics(plant, policy, days, trips, time.perf_counter() - wall_start)
    metrics["safe_decisions"] = safe_decisions
    return OfflineResult(metrics, plant)


def _metrics(
    plant: Plant,
    policy: PlanningPolicy | BaselinePolicy,
    days: float,
    trips: int,
    wall_s: float,
) -> dict[str, Any]:
    t = plant.totals
    reused = sum(t.sink_kwh.values())
    backup = sum(t.backup_kwh.values())
    it = t.it_kwh
    facility = t.facility_kwh
    residual = plant.balance_residual_kwh()
    solve = policy.stats.solve_ms if isinstance(policy, PlanningPolicy) else []
    out: dict[str, Any] = {
        "site": plant.profile.site.id,
        "policy": policy.name,
        "days": days,
        "it_energy_kwh": it,
        "facility_energy_kwh": facility,
        "reused_heat_kwh": reused,
        "dumped_heat_kwh": t.dumped_kwh,
        "backup_heat_kwh": backup,
        "energy_balance_residual_kwh": residual,
        "energy_balance_residual_fraction": abs(residual) / it if it > 0 else 0.0,
        "pue": facility / it if it > 0 else None,
        "erf": reused / facility if facility > 0 else None,
        "ere": (facility - reused) / it if it > 0 else None,
        "comfort_violation_kh": t.comfort_violation_kh,
        "sink_comfort_violation_kh": dict(t.sink_comfort_violation_kh),
        "deferred_work_late_kwh": t.deferred_late_kwh + plant.late_kwh(),
        "deferred_work_queued_kwh": sum(plant.queued_kwh(g.id) for g in plant.profile.rack_groups),
        "rack_limit_violations": t.rack_limit_violations,
        "safety_trips": trips,
        "solve_ms_median": statistics.median(solve) if solve else None,
        "solve_ms_p95": sorted(solve)[int(0.95 * (len(solve) - 1))] if solve else None,
        "plans": len(solve),
        "plan_failures": policy.stats.failures if isinstance(policy, PlanningPolicy) else 0,
        "fallback_decisions": (
            policy.stats.fallback_decisions if isinstance(policy, PlanningPolicy) else 0
        ),
        "wall_s": wall_s,
    }
    if isinstance(policy, PlanningPolicy):
        out["solver"] = policy.solver.name
    return out
