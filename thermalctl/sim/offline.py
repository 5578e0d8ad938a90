"""Fast offline simulation: the plant and a policy in one loop, no network.

The policy sees a :class:`~thermalctl.control.state.SiteState` built directly from
the plant's values (quality GOOD), re-plans every ``plan_period_s`` and decides every
``decide_period_s``; the safety interlocks run before every decision as on a real
site. The oracle policy reads the true future through :class:`PlantFuture`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thermalctl.config.site import SiteProfile
from thermalctl.control import safety
from thermalctl.control.policies import PlanningPolicy, build_policy
from thermalctl.control.policy import BaselinePolicy
from thermalctl.control.state import SiteState
from thermalctl.points import Decision, Quality, Reading
from thermalctl.sim.inputs import DrawShape, SyntheticWeather, Weather, Workload
from thermalctl.sim.plant import Plant

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


def plant_state(plant: Plant, state: SiteState | None = None) -> SiteState:
    """A SiteState with every signal the policies read, straight from the plant."""
    now = plant.time_s
    values: dict[str, float] = {
        "loop.supply_temp_c": plant.supply_temp_c(),
        "loop.return_temp_c": plant.return_temp_c(),
        "loop.flow_m3_per_s": plant.loop_flow_m3_per_s,
        "loop.heat_path_fault": float(plant.heat_path_fault),
        "ambient.temp_c": plant.ambient.temp_c,
        "dump.heat_w": plant.dump_heat_w,
    }
    for g in plant.profile.rack_groups:
        values[f"rack.{g.id}.power_w"] = plant.group_power_w[g.id]
        values[f"rack.{g.id}.queued_kwh"] = plant.queued_kwh(g.id)
        values[f"rack.{g.id}.coolant_out_temp_c"] = plant.return_temp_c()
        # What the workload scheduler reports as inference (must-run) load, idle included.
        values[f"rack.{g.id}.must_run_w"] = min(
            g.idle_power_w + plant.workloads[g.id].must_run_w(now), g.max_power_w
        )
    for s in plant.profile.sinks:
        values[f"sink.{s.id}.temp_c"] = plant.sink_temp_c[s.id]
        values[f"sink.{s.id}.heat_w"] = plant.sink_heat_w[s.id]
        if s.id in plant.tank_nodes_c:
            values[f"sink.{s.id}.mean_temp_c"] = plant.tank_mean_temp_c(s.id)
    st = state or SiteState(now_s=now)
    st.now_s = now
    st.readings = {
        sig: Reading(sig, v, "", Quality.GOOD, now) for sig, v in values.items()
    }
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
) -> OfflineResult:
    """Run ``policy_name`` on the simulated plant for ``days`` and return the metrics."""
    wall_start = time.perf_counter()
    weather_fn = weather or SyntheticWeather(profile.simulation)
    plant = Plant(profile, start_s, workloads=workloads, draw_shape=draw_shape)
    plant.ambient = weather_fn(start_s)
    policy = build_policy(
        policy_name, profile, future=PlantFuture(plant, weather_fn), backend=backend
    )
    bound = frozenset(sig for d in profile.devices for sig in d.signals) or frozenset(
        safety.CRITICAL_SIGNALS
    )
    end_s = start_s + days * 86_400.0
    next_plan = start_s
    state = plant_state(plant)
    trips = 0
    while plant.time_s < end_s - 1e-6:
        state = plant_state(plant, state)
        if plant.time_s >= next_plan - 1e-6:
            policy.plan(state)
            next_plan += plan_period_s
        verdict = safety.check(state, profile, bound)
        if verdict.trip:
            trips += 1
            decision = safety.safe_decision(state, profile, verdict)
        else:
            decision = policy.decide(state)
        _apply(plant, decision)
        dt = min(decide_period_s, end_s - plant.time_s)
        plant.step(dt, weather_fn(plant.time_s))
    return OfflineResult(_metrics(plant, policy, days, trips, time.perf_counter() - wall_start),
                         plant)


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
