"""Hot-water preheat tank: a stratified tank (:mod:`thermalctl.physics.tank`) with draws.

The loop heats the tank through a coil in its lower third; hot water is drawn at the
top and replaced by mains water at the bottom. The tank's backup is the boiler
*downstream* of the preheat tank: it lifts what is drawn to the draw temperature and
never heats the tank itself (``backup_heats_sink = False``).

The planner sees one lumped node: draws replace water at the tank temperature by
mains water, plus the standing loss to the plant room. A tank with a string of
sensors is planned on its energy-mean temperature (see
:func:`thermalctl.control.planner.update`, Notes).

A preheat stage does not serve the tap: the heater downstream lifts every draw to
``draw_temp_c`` (:meth:`DhwModel.draw_top_up_w`) and makes up the circulation loop's
loss (``circulation_loss_w``: the circulation returns to that heater, not to the preheat
tank). Where the stage needs one (``legionella``) a daily thermal disinfection heats
every node to 60 degC (DVGW W 551:2004, section 5.3: preheat stages of large systems
once a day to >= 60 degC; CIBSE TM13:2013: stored water at >= 60 degC), paid by the
backup heater at up to its rating; the plant counts cycles due and done. The draw
shape and the disinfection hour are on the site's local clock.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import DhwSink, SiteProfile
from thermalctl.models.localtime import local_hour, utc_offset_s
from thermalctl.models.sinks.base import CalibrationData, SinkEnvironment, SinkModel, SinkStep
from thermalctl.physics import calibration, tank

__all__ = [
    "DRAW_RHO_CP_J_PER_M3_K",
    "LEGIONELLA_TOLERANCE_K",
    "TANK_ASPECT_RATIO",
    "DhwModel",
    "standard_draw_shape",
    "tank_height_m",
]

Array = npt.NDArray[np.float64]
SECONDS_PER_DAY = 86_400.0

#: Height-to-diameter ratio assumed for hot-water tanks (typical vertical cylinders) [-].
TANK_ASPECT_RATIO = 2.5
#: Water density times specific heat for the boiler's draw top-up [J/(m3 K)]
#: (1000 kg/m3 x 4186 J/(kg K): within 1.2 % of IAPWS-95 between 10 and 50 degC).
DRAW_RHO_CP_J_PER_M3_K = 1000.0 * 4186.0
#: Hot water is planned this far above the bottom of its band [K]: the measured tank
#: top falls faster during draws than the one-node model says.
DHW_PLANNING_MARGIN_K = 1.0
#: A tank planned on its top (one sensor): its preheat coil sits this far below it [K].
COIL_BELOW_TOP_K = 5.0


def tank_height_m(volume_m3: float) -> float:
    """Water height of a vertical cylinder of ``volume_m3`` and :data:`TANK_ASPECT_RATIO` [m]."""
    diameter = (4.0 * volume_m3 / (math.pi * TANK_ASPECT_RATIO)) ** (1.0 / 3.0)
    return TANK_ASPECT_RATIO * diameter


#: A disinfection cycle counts as done when every node is within this of its
#: temperature [K] (the tank sensors' accuracy).
LEGIONELLA_TOLERANCE_K = 0.1


def standard_draw_shape(time_s: float) -> float:
    """Standard two-peak daily draw shape [1/s] (VDI 6002-1 style; mean 1/86400).

    Peaks at 07:30 and 19:30 on a small base; hours taken from ``time_s % 86400``, so
    ``time_s`` is on the wall clock the shape is wanted in (local time:
    :meth:`DhwModel.draw_shape_local` and :func:`thermalctl.sim.inputs.draw_shape_for`).
    """
    hour = (time_s % SECONDS_PER_DAY) / 3600.0
    morning = math.exp(-0.5 * ((hour - 7.5) / 1.2) ** 2)
    evening = math.exp(-0.5 * ((hour - 19.5) / 1.8) ** 2)
    base = 0.15
    norm = base * 24.0 + math.sqrt(2 * math.pi) * (1.2 + 1.8)
    return (base + morning + evening) / norm / 3600.0


class DhwModel(SinkModel):
    """A hot-water preheat tank (:class:`~thermalctl.config.site.DhwSink`)."""

    kind: ClassVar[str] = "dhw"
    backup_heats_sink: ClassVar[bool] = False
    stratified: ClassVar[bool] = True
    has_draws: ClassVar[bool] = True
    calibration_signals: ClassVar[dict[str, str]] = {"temp": "temp_c", "heat": "heat_w"}
    calibration_required: ClassVar[tuple[str, ...]] = ("temp", "heat")

    sink: DhwSink

    def __init__(self, sink: DhwSink, profile: SiteProfile) -> None:
        super().__init__(sink, profile)
        self.tank_params = tank.TankParams(
            volume_m3=sink.volume_m3,
            height_m=tank_height_m(sink.volume_m3),
            node_count=sink.nodes,
            loss_ua_w_per_k=sink.loss_ua_w_per_k,
        )
        #: The preheat coil occupies the nodes that take heat (the lower third).
        self._coil_node_count = int(np.count_nonzero(self.tank_params.heat_in_fractions))
        self._capacity_j_per_k = self._water_capacity_j_per_k(sink.volume_m3)
        self._coil_cache: dict[tuple[float, ...], tuple[float, ...]] = {}

    @property
    def capacity_j_per_k(self) -> float:
        return self._capacity_j_per_k

    # -- plant -----------------------------------------------------------------------
    def initial_nodes_c(self) -> list[float]:
        return [self.sink.setpoint_c] * self.sink.nodes

    def hx_inlet_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """The coil (lower third, :class:`thermalctl.physics.tank.TankParams` default)
        sees the mean of the nodes it occupies."""
        coil = self._coil_node_count
        return sum(nodes_c[-coil:]) / coil

    def _coil_shares(
        self, nodes_c: Sequence[float], hot_in_c: float | None
    ) -> tuple[float, ...] | None:
        """Shares of the coil's heat per node, top first: each of the coil's nodes in
        proportion to how much colder than the loop water it is (no node is heated above
        the water); ``None`` for the tank's own equal shares (the water temperature not
        known, or no node colder than it)."""
        if hot_in_c is None:
            return None
        coil = self._coil_node_count
        n = len(nodes_c)
        weights = [max(0.0, hot_in_c - t) for t in nodes_c[n - coil:]]
        total = sum(weights)
        if total <= 0.0:
            return None
        key = tuple(round(w / total, 3) for w in weights)
        shares = self._coil_cache.get(key)
        if shares is None:
            fractions = (0.0,) * (n - coil) + key
            norm = sum(fractions)
            shares = tuple(f / norm for f in fractions)
            if len(self._coil_cache) > 4096:
                self._coil_cache.clear()
            self._coil_cache[key] = shares
        return shares

    def _coil_params(self, nodes_c: Sequence[float], hot_in_c: float | None) -> tank.TankParams:
        """The tank's parameters with the coil's shares of :meth:`_coil_shares`."""
        shares = self._coil_shares(nodes_c, hot_in_c)
        if shares is None:
            return self.tank_params
        return dataclasses.replace(self.tank_params, heat_in_node_fractions=shares)

    @property
    def fixed_backup_w(self) -> float:
        """The circulation loop's loss: the heater downstream makes it up whatever the
        preheat tank's temperature."""
        return self.sink.circulation_loss_w

    def draw_top_up_w(self, draw_m3_per_s: float, top_temp_c: float) -> float:
        """Heat the downstream boiler adds to lift the draw to ``draw_temp_c`` [W]."""
        lift_k = max(0.0, self.sink.draw_temp_c - top_temp_c)
        return draw_m3_per_s * DRAW_RHO_CP_J_PER_M3_K * lift_k

    def legionella_due(self, time_s: float) -> bool:
        """Whether a cycle may start at ``time_s``: the stage needs one and the local
        hour has reached its start hour."""
        cycle = self.sink.legionella
        if cycle is None:
            return False
        return float(local_hour(time_s, self.timezone)) >= cycle.start_hour

    def local_day(self, time_s: float) -> int:
        """The local calendar day number of ``time_s`` (days since the epoch) [-]."""
        return math.floor((time_s + float(utc_offset_s(time_s, self.timezone))) / SECONDS_PER_DAY)

    def _disinfect(self, nodes: list[float], dt_s: float) -> tuple[list[float], float, bool]:
        """Heat every node towards the cycle temperature with the backup's rating; the
        heat [W] and whether every node got there."""
        cycle = self.sink.legionella
        assert cycle is not None
        node_j_per_k = self._capacity_j_per_k / len(nodes)
        need_j = [max(0.0, cycle.temp_c - t) * node_j_per_k for t in nodes]
        total_j = sum(need_j)
        budget_j = self.sink.backup.max_heat_w * dt_s
        share = 1.0 if total_j <= budget_j else budget_j / total_j
        new = [t + share * n / node_j_per_k for t, n in zip(nodes, need_j, strict=True)]
        done = min(new) >= cycle.temp_c - LEGIONELLA_TOLERANCE_K
        return new, share * total_j / dt_s, done

    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        backup_w = self.draw_top_up_w(env.draw_m3_per_s, nodes_c[0])
        backup_w += self.sink.circulation_loss_w
        shares = self._coil_shares(nodes_c, env.hx_hot_in_c) if heat_w > 0 else None
        nodes = tank.step_tank_nodes(
            list(nodes_c), dt_s, env.draw_m3_per_s, float(self.mains_temp_c(env.time_s)),
            heat_w, self.plant_room_temp_c, self.tank_params, heat_in_node_fractions=shares,
        )
        done = False
        if env.legionella_active and self.sink.legionella is not None:
            nodes, cycle_w, done = self._disinfect(nodes, dt_s)
            backup_w += cycle_w
        return SinkStep(nodes, backup_w, done)

    # -- planner ---------------------------------------------------------------------
    def loss_line_w(
        self,
        times_s: Array,
        ambient_c: Array,
        draw_m3_per_s: Array | None,
        setpoint_c: float,
    ) -> tuple[Array, Array]:
        n = np.asarray(times_s).size
        draw = np.zeros(n) if draw_m3_per_s is None else np.asarray(draw_m3_per_s, dtype=float)
        w = self.draw_w_per_k(draw)
        ua = self.sink.loss_ua_w_per_k
        mains = np.asarray(self.mains_temp_c(np.asarray(times_s, dtype=float)), dtype=float)
        offset = -w * mains - ua * self.plant_room_temp_c
        return offset, w + ua

    @property
    def hx_inlet_rise_per_k(self) -> float:
        """The coil's nodes hold ``coil / nodes`` of the water and take all its heat: they
        warm ``nodes / coil`` times as fast as the tank's mean (8 / 3 for the hotel)."""
        return self.sink.nodes / self._coil_node_count

    def planning_low_c(self, setpoint_c: float) -> float:
        """The bottom of the comfort band plus a margin (no backup heats the tank)."""
        return self.sink.band_low_c + DHW_PLANNING_MARGIN_K

    def feedback_low_c(self, setpoint_c: float) -> float:
        return self.sink.band_low_c + DHW_PLANNING_MARGIN_K / 2

    def planning_hx_offset_k(self, planned_on_mean: bool) -> float:
        """Planned on the mean the coil sees at most the mean; on the top, less."""
        return 0.0 if planned_on_mean else -COIL_BELOW_TOP_K

    # -- forecaster ------------------------------------------------------------------
    @property
    def draw_temp_c(self) -> float:
        return self.sink.draw_temp_c

    def draw_shape_local(self, times_s: Array) -> Array:
        """:func:`standard_draw_shape` on the site's local wall clock [1/s] (the same
        clock :func:`thermalctl.sim.inputs.draw_shape_for` puts the plant's draws on)."""
        hours = np.atleast_1d(np.asarray(local_hour(np.asarray(times_s, float), self.timezone)))
        return np.array([standard_draw_shape(float(h) * 3600.0) for h in hours])

    def draw_forecast_m3_per_s(self, times_s: Array) -> Array:
        """The profile's daily volume on the standard shape in local time [m3/s]."""
        return self.sink.draw_m3_per_day * self.draw_shape_local(times_s)

    # -- calibration -----------------------------------------------------------------
    def fit_losses(self, data: CalibrationData) -> calibration.FitResult:
        """Fit ``loss_ua_w_per_k``: the tank taken as mixed at the measured top
        temperature (one sensor), draws from the profile's daily volume on the standard
        shape (no draw meter is bound). A first estimate."""
        temps = np.repeat(data.columns["temp"][:, None], self.sink.nodes, axis=1)
        draws = self.draw_forecast_m3_per_s(data.times_s)
        return calibration.fit_tank_loss(
            temps, data.dt_s, draws, self.sink.mains_temp_c, data.columns["heat"],
            self.plant_room_temp_c, self.tank_params,
        )
