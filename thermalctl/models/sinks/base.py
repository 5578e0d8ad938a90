"""What every sink model gives the plant, the planner, the forecaster and the accounting.

A sink model wraps one profile sink (:class:`~thermalctl.config.site.PoolSink`,
:class:`~thermalctl.config.site.DhwSink` or
:class:`~thermalctl.config.site.SpaceHeatingSink`) and the site facts it needs (time
zone, plant-room temperature). It is pure: no adapter, no runtime, no file I/O.

* **Plant** - the sink's state is a list of node temperatures, top first (one node
  for a pool or a building, several for a stratified tank): :meth:`SinkModel.initial_nodes_c`,
  :meth:`SinkModel.step` (heat in -> new nodes and the site's own backup heat),
  :meth:`SinkModel.sensor_temp_c`, :meth:`SinkModel.hx_inlet_temp_c`.
* **Planner** - one linear node per sink: :attr:`SinkModel.capacity_kwh_per_k`,
  :meth:`SinkModel.loss_line_w` (``loss = offset + slope T`` per step),
  :attr:`SinkModel.backup_heats_sink`, :meth:`SinkModel.planning_low_c`,
  :meth:`SinkModel.planning_hx_offset_k`.
* **Forecaster** - :meth:`SinkModel.draw_forecast_m3_per_s` (hot-water draws).
* **Accounting** - :meth:`SinkModel.comfort_violation_k`.
* **Calibration** - :attr:`SinkModel.calibration_signals` and :meth:`SinkModel.fit_losses`.

Set points passed in by the control side are the operator's
(:meth:`thermalctl.control.settings.OperatorSettings.setpoint_c`); the plant's own
backup thermostat uses the profile's (that is the site's boiler, not thermalctl).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.physics import calibration, water

__all__ = [
    "BACKUP_BAND_K",
    "BACKUP_START_BELOW_SETPOINT_K",
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


@dataclass(frozen=True)
class SinkEnvironment:
    """What the plant tells a sink about the world for one step.

    Attributes
    ----------
    time_s : float
        Start of the step, Unix time [s].
    outdoor_temp_c : float
        Outdoor air temperature [degC].
    draw_m3_per_s : float
        Hot water drawn from the sink (tanks only) [m3/s].
    """

    time_s: float
    outdoor_temp_c: float
    draw_m3_per_s: float = 0.0


@dataclass(frozen=True)
class SinkStep:
    """A sink after one plant step: node temperatures (top first) [degC] and the heat
    its own backup gave during the step [W]."""

    nodes_c: list[float]
    backup_w: float


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
    def hx_inlet_temp_c(self, nodes_c: Sequence[float]) -> float:
        """Sink-side temperature entering the plate heat exchanger [degC]."""

    @abstractmethod
    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        """Advance the sink by ``dt_s`` [s] with ``heat_w`` [W] from the loop."""

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

    def planning_hx_offset_k(self, planned_on_mean: bool) -> float:
        """Sink-side HX inlet relative to the planned temperature [K]."""
        return 0.0

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
    def comfort_violation_k(self, temp_c: float) -> float:
        """How far ``temp_c`` lies outside the comfort band [K] (0 inside)."""
        return max(0.0, self.sink.band_low_c - temp_c, temp_c - self.sink.band_high_c)

    # -- calibration -----------------------------------------------------------------
    def fit_losses(self, data: CalibrationData) -> calibration.FitResult:
        """Fit the loss parameters to logged data (kinds with :attr:`calibration_signals`)."""
        raise NotImplementedError(f"no calibration model for {self.kind} sinks")
