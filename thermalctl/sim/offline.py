"""Fast offline simulation: the plant and the control core in one loop, no network.

Every ``decide_period_s`` the plant's measurements become a
:class:`~thermalctl.control.state.SiteState` (quality GOOD) holding exactly the
signals the profile binds, each read the way its meter reads the plant
(:func:`thermalctl.sim.site.plant_signal`), and go through the same
:class:`~thermalctl.control.core.ControlCore` step as ``thermalctl run``: safety
interlocks, the trip latch and its hold, operator settings, the policy and its
fallback. The core's decision is applied to the plant (not in manual mode), and the
policy re-plans every ``plan_period_s``. ``mpc_perfect`` (alias ``oracle``) reads the
true future through :class:`PlantFuture`.

``bound`` is not run as a controller: :func:`simulate` evaluates it once over the
whole run (:func:`thermalctl.control.bound.evaluate`) on the same inputs and reports
its figures under the same keys, with ``"kind": "bound"``.

Money and CO2 are booked as the plant runs, each decision interval at its own
time-of-use price (:mod:`thermalctl.sim.accounting`): electricity is the facility's
(inside the ISO/IEC 30134-2 boundary) plus heat-pump electricity (kept outside it, as
EnEfG leaves electricity used only to upgrade waste heat out of the PUE); fuel is
each sink's backup heat over its efficiency at its fuel's price. Work still queued at
the end is priced at the electricity it will take (``backlog_cost_eur``), so leaving
work for after the run is never cheaper than doing it. ``total_cost_eur`` is the sum.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thermalctl.config.site import SiteProfile
from thermalctl.control import safety
from thermalctl.control.core import ControlCore, CoreMemory
from thermalctl.control.policies import PlanningPolicy
from thermalctl.control.policy import Policy
from thermalctl.control.registry import build_policy, canonical
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.localtime import zone
from thermalctl.points import Decision, Mode, Quality, Reading
from thermalctl.sim.accounting import Ledger, plant_figures
from thermalctl.sim.inputs import DrawShape, SyntheticWeather, Weather, Workload
from thermalctl.sim.plant import Plant
from thermalctl.sim.site import plant_signal

__all__ = [
    "DECIDE_PERIOD_S",
    "PLAN_PERIOD_S",
    "OfflineResult",
    "PlantFuture",
    "Progress",
    "measured_signals",
    "plant_state",
    "simulate",
]

#: Default re-plan period [s] (the planner's step).
PLAN_PERIOD_S = 900.0
#: Default fast-decision period offline [s]: 5 min keeps the loop feedback tight while a
#: simulated year stays at ~105k decisions.
DECIDE_PERIOD_S = 300.0
#: Progress is reported at most this often [simulated s] (a day).
PROGRESS_EVERY_S = 86_400.0

#: Called with the share of the run done [0-1].
Progress = Callable[[float], None]


@dataclass(frozen=True)
class PlantFuture:
    """The plant's true inputs (implements ``FutureSource``): for ``mpc_perfect`` and the
    bound, never for ``mpc``."""

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
    """Figures of one run; ``plant`` is the stepped plant (``None`` for the bound)."""

    metrics: dict[str, Any]
    plant: Plant | None


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
    weather_source: str | None = None,
    workloads: Mapping[str, Workload] | None = None,
    draw_shape: DrawShape | None = None,
    plan_period_s: float = PLAN_PERIOD_S,
    decide_period_s: float = DECIDE_PERIOD_S,
    backend: str = "auto",
    settings: OperatorSettings | None = None,
    progress: Progress | None = None,
    recorder: Callable[[Plant], None] | None = None,
    policy_factory: Callable[[SiteProfile, PlantFuture], Policy] | None = None,
) -> OfflineResult:
    """Run ``policy_name`` through the control core on the simulated plant for ``days``
    (or evaluate the bound over them: see the module docstring).

    ``weather_source`` says where ``weather`` comes from (echoed in the figures; default
    ``"synthetic"`` with the profile's ``simulation`` settings); ``progress`` is called
    with the share done about once a simulated day; ``recorder`` (controllers only) is
    called with the plant after every plant step (e.g. to keep an hourly trace);
    ``policy_factory`` (controllers only) builds the controller from the profile and
    the run's true future instead of the registry, e.g. a planner with other settings
    or forecasters, for measurements (``policy_name``, a known name, is still the one
    the figures report).
    """
    wall_start = time.perf_counter()
    name = canonical(policy_name)
    weather_fn = weather or SyntheticWeather.for_site(profile)
    source = weather_source or ("synthetic" if weather is None else "given")
    echo = _echo(profile, policy_name, name, days, start_s, source)
    if name == "bound":
        from thermalctl.control import bound

        inputs = Plant(profile, start_s, workloads=workloads, draw_shape=draw_shape)
        figures = bound.evaluate(
            profile, PlantFuture(inputs, weather_fn), start_s, days, progress=progress
        )
        metrics = {**echo, **figures, "wall_s": time.perf_counter() - wall_start}
        return OfflineResult(metrics, None)

    plant = Plant(profile, start_s, workloads=workloads, draw_shape=draw_shape)
    plant.ambient = weather_fn(start_s)
    future = PlantFuture(plant, weather_fn)
    policy = (build_policy(name, profile, future=future, backend=backend)
              if policy_factory is None else policy_factory(profile, future))
    signals = measured_signals(profile)
    core = ControlCore(profile, policy, signals)
    memory = CoreMemory()
    operator = settings or OperatorSettings()
    ledger = Ledger(plant)
    end_s = start_s + days * 86_400.0
    next_plan = start_s
    next_progress = start_s + PROGRESS_EVERY_S
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
        dt_s = min(decide_period_s, end_s - plant.time_s)
        ledger.before_step()
        plant.step(dt_s, weather_fn(plant.time_s))
        ledger.after_step(dt_s)
        if recorder is not None:
            recorder(plant)
        if progress is not None and plant.time_s >= next_progress:
            progress((plant.time_s - start_s) / (end_s - start_s))
            next_progress += PROGRESS_EVERY_S
    metrics = {**echo, **_run_metrics(plant, policy, trips), **ledger.figures()}
    metrics["safe_decisions"] = safe_decisions
    metrics["wall_s"] = time.perf_counter() - wall_start
    return OfflineResult(metrics, plant)


def _echo(
    profile: SiteProfile, asked: str, name: str, days: float, start_s: float, weather: str
) -> dict[str, Any]:
    start = dt.datetime.fromtimestamp(start_s, tz=zone(profile.site.timezone))
    out: dict[str, Any] = {
        "site": profile.site.id,
        "policy": name,
        "kind": "bound" if name == "bound" else "controller",
        "start": start.isoformat(),
        "days": days,
        "weather": weather,
    }
    if asked != name:
        out["policy_alias"] = asked
    return out


def _run_metrics(plant: Plant, policy: Policy, trips: int) -> dict[str, Any]:
    planning = policy if isinstance(policy, PlanningPolicy) else None
    solve = planning.stats.solve_ms if planning is not None else []
    out: dict[str, Any] = {
        **plant_figures(plant),
        "safety_trips": trips,
        "solve_ms_median": statistics.median(solve) if solve else None,
        "solve_ms_p95": sorted(solve)[int(0.95 * (len(solve) - 1))] if solve else None,
        "plans": len(solve),
        "plan_failures": planning.stats.failures if planning is not None else 0,
        "fallback_decisions": planning.stats.fallback_decisions if planning is not None else 0,
    }
    if planning is not None:
        out["solver"] = planning.solver.name
        # Plans solved only on a retry (a hot start that ended without a verdict).
        out["plan_retries"] = dict(getattr(planning.solver, "retries", {}))
    return out
