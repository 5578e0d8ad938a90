"""Planning policies: ``mpc`` (forecasts from the past) and ``oracle`` (the true future).

Both solve the same programme (:mod:`thermalctl.control.planner`) on the slow job and
turn the current plan step into a :class:`~thermalctl.points.Decision` on the fast
job, with local feedback so the sinks stay in band when the plan is off:

* power cap per rack group = must-run power now + planned deferrable power (the
  racks never cut must-run load whatever the cap says);
* heat request per sink = planned heat + a share of any captured heat the plan did
  not expect (measured capture above plan, or the loop running warm); full heat when
  a sink is below its backup point, none when it is at the top of its band;
* the dump is enabled when the plan dumps, when every sink is full, or when the loop
  comes within :data:`DUMP_ANTICIPATION_K` of the highest temperature the planner
  allows, or would come there before the next decision at its present rate of rise
  (:class:`~thermalctl.control.policy.CeilingGuard`, with hysteresis); then with at
  least a guard-only duty, so the dry cooler's own controller holds the loop just below
  the racks' inlet limit rather than cooling it to the supply set point, and with the
  heat the sinks do not take (captured heat at the caps set, less what the sinks take)
  once the loop is at that maximum or would be before the next decision.

An infeasible or failed solve, or a state the planner cannot use, never stops the
loop: :meth:`PlanningPolicy.decide` falls back to the baseline thermostat and says
why in ``Decision.reasons`` (the controller raises it as an alarm).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field

import numpy as np

from thermalctl.config.site import SiteProfile
from thermalctl.control import planner
from thermalctl.control.forecast import Forecaster, time_of_use_price
from thermalctl.control.policy import (
    BaselinePolicy,
    CeilingGuard,
    heating_allowed,
    surplus_heat_w,
)
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import AMBIENT_TEMP_C
from thermalctl.points import Decision, Mode

__all__ = ["PlanningPolicy", "PolicyStats", "build_policy"]

log = logging.getLogger(__name__)

#: A sink counts as full this close to the top of its band [K].
SINK_FULL_MARGIN_K = 0.2
#: Loop feedback: extra heat request per kelvin the supply runs above (loop max - 2 K) [W/K].
LOOP_FEEDBACK_W_PER_K = 5000.0
#: The loop feedback starts this far below the planner's loop maximum [K].
LOOP_FEEDBACK_BAND_K = 2.0
#: Once opened by a hot loop, the dump stays enabled until the loop is this much cooler [K].
DUMP_HYSTERESIS_K = 3.0
#: Planned dump below this is treated as none [W].
DUMP_MIN_W = 500.0
#: The dry cooler is enabled this far below the planner's loop maximum [K]: the loop can
#: rise about 2 K between two fast decisions offline (5 min) when no sink takes the heat.
DUMP_ANTICIPATION_K = 1.5
#: A duty request this small asks the dry cooler's own controller only for its guard
#: below the racks' inlet limit (duty mode), not for the supply set point [W].
GUARD_ONLY_REQUEST_W = 1.0
#: A plan older than this many steps is not used [-] (the plan job has stopped).
MAX_PLAN_AGE_STEPS = 4


@dataclass
class PolicyStats:
    solve_ms: list[float] = field(default_factory=list)
    plans: int = 0
    failures: int = 0
    fallback_decisions: int = 0
    last_reason: str = ""


class PlanningPolicy:
    """Plan with the LP on :meth:`plan`; follow the plan with feedback on :meth:`decide`."""

    def __init__(
        self,
        name: str,
        profile: SiteProfile,
        forecaster: Forecaster,
        settings: planner.PlannerSettings | None = None,
        backend: str = "auto",
    ) -> None:
        self.name = name
        self.profile = profile
        self.forecaster = forecaster
        self.model = planner.build(profile, settings)
        self.settings = self.model.settings
        self.sink_models = self.model.sink_models
        self.solver = planner.make_solver(self.model, backend)
        self.baseline = BaselinePolicy(profile)
        self.current: planner.Plan | None = None
        self.stats = PolicyStats()
        self._reason = "no plan yet"
        #: The dry cooler's high limit, :data:`DUMP_ANTICIPATION_K` below the loop's
        #: maximum, with the thermostat's anticipator of the loop's rise.
        self.guard = CeilingGuard(
            self.model.loop_max_c - DUMP_ANTICIPATION_K, hysteresis_k=DUMP_HYSTERESIS_K)
        self._must_forecast: dict[str, np.ndarray] = {}

    # -- slow job ------------------------------------------------------------------
    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        step = self.settings.step_s
        start = math.floor(state.now_s / step + 1e-9) * step
        self.stats.plans += 1
        inputs = self._inputs(state, settings, start)
        if isinstance(inputs, str):
            self._fail(inputs)
            return
        data = planner.update(self.model, inputs)
        try:
            result = self.solver.solve(data)
        except (ValueError, RuntimeError, ArithmeticError) as exc:
            self._fail(f"solver error: {exc}")
            return
        self.stats.solve_ms.append(result.solve_ms)
        if not result.ok:
            self._fail(f"plan not solved ({result.status})")
            return
        self.current = planner.extract(self.model, inputs, result)
        self._must_forecast = {k: np.asarray(v) for k, v in inputs.must_run_w.items()}
        if self._reason:
            log.info("%s: planning recovered", self.name)
        self._reason = ""

    def _fail(self, reason: str) -> None:
        if not self._reason or self._reason == "no plan yet":
            log.warning("%s: %s; falling back to the baseline thermostat", self.name, reason)
        self.stats.failures += 1
        self.current = None
        self._reason = reason

    def _inputs(
        self, state: SiteState, settings: OperatorSettings, start_s: float
    ) -> planner.PlanInputs | str:
        p = self.profile
        s = self.settings
        n = s.horizon_steps
        stale = p.limits.stale_after_s
        temps: dict[str, float] = {}
        top_above_mean: dict[str, float] = {}
        for sink_id, model in self.sink_models.items():
            value = state.value(f"sink.{sink_id}.temp_c", stale)
            if value is None:
                return f"sink.{sink_id}.temp_c unusable"
            temps[sink_id] = value
            mean = state.value(f"sink.{sink_id}.mean_temp_c", stale)
            if model.stratified and mean is not None and math.isfinite(mean):
                # Plan a stratified tank on its stored heat (energy-mean temperature),
                # not on its top: see thermalctl.control.planner.update, Notes.
                temps[sink_id] = mean
                top_above_mean[sink_id] = max(0.0, value - mean)
        fc = self.forecaster.forecast(state, settings, start_s, s.step_s, n)
        mids = (start_s + s.step_s * (np.arange(n) + 0.5)).astype(np.float64)
        losses = fc.sink_loss_w
        draw_w_per_k = {
            sink_id: model.draw_w_per_k(fc.draw_m3_per_s[sink_id])
            for sink_id, model in self.sink_models.items()
            if model.has_draws
        }
        inputs = planner.PlanInputs(
            start_s=start_s,
            sink_temp_c=temps,
            queue_kwh=fc.queue_kwh,
            queue_due_kwh=fc.queue_due_kwh,
            must_run_w=fc.must_run_w,
            arrivals_kwh=fc.arrivals_kwh,
            ambient_c=fc.ambient_c,
            sink_loss_w=losses,
            draw_w_per_k=draw_w_per_k,
            price_eur_per_kwh=time_of_use_price(p.prices, mids, p.site.timezone),
            tank_top_above_mean_k=top_above_mean,
            setpoint_c={sink.id: settings.setpoint_c(sink) for sink in p.sinks},
            loop_supply_temp_c=state.value("loop.supply_temp_c", stale),
        )
        arrays = [fc.ambient_c, *fc.must_run_w.values(), *fc.arrivals_kwh.values()]
        arrays += [a for pair in losses.values() for a in pair]
        if not all(np.all(np.isfinite(a)) for a in arrays) or not all(
            math.isfinite(v) for v in (*temps.values(), *fc.queue_kwh.values())
        ):
            return "forecast or state not finite"
        return inputs

    # -- fast job ------------------------------------------------------------------
    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        self.forecaster.observe(state)
        plan = self.current
        k = None if plan is None else plan.step_index(state.now_s)
        if plan is None or k is None or k >= MAX_PLAN_AGE_STEPS:
            return self._fallback(state, settings, self._reason or "plan expired")
        p = self.profile
        stale = p.limits.stale_after_s
        temps = {s.id: state.value(f"sink.{s.id}.temp_c", stale) for s in p.sinks}
        supply = state.value("loop.supply_temp_c", stale)
        if supply is None or any(t is None for t in temps.values()):
            return self._fallback(state, settings, "sink or loop temperature unusable")

        caps: dict[str, float] = {}
        captured_w = 0.0
        for g in p.rack_groups:
            must = state.value(f"rack.{g.id}.must_run_w", stale)
            if must is None:  # stale: the forecast, never below the last measurement
                last = state.value(f"rack.{g.id}.must_run_w")  # any age, as in safe mode
                must = max(float(self._must_forecast[g.id][k]), last or 0.0)
            cap = must + float(plan.deferrable_w[g.id][k])
            caps[g.id] = min(g.max_power_w, max(g.min_cap_w, cap))
            captured_w += g.capture_fraction * state.value_or(f"rack.{g.id}.power_w", 0.0, stale)

        planned_dump = float(plan.dump_w[k])
        planned = {s.id: float(plan.sink_heat_w[s.id][k]) for s in p.sinks}
        loop_max = self.model.loop_max_c
        surplus = max(0.0, captured_w - sum(planned.values()) - planned_dump)
        surplus += LOOP_FEEDBACK_W_PER_K * max(0.0, supply - (loop_max - LOOP_FEEDBACK_BAND_K))
        models = self.sink_models
        lows = {s.id: models[s.id].feedback_low_c(settings.setpoint_c(s)) for s in p.sinks}
        below = {s.id for s in p.sinks if (temps[s.id] or 0.0) < lows[s.id]}
        # A sink whose backup does not heat it (hot water: the boiler only tops up draws)
        # goes first when it is low. Pools and buildings below their backup point are
        # held by that backup.
        needy = {
            sink_id for sink_id in below if not models[sink_id].backup_heats_sink
        } or below
        open_sinks = [
            s
            for s in p.sinks
            if (temps[s.id] or 0.0) < s.band_high_c - SINK_FULL_MARGIN_K
            and (not needy or s.id in needy)
        ]
        weight = sum(s.max_heat_w for s in open_sinks)
        requests: dict[str, float] = {}
        for s in p.sinks:
            temp = temps[s.id] or 0.0
            request = planned[s.id]
            if s in open_sinks and weight > 0:
                request += surplus * s.max_heat_w / weight
            if s.id in needy:
                # Below its backup point / comfort band: take all it can; the others keep
                # to the plan so the shared loop stays warm enough to reach this sink.
                request = s.max_heat_w
            if temp >= s.band_high_c:
                request = 0.0
            requests[s.id] = min(s.max_heat_w, max(0.0, request))

        hot = self.guard.hot(state.now_s, supply)
        dump_on = planned_dump > DUMP_MIN_W or hot or not open_sinks
        if dump_on:
            # Heat goes to the dry cooler: every sink that can still take heat is asked
            # for all it can take first (the plan's linear exchangers and circuits may
            # think it full; the plant gives what the exchanger and the circuit pass).
            # Dumping while a sink had headroom and its backup fired broke the contest's
            # invariant on the residential block in January. The cooler keeps its duty:
            # asked only for its guard it let the loop overshoot the racks' limit.
            outdoor = state.value(AMBIENT_TEMP_C, stale)
            takers = [s for s in p.sinks
                      if (temps[s.id] or 0.0) < s.band_high_c - SINK_FULL_MARGIN_K
                      and heating_allowed(s, outdoor)]
            for s in takers:
                requests[s.id] = s.max_heat_w
        if hot and planned_dump <= DUMP_MIN_W:
            # Keep the loop as warm as the racks allow: the cooler's guard only.
            planned_dump = GUARD_ONLY_REQUEST_W
        surplus_w = surplus_heat_w(state, p, caps)
        # The loop's rise before the next decision: as over the last interval, or as the
        # heat the sinks and the planned dump leave at the caps just set would raise it.
        expected_k = max(self.guard.rise_k, (surplus_w - planned_dump) * self.guard.interval_s
                         / self.model.site.loop.capacity_j_per_k)
        if supply + expected_k >= loop_max:
            # At the loop's maximum, or there before the next decision: the cooler takes
            # at least what the sinks do not, the captured heat at the caps just set less
            # what the sinks take now (the thermostat's feed-forward). A plan's dump is a
            # step's mean; when the racks step up and the sinks take less than planned,
            # the cooler's own guard alone let the loop pass the racks' inlet limit.
            planned_dump = max(planned_dump, surplus_w)
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w=caps,
            sink_heat_request_w=requests,
            dump_on=dump_on,
            dump_heat_request_w=planned_dump,
            backup_heat_w={s.id: float(plan.backup_w[s.id][k]) for s in p.sinks},
        )

    def _fallback(self, state: SiteState, settings: OperatorSettings, reason: str) -> Decision:
        self.stats.fallback_decisions += 1
        self.stats.last_reason = reason
        base = self.baseline.decide(state, settings)
        return dataclasses.replace(
            base, policy=self.name, reasons=(*base.reasons, f"{reason}: baseline thermostat")
        )


# Policy construction lives in one place, covering every name (thermostat, rules, mpc,
# mpc_perfect, bound and the aliases): re-exported here for existing callers.
from thermalctl.control.registry import build_policy  # noqa: E402
