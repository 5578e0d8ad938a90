"""What every sink model gives the plant, the planner, the forecaster and the accounting.

A sink model wraps one profile sink (:class:`~thermalctl.config.site.PoolSink`,
:class:`~thermalctl.config.site.DhwSink` or
:class:`~thermalctl.config.site.SpaceHeatingSink`) and the site facts it needs (time
zone, plant-room temperature). It is pure: no adapter, no runtime, no file I/O.

* **Plant** - the sink's state is a list of node temperatures, top first (one node
  for a pool or a building, several for a stratified tank): :meth:`SinkModel.initial_nodes_c`,
  :meth:`SinkModel.step` (heat in -> new nodes and the site's own backup heat),
  :meth:`SinkModel.sensor_temp_c`, :meth:`SinkModel.hx_inlet_temp_c` (the sink-side
  water entering its exchanger), :meth:`SinkModel.demand_cap_w` (most heat the sink
  can take now), :meth:`SinkModel.supply_temp_c` (what a heat pump must deliver at).
* **Planner** - one linear node per sink: :attr:`SinkModel.capacity_kwh_per_k`,
  :meth:`SinkModel.loss_line_w` (``loss = offset + slope T`` per step),
  :attr:`SinkModel.backup_heats_sink`, :meth:`SinkModel.planning_low_profile_c`,
  :meth:`SinkModel.hx_inlet_line_c` (exchanger inlet ``offset + slope T``),
  :meth:`SinkModel.heat_cap_line_w`, :meth:`SinkModel.supply_temp_profile_c`.
* **Forecaster** - :meth:`SinkModel.draw_forecast_m3_per_s` (hot-water draws).
* **Accounting** - :meth:`SinkModel.comfort_violation_k`, :meth:`SinkModel.band_c`
  (the band in force: night setback), overheating above it.
* **Calibration** - :attr:`SinkModel.calibration_signals` and :meth:`SinkModel.fit_losses`.

Set points passed in by the control side are the operator's
(:meth:`thermalctl.control.settings.OperatorSettings.setpoint_c`); the plant's own
backup thermostat uses the profile's (that is the site's boiler, not thermalctl).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.physics import building, calibration, water

__all__ = [
    "BACKUP_BAND_K",
    "BACKUP_START_BELOW_SETPOINT_K",
    "HEAT_PUMP_SUPPLY_ABOVE_SINK_K",
    "CalibrationData",
    "SinkEnvironment",
    "SinkModel",
    "SinkStep",
]

Array = npt.NDArray[np.float64]
AnySink = PoolSink | DhwSink | SpaceHeatingSink

#: A sink's own backup heater (boiler thermostat) starts this far below the sink's set
#: point [K] ...
BACKUP_START_BELOW_SETPOINT_K = 0.3
#: ... and reaches full output one proportional band lower [K].
BACKUP_BAND_K = 0.4
#: A heat pump delivers this far above the sink's sensor temperature [K] where the sink
#: states no supply temperature of its own (pool water, tank top): a typical condenser-side
#: design rise for water-to-water units.
HEAT_PUMP_SUPPLY_ABOVE_SINK_K = 5.0


class SinkEnvironment(NamedTuple):
    """What the plant tells a sink about the world for one step.

    Attributes
    ----------
    time_s : float
        Start of the step, Unix time [s].
    outdoor_temp_c : float
        Outdoor air temperature [degC].
    draw_m3_per_s : float
        Hot water drawn from the sink (tanks only) [m3/s].

    An immutable named tuple (the plant builds several per sub-step: a tuple is built
    about ten times faster than a frozen dataclass).
    """

    time_s: float
    outdoor_temp_c: float
    draw_m3_per_s: float = 0.0
    #: A thermal-disinfection cycle is under way (hot-water stages that need one).
    legionella_active: bool = False
    #: Loop water reaching the sink's exchanger [degC] (``None``: not known).
    hx_hot_in_c: float | None = None


class SinkStep(NamedTuple):
    """A sink after one plant step: node temperatures (top first) [degC], the heat its
    own backup gave during the step [W], and whether a disinfection cycle under way
    reached its temperature in every node."""

    nodes_c: list[float]
    backup_w: float
    cycle_complete: bool = False


@dataclass(frozen=True)
class CalibrationData:
    """Logged series on a regular grid for a loss fit.

    Attributes
    ----------
    times_s : array
        Grid times, Unix [s] (``n`` values).
    columns : mapping of arrays
        Each of the model's :attr:`SinkModel.calibration_signals` by name (``n``
        values; NaN where an optional signal was not logged).
    """

    times_s: Array
    columns: Mapping[str, Array]

    @property
    def dt_s(self) -> Array:
        """Interval lengths [s] (``n - 1`` values)."""
        return np.diff(self.times_s)


class SinkModel(ABC):
    """One sink kind's physics and linear model; see the module docstring."""

    #: The profile's ``kind`` this model serves.
    kind: ClassVar[str]
    #: Whether the sink's backup heater heats the sink itself (pool, building) or only
    #: tops up what is drawn from it downstream (hot-water preheat tank).
    backup_heats_sink: ClassVar[bool] = True
    #: Whether the plant state has several nodes whose energy mean differs from the
    #: sensor temperature (a stratified tank): then the planner plans on the mean.
    stratified: ClassVar[bool] = False
    #: Whether water is drawn from the sink (its demand forecast has draws).
    has_draws: ClassVar[bool] = False
    #: Signal suffixes (``sink.<id>.<suffix>``) a loss fit reads, by column name, and
    #: which of them it cannot do without. Empty: no calibration model for this kind.
    calibration_signals: ClassVar[Mapping[str, str]] = {}
    calibration_required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, sink: AnySink, profile: SiteProfile) -> None:
        self.sink = sink
        self.timezone = profile.site.timezone
        self.plant_room_temp_c = profile.heat_loop.plant_room_temp_c
        self.climate = profile.site.climate

    # -- mains water -------------------------------------------------------------------
    def mains_temp_c(self, times_s: float | Array) -> float | Array:
        """Cold water at each time [degC]: seasonal (Burch & Christensen, from
        ``site.climate``) where the sink says so, else its constant ``mains_temp_c``."""
        constant = float(getattr(self.sink, "mains_temp_c", 12.0))
        seasonal = getattr(self.sink, "mains_seasonal", False) and self.climate is not None
        if isinstance(times_s, (float, int)):  # the plant's scalar path: no numpy set-up
            if not seasonal:
                return constant
            c = self.climate
            assert c is not None
            return float(building.mains_water_temp_c(
                float(times_s) / 86_400.0 % 365.2425 + 1.0, c.annual_mean_air_temp_c,
                c.monthly_mean_air_temp_range_k, c.southern_hemisphere,
            ))
        if not seasonal:
            if np.ndim(times_s):
                return np.full(np.shape(times_s), constant)
            return constant
        c = self.climate
        assert c is not None
        day = np.asarray(times_s, dtype=float) / 86_400.0 % 365.2425 + 1.0
        temps = building.mains_water_temp_c(
            day, c.annual_mean_air_temp_c, c.monthly_mean_air_temp_range_k,
            c.southern_hemisphere,
        )
        return temps if np.ndim(times_s) else float(temps)

    @property
    def id(self) -> str:
        return self.sink.id

    # -- capacity --------------------------------------------------------------------
    @property
    @abstractmethod
    def capacity_j_per_k(self) -> float:
        """Heat stored per kelvin of the (planned) sink temperature [J/K]."""

    @property
    def capacity_kwh_per_k(self) -> float:
        """:attr:`capacity_j_per_k` in [kWh/K]."""
        return self.capacity_j_per_k / 3.6e6

    def _water_capacity_j_per_k(self, volume_m3: float) -> float:
        """``V rho c_p`` with water at the profile's set point [J/K]."""
        return volume_m3 * float(water.volumetric_heat_capacity_j_per_m3_k(self.sink.setpoint_c))

    # -- plant -----------------------------------------------------------------------
    def initial_nodes_c(self) -> list[float]:
        """Plant state at start: every node at the profile's set point [degC]."""
        return [self.sink.setpoint_c]

    def sensor_temp_c(self, nodes_c: Sequence[float]) -> float:
        """What the sink's temperature sensor reads [degC] (the top node)."""
        return nodes_c[0]

    def mean_temp_c(self, nodes_c: Sequence[float]) -> float:
        """Energy-mean temperature of equal-volume nodes [degC]."""
        return sum(nodes_c) / len(nodes_c)

    @abstractmethod
    def hx_inlet_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """Sink-side temperature entering the plate heat exchanger [degC]."""

    def demand_cap_w(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """Most heat the sink takes from the loop now [W] (its exchanger's rating)."""
        return self.sink.max_heat_w

    def supply_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """Temperature a heat pump must deliver at for this sink [degC]."""
        return self.sensor_temp_c(nodes_c) + HEAT_PUMP_SUPPLY_ABOVE_SINK_K

    @abstractmethod
    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        """Advance the sink by ``dt_s`` [s] with ``heat_w`` [W] from the loop."""

    @property
    def fixed_backup_w(self) -> float:
        """Backup heat no loop heat can avoid [W] (a circulation loss made up downstream)."""
        return 0.0

    def thermostat_backup_w(self, temp_c: float) -> float:
        """The site's own backup heater, proportional below the profile set point [W]."""
        start_c = self.sink.setpoint_c - BACKUP_START_BELOW_SETPOINT_K
        share = min(1.0, max(0.0, (start_c - temp_c) / BACKUP_BAND_K))
        return share * self.sink.backup.max_heat_w

    # -- planner ---------------------------------------------------------------------
    @abstractmethod
    def loss_line_w(
        self,
        times_s: Array,
        ambient_c: Array,
        draw_m3_per_s: Array | None,
        setpoint_c: float,
    ) -> tuple[Array, Array]:
        """Heat loss as ``offset + slope T`` at each time [W], [W/K], linearised around
        ``setpoint_c`` [degC] where it is not linear."""

    def planning_low_c(self, setpoint_c: float) -> float:
        """Lowest planned temperature before the low row's slack is priced [degC]: the
        backup start point, so a plan below it shows the backup heat explicitly."""
        return setpoint_c - BACKUP_START_BELOW_SETPOINT_K

    def feedback_low_c(self, setpoint_c: float) -> float:
        """Below this the fast loop sends the sink all the heat it can take [degC]."""
        return self.planning_low_c(setpoint_c)

    def planning_low_profile_c(self, times_s: Array, setpoint_c: float) -> Array:
        """:meth:`planning_low_c` at each time [degC] (a night setback lowers it)."""
        return np.full(np.asarray(times_s).size, self.planning_low_c(setpoint_c))

    def band_low_profile_c(self, times_s: Array) -> Array:
        """Bottom of the comfort band in force at each time [degC] (:meth:`band_c`)."""
        return np.full(np.asarray(times_s).size, self.sink.band_low_c)

    def band_high_profile_c(self, times_s: Array) -> Array:
        """Top of the comfort band at each time [degC]."""
        return np.full(np.asarray(times_s).size, self.sink.band_high_c)

    def planning_hx_offset_k(self, planned_on_mean: bool) -> float:
        """Sink-side HX inlet relative to the planned temperature [K]."""
        return 0.0

    def hx_inlet_line_c(
        self, times_s: Array, ambient_c: Array, planned_on_mean: bool
    ) -> tuple[Array, float]:
        """Sink-side exchanger inlet as ``offset_k + slope T_planned`` per step [degC]."""
        n = np.asarray(times_s).size
        return np.full(n, self.planning_hx_offset_k(planned_on_mean)), 1.0

    @property
    def hx_inlet_rise_per_k(self) -> float:
        """How fast the exchanger's sink-side inlet rises per kelvin of the planned
        temperature [-] (0: held at its present value; a tank's coil region, a share of
        its volume, warms faster than its mean)."""
        return 0.0

    def heat_cap_line_w(
        self, times_s: Array, ambient_c: Array, setpoint_c: float
    ) -> tuple[Array, Array, Array] | None:
        """Heat the sink takes at most, per step: ``Q <= cap`` and
        ``Q + slope T_prev <= rhs``, as arrays ``(cap [W], rhs [W], slope [W/K])``;
        ``None``: only its rating bounds it."""
        return None

    def supply_temp_profile_c(
        self, times_s: Array, ambient_c: Array, setpoint_c: float
    ) -> Array:
        """:meth:`supply_temp_c` expected at each time [degC] (heat pump COP)."""
        return np.full(np.asarray(times_s).size, setpoint_c + HEAT_PUMP_SUPPLY_ABOVE_SINK_K)

    # -- forecaster ------------------------------------------------------------------
    def draw_forecast_m3_per_s(self, times_s: Array) -> Array | None:
        """Expected draw at each time [m3/s]; ``None`` for sinks nothing is drawn from."""
        return None

    @property
    def draw_temp_c(self) -> float | None:
        """Temperature water is drawn at [degC] (``None``: nothing is drawn)."""
        return None

    def draw_w_per_k(self, draw_m3_per_s: Array) -> Array:
        """Draw flow times ``rho c_p`` [W/K] (zero for sinks without draws)."""
        rho_cp = float(water.volumetric_heat_capacity_j_per_m3_k(self.sink.setpoint_c))
        return np.asarray(draw_m3_per_s, dtype=float) * rho_cp

    # -- accounting ------------------------------------------------------------------
    def band_c(self, time_s: float) -> tuple[float, float]:
        """The comfort band in force at ``time_s`` [degC] (low, high)."""
        return self.sink.band_low_c, self.sink.band_high_c

    def comfort_violation_k(self, temp_c: float, time_s: float | None = None) -> float:
        """How far ``temp_c`` lies outside the comfort band in force [K] (0 inside)."""
        if time_s is None:
            low, high = self.sink.band_low_c, self.sink.band_high_c
        else:
            low, high = self.band_c(time_s)
        return max(0.0, low - temp_c, temp_c - high)

    def overheated(self, temp_c: float, time_s: float) -> bool:
        """Whether the sink is above the top of its band (heat into it is overheating)."""
        return temp_c > self.band_c(time_s)[1]

    # -- calibration -----------------------------------------------------------------
    def fit_losses(self, data: CalibrationData) -> calibration.FitResult:
        """Fit the loss parameters to logged data (kinds with :attr:`calibration_signals`)."""
        raise NotImplementedError(f"no calibration model for {self.kind} sinks")
