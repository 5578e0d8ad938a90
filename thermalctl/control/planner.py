"""The planning programme: a linear programme over a 24 h horizon at 15 min steps.

Build, update, solve and extract are separate steps:

* :func:`build` makes the :class:`PlannerModel` once per site: the variable and row
  layout and the sparse constraint matrix (CSC). Only a handful of matrix entries
  depend on forecasts (sink loss slopes, draw flows); they are listed in
  ``dynamic_entries``.
* :func:`update` turns one :class:`PlanInputs` (state + forecasts) into costs, bounds,
  row bounds and the dynamic matrix values (:class:`LpData`); nothing else changes.
* :class:`HighsSolver` keeps one ``highspy`` model per site and changes only those
  arrays, so HiGHS hot-starts the dual simplex from the last basis;
  :class:`ScipySolver` does the same through ``scipy.optimize.linprog(method="highs")``
  (slower: it rebuilds the model each call) for installs without ``highspy``.
* :func:`extract` turns the solution vector into a :class:`Plan` in watts.

Units inside the LP are kW, kWh, degC and hours, so coefficients are O(1..1000).

Decisions per step ``k`` (power over the step): deferrable power per rack group ``P``,
heat to each sink ``Q``, dump ``D``, backup heat per sink ``BK``. States at the end
of step ``k``: sink temperature ``T``, deferred-work backlog ``B``. Slacks (all
priced): comfort below/above band ``LO``/``HI``, late work ``LATE``, heat that
fits nowhere ``V``.

Rows per step:

* heat balance (equality): sum_g cf_g (must_g + P_g) = sum_s Q_s + D + loop loss + V;
* backlog: B_k = B_{k-1} + arrivals_k - dt P_k;
* deadline: B_k - LATE_k <= work not yet due at the end of step k;
* sink: C_s (T_k - T_{k-1}) = dt (Q + BK - loss(T_{k-1})), loss linearised
  (loss = a_k + b_k T) around the set point with the forecast air/cover/draw; a
  hot-water tank has no BK here (its boiler is downstream and only tops up draws);
* comfort: T_k + LO_k >= low_s, T_k - HI_k <= band_high_s;
* heat-exchanger capacity at the highest loop temperature the planner allows:
  Q_k <= k_s (T_loop_max - T_{k-1} - offset_s);
* hot water: BK_k >= w_k (T_draw - T_k) (the downstream boiler tops up draws);
* ramp: |(must + P)_k - (must + P)_{k-1}| <= ramp dt (only where it can bind).

Objective: electricity for deferrable work at the time-of-use price, backup fuel,
fan energy of the dump, penalties; backlog left at the horizon's end is priced above
the dearest electricity so work is never "saved" by not running it; the heat stored
in a sink at the end is worth slightly less than the backup heat it replaces.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.physics import drycooler, hx, water

__all__ = [
    "HighsSolver",
    "LpData",
    "Plan",
    "PlanInputs",
    "PlannerModel",
    "PlannerSettings",
    "ScipySolver",
    "SolveResult",
    "backup_price_eur_per_kwh",
    "build",
    "extract",
    "make_solver",
    "update",
]

Array = npt.NDArray[np.float64]
INF = math.inf

#: Price of comfort-band violation above the band [EUR per K h]: well above the value of
#: the heat (a 470 m3 pool stores 545 kWh/K, about 45 EUR/K of backup gas), so the planner
#: never overheats a sink to bank heat.
PRICE_COMFORT_EUR_PER_K_H = 400.0
#: Price of planning a sink below its backup thermostat point [EUR per K h]: the sink's own
#: backup fires there anyway, so the plan must show that backup explicitly.
PRICE_BELOW_BACKUP_POINT_EUR_PER_K_H = 2000.0
#: Price of deferred work past its deadline [EUR per kWh per hour late]: ~30x electricity.
PRICE_LATE_EUR_PER_KWH_H = 10.0
#: Price of captured heat that fits neither a sink nor the dump [EUR/kWh] (the loop would
#: overheat and safety would cap the racks).
PRICE_UNPLACED_EUR_PER_KWH = 20.0
#: Backlog left at the horizon's end costs this times the dearest electricity [-]: above 1,
#: so finishing work inside the horizon is always cheaper than leaving it.
TERMINAL_BACKLOG_PRICE_FACTOR = 1.05
#: Heat stored in a sink at the horizon's end is worth this share of its backup cost [-]:
#: below 1, so backup is never burnt just to bank heat.
TERMINAL_HEAT_VALUE_FRACTION = 0.9
#: Tie-breaker preferring earlier over later for equal cost [EUR per kWh per step]:
#: 1e-4 EUR/kWh over 96 steps is < 0.01 EUR/kWh, far below every real price difference.
EARLY_TIE_BREAK_EUR_PER_KWH_STEP = 1e-4
#: Dry-cooler fan electricity per unit of heat rejected at design [-] (fan laws give less at
#: part load; 2 % is a typical full-load figure for adiabatic-free dry coolers).
DUMP_FAN_KW_PER_KW = 0.02


@dataclass(frozen=True)
class PlannerSettings:
    """Horizon and planning margins."""

    horizon_steps: int = 96
    step_s: float = 900.0
    #: The loop may float up to this far below the supply alarm limit [K].
    loop_margin_k: float = 3.0
    #: Deferred work is planned to finish this long before its deadline [h].
    deadline_margin_h: float = 1.0
    #: The sink's own backup heater starts this far below its set point [K].
    backup_hold_below_setpoint_k: float = 0.3
    #: Sink-side HX inlet relative to the planning temperature [K]: radiator return above
    #: room temperature; a DHW preheat coil sits below the (measured) tank top.
    space_heating_hx_offset_k: float = 10.0
    dhw_hx_offset_k: float = -5.0
    #: Hot water is planned this far above the bottom of its band [K]: the measured tank
    #: top falls faster during draws than the one-node model says.
    dhw_comfort_margin_k: float = 1.0

    @property
    def step_h(self) -> float:
        return self.step_s / 3600.0


@dataclass(frozen=True)
class PlanInputs:
    """State and forecasts for one re-plan; arrays have ``horizon_steps`` entries.

    Attributes
    ----------
    start_s : float
        Start of step 0 [s].
    sink_temp_c : mapping
        Measured sink temperature [degC].
    queue_kwh : mapping
        Deferred work waiting per group [kWh].
    queue_due_kwh : mapping of arrays
        Part of the waiting work due (deadline minus margin) by the end of each step,
        cumulative [kWh].
    must_run_w : mapping of arrays
        Must-run rack power including idle per group [W].
    arrivals_kwh : mapping of arrays
        Deferred work arriving in each step per group [kWh].
    ambient_c : array
        Outdoor temperature [degC].
    sink_loss_w : mapping of (offset, slope) arrays
        Linearised sink loss ``offset + slope * T`` per step [W], [W/K].
    draw_w_per_k : mapping of arrays
        Hot-water draw times rho c_p per DHW sink [W/K].
    price_eur_per_kwh : array
        Electricity price per step [EUR/kWh].
    tank_top_above_mean_k : mapping, optional
        Per hot-water sink whose ``sink_temp_c`` is the tank's energy-mean temperature
        (from a sensor string): how far the measured top is above that mean [K], >= 0.
        A sink not listed is planned on its top temperature (one sensor): the old,
        optimistic model, see Notes of :func:`update`.
    """

    start_s: float
    sink_temp_c: Mapping[str, float]
    queue_kwh: Mapping[str, float]
    queue_due_kwh: Mapping[str, Array]
    must_run_w: Mapping[str, Array]
    arrivals_kwh: Mapping[str, Array]
    ambient_c: Array
    sink_loss_w: Mapping[str, tuple[Array, Array]]
    draw_w_per_k: Mapping[str, Array]
    price_eur_per_kwh: Array
    tank_top_above_mean_k: Mapping[str, float] = field(default_factory=dict)


@dataclass
class PlannerModel:
    """The fixed part of the programme for one site."""

    profile: SiteProfile
    settings: PlannerSettings
    n_cols: int
    n_rows: int
    cols: dict[tuple[str, str], int]  # (kind, id) -> first column of its N-block
    rows: dict[tuple[str, str], int]  # (kind, id) -> first row of its N-block
    matrix: sparse.csc_matrix
    dynamic_entries: dict[tuple[str, str], npt.NDArray[np.int64]]  # -> positions in .data
    dynamic_rows: dict[tuple[str, str], npt.NDArray[np.int32]]
    dynamic_cols: dict[tuple[str, str], npt.NDArray[np.int32]]
    sink_capacity_kwh_per_k: dict[str, float]
    hx_kw_per_k: float
    dump_kw_per_k: float
    loop_max_c: float
    ramp_groups: tuple[str, ...]

    def col(self, kind: str, ident: str = "") -> slice:
        start = self.cols[(kind, ident)]
        return slice(start, start + self.settings.horizon_steps)


@dataclass
class LpData:
    cost: Array
    col_lower: Array
    col_upper: Array
    row_lower: Array
    row_upper: Array
    dynamic_values: dict[tuple[str, str], Array]


@dataclass
class SolveResult:
    ok: bool
    status: str
    x: Array | None
    objective: float
    solve_ms: float


@dataclass
class Plan:
    """A solved plan in watts / degC, one value per step."""

    start_s: float
    step_s: float
    deferrable_w: dict[str, Array]
    sink_heat_w: dict[str, Array]
    backup_w: dict[str, Array]
    sink_temp_c: dict[str, Array]
    backlog_kwh: dict[str, Array]
    dump_w: Array
    unplaced_w: Array
    late_kwh: dict[str, Array]
    objective_eur: float
    solve_ms: float
    extra: dict[str, Any] = field(default_factory=dict)

    def step_index(self, time_s: float) -> int | None:
        k = math.floor((time_s - self.start_s) / self.step_s + 1e-9)
        return k if 0 <= k < self.dump_w.size else None


# --------------------------------------------------------------------------- build
class _Builder:
    def __init__(self, n: int) -> None:
        self.n = n
        self.n_cols = 0
        self.n_rows = 0
        self.cols: dict[tuple[str, str], int] = {}
        self.rows: dict[tuple[str, str], int] = {}
        self.r: list[npt.NDArray[np.int64]] = []
        self.c: list[npt.NDArray[np.int64]] = []
        self.v: list[Array] = []
        self.tags: list[npt.NDArray[np.int64]] = []
        self.tag_names: list[tuple[str, str]] = [("", "")]

    def add_cols(self, kind: str, ident: str = "") -> int:
        self.cols[(kind, ident)] = self.n_cols
        self.n_cols += self.n
        return self.cols[(kind, ident)]

    def add_rows(self, kind: str, ident: str = "") -> int:
        self.rows[(kind, ident)] = self.n_rows
        self.n_rows += self.n
        return self.rows[(kind, ident)]

    def entries(
        self, rows: Any, cols: Any, values: Any, tag: tuple[str, str] | None = None
    ) -> None:
        r = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        c = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        v = np.broadcast_to(np.asarray(values, dtype=float), r.shape).copy()
        t = 0
        if tag is not None:
            self.tag_names.append(tag)
            t = len(self.tag_names) - 1
        self.r.append(r)
        self.c.append(c)
        self.v.append(v)
        self.tags.append(np.full(r.shape, t, dtype=np.int64))


def build(profile: SiteProfile, settings: PlannerSettings | None = None) -> PlannerModel:
    """Lay out variables and rows and assemble the constraint matrix (once per site)."""
    s = settings or PlannerSettings()
    n = s.horizon_steps
    dt = s.step_h
    b = _Builder(n)
    ks = np.arange(n)
    later = ks[1:]
    groups = profile.rack_groups
    sinks = profile.sinks

    for g in groups:
        b.add_cols("P", g.id)
        b.add_cols("B", g.id)
        b.add_cols("LATE", g.id)
    for sink in sinks:
        for kind in ("Q", "BK", "T", "LO", "HI"):
            b.add_cols(kind, sink.id)
    b.add_cols("D")
    b.add_cols("V")

    loop = profile.heat_loop
    c_loop = loop.flow_m3_per_h / 3600.0 * _rho_cp(loop.supply_temp_setpoint_c)
    hx_kw = float(
        hx.plate_hx_duty_w(loop.hx.ua_w_per_k, 1.0, 0.0, c_loop, c_loop, loop.hx.arrangement)
    ) / 1e3
    dump_kw = float(drycooler.rejection_capacity_w(loop.dry_cooler.ua_w_per_k, 1.0, 0.0, c_loop))
    dump_kw /= 1e3

    # Heat balance.
    row = b.add_rows("BAL")
    for g in groups:
        b.entries(row + ks, b.cols[("P", g.id)] + ks, g.capture_fraction)
    for sink in sinks:
        b.entries(row + ks, b.cols[("Q", sink.id)] + ks, -1.0)
    b.entries(row + ks, b.cols[("D", "")] + ks, -1.0)
    b.entries(row + ks, b.cols[("V", "")] + ks, -1.0)

    ramp_groups: list[str] = []
    for g in groups:
        p0, b0, l0 = (b.cols[(k, g.id)] for k in ("P", "B", "LATE"))
        row = b.add_rows("BKL", g.id)
        b.entries(row + ks, b0 + ks, 1.0)
        b.entries(row + later, b0 + later - 1, -1.0)
        b.entries(row + ks, p0 + ks, dt)
        row = b.add_rows("DL", g.id)
        b.entries(row + ks, b0 + ks, 1.0)
        b.entries(row + ks, l0 + ks, -1.0)
        if g.ramp_w_per_s * s.step_s < g.max_power_w - g.idle_power_w:
            ramp_groups.append(g.id)
            row = b.add_rows("RAMP", g.id)
            b.entries(row + later, p0 + later, 1.0)
            b.entries(row + later, p0 + later - 1, -1.0)

    capacity: dict[str, float] = {}
    for sink in sinks:
        q0, bk0, t0, lo0, hi0 = (b.cols[(k, sink.id)] for k in ("Q", "BK", "T", "LO", "HI"))
        cap = _sink_capacity_kwh_per_k(sink)
        capacity[sink.id] = cap
        row = b.add_rows("SINK", sink.id)
        b.entries(row + ks, t0 + ks, cap)
        b.entries(row + later, t0 + later - 1, -cap, tag=("SINK", sink.id))
        b.entries(row + ks, q0 + ks, -dt)
        if not isinstance(sink, DhwSink):
            # A hot-water sink's backup is the boiler downstream of the preheat tank: it
            # tops up what is drawn (DRAW row) and never heats the tank.
            b.entries(row + ks, bk0 + ks, -dt)
        row = b.add_rows("LOW", sink.id)
        b.entries(row + ks, t0 + ks, 1.0)
        b.entries(row + ks, lo0 + ks, 1.0)
        row = b.add_rows("HIGH", sink.id)
        b.entries(row + ks, t0 + ks, 1.0)
        b.entries(row + ks, hi0 + ks, -1.0)
        row = b.add_rows("HXC", sink.id)
        b.entries(row + ks, q0 + ks, 1.0)
        b.entries(row + later, t0 + later - 1, hx_kw)
        if isinstance(sink, DhwSink):
            row = b.add_rows("DRAW", sink.id)
            b.entries(row + ks, bk0 + ks, 1.0)
            b.entries(row + ks, t0 + ks, 0.0, tag=("DRAW", sink.id))

    rows = np.concatenate(b.r)
    cols = np.concatenate(b.c)
    vals = np.concatenate(b.v)
    tags = np.concatenate(b.tags)
    # Assemble CSC by sorting (col, row) ourselves so tagged entries keep known positions.
    order = np.lexsort((rows, cols))
    rows, cols, vals, tags = rows[order], cols[order], vals[order], tags[order]
    indptr = np.zeros(b.n_cols + 1, dtype=np.int64)
    np.add.at(indptr, cols + 1, 1)
    indptr = np.cumsum(indptr)
    matrix = sparse.csc_matrix((vals, rows, indptr), shape=(b.n_rows, b.n_cols))
    dynamic: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
    dyn_rows: dict[tuple[str, str], npt.NDArray[np.int32]] = {}
    dyn_cols: dict[tuple[str, str], npt.NDArray[np.int32]] = {}
    for t, name in enumerate(b.tag_names):
        if t == 0:
            continue
        pos = np.flatnonzero(tags == t)
        # Positions sorted by column = by step for a tagged block.
        dynamic[name] = pos
        dyn_rows[name] = rows[pos].astype(np.int32)
        dyn_cols[name] = cols[pos].astype(np.int32)
    return PlannerModel(
        profile=profile,
        settings=s,
        n_cols=b.n_cols,
        n_rows=b.n_rows,
        cols=b.cols,
        rows=b.rows,
        matrix=matrix,
        dynamic_entries=dynamic,
        dynamic_rows=dyn_rows,
        dynamic_cols=dyn_cols,
        sink_capacity_kwh_per_k=capacity,
        hx_kw_per_k=hx_kw,
        dump_kw_per_k=dump_kw,
        loop_max_c=profile.limits.coolant_supply_alarm_c - s.loop_margin_k,
        ramp_groups=tuple(ramp_groups),
    )


def _rho_cp(temp_c: float) -> float:
    return float(water.volumetric_heat_capacity_j_per_m3_k(temp_c))


def _sink_capacity_kwh_per_k(sink: PoolSink | DhwSink | SpaceHeatingSink) -> float:
    if isinstance(sink, SpaceHeatingSink):
        return sink.thermal_mass_j_per_k / 3.6e6
    return sink.volume_m3 * _rho_cp(sink.setpoint_c) / 3.6e6


def backup_price_eur_per_kwh(
    sink: PoolSink | DhwSink | SpaceHeatingSink, profile: SiteProfile
) -> float:
    """Cost of one kWh of backup heat [EUR/kWh]."""
    fuel = (
        profile.prices.gas_eur_per_kwh
        if sink.backup.fuel == "gas"
        else profile.prices.electricity_eur_per_kwh
    )
    return fuel / sink.backup.efficiency


# -------------------------------------------------------------------------- update
def update(model: PlannerModel, inputs: PlanInputs) -> LpData:
    """Costs, bounds and forecast-dependent coefficients for one re-plan.

    Notes
    -----
    A hot-water tank is one node in the programme, but the real tank is stratified:
    after a draw peak its top is still near the set point while mains water fills the
    lower half. Planned on the measured top, the node holds far more heat than the
    tank does (4 m3 at 50 degC on top and 24 degC mean: about 120 kWh too much), so the
    plan leaves the tank unheated until the top itself falls, and the top then only
    recovers once the whole lower tank has been reheated (hours). Planned on the
    energy-mean temperature ``T`` (``tank_top_above_mean_k`` given, ``e`` = top - mean
    now) the stored heat is right and, because the top is never below the mean, the
    comfort row on ``T`` keeps the top in band. The draw leaves at the top, so its loss
    and the boiler's top-up are taken at ``T + e`` (``e`` held over the horizon: the
    safe side); the coil at the bottom sees at most ``T`` (no HX offset).
    """
    p = model.profile
    s = model.settings
    n = s.horizon_steps
    dt = s.step_h
    ks = np.arange(n)
    cost = np.zeros(model.n_cols)
    lo = np.zeros(model.n_cols)
    hi = np.full(model.n_cols, INF)
    rlo = np.full(model.n_rows, -INF)
    rhi = np.full(model.n_rows, INF)
    dyn: dict[tuple[str, str], Array] = {}
    price = np.asarray(inputs.price_eur_per_kwh, dtype=float)
    facility = 1.0 + p.reporting.ups_loss_fraction

    def rows(kind: str, ident: str = "") -> slice:
        start = model.rows[(kind, ident)]
        return slice(start, start + n)

    captured_must_kw = np.zeros(n)
    for g in p.rack_groups:
        must_kw = np.asarray(inputs.must_run_w[g.id], dtype=float) / 1e3
        captured_must_kw += g.capture_fraction * must_kw
        pc = model.col("P", g.id)
        hi[pc] = np.maximum(0.0, g.max_power_w / 1e3 - must_kw)
        cost[pc] = dt * (price * facility + EARLY_TIE_BREAK_EUR_PER_KWH_STEP * ks)
        bc = model.col("B", g.id)
        cost[bc.stop - 1] = TERMINAL_BACKLOG_PRICE_FACTOR * float(price.max()) * facility
        cost[model.col("LATE", g.id)] = dt * PRICE_LATE_EUR_PER_KWH_H
        arrivals = np.maximum(np.asarray(inputs.arrivals_kwh[g.id], dtype=float), 0.0)
        queue = max(0.0, float(inputs.queue_kwh[g.id]))
        rhs = arrivals.copy()
        rhs[0] += queue
        rlo[rows("BKL", g.id)] = rhs
        rhi[rows("BKL", g.id)] = rhs
        # Work due by the end of step k: the waiting queue's due part plus arrivals whose
        # (margin-shortened) deadline falls inside the horizon.
        lead = max(0, round((g.deadline_h - s.deadline_margin_h) / dt))
        due_arrivals = np.zeros(n)
        if lead < n:
            due_arrivals[lead:] = np.cumsum(arrivals)[: n - lead]
        due = np.minimum(np.asarray(inputs.queue_due_kwh[g.id], dtype=float), queue)
        allowed = queue + np.cumsum(arrivals) - due - due_arrivals
        rhi[rows("DL", g.id)] = np.maximum(allowed, 0.0)
        if g.id in model.ramp_groups:
            ramp_kw = g.ramp_w_per_s * s.step_s / 1e3
            dm = np.diff(must_kw, prepend=must_kw[0])
            r = rows("RAMP", g.id)
            rlo[r] = -ramp_kw - dm
            rhi[r] = ramp_kw - dm
            rlo[r.start] = -INF
            rhi[r.start] = INF

    loop = p.heat_loop
    loop_loss_kw = loop.loss_ua_w_per_k * (loop.supply_temp_setpoint_c - loop.plant_room_temp_c)
    balance = np.minimum(0.0, loop_loss_kw / 1e3 - captured_must_kw)
    rlo[rows("BAL")] = balance
    rhi[rows("BAL")] = balance

    ambient = np.asarray(inputs.ambient_c, dtype=float)
    hi[model.col("D")] = model.dump_kw_per_k * np.maximum(
        0.0, loop.supply_temp_setpoint_c - ambient
    )
    cost[model.col("D")] = dt * price * DUMP_FAN_KW_PER_KW
    cost[model.col("V")] = dt * PRICE_UNPLACED_EUR_PER_KWH

    for sink in p.sinks:
        cap = model.sink_capacity_kwh_per_k[sink.id]
        backup_price = backup_price_eur_per_kwh(sink, p)
        t_init = float(inputs.sink_temp_c[sink.id])
        offset_w, slope_w = inputs.sink_loss_w[sink.id]
        offset_kw = np.asarray(offset_w, dtype=float) / 1e3
        slope_kw = np.asarray(slope_w, dtype=float) / 1e3
        hi[model.col("Q", sink.id)] = sink.max_heat_w / 1e3
        hi[model.col("BK", sink.id)] = sink.backup.max_heat_w / 1e3
        cost[model.col("BK", sink.id)] = dt * backup_price
        lo[model.col("T", sink.id)] = -INF
        tc = model.col("T", sink.id)
        cost[tc.stop - 1] = -TERMINAL_HEAT_VALUE_FRACTION * backup_price * cap
        rhs = -dt * offset_kw
        rhs[0] += (cap - dt * slope_kw[0]) * t_init
        rlo[rows("SINK", sink.id)] = rhs
        rhi[rows("SINK", sink.id)] = rhs
        dyn[("SINK", sink.id)] = -(cap - dt * slope_kw[1:])
        if isinstance(sink, DhwSink):
            low = sink.band_low_c + s.dhw_comfort_margin_k
            cost[model.col("LO", sink.id)] = dt * PRICE_COMFORT_EUR_PER_K_H
            w_kw = np.asarray(inputs.draw_w_per_k[sink.id], dtype=float) / 1e3
            excess = inputs.tank_top_above_mean_k.get(sink.id)
            if excess is None:
                hx_offset = s.dhw_hx_offset_k
                top_above_k = 0.0
            else:
                hx_offset = 0.0
                top_above_k = max(0.0, float(excess))
                # Draws leave at the top, e kelvin above the planned mean.
                rhs = rhs - dt * w_kw * top_above_k
                rlo[rows("SINK", sink.id)] = rhs
                rhi[rows("SINK", sink.id)] = rhs
            dyn[("DRAW", sink.id)] = w_kw
            rlo[rows("DRAW", sink.id)] = w_kw * (sink.draw_temp_c - top_above_k)
        else:
            low = sink.setpoint_c - s.backup_hold_below_setpoint_k
            cost[model.col("LO", sink.id)] = dt * PRICE_BELOW_BACKUP_POINT_EUR_PER_K_H
            hx_offset = (
                s.space_heating_hx_offset_k if isinstance(sink, SpaceHeatingSink) else 0.0
            )
        cost[model.col("HI", sink.id)] = dt * PRICE_COMFORT_EUR_PER_K_H
        rlo[rows("LOW", sink.id)] = low
        rhi[rows("HIGH", sink.id)] = sink.band_high_c
        ceiling = max(model.loop_max_c - hx_offset, t_init)
        hxc = np.full(n, model.hx_kw_per_k * ceiling)
        hxc[0] = model.hx_kw_per_k * max(0.0, ceiling - t_init)
        rhi[rows("HXC", sink.id)] = hxc
    return LpData(cost, lo, hi, rlo, rhi, dyn)


# -------------------------------------------------------------------------- solve
class HighsSolver:
    """One persistent ``highspy`` model per site; re-plans change arrays and hot-start."""

    name = "highspy"

    def __init__(self, model: PlannerModel, time_limit_s: float = 5.0) -> None:
        import highspy

        self._hs = highspy
        self.model = model
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.time_limit_s = time_limit_s
        self._passed = False
        self._dynamic: dict[tuple[str, str], Array] = {}
        self._all_cols = np.arange(model.n_cols, dtype=np.int32)
        self._all_rows = np.arange(model.n_rows, dtype=np.int32)

    def _pass(self, data: LpData) -> None:
        hs = self._hs
        m = self.model
        matrix = m.matrix.copy()
        for name, values in data.dynamic_values.items():
            matrix.data[m.dynamic_entries[name]] = values
        lp = hs.HighsLp()
        lp.num_col_ = m.n_cols
        lp.num_row_ = m.n_rows
        lp.col_cost_ = data.cost
        lp.col_lower_ = _finite(data.col_lower)
        lp.col_upper_ = _finite(data.col_upper)
        lp.row_lower_ = _finite(data.row_lower)
        lp.row_upper_ = _finite(data.row_upper)
        lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        self.highs.passModel(lp)
        self._dynamic = {k: v.copy() for k, v in data.dynamic_values.items()}
        self._passed = True

    def solve(self, data: LpData) -> SolveResult:
        start = time.perf_counter()
        h = self.highs
        m = self.model
        if not self._passed:
            self._pass(data)
        else:
            n_cols, n_rows = m.n_cols, m.n_rows
            h.changeColsCost(n_cols, self._all_cols, data.cost)
            h.changeColsBounds(
                n_cols, self._all_cols, _finite(data.col_lower), _finite(data.col_upper)
            )
            h.changeRowsBounds(  # type: ignore[attr-defined]
                n_rows, self._all_rows, _finite(data.row_lower), _finite(data.row_upper)
            )
            for name, values in data.dynamic_values.items():
                old = self._dynamic[name]
                changed = np.flatnonzero(np.abs(values - old) > 1e-12 * (1.0 + np.abs(old)))
                if changed.size:
                    r = m.dynamic_rows[name]
                    c = m.dynamic_cols[name]
                    for i in changed:
                        h.changeCoeff(int(r[i]), int(c[i]), float(values[i]))
                    old[changed] = values[changed]
        # HiGHS's time limit counts the instance's whole run time, not this call's.
        h.setOptionValue("time_limit", h.getRunTime() + self.time_limit_s)
        h.run()
        status = h.getModelStatus()
        ok = status == self._hs.HighsModelStatus.kOptimal
        x = np.asarray(h.getSolution().col_value, dtype=float) if ok else None
        objective = float(h.getInfo().objective_function_value) if ok else math.nan
        if not ok:
            # Start the next solve from scratch rather than from a broken basis.
            self._passed = False
        return SolveResult(
            ok, h.modelStatusToString(status), x, objective, (time.perf_counter() - start) * 1e3
        )


class ScipySolver:
    """``scipy.optimize.linprog(method="highs")``; no state between calls."""

    name = "scipy"

    def __init__(self, model: PlannerModel) -> None:
        self.model = model

    def solve(self, data: LpData) -> SolveResult:
        start = time.perf_counter()
        m = self.model
        matrix = m.matrix.copy()
        for name, values in data.dynamic_values.items():
            matrix.data[m.dynamic_entries[name]] = values
        a = matrix.tocsr()
        eq = data.row_lower == data.row_upper
        upper = ~eq & np.isfinite(data.row_upper)
        lower = ~eq & np.isfinite(data.row_lower)
        a_ub = sparse.vstack([a[upper], -a[lower]]).tocsr()
        b_ub = np.concatenate([data.row_upper[upper], -data.row_lower[lower]])
        bounds = np.column_stack([
            np.where(np.isfinite(data.col_lower), data.col_lower, np.nan),
            np.where(np.isfinite(data.col_upper), data.col_upper, np.nan),
        ])
        res = linprog(
            data.cost, A_ub=a_ub, b_ub=b_ub, A_eq=a[eq], b_eq=data.row_lower[eq],
            bounds=[(None if math.isnan(lo) else lo, None if math.isnan(hi) else hi)
                    for lo, hi in bounds],
            method="highs",
        )
        ok = res.status == 0
        return SolveResult(
            ok, str(res.message), np.asarray(res.x) if ok else None,
            float(res.fun) if ok else math.nan, (time.perf_counter() - start) * 1e3,
        )


Solver = HighsSolver | ScipySolver


def make_solver(model: PlannerModel, backend: str = "auto") -> Solver:
    """``highspy`` when installed (``backend="auto"``), else scipy's ``linprog``."""
    if backend in ("auto", "highspy"):
        try:
            return HighsSolver(model)
        except ImportError:
            if backend == "highspy":
                raise
    return ScipySolver(model)


def _finite(values: Array) -> Array:
    """HiGHS takes +-1e30 as infinite."""
    return np.clip(values, -1e30, 1e30)


# ------------------------------------------------------------------------- extract
def extract(model: PlannerModel, inputs: PlanInputs, result: SolveResult) -> Plan:
    """The solution as a :class:`Plan` in W (call only when ``result.ok``)."""
    if result.x is None:
        raise ValueError(f"no solution to extract ({result.status})")
    x = result.x
    p = model.profile

    def kw(kind: str, ident: str = "") -> Array:
        return np.maximum(x[model.col(kind, ident)], 0.0) * 1e3

    return Plan(
        start_s=inputs.start_s,
        step_s=model.settings.step_s,
        deferrable_w={g.id: kw("P", g.id) for g in p.rack_groups},
        sink_heat_w={s.id: kw("Q", s.id) for s in p.sinks},
        backup_w={s.id: kw("BK", s.id) for s in p.sinks},
        sink_temp_c={s.id: x[model.col("T", s.id)].copy() for s in p.sinks},
        backlog_kwh={g.id: x[model.col("B", g.id)].copy() for g in p.rack_groups},
        dump_w=kw("D"),
        unplaced_w=kw("V"),
        late_kwh={g.id: x[model.col("LATE", g.id)].copy() for g in p.rack_groups},
        objective_eur=result.objective,
        solve_ms=result.solve_ms,
    )
