"""Space heating: a building with thermal mass, gains, a heating curve and its own boiler.

The building's conductance follows from the design heat load at the design outdoor
temperature (EN 12831-1: ``UA = Phi_design / (T_indoor - T_design)``); the room (one
node of the building's thermal mass) loses ``UA (T_room - T_out)`` and gains the
internal gains (``internal_gains_w_per_m2`` while occupied, ``unoccupied_gains_w_per_m2``
otherwise; DIN V 18599-10 usage profiles) and the solar gains
(``solar_gains_w_per_m2`` x :func:`thermalctl.physics.building.solar_gain_shape`).

The heating circuit is weather-compensated
(:func:`thermalctl.physics.building.heating_curve_temps_c` from the design point
``heating_curve``): it draws ``phi(T_out) Phi_design`` with
``phi`` zero at and above the heating limit (no demand, no jump), throttled by the
rooms' thermostatic valves, which close over their proportional band above the set
point in force (EN 215, ``xp = 2 K``; the night setback lowers the set point in local
time). The loop's exchanger preheats the circuit's return (the curve's return
temperature is the exchanger's sink-side inlet) and the building's boiler lifts the
rest to the curve: ``backup = draw - heat from the loop``. So the loop can give the
building at most what its circuit draws; heat that reaches a room above the top of its
band is counted as overheating, never as reuse.

The planner sees the same: ``loss = UA T - UA T_out - gains``, the exchanger inlet at
the curve's return, and ``Q <= phi Phi_design (T_sp + xp - T) / xp`` (the valves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import SiteProfile, SpaceHeatingSink
from thermalctl.models.localtime import in_hours
from thermalctl.models.sinks.base import SinkEnvironment, SinkModel, SinkStep
from thermalctl.physics import building

__all__ = ["SpaceHeatingModel", "building_heat_loss_w", "building_ua_w_per_k"]

Array = npt.NDArray[np.float64]


def building_ua_w_per_k(sink: SpaceHeatingSink) -> float:
    """Building conductance from the design load (EN 12831-1) [W/K]."""
    return sink.design_heat_w / (sink.indoor_temp_c - sink.design_outdoor_temp_c)


def building_heat_loss_w(
    sink: SpaceHeatingSink, room_temp_c: float, outdoor_temp_c: float
) -> float:
    """Transmission and ventilation loss of the building [W] (gains not counted).

    >>> from thermalctl.config.site import Backup
    >>> s = SpaceHeatingSink(id="h", kind="space_heating", setpoint_c=21, band_low_c=20,
    ...     band_high_c=23, max_heat_w=6e4, design_heat_w=9e4, indoor_temp_c=21,
    ...     backup=Backup(kind="gas_boiler", efficiency=0.9, max_heat_w=1e5))
    >>> round(building_heat_loss_w(s, 21.0, 0.0))  # 90 kW / 31 K x 21 K
    60968
    """
    return building_ua_w_per_k(sink) * (room_temp_c - outdoor_temp_c)


class SpaceHeatingModel(SinkModel):
    """A building's heating circuit (:class:`~thermalctl.config.site.SpaceHeatingSink`)."""

    kind: ClassVar[str] = "space_heating"

    sink: SpaceHeatingSink

    def __init__(self, sink: SpaceHeatingSink, profile: SiteProfile) -> None:
        super().__init__(sink, profile)
        self.ua_w_per_k = building_ua_w_per_k(sink)
        self.longitude_deg = profile.site.longitude_deg
        # The plant asks for the same outdoor temperature and time several times per
        # step: the last scalar answers are kept (the same values, computed once).
        self._curve_at: tuple[float, float, float] | None = None
        self._curve_heat_at: tuple[float, float] | None = None
        self._setback_at: tuple[float, float] | None = None
        self._draw_at: tuple[tuple[float, float, float], float] | None = None

    # -- schedule, gains, curve ------------------------------------------------------
    def setback_k(self, times_s: float | Array) -> float | Array:
        """Night setback in force at each time [K] (0 outside its hours)."""
        nsb = self.sink.night_setback
        if isinstance(times_s, (float, int)):
            if nsb is None:
                return 0.0
            memo = self._setback_at
            if memo is not None and memo[0] == times_s:
                return memo[1]
            a, b = nsb.hours
            value = nsb.setback_k if in_hours(times_s, (float(a), float(b)), self.timezone) \
                else 0.0
            self._setback_at = (times_s, value)
            return value
        if nsb is None:
            return np.zeros(np.shape(times_s)) if np.ndim(times_s) else 0.0
        a, b = nsb.hours
        inside = in_hours(times_s, (float(a), float(b)), self.timezone)
        return np.where(inside, nsb.setback_k, 0.0) if np.ndim(times_s) else (
            nsb.setback_k if inside else 0.0
        )

    def gains_w(self, times_s: float | Array) -> float | Array:
        """Internal plus solar gains at each time [W]."""
        s = self.sink
        a, b = s.occupied_hours
        occupied = in_hours(times_s, (float(a), float(b)), self.timezone)
        if isinstance(times_s, (float, int)):  # scalar: the same arithmetic, less numpy
            gains = s.internal_gains_w_per_m2 if occupied else s.unoccupied_gains_w_per_m2
            hour = (float(times_s) / 3600.0 + self.longitude_deg / 15.0) % 24
            sun = s.solar_gains_w_per_m2 * float(building.solar_gain_shape(hour))
            return float(s.heated_area_m2 * (gains + sun))
        internal = np.where(occupied, s.internal_gains_w_per_m2, s.unoccupied_gains_w_per_m2)
        # Solar gains follow the sun: local mean solar time from the longitude.
        solar_hour = (np.asarray(times_s, dtype=float) / 3600.0 + self.longitude_deg / 15.0) % 24
        solar = s.solar_gains_w_per_m2 * building.solar_gain_shape(solar_hour)
        total = s.heated_area_m2 * (internal + solar)
        return total if np.ndim(times_s) else float(total)

    def curve_c(self, outdoor_temp_c: float | Array) -> tuple[Array, Array]:
        """Supply and return of the heating curve at each outdoor temperature [degC]."""
        s = self.sink
        c = s.heating_curve
        return building.heating_curve_temps_c(
            outdoor_temp_c, indoor_temp_c=s.indoor_temp_c,
            design_outdoor_temp_c=s.design_outdoor_temp_c,
            heating_limit_temp_c=s.heating_limit_temp_c,
            design_supply_temp_c=c.design_supply_temp_c,
            design_return_temp_c=c.design_return_temp_c,
            emitter_exponent=c.emitter_exponent,
        )

    def curve_heat_w(self, outdoor_temp_c: float | Array) -> Array:
        """Heat the circuit delivers on its curve with the valves open [W]."""
        s = self.sink
        return s.design_heat_w * building.heat_load_fraction(
            outdoor_temp_c, s.design_outdoor_temp_c, s.heating_limit_temp_c
        )

    def _curve_scalar(self, outdoor_temp_c: float) -> tuple[float, float]:
        """:meth:`curve_c` at one outdoor temperature, as floats (kept for the next call)."""
        memo = self._curve_at
        if memo is None or memo[0] != outdoor_temp_c:
            supply, ret = self.curve_c(outdoor_temp_c)
            memo = (outdoor_temp_c, float(supply), float(ret))
            self._curve_at = memo
        return memo[1], memo[2]

    def _curve_heat_scalar(self, outdoor_temp_c: float) -> float:
        """:meth:`curve_heat_w` at one outdoor temperature (kept for the next call)."""
        memo = self._curve_heat_at
        if memo is None or memo[0] != outdoor_temp_c:
            memo = (outdoor_temp_c, float(self.curve_heat_w(outdoor_temp_c)))
            self._curve_heat_at = memo
        return memo[1]

    def room_setpoint_c(self, time_s: float) -> float:
        """The profile's room set point less the night setback in force [degC]."""
        return self.sink.setpoint_c - float(self.setback_k(time_s))

    def circuit_draw_w(self, room_temp_c: float, env: SinkEnvironment) -> float:
        """Heat the circuit draws now [W]: the curve's, throttled by the room valves."""
        key = (room_temp_c, env.time_s, env.outdoor_temp_c)
        memo = self._draw_at  # the plant asks twice per sub-step (cap, then step)
        if memo is not None and memo[0] == key:
            return memo[1]
        setpoint = self.room_setpoint_c(env.time_s)
        xp = building.TRV_PROPORTIONAL_BAND_K
        valve = min(1.0, max(0.0, (setpoint + xp - room_temp_c) / xp))
        draw = self._curve_heat_scalar(env.outdoor_temp_c) * valve
        self._draw_at = (key, draw)
        return draw

    # -- plant -----------------------------------------------------------------------
    @property
    def capacity_j_per_k(self) -> float:
        return self.sink.thermal_mass_j_per_k

    def hx_inlet_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """The heating return from the curve."""
        return self._curve_scalar(env.outdoor_temp_c)[1]

    def supply_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        """The heating supply from the curve."""
        return self._curve_scalar(env.outdoor_temp_c)[0]

    def demand_cap_w(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        return min(self.sink.max_heat_w, self.circuit_draw_w(nodes_c[0], env))

    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        temp = nodes_c[0]
        draw = self.circuit_draw_w(temp, env)
        backup_w = min(self.sink.backup.max_heat_w, max(0.0, draw - heat_w))
        loss_w = self.ua_w_per_k * (temp - env.outdoor_temp_c)  # building_heat_loss_w
        gains = float(self.gains_w(env.time_s))
        new = temp + (heat_w + backup_w + gains - loss_w) * dt_s / self.sink.thermal_mass_j_per_k
        return SinkStep([new], backup_w)

    def band_c(self, time_s: float) -> tuple[float, float]:
        """The band in force: its bottom lowered by the night setback."""
        return self.sink.band_low_c - float(self.setback_k(time_s)), self.sink.band_high_c

    # -- planner ---------------------------------------------------------------------
    def loss_line_w(
        self,
        times_s: Array,
        ambient_c: Array,
        draw_m3_per_s: Array | None,
        setpoint_c: float,
    ) -> tuple[Array, Array]:
        ua = self.ua_w_per_k
        amb = np.asarray(ambient_c, dtype=float)
        gains = np.asarray(self.gains_w(np.asarray(times_s, dtype=float)), dtype=float)
        return -ua * amb - gains, np.full(amb.size, ua)

    def band_low_profile_c(self, times_s: Array) -> Array:
        setback = np.asarray(self.setback_k(np.asarray(times_s, dtype=float)), dtype=float)
        return self.sink.band_low_c - setback

    def planning_low_profile_c(self, times_s: Array, setpoint_c: float) -> Array:
        setback = np.asarray(self.setback_k(np.asarray(times_s, dtype=float)), dtype=float)
        return self.planning_low_c(setpoint_c) - setback

    def hx_inlet_line_c(
        self, times_s: Array, ambient_c: Array, planned_on_mean: bool
    ) -> tuple[Array, float]:
        return np.asarray(self.curve_c(np.asarray(ambient_c, dtype=float))[1], float), 0.0

    def heat_cap_line_w(
        self, times_s: Array, ambient_c: Array, setpoint_c: float
    ) -> tuple[Array, Array, Array] | None:
        curve = np.asarray(self.curve_heat_w(np.asarray(ambient_c, dtype=float)), dtype=float)
        xp = building.TRV_PROPORTIONAL_BAND_K
        setback = np.asarray(self.setback_k(np.asarray(times_s, dtype=float)), dtype=float)
        # Q <= curve (sp + xp - T) / xp: slope per step is curve / xp; rhs curve (sp+xp)/xp.
        slope = curve / xp
        rhs = slope * (setpoint_c - setback + xp)
        cap = np.minimum(curve, self.sink.max_heat_w)
        return cap, rhs, slope

    def supply_temp_profile_c(
        self, times_s: Array, ambient_c: Array, setpoint_c: float
    ) -> Array:
        return np.asarray(self.curve_c(np.asarray(ambient_c, dtype=float))[0], dtype=float)
