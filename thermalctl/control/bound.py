"""``bound``: a lower bound on every policy's cost and backup heat, on this plant with
these inputs.

It is the perfect-foresight optimum, over the whole run at once (not a receding
horizon), of a **relaxation** of the plant: a linear programme solved once with HiGHS
(:func:`scipy.optimize.linprog`). It is evaluated, not run as a controller:
``thermalctl simulate --policy bound`` reports its figures under the same keys as a
controller's (``"kind": "bound"``). The LP and its per-sink blocks are in
:mod:`thermalctl.control.bound_sinks`; this module gathers the inputs, lays out the
loop, the racks and the exchangers, solves and reports.

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
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import SiteProfile
from thermalctl.control.bound_sinks import (
    COMFORT_KH_PER_DAY,
    DECIDE_S,
    STEP_S,
    SUBSTEP_S,
    BoundInputs,
    Lp,
    SinkColumns,
    exogenous_sink,
    storage_sink,
    tank_sink,
)
from thermalctl.control.forecast import time_of_use_price
from thermalctl.models.loop import ROOM_COOLING_COP, HeatLoopModel
from thermalctl.models.sinks import models_for

__all__ = ["COMFORT_KH_PER_DAY", "STEP_S", "BoundInputs", "backlog_eur_per_kwh", "evaluate"]

Array = npt.NDArray[np.float64]

#: The plant's rack coolant tolerance [K] (thermalctl.sim.plant.COOLANT_LIMIT_TOLERANCE_K,
#: which this pure package cannot import; a test holds them equal).
COOLANT_TOLERANCE_K = 0.25


class FutureInputs(Protocol):
    """The run's true inputs (:class:`thermalctl.sim.offline.PlantFuture`)."""

    def ambient_c(self, time_s: float) -> float: ...

    def must_run_w(self, group_id: str, time_s: float) -> float: ...

    def arrivals_kwh(self, group_id: str, time_s: float, dt_s: float) -> float: ...

    def draw_m3_per_s(self, sink_id: str, time_s: float) -> float: ...


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
        "bound_solve_methods": [res_cost.method, res_backup.method],
    })
    return out


def _build(profile: SiteProfile, plant: Any, inputs: BoundInputs, future: Any
           ) -> tuple[Lp, dict[str, Any]]:
    p = profile
    n = inputs.n
    dt = STEP_S / 3600.0
    lp = Lp()
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
    sinks: list[SinkColumns] = []
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
        entry = SinkColumns(sid, x, q, bk, w)
        nodes = plant.tank_nodes_c.get(sid) or [plant.sink_temp_c[sid]]
        exo = exogenous_sink(model, inputs, weather, nodes)
        if model.stratified and model.has_draws:
            tank_sink(lp, model, inputs, entry, nodes, outlet_max)
            t_reservoir = min(t_reservoir, float(np.min(model.mains_temp_c(inputs.mids_s))))
        elif exo is not None:
            for k in range(n):
                lp.row([(q[k], 1.0)], -math.inf, float(exo["cap_kw"][k]))
                lp.row([(bk[k], 1.0), (q[k], 1.0)], float(exo["draw_kw"][k]), math.inf)
            entry.cold_c = exo["cold_c"]
        else:
            entry.cold_col = storage_sink(lp, model, inputs, entry, nodes[0])
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
