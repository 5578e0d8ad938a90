"""``bound``: a lower bound on every policy's cost and backup heat, on this plant with
these inputs.

It is the perfect-foresight optimum, over the whole run at once (not a receding
horizon), of a **relaxation** of the plant: a linear programme solved once with HiGHS
(:func:`scipy.optimize.linprog`). It is evaluated, not run as a controller:
``thermalctl simulate --policy bound`` reports its figures under the same keys as a
controller's (``"kind": "bound"``).

Why it is a bound
-----------------
Call a trajectory of the real plant (:class:`thermalctl.sim.plant.Plant` stepped by any
policy through the control core, with the run's weather, workload and draws)
*admissible* when it keeps the contest's invariants: deferred work done by its
deadline (work not yet due may stay queued at the end), hot-water legionella cycles
done on the day they are due, rack coolant within its limits (plus the plant's
0.25 K sensor tolerance) and, for sinks whose comfort counts, no more time outside the
comfort band than the invariant tolerates. The argument, step by step:

1. **Every admissible trajectory maps to a feasible point of the LP.** Take, for each
   step ``k`` of ``step_s`` (15 min), the step averages of every power (deferrable
   power ``P``, heat taken from the loop ``X``, heat into each sink ``Q``, backup
   ``BK``, dump ``D``, heat-pump electricity ``W``, losses) and the states at the step
   boundaries (backlog, sink temperatures, loop energy). Each constraint below holds
   for those values:

   a. *Loop energy* (an identity integrated over the step): ``S_k - S_{k-1} = dt
      (captured - sum X - D - loss)``, ``S`` the loop's heat between the coldest and
      the hottest water the loop can hold (no element cools water below the coldest
      reservoir it touches: outdoor air, plant room, mains, an evaporator; none heats
      it above the racks' outlet limit). The pipe loss is at least its value with the
      loop at that coldest temperature. Fan energy is dropped (>= 0).
   b. *Exchanger duties* (effectiveness-NTU, linear in the inlet temperatures at the
      loop's fixed flows): the first exchanger's hot inlet is the mixed rack outlet,
      at most the highest outlet limit and at most the inlet limit plus the captured
      heat's rise; in series each next one's hot inlet is lower by the heat taken
      before it over the loop's capacity rate, in parallel every branch sees the rack
      outlet. The cold inlet is at least: the sink's own temperature (a pool), its
      heating curve's return (a building), the mains (a tank's coil: no water in a
      tank is colder), the refrigerant's evaporating temperature (a heat pump). Each
      cap is linear and holds for step averages because it holds at every instant.
   c. *Sink as a storage node* (a pool): ``C (T_k - T_{k-1}) = dt (Q + BK - L)``
      exactly; the average loss ``L`` is at least the convex lower envelope ``phi``
      of the plant's own loss lines at the step-average temperature ``T̄`` (Jensen),
      where the envelope is checked against the plant's loss (the line at the
      temperature rounded to 0.1 K) on every 0.1 K cell and lowered by any excess;
      ``T̄`` lies within ``r dt`` of both ends (``r`` the largest rate of change the
      sink's heat rates allow). The sink never falls below its backup thermostat's
      full-output point (its backup out-heats its largest loss there) and never above
      its comfort band by more than the tolerance allows. The backup is free (>= 0):
      relaxing the thermostat's law only enlarges the set.
   d. *Sink with a fixed draw* (a building on a weather-compensated curve): loop heat
      only displaces the boiler's share of what the circuit draws (``backup = draw -
      Q``), so the room follows the same trajectory whatever the policy does; the run
      checks this by stepping the model with no loop heat and with all it could take
      (identical temperatures at every step, backup never at its limit). Then ``Q <=``
      the average demand cap and ``BK >= draw - Q`` with ``draw`` exogenous.
   e. *Preheat tank* (energy only, stratification relaxed): ``C (T_k - T_{k-1}) = dt
      (Q + BKleg - Dout - UA (T - T_room))`` with ``T`` the energy mean; draws leave
      at the top, never colder than the mean nor hotter than the hottest water, so
      ``Dout`` lies between those; the heater downstream adds ``BKtop >= draw
      (T_draw - T_mains) - Dout + circulation``. A legionella cycle must bring every
      node to 60 degC: the heat above the loop's hottest water ``L_hot`` can only come
      from the backup and drains at least at the rate the draws replace the tank
      (``H_k <= e^{-a_k} H_{k-1} + dt BKleg_k``), so the cycle of each due day needs
      ``H at the start hour + dt sum BKleg over the rest of the day >= C (59.9 -
      L_hot)``.
   f. *Work*: ``B_k = B_{k-1} + arrivals_k - dt P_k``, ``0 <= P <= max - must``; work
      that arrived in a step whose end lies a deadline or more before ``t_k`` is done
      by ``t_k`` (the most lenient reading of the step's arrival times).
   g. *Money*: electricity (IT with its UPS loss, overhead, pump, room cooling of the
      uncaptured heat, heat-pump electricity) at each step's time-of-use price, fuel
      of the backup at its price over its efficiency, work left queued at the end at
      :func:`thermalctl.sim.accounting.backlog_eur_per_kwh`: exactly what
      :class:`~thermalctl.sim.accounting.Ledger` books for a policy, less the fan
      energy (>= 0) and less nothing else.

2. So the LP's minimum cost is at most the cost of every admissible trajectory: a
   **lower bound on every policy's total cost**. Solved a second time for least backup
   heat (same constraints), it is a **lower bound on every policy's backup heat**.

3. A policy that breaks an invariant is outside the admissible set and may beat the
   bound; it fails the contest anyway (``tests/sim/test_invariants.py``).

Where it is loose (the gap no policy can close): the loop is taken at its hottest for
every exchanger at once and its temperature swings are free; a pool may sit at its
thermostat's full-output point; the tank's stratification is ignored; ramps are
dropped. The figures are reported as what they are: ``"kind": "bound"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from thermalctl.config.site import SiteProfile
from thermalctl.control.forecast import time_of_use_price
from thermalctl.models.loop import ROOM_COOLING_COP, HeatLoopModel
from thermalctl.models.sinks import (
    BACKUP_BAND_K,
    BACKUP_START_BELOW_SETPOINT_K,
    SinkEnvironment,
    SinkModel,
    models_for,
)
from thermalctl.models.sinks.dhw import LEGIONELLA_TOLERANCE_K

__all__ = ["COMFORT_KH_PER_DAY", "STEP_S", "BoundInputs", "backlog_eur_per_kwh", "evaluate"]

Array = npt.NDArray[np.float64]

#: Step of the relaxation [s]: the planner's quarter hour (tariffs change on it).
STEP_S = 900.0
#: The plant's decision interval offline and its internal substep [s] (weather and
#: commands held over a decision; draws, must-run power sampled each substep).
DECIDE_S = 300.0
SUBSTEP_S = 30.0
#: The plant's rack coolant tolerance [K] (thermalctl.sim.plant.COOLANT_LIMIT_TOLERANCE_K,
#: which this pure package cannot import; a test holds them equal).
COOLANT_TOLERANCE_K = 0.25
#: Comfort time below the band the invariant tolerates per sink and day [K h]
#: (thermalctl.sim.accounting.TOLERANCES takes it from here).
COMFORT_KH_PER_DAY = 0.1
#: Loss-envelope reference temperatures: every this many kelvin over the admissible range.
ENVELOPE_STEP_K = 0.5


class FutureInputs(Protocol):
    """The run's true inputs (:class:`thermalctl.sim.offline.PlantFuture`)."""

    def ambient_c(self, time_s: float) -> float: ...

    def must_run_w(self, group_id: str, time_s: float) -> float: ...

    def arrivals_kwh(self, group_id: str, time_s: float, dt_s: float) -> float: ...

    def draw_m3_per_s(self, sink_id: str, time_s: float) -> float: ...


@dataclass
class BoundInputs:
    """The run's inputs on the relaxation's grid (``n`` steps of :data:`STEP_S`)."""

    start_s: float
    n: int
    ambient_c: Array  # mean over the plant's decision samples [degC]
    ambient_min_c: Array
    must_kw: dict[str, Array]
    arrivals_kwh: dict[str, Array]
    draw_m3_per_s: dict[str, Array]  # mean over substeps
    draw_mains_m3_c_per_s: dict[str, Array]  # mean of draw x mains temperature
    price_eur_per_kwh: Array
    mids_s: Array = field(default_factory=lambda: np.zeros(0))


def backlog_eur_per_kwh(profile: SiteProfile) -> float:
    """Value of one kWh of deferred work left queued at the end of a run [EUR/kWh]: its
    IT electricity with the UPS loss and the room cooling of its uncaptured share, at the
    off-peak price (the cheapest it could still be run at; capture averaged by rack
    power). The same for every policy (:class:`thermalctl.sim.accounting.Ledger`) and
    for the bound."""
    groups = profile.rack_groups
    total = sum(g.max_power_w for g in groups)
    uncaptured = sum((1.0 - g.capture_fraction) * g.max_power_w for g in groups) / total
    factor = 1.0 + profile.reporting.ups_loss_fraction + uncaptured / ROOM_COOLING_COP
    return factor * profile.prices.electricity_eur_per_kwh


def _inputs(profile: SiteProfile, future: FutureInputs, start_s: float, n: int) -> BoundInputs:
    models = models_for(profile)
    per_decide = round(STEP_S / DECIDE_S)
    per_sub = round(STEP_S / SUBSTEP_S)
    decide_t = start_s + DECIDE_S * np.arange(n * per_decide, dtype=np.float64)
    sub_t: Array = start_s + SUBSTEP_S * np.arange(n * per_sub, dtype=np.float64)
    amb = np.array([future.ambient_c(float(t)) for t in decide_t]).reshape(n, per_decide)
    must = {
        g.id: np.array([future.must_run_w(g.id, float(t)) for t in sub_t]).reshape(n, per_sub)
        .mean(axis=1) / 1e3
        for g in profile.rack_groups
    }
    starts: Array = start_s + STEP_S * np.arange(n, dtype=np.float64)
    arrivals = {
        g.id: np.array([future.arrivals_kwh(g.id, float(t), STEP_S) for t in starts])
        for g in profile.rack_groups
    }
    draws: dict[str, Array] = {}
    draw_mains: dict[str, Array] = {}
    for sid, model in models.items():
        if not model.has_draws:
            continue
        d = np.array([future.draw_m3_per_s(sid, float(t)) for t in sub_t])
        mains = np.asarray(model.mains_temp_c(sub_t), dtype=float)
        draws[sid] = d.reshape(n, per_sub).mean(axis=1)
        draw_mains[sid] = (d * mains).reshape(n, per_sub).mean(axis=1)
    mids: Array = starts + STEP_S / 2
    price = time_of_use_price(profile.prices, mids, profile.site.timezone)
    return BoundInputs(start_s, n, amb.mean(axis=1), amb.min(axis=1), must, arrivals, draws,
                       draw_mains, np.asarray(price, dtype=float), mids)


class _Lp:
    """A sparse LP built column block by column block, row by row."""

    def __init__(self) -> None:
        self.n_cols = 0
        self.lower: list[Array] = []
        self.upper: list[Array] = []
        self.cost: list[Array] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []

    def block(self, n: int, lo: float | Array = 0.0, hi: float | Array = math.inf,
              cost: float | Array = 0.0) -> npt.NDArray[np.int64]:
        idx = np.arange(self.n_cols, self.n_cols + n)
        self.n_cols += n
        self.lower.append(np.broadcast_to(np.asarray(lo, float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(hi, float), (n,)).copy())
        self.cost.append(np.broadcast_to(np.asarray(cost, float), (n,)).copy())
        return idx

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.row_lo)
        for c, v in terms:
            if v != 0.0:
                self.rows.append(r)
                self.cols.append(int(c))
                self.vals.append(float(v))
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def cost_of(self, cols: npt.NDArray[np.int64]) -> Array:
        """The costs of some columns (a copy)."""
        return np.concatenate(self.cost)[cols].copy()

    def solve(self, cost: Array | None = None) -> Any:
        c = np.concatenate(self.cost) if cost is None else cost
        a = sparse.csr_matrix((self.vals, (self.rows, self.cols)),
                              shape=(len(self.row_lo), self.n_cols))
        lo = np.array(self.row_lo)
        hi = np.array(self.row_hi)
        eq = lo == hi
        ub_rows = ~eq
        # linprog takes A_ub x <= b_ub and A_eq x = b_eq: split two-sided rows.
        a_ub_parts, b_ub_parts = [], []
        fin_hi = ub_rows & np.isfinite(hi)
        fin_lo = ub_rows & np.isfinite(lo)
        if fin_hi.any():
            a_ub_parts.append(a[fin_hi])
            b_ub_parts.append(hi[fin_hi])
        if fin_lo.any():
            a_ub_parts.append(-a[fin_lo])
            b_ub_parts.append(-lo[fin_lo])
        bounds = [
            (None if math.isinf(lo_) else lo_, None if math.isinf(hi_) else hi_)
            for lo_, hi_ in zip(np.concatenate(self.lower), np.concatenate(self.upper),
                                strict=True)
        ]
        return linprog(
            c,
            A_ub=sparse.vstack(a_ub_parts).tocsr() if a_ub_parts else None,
            b_ub=np.concatenate(b_ub_parts) if b_ub_parts else None,
            A_eq=a[eq] if eq.any() else None,
            b_eq=lo[eq] if eq.any() else None,
            bounds=bounds,
            method="highs",
        )


@dataclass
class _Sink:
    """The LP columns of one sink."""

    sid: str
    x: npt.NDArray[np.int64]  # heat taken from the loop [kW]
    q: npt.NDArray[np.int64]  # heat into the sink (condenser heat with a heat pump) [kW]
    bk: npt.NDArray[np.int64]  # backup heat [kW]
    w: npt.NDArray[np.int64] | None = None  # heat-pump electricity [kW]
    cold_c: Array | None = None  # exogenous cold-inlet lower bound [degC]
    cold_col: npt.NDArray[np.int64] | None = None  # or offset + slope x a column (pool)
    cold_slope: float = 0.0
    extra_backup_kwh: float = 0.0
    leg: npt.NDArray[np.int64] | None = None  # legionella heat into a tank [kW]


def _exogenous(model: SinkModel, inputs: BoundInputs, weather: Callable[[float], float],
               start_nodes: list[float]) -> dict[str, Array] | None:
    """Step a sink with no loop heat and with all it could take; if its temperatures
    agree at every substep and its backup never saturates, its trajectory is policy
    independent: return per-step means of draw (backup at no loop heat), demand cap
    and exchanger cold inlet. Else None."""
    if model.stratified:
        return None
    per_sub = round(STEP_S / SUBSTEP_S)
    per_decide_sub = round(DECIDE_S / SUBSTEP_S)
    nodes0 = list(start_nodes)
    nodes1 = list(start_nodes)
    n = inputs.n
    draw = np.zeros(n * per_sub)
    cap = np.zeros(n * per_sub)
    cold = np.zeros(n * per_sub)
    backup_max = model.sink.backup.max_heat_w
    amb = 0.0
    for i in range(n * per_sub):
        t = inputs.start_s + SUBSTEP_S * i
        if i % per_decide_sub == 0:
            amb = weather(t)
        env = SinkEnvironment(t, amb, 0.0)
        cap[i] = model.demand_cap_w(nodes0, env)
        cold[i] = model.hx_inlet_temp_c(nodes0, env)
        s0 = model.step(nodes0, 0.0, SUBSTEP_S, env)
        s1 = model.step(nodes1, cap[i], SUBSTEP_S, env)
        draw[i] = s0.backup_w
        if s0.backup_w >= backup_max - 1e-6 or abs(s0.nodes_c[0] - s1.nodes_c[0]) > 1e-9:
            return None
        nodes0, nodes1 = s0.nodes_c, s1.nodes_c
    shape = (n, per_sub)
    return {
        "draw_kw": draw.reshape(shape).mean(axis=1) / 1e3,
        "cap_kw": cap.reshape(shape).mean(axis=1) / 1e3,
        "cold_c": cold.reshape(shape).min(axis=1),
    }


def evaluate(
    profile: SiteProfile,
    future: Any,
    start_s: float,
    days: float,
    *,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """The bound's figures over ``days`` from ``start_s`` (see the module docstring).

    ``future`` is a :class:`thermalctl.sim.offline.PlantFuture` of a fresh plant (its
    initial state is the run's). Returns the keys ``simulate`` reports that a bound has:
    costs, CO2, backup and heat per sink, dump, IT energy, and the solver's figures.
    """
    wall = time.perf_counter()
    n = max(1, math.ceil(days * 86_400.0 / STEP_S - 1e-9))
    plant = future.plant
    inputs = _inputs(profile, future, start_s, n)
    if progress is not None:
        progress(0.3)
    lp, parts = _build(profile, plant, inputs, future)
    if progress is not None:
        progress(0.5)
    res_cost = lp.solve()
    if res_cost.status != 0:
        raise RuntimeError(f"bound LP not solved: {res_cost.message}")
    backup_cost = np.zeros(lp.n_cols)
    for s in parts["sinks"]:
        backup_cost[s.bk] = STEP_S / 3600.0
        if s.leg is not None:
            backup_cost[s.leg] = STEP_S / 3600.0
    res_backup = lp.solve(backup_cost + 1e-7 * np.concatenate(lp.cost))
    if progress is not None:
        progress(1.0)
    out = _figures(profile, inputs, parts, res_cost.x)
    if res_backup.status != 0:
        raise RuntimeError(f"bound LP (least backup) not solved: {res_backup.message}")
    least_backup = float(np.dot(backup_cost, res_backup.x))
    out.update({
        "backup_heat_kwh": least_backup,
        "backup_heat_kwh_at_least_cost": out["backup_heat_kwh_at_least_cost"],
        "bound_lp_columns": lp.n_cols,
        "bound_lp_rows": len(lp.row_lo),
        "bound_solve_s": time.perf_counter() - wall,
        "solver": "scipy-highs",
    })
    return out


def _build(profile: SiteProfile, plant: Any, inputs: BoundInputs, future: Any
           ) -> tuple[_Lp, dict[str, Any]]:
    p = profile
    n = inputs.n
    dt = STEP_S / 3600.0
    lp = _Lp()
    loop = HeatLoopModel.from_profile(p)
    models = models_for(p)
    price = inputs.price_eur_per_kwh
    ups = 1.0 + p.reporting.ups_loss_fraction
    c_loop_kw = loop.capacity_rate_w_per_k / 1e3
    outlet_max = max(g.coolant_outlet_limit_c for g in p.rack_groups) + COOLANT_TOLERANCE_K
    inlet_max = p.coolant_inlet_limit_c + COOLANT_TOLERANCE_K

    # -- racks and work ---------------------------------------------------------------
    captured: list[tuple[npt.NDArray[np.int64], float]] = []
    captured_must_kw = np.zeros(n)
    const_eur = 0.0
    groups: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
    for g in p.rack_groups:
        must = inputs.must_kw[g.id]
        elec_per_kw = ups + (1.0 - g.capture_fraction) / ROOM_COOLING_COP
        power = lp.block(n, 0.0, np.maximum(0.0, g.max_power_w / 1e3 - must),
                         dt * price * elec_per_kw)
        backlog = lp.block(n, 0.0, math.inf, 0.0)
        lp.cost[-1][-1] = backlog_eur_per_kwh(p)
        arrivals = inputs.arrivals_kwh[g.id]
        lead = g.deadline_h * 3600.0
        starts = inputs.start_s + STEP_S * np.arange(n)
        for k in range(n):
            terms = [(backlog[k], 1.0), (power[k], dt)]
            if k:
                terms.append((backlog[k - 1], -1.0))
            lp.row(terms, float(arrivals[k]), float(arrivals[k]))
            # Work from steps whose end lies a deadline or more before t_k is done.
            t_k = starts[k] + STEP_S
            young = starts + STEP_S + lead > t_k + 1e-6
            allowed = float(arrivals[: k + 1][young[: k + 1]].sum())
            lp.row([(backlog[k], 1.0)], -math.inf, allowed)
        captured.append((power, g.capture_fraction))
        captured_must_kw += g.capture_fraction * must
        const_eur += float(np.sum(dt * price * must * elec_per_kw))
        groups[g.id] = (power, backlog)
    fixed_kw = (p.reporting.overhead_power_w + loop.pump_w) / 1e3
    const_eur += float(np.sum(dt * price * fixed_kw))

    # -- sinks ------------------------------------------------------------------------
    weather = future.ambient_c
    t_reservoir = min(p.heat_loop.plant_room_temp_c, float(inputs.ambient_min_c.min()))
    sinks: list[_Sink] = []
    for sid in loop.order:
        model = models[sid]
        sink = model.sink
        ex = loop.exchangers[sid]
        hp = ex.heat_pump
        backup_price = np.where(
            sink.backup.fuel == "gas", p.prices.gas_eur_per_kwh, price
        ) / sink.backup.efficiency
        bk = lp.block(n, 0.0, sink.backup.max_heat_w / 1e3, dt * backup_price)
        q = lp.block(n, 0.0, sink.max_heat_w / 1e3 if hp is None else hp.max_heat_w / 1e3)
        x = q
        w = None
        if hp is not None:
            x = lp.block(n, 0.0, math.inf)
            w = lp.block(n, 0.0, math.inf, dt * price)
        entry = _Sink(sid, x, q, bk, w)
        nodes = plant.tank_nodes_c.get(sid) or [plant.sink_temp_c[sid]]
        exo = _exogenous(model, inputs, weather, nodes)
        if model.stratified and model.has_draws:
            _tank(lp, model, inputs, entry, nodes, outlet_max)
            t_reservoir = min(t_reservoir, float(np.min(model.mains_temp_c(inputs.mids_s))))
        elif exo is not None:
            for k in range(n):
                lp.row([(q[k], 1.0)], -math.inf, float(exo["cap_kw"][k]))
                lp.row([(bk[k], 1.0), (q[k], 1.0)], float(exo["draw_kw"][k]), math.inf)
            entry.cold_c = exo["cold_c"]
        else:
            entry.cold_col = _storage(lp, model, inputs, entry, nodes[0])
            offset, slope = model.hx_inlet_line_c(inputs.mids_s, inputs.ambient_c, False)
            entry.cold_c, entry.cold_slope = np.asarray(offset, dtype=float), float(slope)
        if hp is not None:
            assert w is not None
            t_reservoir = min(t_reservoir, hp.evaporating_temp_c)
            supply_lo = np.asarray(model.supply_temp_profile_c(
                inputs.mids_s, inputs.ambient_c, sink.band_low_c), float)
            cop_max = np.array([ex.cop(float(s), outlet_max) for s in supply_lo])
            for k in range(n):
                # condenser = evaporator + electricity; electricity >= evap / (COP_max - 1)
                lp.row([(q[k], 1.0), (x[k], -1.0), (w[k], -1.0)], 0.0, 0.0)
                lp.row([(w[k], 1.0), (x[k], -1.0 / max(cop_max[k] - 1.0, 1e-6))], 0.0, math.inf)
            entry.cold_c = np.full(n, hp.evaporating_temp_c)
        sinks.append(entry)

    # -- exchangers: hot inlet at most the rack outlet limits, series cascade -----------
    for k in range(n):
        before: list[tuple[int, float]] = []
        for entry in sinks:
            d_kw = loop.exchangers[entry.sid].duty_w_per_k / 1e3
            terms = [(entry.x[k], 1.0), *before]
            cold_terms: list[tuple[int, float]] = []
            cold_const = 0.0
            assert entry.cold_c is not None
            cold_const = float(entry.cold_c[k])
            if entry.cold_col is not None:
                cold_terms = [(entry.cold_col[k], d_kw * entry.cold_slope)]
            lp.row(terms + cold_terms, -math.inf, d_kw * (outlet_max - cold_const))
            # Rack outlet = inlet + captured rise: at most inlet limit + rise.
            rise = [(pw[k], -d_kw * cf / c_loop_kw) for pw, cf in captured]
            lp.row(terms + cold_terms + rise, -math.inf,
                   d_kw * (inlet_max + captured_must_kw[k] / c_loop_kw - cold_const))
            if loop.topology == "series":
                before = [*before, (entry.x[k], d_kw / c_loop_kw)]

    # -- loop energy and dump -----------------------------------------------------------
    c_loop_kwh = loop.capacity_j_per_k / 3.6e6
    s_loop = lp.block(n, c_loop_kwh * t_reservoir, c_loop_kwh * max(outlet_max, inlet_max))
    dump_cap = loop.dump_w_per_k / 1e3 * np.maximum(0.0, outlet_max - inputs.ambient_min_c)
    dump = lp.block(n, 0.0, dump_cap)
    loss_min_kw = loop.loss_ua_w_per_k * (t_reservoir - loop.plant_room_temp_c) / 1e3
    s0 = c_loop_kwh * plant.loop_temp_c
    for k in range(n):
        terms = [(s_loop[k], 1.0), (dump[k], dt)]
        if k:
            terms.append((s_loop[k - 1], -1.0))
        terms += [(pw[k], -dt * cf) for pw, cf in captured]
        terms += [(e.x[k], dt) for e in sinks]
        rhs = dt * (captured_must_kw[k] - loss_min_kw) + (s0 if k == 0 else 0.0)
        # Loss at least its minimum: the loop keeps at most what the identity leaves.
        lp.row(terms, -math.inf, float(rhs))
    parts = {"sinks": sinks, "groups": groups, "const_eur": const_eur, "dump": dump,
             "loop_energy": s_loop, "loop_energy_start_kwh": s0, "loss_min_kw": loss_min_kw,
             "captured_must_kw": captured_must_kw, "captured": captured}
    return lp, parts


def _rate_k_per_h(model: SinkModel, loss_kw_max: float) -> float:
    """Largest |dT/dt| of a sink node [K/h]: all heat in or all loss out."""
    s = model.sink
    return (s.max_heat_w / 1e3 + s.backup.max_heat_w / 1e3 + loss_kw_max) / model.capacity_kwh_per_k


def _follows_thermostat(model: SinkModel) -> bool:
    """Whether the sink's plant step takes its backup from the thermostat law
    (:meth:`SinkModel.thermostat_backup_w`), checked at three temperatures."""
    sp = model.sink.setpoint_c
    for temp in (sp, sp - BACKUP_START_BELOW_SETPOINT_K - 0.1, sp - 1.0):
        step = model.step([temp], 0.0, 1.0, SinkEnvironment(0.0, 10.0, 0.0))
        if abs(step.backup_w - model.thermostat_backup_w(temp)) > 1e-6:
            return False
    return True


def _storage(lp: _Lp, model: SinkModel, inputs: BoundInputs, entry: _Sink, t0: float
             ) -> npt.NDArray[np.int64]:
    """A sink node that stores heat (a pool): item 1c of the module docstring.
    Returns the columns of its step-average temperature (its exchanger's cold inlet)."""
    n = inputs.n
    dt = STEP_S / 3600.0
    sink = model.sink
    cap = model.capacity_kwh_per_k
    backup_kw = sink.backup.max_heat_w / 1e3
    # Floor: the backup thermostat's full-output point, if the backup out-heats the
    # largest loss there; else the bottom of the band (with the comfort slack).
    start_c = sink.setpoint_c - BACKUP_START_BELOW_SETPOINT_K
    full_c = start_c - BACKUP_BAND_K
    lo_ref = min(full_c, sink.band_low_c) - 1.0
    hi_ref = sink.band_high_c + 1.0
    refs = np.round(np.arange(lo_ref, hi_ref + 1e-9, 0.1), 1)
    lines = [model.loss_line_w(inputs.mids_s, inputs.ambient_c, None, float(r)) for r in refs]
    offs = np.array([ln[0] for ln in lines]) / 1e3  # [R, n] kW
    slopes = np.array([ln[1] for ln in lines]) / 1e3
    nearest = int(np.argmin(np.abs(refs - round(full_c, 1))))
    loss_at_full = offs[nearest] + slopes[nearest] * full_c
    thermostat = backup_kw >= float(np.max(loss_at_full)) and _follows_thermostat(model)
    floor = full_c if thermostat else sink.band_low_c
    # The plant's loss at T is the line of round(T, 1): on each 0.1 K cell it is linear,
    # so an envelope line lies below it everywhere iff it does at the cell ends.
    env_idx = np.arange(0, refs.size, round(ENVELOPE_STEP_K / 0.1))
    ends = np.stack([refs - 0.05, refs + 0.05])  # [2, R]
    true_at_ends = offs[None, :, :] + slopes[None, :, :] * ends[:, :, None]  # [2, R, n]
    loss_max_kw = float(np.max(true_at_ends))
    rate = _rate_k_per_h(model, max(0.0, loss_max_kw))
    # Explicit Euler may pass the floor by one substep's change at most.
    euler_k = rate * SUBSTEP_S / 3600.0
    floor -= euler_k
    temp = lp.block(n, floor, math.inf)
    mean = lp.block(n, floor, math.inf)
    window = rate * dt / 4.0  # the step mean lies within r dt / 4 of the ends' mean
    loss = lp.block(n, -math.inf, math.inf)
    lo_slack = lp.block(n, 0.0, math.inf)
    hi_slack = lp.block(n, 0.0, math.inf)
    for j in env_idx:
        line_at_ends = offs[j][None, None, :] + slopes[j][None, None, :] * ends[:, :, None]
        excess = np.max(line_at_ends - true_at_ends, axis=(0, 1))  # [n]
        off_j = offs[j] - np.maximum(0.0, excess)
        for k in range(n):
            lp.row([(loss[k], 1.0), (mean[k], -float(slopes[j][k]))], float(off_j[k]), math.inf)
    for k in range(n):
        terms = [(temp[k], cap), (entry.q[k], -dt), (entry.bk[k], -dt), (loss[k], dt)]
        if k:
            terms.append((temp[k - 1], -cap))
        rhs = cap * t0 if k == 0 else 0.0
        lp.row(terms, rhs, rhs)
        prev: list[tuple[int, float]] = [(temp[k - 1], -0.5)] if k else []
        prev_c = 0.0 if k else t0 / 2.0
        lp.row([(mean[k], 1.0), (temp[k], -0.5), *prev], prev_c - window, prev_c + window)
        if thermostat:
            # The site's boiler thermostat: backup >= B (T_start - T) / band, convex over
            # the admissible range, so it holds for the step mean (Jensen).
            gain = backup_kw / BACKUP_BAND_K
            lp.row([(entry.bk[k], 1.0), (mean[k], gain)], gain * (start_c - euler_k), math.inf)
        lp.row([(temp[k], 1.0), (lo_slack[k], 1.0)], sink.band_low_c, math.inf)
        lp.row([(temp[k], 1.0), (hi_slack[k], -1.0)], -math.inf, sink.band_high_c)
    days = inputs.n * STEP_S / 86_400.0
    lp.row([(c, dt) for c in lo_slack] + [(c, dt) for c in hi_slack], -math.inf,
           COMFORT_KH_PER_DAY * days)
    return mean


def _tank(lp: _Lp, model: SinkModel, inputs: BoundInputs, entry: _Sink, nodes: list[float],
          outlet_max: float) -> None:
    """A preheat tank as an energy store: item 1e of the module docstring. ``entry.bk``
    is the heater downstream (draw top-up and circulation); the legionella heat into the
    tank gets its own columns, priced like the backup."""
    n = inputs.n
    dt = STEP_S / 3600.0
    sink = model.sink
    cap = model.capacity_kwh_per_k
    rho_cp_kwh = 4186.0 * 1000.0 / 3.6e6  # kWh per m3 K (DRAW_RHO_CP_J_PER_M3_K)
    draw = inputs.draw_m3_per_s[sink.id] * 3600.0  # m3/h
    draw_mains = inputs.draw_mains_m3_c_per_s[sink.id] * 3600.0
    cycle = getattr(sink, "legionella", None)
    t_hot = max(outlet_max, cycle.temp_c if cycle is not None else -math.inf, max(nodes))
    mains = np.asarray(model.mains_temp_c(inputs.mids_s), dtype=float)
    t_cold_min = min(float(mains.min()), model.plant_room_temp_c)
    ua_kw = getattr(sink, "loss_ua_w_per_k", 0.0) / 1e3
    circ_kw = getattr(sink, "circulation_loss_w", 0.0) / 1e3
    draw_temp = float(model.draw_temp_c or 0.0)
    # Legionella heat goes into the tank and costs what the backup's heat costs.
    leg = lp.block(n, 0.0, sink.backup.max_heat_w / 1e3, lp.cost_of(entry.bk))
    temp = lp.block(n, t_cold_min, t_hot)
    low = lp.block(n, t_cold_min, t_hot)  # lower bound of T over the step
    dout = lp.block(n, 0.0, math.inf)
    heat = lp.block(n, 0.0, math.inf)  # H: heat above t_loop (outlet_max)
    useful = lp.block(n, 0.0, math.inf)  # U: the part of Dout that serves the tap lift
    params = getattr(model, "tank_params", None)  # a stratified model's tank
    fractions = np.ones(1) if params is None else np.asarray(params.heat_in_fractions, float)
    coil_share = float(np.count_nonzero(fractions)) / fractions.size
    coil = lp.block(n, t_cold_min, t_hot)  # the coil nodes' mean, lower bound over the step
    entry.cold_col = coil
    entry.cold_slope = 1.0
    entry.cold_c = np.zeros(n)
    rate = (sink.max_heat_w + sink.backup.max_heat_w) / 1e3 / cap
    rate += float(np.max(draw)) * rho_cp_kwh * (t_hot - t_cold_min) / cap + ua_kw * 80 / cap
    t0 = sum(nodes) / len(nodes)
    h0 = sum(max(0.0, v - outlet_max) for v in nodes) * cap / len(nodes)
    volume = float(getattr(sink, "volume_m3"))  # noqa: B009 (a tank's field)
    for k in range(n):
        prev = [(temp[k - 1], -cap)] if k else []
        rhs0 = cap * t0 if k == 0 else 0.0
        # C (T_k - T_{k-1}) = dt (Q + LEG - Dout - UA (T - T_room)); loss at its least (T >= low)
        lp.row([(temp[k], cap), *prev, (entry.q[k], -dt), (leg[k], -dt), (dout[k], dt),
                (low[k], dt * ua_kw)], -math.inf, rhs0 + dt * ua_kw * model.plant_room_temp_c)
        # low <= T(t) over the step, and T(t) is within rate dt of both ends.
        prev_t = [(temp[k - 1], -1.0)] if k else []
        lp.row([(low[k], 1.0), *prev_t], -rate * dt + (t0 if k == 0 else 0.0), math.inf)
        lp.row([(low[k], 1.0), (temp[k], -1.0)], -rate * dt, math.inf)
        # Draws leave at the top: between the mean's lowest and the hottest water.
        lp.row([(dout[k], 1.0), (low[k], -rho_cp_kwh * float(draw[k]))],
               -rho_cp_kwh * float(draw_mains[k]), math.inf)
        lp.row([(dout[k], 1.0)], -math.inf,
               rho_cp_kwh * (float(draw[k]) * t_hot - float(draw_mains[k])))
        # The heater downstream lifts every draw and makes up the circulation; the tank
        # serves a draw's lift at most up to the draw temperature (useful part U).
        need = rho_cp_kwh * (float(draw[k]) * draw_temp - float(draw_mains[k]))
        lp.row([(useful[k], 1.0), (dout[k], -1.0)], -math.inf, 0.0)
        lp.row([(useful[k], 1.0)], -math.inf, max(0.0, need))
        lp.row([(entry.bk[k], 1.0), (useful[k], 1.0)], max(0.0, need) + circ_kw, math.inf)
        # The coil sees its nodes (the lower part): no colder than the mains, and no
        # colder than the mean leaves room for with every other node at the hottest.
        if coil_share < 1.0:
            lp.row([(coil[k], 1.0), (low[k], -1.0 / coil_share)],
                   -(1.0 / coil_share - 1.0) * t_hot, math.inf)
        # Heat above the loop's hottest water: only backup adds it, draws drain it.
        decay = math.exp(-float(draw[k]) * dt / volume)
        prev_h = [(heat[k - 1], -decay)] if k else []
        lp.row([(heat[k], 1.0), *prev_h, (leg[k], -dt)], -math.inf, h0 * decay if k == 0 else 0.0)
    if cycle is not None:
        _legionella_rows(lp, model, inputs, leg, heat, cap, outlet_max, h0, cycle.temp_c)
    entry.leg = leg


def _legionella_rows(lp: _Lp, model: Any, inputs: BoundInputs, leg: npt.NDArray[np.int64],
                     heat: npt.NDArray[np.int64], cap: float, t_loop: float, h0: float,
                     temp_c: float) -> None:
    """Each local day whose cycle hour the run reaches: H at the step the hour starts
    plus the legionella heat from there to the day's end covers the heat above the
    loop's hottest water that every node at the cycle temperature holds."""
    dt = STEP_S / 3600.0
    need = cap * max(0.0, temp_c - LEGIONELLA_TOLERANCE_K - t_loop)
    if need <= 0.0:
        return
    starts = inputs.start_s + STEP_S * np.arange(inputs.n)
    days = np.array([model.local_day(float(t)) for t in starts])
    due = np.array([model.legionella_due(float(t)) for t in starts])
    for day in np.unique(days):
        steps = np.flatnonzero((days == day) & due)
        if steps.size == 0:
            continue
        first = int(steps[0])
        terms: list[tuple[int, float]] = [(int(leg[k]), dt) for k in steps]
        const = 0.0
        if first > 0:
            terms.append((int(heat[first - 1]), 1.0))
        else:
            const = h0
        lp.row(terms, need - const, math.inf)


def _figures(profile: SiteProfile, inputs: BoundInputs, parts: dict[str, Any], x: Array
             ) -> dict[str, Any]:
    p = profile
    dt = STEP_S / 3600.0
    price = inputs.price_eur_per_kwh
    ups = 1.0 + p.reporting.ups_loss_fraction
    loop = HeatLoopModel.from_profile(p)
    it = 0.0
    elec_kwh = 0.0
    elec_eur = 0.0
    queued = 0.0
    for g in p.rack_groups:
        power, backlog = parts["groups"][g.id]
        total_kw = inputs.must_kw[g.id] + x[power]
        it += float(np.sum(total_kw) * dt)
        kwh = total_kw * dt * (ups + (1.0 - g.capture_fraction) / ROOM_COOLING_COP)
        elec_kwh += float(kwh.sum())
        elec_eur += float(np.sum(kwh * price))
        queued += float(x[backlog[-1]])
    fixed = (p.reporting.overhead_power_w + loop.pump_w) / 1e3 * dt
    elec_kwh += fixed * inputs.n
    elec_eur += float(np.sum(fixed * price))
    fuel_eur = 0.0
    co2 = 0.0
    backup = 0.0
    hp_kwh = 0.0
    sinks_out: dict[str, dict[str, float | None]] = {}
    for s in parts["sinks"]:
        sink = p.sink(s.sid)
        cols = [s.bk, *([s.leg] if s.leg is not None else [])]
        bk_kw = sum(x[c] for c in cols)
        fuel_price = (
            np.full(inputs.n, p.prices.gas_eur_per_kwh) if sink.backup.fuel == "gas" else price
        )
        fuel_kwh = bk_kw * dt / sink.backup.efficiency
        fuel_eur += float(np.sum(fuel_kwh * fuel_price))
        prices = p.prices
        fuel_co2 = (
            prices.gas_co2_kg_per_kwh if sink.backup.fuel == "gas" else prices.grid_co2_kg_per_kwh
        )
        co2 += float(fuel_kwh.sum()) * fuel_co2
        sink_backup = float(bk_kw.sum() * dt)
        backup += sink_backup
        if s.w is not None:
            w_kwh = float(x[s.w].sum() * dt)
            hp_kwh += w_kwh
            elec_eur += float(np.sum(x[s.w] * dt * price))
        sinks_out[s.sid] = {
            "heat_kwh": float(x[s.q].sum() * dt),
            "backup_heat_kwh": sink_backup,
            "overheating_kwh": None,
            "comfort_violation_kh": None,
        }
    elec_kwh += hp_kwh
    co2 += elec_kwh * p.prices.grid_co2_kg_per_kwh
    backlog_eur = queued * backlog_eur_per_kwh(p)
    reused = sum(float(v["heat_kwh"] or 0.0) for v in sinks_out.values())
    # Heat the relaxation places in no sink: dumped, or (its loop identity is an
    # inequality) simply let go; reported as dumped.
    captured = float(np.sum(parts["captured_must_kw"]) * dt) + sum(
        float(np.sum(x[cols]) * cf * dt) for cols, cf in parts["captured"])
    taken = sum(float(np.sum(x[s.x]) * dt) for s in parts["sinks"])
    stored = float(x[parts["loop_energy"][-1]]) - parts["loop_energy_start_kwh"]
    unplaced = captured - taken - stored - parts["loss_min_kw"] * dt * inputs.n
    return {
        "it_energy_kwh": it,
        "reused_heat_kwh": reused,
        "dumped_heat_kwh": max(0.0, unplaced),
        "backup_heat_kwh_at_least_cost": backup,
        "heat_pump_electricity_kwh": hp_kwh,
        "electricity_kwh": elec_kwh,
        "electricity_cost_eur": elec_eur,
        "fuel_cost_eur": fuel_eur,
        "backlog_cost_eur": backlog_eur,
        "total_cost_eur": elec_eur + fuel_eur + backlog_eur,
        "co2_kg": co2,
        "deferred_work_queued_kwh": queued,
        "deferred_shifted_kwh": None,
        "sinks": sinks_out,
    }
