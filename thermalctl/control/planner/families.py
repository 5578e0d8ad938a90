"""The constraint families of the planning programme.

Each family keeps its rows and everything that changes them in one place:
``build_rows`` adds its row blocks and matrix entries once per site, ``update`` writes
its costs, variable bounds, right-hand sides and tagged coefficients for one re-plan.
A new constraint is a new family appended to :data:`FAMILIES`. Units inside the LP are
kW, kWh, degC, K and hours; ``dt`` is the step length [h].

==================  =================================================================
family              rows per step ``k`` (and what its update sets)
==================  =================================================================
HeatBalance         sum_g cf_g (must_g + P_g) = sum_s e_s Q_s + D + UA (L_k - T_room) + V
                    + C_loop (L_k - L_{k-1}) / dt   (loop storage)
Backlog             B_k = B_{k-1} + arrivals_k - dt P_k (P bounds, electricity cost)
Deadlines           B_k - LATE_k <= work not yet due at the end of step k
Ramps               |(must + P)_k - (must + P)_{k-1}| <= ramp dt (only where it binds)
SinkDynamics        C_s (T_k - T_{k-1}) = dt (Q + BK - loss(T_{k-1}))
Comfort             T_k + LO_k >= low_s,  T_k - HI_k <= band_high_s
HxCapacity          e_i Q_i <= a_i (H_i - inlet_i), the hot inlet ``H_i`` of exchanger
                    i: rack outlet ``L + sum cf (must + P) / C`` less what the ones
                    before it took (series), or the rack outlet (parallel)
HeatCap             Q_k + c_k T_{k-1} <= r_k (space heating: the room valves)
DrawTopUp           BK_k >= w_k (T_draw - T_k) (the boiler downstream tops up draws)
DumpCapacity        D_k <= a_d (rack outlet - sum e Q / C - T_air)
RackOutlet          L_k + cf_g (must_g + P_g) / C_g <= outlet limit of group g
==================  =================================================================

Here ``P`` is deferrable power, ``B`` backlog, ``Q`` sink heat, ``BK`` backup heat,
``T`` the planned sink temperature, ``L`` the loop supply (rack inlet) temperature
(at most the racks' inlet limit less the margin), ``LO``/``HI`` comfort slacks, ``D``
dump, ``V`` unplaced heat (see :class:`~thermalctl.control.planner.layout.Var` for the
names); ``a = eps C_min`` of each exchanger and of the dry cooler, ``C`` the loop's
capacity rate, ``e_s`` the share of a sink's heat taken from the loop (1, or
``1 - 1/COP`` behind a heat pump, whose electricity is priced), all from
:class:`~thermalctl.models.loop.HeatLoopModel`, the same the plant steps with.
Everything is linear in the decisions; the heat-pump COP and each sink's exchanger
inlet (the heating curve's return, a tank's coil) are linearised at the current state
and the forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from thermalctl.control.planner.layout import Builder, Row, Var
from thermalctl.models.sinks import SinkModel

if TYPE_CHECKING:
    from thermalctl.control.planner.programme import (
        LpData,
        PlanInputs,
        PlannerModel,
        PlannerSite,
    )

__all__ = ["FAMILIES", "ConstraintFamily", "Replan"]

Array = npt.NDArray[np.float64]
INF = np.inf

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
#: Lowest loop supply temperature the plan may use [degC] (water, no glycol).
LOOP_LOWEST_C = 2.0
#: Dry-cooler fan electricity per unit of heat rejected at design [-] (fan laws give less at
#: part load; 2 % is a typical full-load figure for adiabatic-free dry coolers).
DUMP_FAN_KW_PER_KW = 0.02


@dataclass(frozen=True)
class Replan:
    """What one re-plan's families share: its inputs and values derived once from them."""

    inputs: PlanInputs
    #: Step length [h].
    dt_h: float
    #: Electricity price per step [EUR/kWh].
    price_eur_per_kwh: Array
    #: Facility electricity per kWh of IT electricity inside the boundary (UPS loss) [-].
    facility_factor: float
    #: Must-run rack power per group and step [kW].
    must_run_kw: dict[str, Array]
    #: Mid-step times [s].
    mids_s: Array
    #: Share of each sink's heat taken from the loop per step [-] (1 without heat pump).
    extraction: dict[str, Array]
    #: Heat-pump COP per step, for sinks behind a heat pump [-].
    cop: dict[str, Array]
    #: Loop supply temperature now [degC].
    loop_supply_c: float

    def captured_must_kw(self, model: PlannerModel) -> Array:
        """Captured heat of the must-run load per step [kW]."""
        return np.asarray(sum(
            g.capture_fraction * self.must_run_kw[g.id] for g in model.profile.rack_groups
        ), dtype=float)

    def setpoint_c(self, model: SinkModel) -> float:
        """The set point in force for a sink (the operator's, else the profile's) [degC]."""
        return float(self.inputs.setpoint_c.get(model.id, model.sink.setpoint_c))

    def sink_temp_c(self, model: SinkModel) -> float:
        """The planned sink temperature now [degC]."""
        return float(self.inputs.sink_temp_c[model.id])

    def draw_kw_per_k(self, model: SinkModel) -> Array:
        """Hot-water draw times rho c_p per step [kW/K]."""
        return np.asarray(self.inputs.draw_w_per_k[model.id], dtype=float) / 1e3

    def top_above_mean_k(self, model: SinkModel) -> float:
        """Tank top above the planned mean [K] (0 for a sink planned on its sensor)."""
        excess = self.inputs.tank_top_above_mean_k.get(model.id)
        return 0.0 if excess is None else max(0.0, float(excess))

    def planned_on_mean(self, model: SinkModel) -> bool:
        return model.id in self.inputs.tank_top_above_mean_k


class ConstraintFamily(Protocol):
    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        """Add this family's row blocks and their fixed matrix entries."""

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        """Write this family's costs, bounds, row bounds and tagged values."""


def _set_equal(data: LpData, rows: slice, rhs: Array) -> None:
    data.row_lower[rows] = rhs
    data.row_upper[rows] = rhs


def _loop_kw_per_k(site: PlannerSite) -> float:
    """Loop capacity rate [kW/K]."""
    return site.loop.capacity_rate_w_per_k / 1e3


def _add_hot_inlet(b: Builder, site: PlannerSite, row: int, factor: float,
                   before: tuple[str, ...], tag_name: str) -> None:
    """Entries of ``-factor * H`` on ``row`` (each step): ``H`` is the water reaching an
    exchanger, the rack outlet ``L + sum cf P / C`` less the extraction of ``before``;
    predecessor entries are tagged ``(tag_name, sink)`` (their share ``e`` changes)."""
    ks = b.steps
    c = _loop_kw_per_k(site)
    b.entries(row + ks, b.col(Var.LOOP_SUPPLY_C) + ks, -factor)
    for g in site.profile.rack_groups:
        b.entries(row + ks, b.col(Var.DEFERRABLE_KW, g.id) + ks, -factor * g.capture_fraction / c)
    for sink_id in before:
        b.entries(row + ks, b.col(Var.SINK_HEAT_KW, sink_id) + ks, factor / c,
                  tag=(tag_name, sink_id))


def _before(site: PlannerSite, sink_id: str) -> tuple[str, ...]:
    """Sinks whose exchangers the water passes before ``sink_id``'s (series only)."""
    if site.loop.topology == "parallel":
        return ()
    order = site.loop.order
    return order[: order.index(sink_id)]


class HeatBalance:
    """Captured heat goes to a sink, the dump, the pipes, the loop's own mass, or
    (priced) nowhere: ``sum cf (must + P) - sum e Q - D - V - UA L_k - C (L_k - L_{k-1})/dt
    = -UA T_room`` (loss at the supply temperature, as in the plant)."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        row = b.add_rows(Row.HEAT_BALANCE)
        ks, later = b.steps, b.later
        for g in site.profile.rack_groups:
            b.entries(row + ks, b.col(Var.DEFERRABLE_KW, g.id) + ks, g.capture_fraction)
        for sink in site.profile.sinks:
            b.entries(row + ks, b.col(Var.SINK_HEAT_KW, sink.id) + ks, -1.0,
                      tag=(Row.HEAT_BALANCE, sink.id))
        b.entries(row + ks, b.col(Var.DUMP_KW) + ks, -1.0)
        b.entries(row + ks, b.col(Var.UNPLACED_KW) + ks, -1.0)
        store = site.loop.capacity_j_per_k / 3.6e6 / site.settings.step_h
        ua = site.loop.loss_ua_w_per_k / 1e3
        loop = b.col(Var.LOOP_SUPPLY_C)
        b.entries(row + ks, loop + ks, -(store + ua))
        b.entries(row + later, loop + later - 1, store)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        site = model.site
        lay = model.layout
        store = site.loop.capacity_j_per_k / 3.6e6 / replan.dt_h
        ua = site.loop.loss_ua_w_per_k / 1e3
        rhs = -ua * site.loop.plant_room_temp_c - replan.captured_must_kw(model)
        rhs[0] -= store * replan.loop_supply_c
        _set_equal(data, lay.row(Row.HEAT_BALANCE), rhs)
        data.cost[lay.col(Var.UNPLACED_KW)] = replan.dt_h * PRICE_UNPLACED_EUR_PER_KWH
        loop = lay.col(Var.LOOP_SUPPLY_C)
        data.col_lower[loop] = LOOP_LOWEST_C
        data.col_upper[loop] = model.loop_max_c
        for sink_id in site.sink_models:
            data.dynamic_values[(Row.HEAT_BALANCE, sink_id)] = -replan.extraction[sink_id]


class Backlog:
    """Deferred work waits in a backlog that arrivals fill and deferrable power empties."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks, later = b.steps, b.later
        for g in site.profile.rack_groups:
            power, backlog = b.col(Var.DEFERRABLE_KW, g.id), b.col(Var.BACKLOG_KWH, g.id)
            row = b.add_rows(Row.BACKLOG, g.id)
            b.entries(row + ks, backlog + ks, 1.0)
            b.entries(row + later, backlog + later - 1, -1.0)
            b.entries(row + ks, power + ks, site.settings.step_h)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        lay = model.layout
        dt = replan.dt_h
        price = replan.price_eur_per_kwh
        steps = np.arange(price.size)
        for g in model.profile.rack_groups:
            power = lay.col(Var.DEFERRABLE_KW, g.id)
            data.col_upper[power] = np.maximum(0.0, g.max_power_w / 1e3 - replan.must_run_kw[g.id])
            data.cost[power] = dt * (
                price * replan.facility_factor + EARLY_TIE_BREAK_EUR_PER_KWH_STEP * steps
            )
            backlog = lay.col(Var.BACKLOG_KWH, g.id)
            data.cost[backlog.stop - 1] = (
                TERMINAL_BACKLOG_PRICE_FACTOR * float(price.max()) * replan.facility_factor
            )
            rhs = _arrivals_kwh(replan, g.id).copy()
            rhs[0] += _queue_kwh(replan, g.id)
            _set_equal(data, lay.row(Row.BACKLOG, g.id), rhs)


def _arrivals_kwh(replan: Replan, group_id: str) -> Array:
    return np.maximum(np.asarray(replan.inputs.arrivals_kwh[group_id], dtype=float), 0.0)


def _queue_kwh(replan: Replan, group_id: str) -> float:
    return max(0.0, float(replan.inputs.queue_kwh[group_id]))


class Deadlines:
    """Work due (deadline minus margin) by the end of a step must be done by then, or
    booked (and priced) as late."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks = b.steps
        for g in site.profile.rack_groups:
            row = b.add_rows(Row.DEADLINE, g.id)
            b.entries(row + ks, b.col(Var.BACKLOG_KWH, g.id) + ks, 1.0)
            b.entries(row + ks, b.col(Var.LATE_KWH, g.id) + ks, -1.0)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        s = model.settings
        dt = replan.dt_h
        for g in model.profile.rack_groups:
            n = model.layout.horizon_steps
            arrivals = _arrivals_kwh(replan, g.id)
            queue = _queue_kwh(replan, g.id)
            data.cost[model.layout.col(Var.LATE_KWH, g.id)] = dt * PRICE_LATE_EUR_PER_KWH_H
            # Work due by the end of step k: the waiting queue's due part plus arrivals whose
            # (margin-shortened) deadline falls inside the horizon.
            lead_steps = max(0, round((g.deadline_h - s.deadline_margin_h) / dt))
            due_arrivals = np.zeros(n)
            if lead_steps < n:
                due_arrivals[lead_steps:] = np.cumsum(arrivals)[: n - lead_steps]
            due = np.minimum(np.asarray(replan.inputs.queue_due_kwh[g.id], dtype=float), queue)
            allowed = queue + np.cumsum(arrivals) - due - due_arrivals
            data.row_upper[model.layout.row(Row.DEADLINE, g.id)] = np.maximum(allowed, 0.0)


class Ramps:
    """Rack power changes by at most ``ramp_w_per_s`` per second; rows only for groups
    whose ramp limit can bind within one step."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        later = b.later
        step_s = site.settings.step_s
        for g in site.profile.rack_groups:
            if g.ramp_w_per_s * step_s >= g.max_power_w - g.idle_power_w:
                continue
            power = b.col(Var.DEFERRABLE_KW, g.id)
            row = b.add_rows(Row.RAMP, g.id)
            b.entries(row + later, power + later, 1.0)
            b.entries(row + later, power + later - 1, -1.0)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        for g in model.profile.rack_groups:
            if (Row.RAMP, g.id) not in model.layout.rows:
                continue
            ramp_kw = g.ramp_w_per_s * model.settings.step_s / 1e3
            must = replan.must_run_kw[g.id]
            must_change_kw = np.diff(must, prepend=must[0])
            rows = model.layout.row(Row.RAMP, g.id)
            data.row_lower[rows] = -ramp_kw - must_change_kw
            data.row_upper[rows] = ramp_kw - must_change_kw
            data.row_lower[rows.start] = -INF
            data.row_upper[rows.start] = INF


class SinkDynamics:
    """Each sink is one linear node: ``C (T_k - T_{k-1}) = dt (Q + BK - a_k - b_k T_{k-1})``.

    The loss line (``a_k + b_k T``) comes from the sink model via the forecast; its
    slope is a tagged coefficient. A sink whose backup only tops up draws (a hot-water
    preheat tank) has no ``BK`` here. A tank planned on its energy-mean temperature
    loses its draws at the top, ``top_above_mean_k`` above the mean.
    """

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks, later = b.steps, b.later
        dt = site.settings.step_h
        for sink_id, sm in site.sink_models.items():
            temp = b.col(Var.SINK_TEMP_C, sink_id)
            cap = sm.capacity_kwh_per_k
            row = b.add_rows(Row.SINK_DYNAMICS, sink_id)
            b.entries(row + ks, temp + ks, cap)
            b.entries(row + later, temp + later - 1, -cap, tag=(Row.SINK_DYNAMICS, sink_id))
            b.entries(row + ks, b.col(Var.SINK_HEAT_KW, sink_id) + ks, -dt)
            if sm.backup_heats_sink:
                b.entries(row + ks, b.col(Var.BACKUP_KW, sink_id) + ks, -dt)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        lay = model.layout
        dt = replan.dt_h
        for sink_id, sm in model.site.sink_models.items():
            sink = sm.sink
            cap = sm.capacity_kwh_per_k
            backup_price = model.backup_price_eur_per_kwh(sink_id)
            t_init = replan.sink_temp_c(sm)
            offset_w, slope_w = replan.inputs.sink_loss_w[sink_id]
            offset_kw = np.asarray(offset_w, dtype=float) / 1e3
            slope_kw = np.asarray(slope_w, dtype=float) / 1e3
            data.col_upper[lay.col(Var.SINK_HEAT_KW, sink_id)] = sink.max_heat_w / 1e3
            backup = lay.col(Var.BACKUP_KW, sink_id)
            # The heater downstream of a preheat tank tops up every draw (the plant does not
            # cap it either: it is sized for the peak draw); a sink's own backup is capped.
            data.col_upper[backup] = INF if sm.has_draws else sink.backup.max_heat_w / 1e3
            data.cost[backup] = dt * backup_price
            temp = lay.col(Var.SINK_TEMP_C, sink_id)
            data.col_lower[temp] = -INF
            data.cost[temp.stop - 1] = -TERMINAL_HEAT_VALUE_FRACTION * backup_price * cap
            rhs = -dt * offset_kw
            rhs[0] += (cap - dt * slope_kw[0]) * t_init
            if sm.has_draws and replan.planned_on_mean(sm):
                # Draws leave at the top, e kelvin above the planned mean.
                rhs = rhs - dt * replan.draw_kw_per_k(sm) * replan.top_above_mean_k(sm)
            _set_equal(data, lay.row(Row.SINK_DYNAMICS, sink_id), rhs)
            data.dynamic_values[(Row.SINK_DYNAMICS, sink_id)] = -(cap - dt * slope_kw[1:])


class Comfort:
    """Keep each sink between its low point and the top of its band (priced slacks).

    The low point is the sink model's: its backup start point below the set point in
    force (priced high: the plan must show that backup), or for a sink with no backup
    of its own the bottom of its comfort band plus a margin (priced as discomfort).
    """

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks = b.steps
        for sink_id in site.sink_models:
            temp = b.col(Var.SINK_TEMP_C, sink_id)
            row = b.add_rows(Row.COMFORT_LOW, sink_id)
            b.entries(row + ks, temp + ks, 1.0)
            b.entries(row + ks, b.col(Var.BELOW_LOW_K, sink_id) + ks, 1.0)
            row = b.add_rows(Row.COMFORT_HIGH, sink_id)
            b.entries(row + ks, temp + ks, 1.0)
            b.entries(row + ks, b.col(Var.ABOVE_HIGH_K, sink_id) + ks, -1.0)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        lay = model.layout
        dt = replan.dt_h
        for sink_id, sm in model.site.sink_models.items():
            below_price = (
                PRICE_BELOW_BACKUP_POINT_EUR_PER_K_H
                if sm.backup_heats_sink
                else PRICE_COMFORT_EUR_PER_K_H
            )
            data.cost[lay.col(Var.BELOW_LOW_K, sink_id)] = dt * below_price
            data.cost[lay.col(Var.ABOVE_HIGH_K, sink_id)] = dt * PRICE_COMFORT_EUR_PER_K_H
            low = sm.planning_low_profile_c(replan.mids_s, replan.setpoint_c(sm))
            if sm.backup_heats_sink:
                # Below its backup point the plan must show the backup; where the backup at
                # full output cannot hold that point (a pool's evening evaporation above
                # its boiler's rating), the deficit is the boiler's, not the plan's: the
                # low point follows the backup-only trajectory there, never below the
                # comfort band in force. Otherwise every re-plan, seeing the sink a few
                # hundredths of a kelvin below its backup point, ran deferrable work at
                # once at any price (the pool's peak hours).
                low = np.maximum(sm.band_low_profile_c(replan.mids_s),
                                 np.minimum(low, _backup_only_c(replan, sm)))
            data.row_lower[lay.row(Row.COMFORT_LOW, sink_id)] = low
            data.row_upper[lay.row(Row.COMFORT_HIGH, sink_id)] = sm.band_high_profile_c(
                replan.mids_s
            )


def _backup_only_c(replan: Replan, sm: SinkModel) -> Array:
    """The sink's temperature at the end of each step with its backup at full output and
    nothing from the loop [degC]: :class:`SinkDynamics` with ``Q = 0``, ``BK = max``."""
    cap = sm.capacity_kwh_per_k
    dt = replan.dt_h
    offset_w, slope_w = replan.inputs.sink_loss_w[sm.sink.id]
    offset_kw = np.asarray(offset_w, dtype=float) / 1e3
    slope_kw = np.asarray(slope_w, dtype=float) / 1e3
    backup_kw = sm.sink.backup.max_heat_w / 1e3
    out = np.empty(offset_kw.size)
    temp = replan.sink_temp_c(sm)
    for k in range(offset_kw.size):
        temp = ((cap - dt * slope_kw[k]) * temp + dt * (backup_kw - offset_kw[k])) / cap
        out[k] = temp
    return out


class HxCapacity:
    """Each sink's exchanger passes at most ``a (H - inlet)``: ``H`` the water reaching
    it (the topology's), ``inlet`` its sink side (the sink model's line at the present
    state, or a heat pump's evaporating temperature), linearised at the present state:
    the inlet is held at its present value over the horizon.

    ``max(0, .)`` is not linear, so a sink hotter than the loop water would force the
    loop up. The inlet is therefore never taken above the water the loop reaches with
    nothing taken from it and no deferrable work (``H_free``, the loop's own heat
    balance from the present supply), so doing nothing always satisfies the row; a sink
    hotter than the hottest water the loop can bring at all gets no heat. The excess
    slack ``HX_EXCESS_K`` (priced as unplaced heat) only keeps the programme feasible
    where series exchangers upstream take the water a hot sink downstream would need."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks, later = b.steps, b.later
        for sink_id in site.sink_models:
            ex = site.loop.exchangers[sink_id]
            a = ex.duty_w_per_k / 1e3
            row = b.add_rows(Row.HX_CAPACITY, sink_id)
            b.entries(row + ks, b.col(Var.SINK_HEAT_KW, sink_id) + ks, 1.0,
                      tag=(Row.HX_CAPACITY, sink_id))
            _add_hot_inlet(b, site, row, a, _before(site, sink_id), f"{Row.HX_CAPACITY}:{sink_id}")
            b.entries(row + ks, b.col(Var.HX_EXCESS_K, sink_id) + ks, -a)
            if ex.heat_pump is None:
                # The inlet's slope on the planned sink temperature (tagged: 0 or 1).
                b.entries(row + later, b.col(Var.SINK_TEMP_C, sink_id) + later - 1, a,
                          tag=(f"{Row.HX_CAPACITY}:slope", sink_id))

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        site = model.site
        c = _loop_kw_per_k(site)
        must = replan.captured_must_kw(model)
        free = _free_floating_water_c(model, replan)
        full = sum(g.capture_fraction * g.max_power_w for g in model.profile.rack_groups) / 1e3
        hottest = model.loop_max_c + full / c
        ambient = np.asarray(replan.inputs.ambient_c, dtype=float)
        for sink_id, sm in site.sink_models.items():
            ex = site.loop.exchangers[sink_id]
            a = ex.duty_w_per_k / 1e3
            t_init = replan.sink_temp_c(sm)
            if ex.heat_pump is not None:
                offset = np.full(free.size, ex.heat_pump.evaporating_temp_c)
                slope = 0.0
            else:
                offset, slope = sm.hx_inlet_line_c(
                    replan.mids_s, ambient, replan.planned_on_mean(sm)
                )
                offset = np.asarray(offset, dtype=float)
            # Linearised at the present state: the sink side's inlet is held at its present
            # value over the horizon (the plan's own heating of the sink is not credited
            # against it), and never above the hottest water the loop can bring, so a
            # sink hotter than the loop (a tank after its legionella cycle) gets no heat
            # without the excess slack pricing the loop's temperature.
            present = offset + slope * t_init
            if sm.stratified and replan.planned_on_mean(sm):
                # The coil sits in the bottom third: with the stratification taken linear
                # from the measured top through the mean, its mean is 2/3 of the top's
                # excess below the tank's mean.
                present = present - 2.0 / 3.0 * replan.top_above_mean_k(sm)
            inlet = np.minimum(present, free)
            if np.any(present > free):
                # Held at the free-floating water for feasibility; the heat is then bounded
                # by what the hottest water the loop can bring at all would pass (zero for
                # a sink hotter than that).
                cols = model.layout.col(Var.SINK_HEAT_KW, sink_id)
                bound = a * np.maximum(0.0, hottest - present)
                data.col_upper[cols] = np.where(
                    present > free, np.minimum(data.col_upper[cols], bound), data.col_upper[cols]
                )
            if ex.heat_pump is None:
                # A sink whose inlet warms with the plan (a tank's coil region) follows
                # its planned temperature from the present value, while the loop can
                # still reach it; otherwise the inlet is held.
                rise = sm.hx_inlet_rise_per_k if np.all(present < free) else 0.0
                data.dynamic_values[(f"{Row.HX_CAPACITY}:slope", sink_id)] = np.full(
                    free.size - 1, a * rise
                )
                inlet = inlet.copy()
                inlet[1:] -= rise * t_init
            rhs = a * (must / c - inlet)
            if ex.heat_pump is not None:
                cols = model.layout.col(Var.SINK_HEAT_KW, sink_id)
                data.col_upper[cols] = np.minimum(
                    data.col_upper[cols], ex.heat_pump.max_heat_w / 1e3
                )
            data.row_upper[model.layout.row(Row.HX_CAPACITY, sink_id)] = rhs
            data.cost[model.layout.col(Var.HX_EXCESS_K, sink_id)] = (
                replan.dt_h * a * PRICE_UNPLACED_EUR_PER_KWH
            )
            data.dynamic_values[(Row.HX_CAPACITY, sink_id)] = replan.extraction[sink_id]
            for before in _before(site, sink_id):
                data.dynamic_values[(f"{Row.HX_CAPACITY}:{sink_id}", before)] = (
                    a / c * replan.extraction[before]
                )


class HeatCap:
    """A sink that takes at most what its own circuit draws (space heating: the curve's
    heat, throttled by the room valves over their band above the set point):
    ``Q_k <= cap_k`` and ``Q_k + c_k T_{k-1} - S_k <= r_k`` (``c`` tagged).

    The valves pass ``max(0, r_k - c_k T_{k-1})``, which is not linear: where the rooms
    stand above the valves' band while the curve still runs (solar and internal gains,
    or the first hours of a night setback), ``r_k - c_k T_{k-1}`` is negative and the
    row alone would be infeasible whatever the plan does (the rooms' temperature is
    the building's, not the plan's). The slack ``S`` (``THROTTLE_SLACK_KW``, priced as
    unplaced heat, far above any fuel it could save) takes up exactly that negative
    part, so ``Q`` is 0 there and the programme stays feasible."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks, later = b.steps, b.later
        for sink_id, sm in site.sink_models.items():
            if not _has_heat_cap(sm):
                continue
            row = b.add_rows(Row.HEAT_CAP, sink_id)
            b.entries(row + ks, b.col(Var.SINK_HEAT_KW, sink_id) + ks, 1.0)
            b.entries(row + ks, b.col(Var.THROTTLE_SLACK_KW, sink_id) + ks, -1.0)
            b.entries(row + later, b.col(Var.SINK_TEMP_C, sink_id) + later - 1, 0.0,
                      tag=(Row.HEAT_CAP, sink_id))

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        ambient = np.asarray(replan.inputs.ambient_c, dtype=float)
        for sink_id, sm in model.site.sink_models.items():
            line = sm.heat_cap_line_w(replan.mids_s, ambient, replan.setpoint_c(sm))
            if line is None:
                data.col_upper[model.layout.col(Var.THROTTLE_SLACK_KW, sink_id)] = 0.0
                continue
            cap_w, rhs_w, slope_w = (np.asarray(v, dtype=float) / 1e3 for v in line)
            cols = model.layout.col(Var.SINK_HEAT_KW, sink_id)
            data.col_upper[cols] = np.minimum(data.col_upper[cols], cap_w)
            rhs = rhs_w.copy()
            rhs[0] -= slope_w[0] * replan.sink_temp_c(sm)
            data.row_upper[model.layout.row(Row.HEAT_CAP, sink_id)] = np.maximum(rhs, 0.0)
            data.dynamic_values[(Row.HEAT_CAP, sink_id)] = slope_w[1:]
            data.cost[model.layout.col(Var.THROTTLE_SLACK_KW, sink_id)] = (
                replan.dt_h * PRICE_UNPLACED_EUR_PER_KWH
            )


def _free_floating_water_c(model: PlannerModel, replan: Replan) -> Array:
    """Rack outlet per step with nothing taken from the loop and no deferrable work
    [degC]: the loop's own heat balance (storage and pipe loss) from the present supply,
    capped at the highest supply the plan allows."""
    site = model.site
    store = site.loop.capacity_j_per_k / 3.6e6 / replan.dt_h
    ua = site.loop.loss_ua_w_per_k / 1e3
    must = replan.captured_must_kw(model)
    supply = np.empty(must.size)
    previous = replan.loop_supply_c
    loop_max = model.loop_max_c
    room_w = ua * site.loop.plant_room_temp_c
    for k, heat in enumerate(must.tolist()):
        previous = min(loop_max, (heat + store * previous + room_w) / (store + ua))
        supply[k] = previous
    return supply + must / _loop_kw_per_k(site)


def _has_heat_cap(sm: SinkModel) -> bool:
    one = np.zeros(1)
    return sm.heat_cap_line_w(one, one, sm.sink.setpoint_c) is not None


class DrawTopUp:
    """The boiler downstream of a hot-water tank lifts what is drawn to the draw
    temperature: ``BK_k + w_k T_k >= w_k T_draw`` (``w`` tagged), the draw leaving at
    the top, ``top_above_mean_k`` above a tank planned on its mean."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks = b.steps
        for sink_id, sm in site.sink_models.items():
            if not sm.has_draws:
                continue
            row = b.add_rows(Row.DRAW_TOP_UP, sink_id)
            b.entries(row + ks, b.col(Var.BACKUP_KW, sink_id) + ks, 1.0)
            b.entries(
                row + ks, b.col(Var.SINK_TEMP_C, sink_id) + ks, 0.0,
                tag=(Row.DRAW_TOP_UP, sink_id),
            )

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        for sink_id, sm in model.site.sink_models.items():
            if not sm.has_draws:
                continue
            w_kw_per_k = replan.draw_kw_per_k(sm)
            data.dynamic_values[(Row.DRAW_TOP_UP, sink_id)] = w_kw_per_k
            draw_temp_c = sm.draw_temp_c
            assert draw_temp_c is not None  # has_draws
            data.row_lower[model.layout.row(Row.DRAW_TOP_UP, sink_id)] = w_kw_per_k * (
                draw_temp_c - replan.top_above_mean_k(sm)
            )


class DumpCapacity:
    """The dry cooler rejects at most ``a_d (W - T_air)``, ``W`` the water reaching it
    (rack outlet less every exchanger's extraction); its fans cost electricity."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks = b.steps
        a = site.loop.dump_w_per_k / 1e3
        row = b.add_rows(Row.DUMP_CAPACITY)
        b.entries(row + ks, b.col(Var.DUMP_KW) + ks, 1.0)
        _add_hot_inlet(b, site, row, a, site.loop.order, Row.DUMP_CAPACITY)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        site = model.site
        a = site.loop.dump_w_per_k / 1e3
        c = _loop_kw_per_k(site)
        ambient_c = np.asarray(replan.inputs.ambient_c, dtype=float)
        rhs = a * (replan.captured_must_kw(model) / c - ambient_c)
        data.row_upper[model.layout.row(Row.DUMP_CAPACITY)] = rhs
        for sink_id in site.loop.order:
            data.dynamic_values[(Row.DUMP_CAPACITY, sink_id)] = a / c * replan.extraction[sink_id]
        dump = model.layout.col(Var.DUMP_KW)
        data.cost[dump] = replan.dt_h * replan.price_eur_per_kwh * DUMP_FAN_KW_PER_KW


class RackOutlet:
    """Each rack group's coolant outlet stays within its limit:
    ``L_k + cf_g (must_g + P_g) / C_g <= outlet limit`` (``C_g`` its share of the flow)."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        ks = b.steps
        c = _loop_kw_per_k(site)
        for g in site.profile.rack_groups:
            c_g = c * site.loop.flow_shares[g.id]
            row = b.add_rows(Row.RACK_OUTLET, g.id)
            b.entries(row + ks, b.col(Var.LOOP_SUPPLY_C) + ks, 1.0)
            b.entries(row + ks, b.col(Var.DEFERRABLE_KW, g.id) + ks, g.capture_fraction / c_g)

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        site = model.site
        c = _loop_kw_per_k(site)
        margin = model.settings.loop_margin_k
        for g in model.profile.rack_groups:
            c_g = c * site.loop.flow_shares[g.id]
            rise = g.capture_fraction * replan.must_run_kw[g.id] / c_g
            data.row_upper[model.layout.row(Row.RACK_OUTLET, g.id)] = (
                g.coolant_outlet_limit_c - margin - rise
            )


class HeatPumpElectricity:
    """Electricity of the heat pumps behind sink exchangers: ``Q / COP`` at the price."""

    def build_rows(self, b: Builder, site: PlannerSite) -> None:
        return None

    def update(self, data: LpData, model: PlannerModel, replan: Replan) -> None:
        for sink_id, cop in replan.cop.items():
            cols = model.layout.col(Var.SINK_HEAT_KW, sink_id)
            data.cost[cols] += replan.dt_h * replan.price_eur_per_kwh / cop


#: Every family, in row order.
FAMILIES: tuple[ConstraintFamily, ...] = (
    HeatBalance(),
    Backlog(),
    Deadlines(),
    Ramps(),
    SinkDynamics(),
    Comfort(),
    HxCapacity(),
    HeatCap(),
    DrawTopUp(),
    DumpCapacity(),
    RackOutlet(),
    HeatPumpElectricity(),
)
