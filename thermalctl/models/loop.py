"""The heat loop as one object: racks' capture, sink heat exchangers, dry cooler, pump, losses.

The plant (:mod:`thermalctl.sim.plant`), the planner (:mod:`thermalctl.control.planner`)
and the safety layer (:mod:`thermalctl.control.safety`) all take the loop's numbers
from one :class:`HeatLoopModel`, built once per site with :meth:`HeatLoopModel.from_profile`.

The loop runs at a fixed coolant flow, so every exchanger on it works between two
fixed capacity rates and its duty is exactly proportional to its inlet temperature
difference (effectiveness-NTU, :func:`thermalctl.physics.hx.plate_hx_duty_w` and
:func:`thermalctl.physics.drycooler.rejection_capacity_w`): ``duty = eps C_min dT``.
The model evaluates ``eps C_min`` once, per kelvin, for the sink plate exchangers and
for the dry cooler (with its air-side capacity rate ``air_flow_m3_per_s``: the air
warms as it crosses the coil, which lowers the cooler's duty by some 15 % on the
shipped sites against a coil in infinitely much air).

Water properties are taken at the loop's design supply temperature, once: the loop
swings a few kelvin and the properties change by < 0.3 % over that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import RackGroup, SiteProfile
from thermalctl.physics import drycooler, hx, water

__all__ = [
    "AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K",
    "ROOM_COOLING_COP",
    "HeatLoopModel",
]

#: Volumetric heat capacity of outdoor air, rho * cp at about 20 degC and sea level
#: (1.2 kg/m3 x 1006 J/(kg K); ASHRAE Handbook - Fundamentals 2021, ch. 1, Table 2)
#: [J/(m3 K)].
AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K = 1.2 * 1006.0
#: Coefficient of performance of the room air cooling that removes the IT heat not
#: captured into the liquid (a typical CRAC/CRAH chilled-water system; EN 50600-4-2 treats
#: it as facility load) [-].
ROOM_COOLING_COP = 4.0


@dataclass(frozen=True)
class HeatLoopModel:
    """The coolant loop of one site, linear in its temperatures.

    Attributes
    ----------
    capacity_j_per_k : float
        Heat stored in the loop's coolant per kelvin [J/K].
    capacity_rate_w_per_k : float
        Coolant ``m_dot c_p`` [W/K].
    hx_w_per_k : float
        Duty of a sink's plate heat exchanger per kelvin between its loop-side and
        sink-side inlets, ``eps C_min`` [W/K] (both sides at the loop's flow).
    dump_w_per_k : float
        Dry-cooler duty per kelvin between loop and outdoor air at full fan speed,
        ``eps C_min`` with the air-side capacity rate [W/K].
    loss_ua_w_per_k : float
        Pipe losses to the plant room [W/K].
    plant_room_temp_c : float
        Plant room temperature [degC].
    supply_setpoint_c : float
        Coolant supply temperature to the racks [degC].
    pump_w : float
        Pump electrical power (fixed speed) [W].
    rated_fan_power_w : float
        Dry-cooler fan power at full speed [W].
    """

    capacity_j_per_k: float
    capacity_rate_w_per_k: float
    hx_w_per_k: float
    dump_w_per_k: float
    loss_ua_w_per_k: float
    plant_room_temp_c: float
    supply_setpoint_c: float
    pump_w: float
    rated_fan_power_w: float

    @classmethod
    def from_profile(cls, profile: SiteProfile) -> HeatLoopModel:
        """The loop of ``profile.heat_loop``, water properties at the supply set point."""
        loop = profile.heat_loop
        t_design = loop.supply_temp_setpoint_c
        rho_cp = float(water.volumetric_heat_capacity_j_per_m3_k(t_design))
        c_loop = loop.flow_m3_per_h / 3600.0 * rho_cp
        c_air = loop.dry_cooler.air_flow_m3_per_s * AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
        hx_w_per_k = float(
            hx.plate_hx_duty_w(loop.hx.ua_w_per_k, 1.0, 0.0, c_loop, c_loop, loop.hx.arrangement)
        )
        dump_w_per_k = float(
            drycooler.rejection_capacity_w(loop.dry_cooler.ua_w_per_k, 1.0, 0.0, c_loop, c_air)
        )
        return cls(
            capacity_j_per_k=loop.volume_m3 * rho_cp,
            capacity_rate_w_per_k=c_loop,
            hx_w_per_k=hx_w_per_k,
            dump_w_per_k=dump_w_per_k,
            loss_ua_w_per_k=loop.loss_ua_w_per_k,
            plant_room_temp_c=loop.plant_room_temp_c,
            supply_setpoint_c=t_design,
            pump_w=loop.pump_rated_power_w,
            rated_fan_power_w=loop.dry_cooler.rated_fan_power_w,
        )

    # -- racks ---------------------------------------------------------------------
    @staticmethod
    def must_run_w(group: RackGroup, workload_must_run_w: float) -> float:
        """Rack power that always runs: idle plus the workload's must-run part [W],
        never above the rack limit."""
        return min(group.idle_power_w + workload_must_run_w, group.max_power_w)

    @staticmethod
    def captured_w(group: RackGroup, power_w: float) -> float:
        """IT heat of ``group`` captured into the liquid [W]
        (:func:`thermalctl.physics.rack.captured_heat_w` with the profile's fraction)."""
        return power_w * group.capture_fraction

    def return_temp_c(self, supply_temp_c: float, captured_w: float) -> float:
        """Coolant from the racks: supply plus the captured heat's rise [degC]."""
        return supply_temp_c + captured_w / self.capacity_rate_w_per_k

    # -- heat exchangers and dump --------------------------------------------------
    def hx_duty_w(self, loop_temp_c: float, sink_inlet_temp_c: float) -> float:
        """Most heat a sink's plate exchanger passes [W] (0 when the sink is warmer)."""
        return self.hx_w_per_k * max(0.0, loop_temp_c - sink_inlet_temp_c)

    def dump_capacity_w(self, loop_temp_c: float, ambient_c: float) -> float:
        """Most heat the dry cooler rejects at full fan speed [W] (0 when it is warmer
        outside than in the loop)."""
        return self.dump_w_per_k * max(0.0, loop_temp_c - ambient_c)

    def dump_capacity_profile_w(
        self, loop_temp_c: float, ambient_c: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """:meth:`dump_capacity_w` for each of an array of outdoor temperatures [W]."""
        return self.dump_w_per_k * np.maximum(0.0, loop_temp_c - np.asarray(ambient_c, float))

    def dump_fan_w(self, dump_w: float, capacity_w: float) -> float:
        """Fan power for rejecting ``dump_w`` of ``capacity_w`` [W]: speed taken in
        proportion to duty, power by the affinity law
        (:func:`thermalctl.physics.drycooler.fan_power_w`)."""
        if capacity_w <= 0.0:
            return 0.0
        return float(drycooler.fan_power_w(dump_w / capacity_w, self.rated_fan_power_w))

    def loss_w(self, loop_temp_c: float) -> float:
        """Pipe losses to the plant room [W]."""
        return self.loss_ua_w_per_k * (loop_temp_c - self.plant_room_temp_c)
