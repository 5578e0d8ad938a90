"""The relaxation's building blocks for :mod:`thermalctl.control.bound`.

* :class:`Lp`: a sparse LP built column block by column block, solved with HiGHS
  (:func:`scipy.optimize.linprog`);
* one block per kind of sink behaviour, chosen by what the sink model does, never by its
  kind: :func:`exogenous_sink` (a sink whose trajectory no policy changes: a heating
  circuit on its curve), :func:`storage_sink` (a node that stores heat: a pool),
  :func:`tank_sink` (a stratified preheat tank with draws and legionella cycles).

Why each block relaxes the plant is argued in :mod:`thermalctl.control.bound`'s
docstring, item by item (1b-1e).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from thermalctl.models.sinks import (
    BACKUP_BAND_K,
    BACKUP_START_BELOW_SETPOINT_K,
    SinkEnvironment,
    SinkModel,
)
from thermalctl.models.sinks.dhw import LEGIONELLA_TOLERANCE_K

__all__ = [
    "COMFORT_KH_PER_DAY",
    "DECIDE_S",
    "ENVELOPE_STEP_K",
    "STEP_S",
    "SUBSTEP_S",
    "BoundInputs",
    "Lp",
    "SinkColumns",
    "exogenous_sink",
    "storage_sink",
    "tank_sink",
]

Array = npt.NDArray[np.float64]

#: Step of the relaxation [s]: the planner's quarter hour (tariffs change on it).
STEP_S = 900.0
#: The plant's decision interval offline and its internal substep [s] (weather and
#: commands held over a decision; draws, must-run power sampled each substep).
DECIDE_S = 300.0
SUBSTEP_S = 30.0
#: Comfort time below the band the invariant tolerates per sink and day [K h]
#: (thermalctl.sim.accounting.TOLERANCES takes it from here).
COMFORT_KH_PER_DAY = 0.1
#: Loss-envelope reference temperatures: every this many kelvin over the admissible range.
ENVELOPE_STEP_K = 0.5
#: scipy's HiGHS methods, tried in turn until one reaches a verdict: on a year of the
#: office (about 35,000 steps) HiGHS's default path ended "Solve error" (status 4) once.
#: Every method's optimum is the LP's (crossover gives a basic optimal solution), so
#: the bound does not depend on which one answered.
SOLVE_METHODS = ("highs", "highs-ipm", "highs-ds")


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


class Lp:
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
        problem = {
            "A_ub": sparse.vstack(a_ub_parts).tocsr() if a_ub_parts else None,
            "b_ub": np.concatenate(b_ub_parts) if b_ub_parts else None,
            "A_eq": a[eq] if eq.any() else None,
            "b_eq": lo[eq] if eq.any() else None,
            "bounds": bounds,
        }
        res = None
        for method in SOLVE_METHODS:
            res = linprog(c, method=method, **problem)
            res.method = method
            if res.status in (0, 2, 3):  # optimal, or a verdict (infeasible, unbounded)
                break
        assert res is not None
        return res


@dataclass
class SinkColumns:
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


def exogenous_sink(model: SinkModel, inputs: BoundInputs, weather: Callable[[float], float],
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


def storage_sink(lp: Lp, model: SinkModel, inputs: BoundInputs, entry: SinkColumns, t0: float
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


def tank_sink(lp: Lp, model: SinkModel, inputs: BoundInputs, entry: SinkColumns, nodes: list[float],
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


def _legionella_rows(lp: Lp, model: Any, inputs: BoundInputs, leg: npt.NDArray[np.int64],
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
