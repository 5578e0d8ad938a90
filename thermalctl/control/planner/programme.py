"""Build, update and extract: the planning programme's data and its three steps.

* :func:`build` lays out variables and rows once per site (the constraint families'
  ``build_rows``) and assembles the sparse matrix: a :class:`PlannerModel`.
* :func:`update` turns one :class:`PlanInputs` into costs, bounds, row bounds and
  the tagged matrix values (:class:`LpData`), family by family; nothing else changes.
* :func:`extract` turns a solution vector into a :class:`Plan` in watts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.control.planner.families import FAMILIES, Replan
from thermalctl.control.planner.layout import Block, Builder, Layout, Var
from thermalctl.models.loop import HeatLoopModel
from thermalctl.models.sinks import SinkModel, models_for

__all__ = [
    "LpData",
    "Plan",
    "PlanInputs",
    "PlannerModel",
    "PlannerSettings",
    "PlannerSite",
    "SolveResult",
    "backup_price_eur_per_kwh",
    "build",
    "extract",
    "update",
]

Array = npt.NDArray[np.float64]
INF = math.inf


@dataclass(frozen=True)
class PlannerSettings:
    """Horizon and planning margins."""

    horizon_steps: int = 96
    step_s: float = 900.0
    #: The plan keeps the rack inlet this far below the racks' coolant inlet limit [K]
    #: (the dry cooler's control band; the limits themselves are the rack groups').
    loop_margin_k: float = 0.5
    #: Deferred work is planned to finish this long before its deadline [h].
    deadline_margin_h: float = 1.0

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
        Measured sink temperature [degC] (a stratified tank's energy mean when known).
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
        Hot-water draw times rho c_p per sink with draws [W/K].
    price_eur_per_kwh : array
        Electricity price per step [EUR/kWh].
    tank_top_above_mean_k : mapping, optional
        Per hot-water sink whose ``sink_temp_c`` is the tank's energy-mean temperature
        (from a sensor string): how far the measured top is above that mean [K], >= 0.
        A sink not listed is planned on its top temperature (one sensor): the old,
        optimistic model, see Notes of :func:`update`.
    setpoint_c : mapping, optional
        Set point in force per sink [degC] (the operator's,
        :meth:`thermalctl.control.settings.OperatorSettings.setpoint_c`); a sink not
        listed plans on its profile's.
    loop_supply_temp_c : float, optional
        Measured loop supply (rack inlet) temperature [degC]: the loop's stored heat at
        the start and the heat pumps' source temperature; default the supply set point.
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
    setpoint_c: Mapping[str, float] = field(default_factory=dict)
    loop_supply_temp_c: float | None = None


@dataclass(frozen=True)
class PlannerSite:
    """The site as the planner sees it: profile, settings and the site models."""

    profile: SiteProfile
    settings: PlannerSettings
    loop: HeatLoopModel
    sink_models: dict[str, SinkModel]

    @functools.cached_property
    def loop_max_c(self) -> float:
        """Highest loop supply (rack inlet) temperature the plan may use [degC]: the
        racks' coolant inlet limit (or the supply alarm, if lower) less the margin
        (computed once: profile and settings are frozen)."""
        p = self.profile
        ceiling = min(p.coolant_inlet_limit_c, p.limits.coolant_supply_alarm_c)
        return ceiling - self.settings.loop_margin_k


@dataclass
class PlannerModel:
    """The fixed part of the programme for one site."""

    site: PlannerSite
    layout: Layout
    backup_prices_eur_per_kwh: dict[str, float]

    # The names the solvers, policies and tests read.
    @property
    def profile(self) -> SiteProfile:
        return self.site.profile

    @property
    def settings(self) -> PlannerSettings:
        return self.site.settings

    @property
    def loop_max_c(self) -> float:
        return self.site.loop_max_c

    @property
    def sink_models(self) -> dict[str, SinkModel]:
        return self.site.sink_models

    @property
    def n_cols(self) -> int:
        return self.layout.n_cols

    @property
    def n_rows(self) -> int:
        return self.layout.n_rows

    @property
    def cols(self) -> dict[Block, int]:
        return self.layout.cols

    @property
    def rows(self) -> dict[Block, int]:
        return self.layout.rows

    @property
    def matrix(self) -> sparse.csc_matrix:
        return self.layout.matrix

    @property
    def dynamic_entries(self) -> dict[Block, npt.NDArray[np.int64]]:
        return self.layout.dynamic_entries

    @property
    def dynamic_rows(self) -> dict[Block, npt.NDArray[np.int32]]:
        return self.layout.dynamic_rows

    @property
    def dynamic_cols(self) -> dict[Block, npt.NDArray[np.int32]]:
        return self.layout.dynamic_cols

    def col(self, name: str, ident: str = "") -> slice:
        return self.layout.col(name, ident)

    def row(self, name: str, ident: str = "") -> slice:
        return self.layout.row(name, ident)

    def backup_price_eur_per_kwh(self, sink_id: str) -> float:
        return self.backup_prices_eur_per_kwh[sink_id]


@dataclass
class LpData:
    """Everything one re-plan changes: costs, bounds, row bounds, tagged values."""

    cost: Array
    col_lower: Array
    col_upper: Array
    row_lower: Array
    row_upper: Array
    dynamic_values: dict[Block, Array]


@dataclass
class SolveResult:
    """What a solver returns: status, solution vector, objective [EUR], time [ms]."""

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
    #: Planned loop supply (rack inlet) temperature at the end of each step [degC].
    loop_supply_c: Array = field(default_factory=lambda: np.zeros(0))

    def step_index(self, time_s: float) -> int | None:
        k = math.floor((time_s - self.start_s) / self.step_s + 1e-9)
        return k if 0 <= k < self.dump_w.size else None


def backup_price_eur_per_kwh(
    sink: PoolSink | DhwSink | SpaceHeatingSink, profile: SiteProfile
) -> float:
    """Cost of one kWh of backup heat [EUR/kWh]: fuel price over efficiency (or COP)."""
    fuel = (
        profile.prices.gas_eur_per_kwh
        if sink.backup.fuel == "gas"
        else profile.prices.electricity_eur_per_kwh
    )
    return fuel / sink.backup.efficiency


# --------------------------------------------------------------------------- build
def build(profile: SiteProfile, settings: PlannerSettings | None = None) -> PlannerModel:
    """Lay out variables and rows and assemble the constraint matrix (once per site)."""
    s = settings or PlannerSettings()
    site = PlannerSite(profile, s, HeatLoopModel.from_profile(profile), models_for(profile))
    b = Builder(s.horizon_steps)
    for g in profile.rack_groups:
        for name in (Var.DEFERRABLE_KW, Var.BACKLOG_KWH, Var.LATE_KWH):
            b.add_cols(name, g.id)
    for sink in profile.sinks:
        for name in (
            Var.SINK_HEAT_KW, Var.BACKUP_KW, Var.SINK_TEMP_C, Var.BELOW_LOW_K, Var.ABOVE_HIGH_K,
            Var.HX_EXCESS_K, Var.THROTTLE_SLACK_KW,
        ):
            b.add_cols(name, sink.id)
    b.add_cols(Var.DUMP_KW)
    b.add_cols(Var.UNPLACED_KW)
    b.add_cols(Var.LOOP_SUPPLY_C)
    for family in FAMILIES:
        family.build_rows(b, site)
    prices = {sink.id: backup_price_eur_per_kwh(sink, profile) for sink in profile.sinks}
    return PlannerModel(site, b.assemble(), prices)


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
    lay = model.layout
    data = LpData(
        cost=np.zeros(lay.n_cols),
        col_lower=np.zeros(lay.n_cols),
        col_upper=np.full(lay.n_cols, INF),
        row_lower=np.full(lay.n_rows, -INF),
        row_upper=np.full(lay.n_rows, INF),
        dynamic_values={},
    )
    site = model.site
    s = model.settings
    n = lay.horizon_steps
    mids: Array = np.asarray(inputs.start_s + s.step_s * (np.arange(n) + 0.5), dtype=np.float64)
    must_kw = {
        g.id: np.asarray(inputs.must_run_w[g.id], dtype=float) / 1e3
        for g in model.profile.rack_groups
    }
    supply = (
        site.loop.supply_setpoint_c if inputs.loop_supply_temp_c is None
        else float(inputs.loop_supply_temp_c)
    )
    extraction = {sink_id: np.ones(n) for sink_id in site.sink_models}
    cops: dict[str, Array] = {}
    for sink_id, ex in site.loop.exchangers.items():
        if ex.heat_pump is None:
            continue
        # Linearised at the present state: the source is the rack outlet now (must-run
        # heat at the present supply), the sink's supply temperature from the forecast.
        sm = site.sink_models[sink_id]
        captured_kw = sum(g.capture_fraction * must_kw[g.id][0] for g in model.profile.rack_groups)
        source_c = supply + captured_kw * 1e3 / site.loop.capacity_rate_w_per_k
        setpoint = float(inputs.setpoint_c.get(sink_id, sm.sink.setpoint_c))
        hot_c = sm.supply_temp_profile_c(mids, np.asarray(inputs.ambient_c, float), setpoint)
        cop = np.array([ex.cop(float(h), source_c) for h in hot_c])
        cops[sink_id] = cop
        extraction[sink_id] = 1.0 - 1.0 / cop
    replan = Replan(
        inputs=inputs,
        dt_h=s.step_h,
        price_eur_per_kwh=np.asarray(inputs.price_eur_per_kwh, dtype=float),
        facility_factor=1.0 + model.profile.reporting.ups_loss_fraction,
        must_run_kw=must_kw,
        mids_s=mids,
        extraction=extraction,
        cop=cops,
        loop_supply_c=supply,
    )
    for family in FAMILIES:
        family.update(data, model, replan)
    return data


# ------------------------------------------------------------------------- extract
def extract(model: PlannerModel, inputs: PlanInputs, result: SolveResult) -> Plan:
    """The solution as a :class:`Plan` in W (call only when ``result.ok``)."""
    if result.x is None:
        raise ValueError(f"no solution to extract ({result.status})")
    x = result.x
    p = model.profile

    def watts(name: str, ident: str = "") -> Array:
        return np.maximum(x[model.col(name, ident)], 0.0) * 1e3

    def values(name: str, ident: str = "") -> Array:
        return x[model.col(name, ident)].copy()

    return Plan(
        start_s=inputs.start_s,
        step_s=model.settings.step_s,
        deferrable_w={g.id: watts(Var.DEFERRABLE_KW, g.id) for g in p.rack_groups},
        sink_heat_w={s.id: watts(Var.SINK_HEAT_KW, s.id) for s in p.sinks},
        backup_w={s.id: watts(Var.BACKUP_KW, s.id) for s in p.sinks},
        sink_temp_c={s.id: values(Var.SINK_TEMP_C, s.id) for s in p.sinks},
        backlog_kwh={g.id: values(Var.BACKLOG_KWH, g.id) for g in p.rack_groups},
        dump_w=watts(Var.DUMP_KW),
        unplaced_w=watts(Var.UNPLACED_KW),
        late_kwh={g.id: values(Var.LATE_KWH, g.id) for g in p.rack_groups},
        objective_eur=result.objective,
        solve_ms=result.solve_ms,
        loop_supply_c=values(Var.LOOP_SUPPLY_C),
    )
