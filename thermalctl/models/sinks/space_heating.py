"""Space heating: the building as one thermal mass, heat loss from its design load.

The building's conductance follows from the design heat load at the design outdoor
temperature (EN 12831-1: ``UA = Phi_design / (T_indoor - T_design)``). Below the
heating limit temperature (Heizgrenztemperatur, VDI 2067-1 / DIN V 4108-6) the loss
is ``UA (T_room - T_out)``. At or above it internal and solar gains cover the loss
down to the heating limit; only what is left above ``T_limit + 3 K`` still needs heat
(a model assumption: the gains are taken to keep the room 3 K above the limit with no
heating). The planner's line drops the ``max(0, ...)``: it plans the room near its
set point, where the remainder is positive whenever heat is wanted.

Radiators return their water about half a 20 K design lift above room temperature,
and that is what the plate heat exchanger's sink side sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import SiteProfile, SpaceHeatingSink
from thermalctl.models.sinks.base import SinkEnvironment, SinkModel, SinkStep

__all__ = [
    "GAINS_ABOVE_HEATING_LIMIT_K",
    "RADIATOR_RETURN_ABOVE_ROOM_K",
    "SpaceHeatingModel",
    "building_heat_loss_w",
]

Array = npt.NDArray[np.float64]

#: Above the heating limit, gains keep the room this far above the limit unheated [K].
GAINS_ABOVE_HEATING_LIMIT_K = 3.0
#: Radiator return temperature above room temperature [K]: half a 20 K design lift.
RADIATOR_RETURN_ABOVE_ROOM_K = 10.0


def building_ua_w_per_k(sink: SpaceHeatingSink) -> float:
    """Building conductance from the design load (EN 12831-1) [W/K]."""
    return sink.design_heat_w / (sink.indoor_temp_c - sink.design_outdoor_temp_c)


def building_heat_loss_w(
    sink: SpaceHeatingSink, room_temp_c: float, outdoor_temp_c: float
) -> float:
    """Building heat loss [W], see the module docstring.

    >>> from thermalctl.config.site import Backup
    >>> s = SpaceHeatingSink(id="h", kind="space_heating", setpoint_c=21, band_low_c=20,
    ...     band_high_c=23, max_heat_w=6e4, design_heat_w=9e4, indoor_temp_c=21,
    ...     backup=Backup(kind="gas_boiler", efficiency=0.9, max_heat_w=1e5))
    >>> round(building_heat_loss_w(s, 21.0, 0.0))  # 90 kW / 31 K x 21 K
    60968
    """
    ua = building_ua_w_per_k(sink)
    if outdoor_temp_c >= sink.heating_limit_temp_c:
        limit = sink.heating_limit_temp_c + GAINS_ABOVE_HEATING_LIMIT_K
        return max(0.0, ua * (room_temp_c - limit))
    return ua * (room_temp_c - outdoor_temp_c)


class SpaceHeatingModel(SinkModel):
    """A building's heating loop (:class:`~thermalctl.config.site.SpaceHeatingSink`)."""

    kind: ClassVar[str] = "space_heating"

    sink: SpaceHeatingSink

    def __init__(self, sink: SpaceHeatingSink, profile: SiteProfile) -> None:
        super().__init__(sink, profile)
        self.ua_w_per_k = building_ua_w_per_k(sink)

    @property
    def capacity_j_per_k(self) -> float:
        return self.sink.thermal_mass_j_per_k

    def hx_inlet_temp_c(self, nodes_c: Sequence[float]) -> float:
        return nodes_c[0] + RADIATOR_RETURN_ABOVE_ROOM_K

    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        temp = nodes_c[0]
        loss_w = building_heat_loss_w(self.sink, temp, env.outdoor_temp_c)
        backup_w = self.thermostat_backup_w(temp)
        new = temp + (heat_w + backup_w - loss_w) * dt_s / self.sink.thermal_mass_j_per_k
        return SinkStep([new], backup_w)

    def loss_line_w(
        self,
        times_s: Array,
        ambient_c: Array,
        draw_m3_per_s: Array | None,
        setpoint_c: float,
    ) -> tuple[Array, Array]:
        ua = self.ua_w_per_k
        amb = np.asarray(ambient_c, dtype=float)
        warm = amb >= self.sink.heating_limit_temp_c
        limit = self.sink.heating_limit_temp_c + GAINS_ABOVE_HEATING_LIMIT_K
        offset = np.where(warm, -ua * limit, -ua * amb)
        return offset, np.full(np.asarray(times_s).size, ua)

    def planning_hx_offset_k(self, planned_on_mean: bool) -> float:
        return RADIATOR_RETURN_ABOVE_ROOM_K
