"""The heat loop as one object: racks, sink heat exchangers in their topology, dry cooler.

The plant (:mod:`thermalctl.sim.plant`), the planner (:mod:`thermalctl.control.planner`)
and the safety layer (:mod:`thermalctl.control.safety`) all take the loop's numbers
from one :class:`HeatLoopModel`, built once per site with :meth:`HeatLoopModel.from_profile`.

The loop is built the way the pipes run::

    rack outlet -> sink exchangers (series, in their order; or parallel branches with
                   valves and a bypass) -> dry cooler -> [pipe losses] -> rack inlet

The loop's coolant is one thermal mass at the rack inlet temperature (the controlled
"supply" temperature); the water passing the exchangers and the dry cooler is taken in
quasi-steady state (the pipe transit takes seconds, the loop's time constant minutes):

* rack outlet ``T_out = T_in + Q_captured / C_loop`` (mixed), and per group with the
  group's share of the flow (balanced in proportion to its rack power);
* exchanger ``i`` gets hot water at ``T_hot,i``: the rack outlet in parallel; in series
  the outlet of the one before, ``T_hot,i+1 = T_hot,i - Q_i / C_loop``; its duty is at
  most ``eps_i C_min,i (T_hot,i - T_cold,i)`` with its own hot-side (branch) and
  sink-side capacity rates (effectiveness-NTU,
  :func:`thermalctl.physics.hx.plate_hx_duty_w`), so ``eps C_min`` is evaluated once
  per exchanger;
* the dry cooler gets ``T_out - sum Q_i / C_loop`` (parallel branches and bypass mixed
  again) and rejects at most ``eps C_min (T - T_air)`` with its air-side capacity rate
  (:func:`thermalctl.physics.drycooler.rejection_capacity_w`).

A sink with a heat pump (``hx.heat_pump``) has the exchanger as the heat pump's
evaporator: refrigerant evaporating at ``evaporating_temp_c`` has an infinite capacity
rate, so ``eps = 1 - exp(-NTU)`` (Incropera, Table 11.3, ``C_r = 0``); the condenser
delivers ``Q = Q_evap COP / (COP - 1)`` with ``COP = eta T_hot / (T_hot - T_cold)``
(:func:`thermalctl.physics.backup.heat_pump_cop`, sink supply over source inlet).

Water properties are taken at the loop's design supply temperature, once: the loop
swings a few kelvin and the properties change by < 0.3 % over that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import HeatPump, RackGroup, SiteProfile
from thermalctl.physics import backup, drycooler, hx, water

__all__ = [
    "AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K",
    "ROOM_COOLING_COP",
    "ExchangerModel",
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
#: Capacity rate standing in for an evaporating refrigerant (C_r -> 0) [W/K].
_EVAPORATING_CAPACITY_RATE_W_PER_K = 1e12


@dataclass(frozen=True)
class ExchangerModel:
    """One sink's heat exchanger on the loop.

    Attributes
    ----------
    sink_id : str
        The sink it serves.
    hot_capacity_rate_w_per_k : float
        Loop-side ``m_dot c_p`` through it (the loop in series, its branch in parallel)
        [W/K].
    cold_capacity_rate_w_per_k : float
        Sink-side ``m_dot c_p`` [W/K] (effectively infinite for an evaporator).
    duty_w_per_k : float
        ``eps C_min``: most duty per kelvin between its hot and cold inlets [W/K].
    heat_pump : HeatPump or None
        The heat pump whose evaporator it is, if any.
    """

    sink_id: str
    hot_capacity_rate_w_per_k: float
    cold_capacity_rate_w_per_k: float
    duty_w_per_k: float
    heat_pump: HeatPump | None = None

    def max_duty_w(self, hot_in_c: float, cold_in_c: float) -> float:
        """Most heat it passes [W] (0 when the cold side is warmer)."""
        return self.duty_w_per_k * max(0.0, hot_in_c - cold_in_c)

    @property
    def carnot_efficiency(self) -> float:
        """The heat pump's real-to-Carnot COP ratio [-] (the default when unstated)."""
        hp = self.heat_pump
        if hp is None or hp.carnot_efficiency is None:
            return backup.DEFAULT_CARNOT_EFFICIENCY_FRACTION
        return hp.carnot_efficiency

    def cop(self, supply_temp_c: float, source_temp_c: float) -> float:
        """Heat pump COP delivering at ``supply_temp_c`` from loop water at
        ``source_temp_c`` [-] (:func:`thermalctl.physics.backup.heat_pump_cop`)."""
        return float(backup.heat_pump_cop(supply_temp_c, source_temp_c, self.carnot_efficiency))


@dataclass(frozen=True)
class HeatLoopModel:
    """The coolant loop of one site, linear in its temperatures.

    Attributes
    ----------
    capacity_j_per_k : float
        Heat stored in the loop's coolant per kelvin [J/K].
    capacity_rate_w_per_k : float
        Coolant ``m_dot c_p`` of the whole loop [W/K].
    topology : {"series", "parallel"}
        How the sink exchangers sit on the loop.
    exchangers : dict
        One :class:`ExchangerModel` per sink, in the order the water reaches them.
    dump_w_per_k : float
        Dry-cooler duty per kelvin between its water inlet and outdoor air at full fan
        speed, ``eps C_min`` with the air-side capacity rate [W/K].
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
    flow_shares : dict
        Share of the loop flow through each rack group (in proportion to rack power) [-].
    """

    capacity_j_per_k: float
    capacity_rate_w_per_k: float
    topology: str
    exchangers: dict[str, ExchangerModel]
    dump_w_per_k: float
    loss_ua_w_per_k: float
    plant_room_temp_c: float
    supply_setpoint_c: float
    pump_w: float
    rated_fan_power_w: float
    flow_shares: dict[str, float]

    @classmethod
    def from_profile(cls, profile: SiteProfile) -> HeatLoopModel:
        """The loop of ``profile.heat_loop``, water properties at the supply set point."""
        loop = profile.heat_loop
        t_design = loop.supply_temp_setpoint_c
        rho_cp = float(water.volumetric_heat_capacity_j_per_m3_k(t_design))
        c_loop = loop.flow_m3_per_h / 3600.0 * rho_cp
        c_air = loop.dry_cooler.air_flow_m3_per_s * AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
        exchangers: dict[str, ExchangerModel] = {}
        for sink_id in profile.sink_order():
            spec = profile.sink_hx(sink_id)
            c_hot = profile.branch_flow_m3_per_h(sink_id) / 3600.0 * rho_cp
            if spec.heat_pump is not None:
                c_cold = _EVAPORATING_CAPACITY_RATE_W_PER_K
            else:
                sink_flow = spec.sink_flow_m3_per_h or loop.flow_m3_per_h
                c_cold = sink_flow / 3600.0 * rho_cp
            per_k = float(hx.plate_hx_duty_w(spec.ua_w_per_k, 1.0, 0.0, c_hot, c_cold,
                                             spec.arrangement))
            exchangers[sink_id] = ExchangerModel(sink_id, c_hot, c_cold, per_k, spec.heat_pump)
        dump_w_per_k = float(
            drycooler.rejection_capacity_w(loop.dry_cooler.ua_w_per_k, 1.0, 0.0, c_loop, c_air)
        )
        total_max = sum(g.max_power_w for g in profile.rack_groups)
        return cls(
            capacity_j_per_k=loop.volume_m3 * rho_cp,
            capacity_rate_w_per_k=c_loop,
            topology=loop.topology,
            exchangers=exchangers,
            dump_w_per_k=dump_w_per_k,
            loss_ua_w_per_k=loop.loss_ua_w_per_k,
            plant_room_temp_c=loop.plant_room_temp_c,
            supply_setpoint_c=t_design,
            pump_w=loop.pump_rated_power_w,
            rated_fan_power_w=loop.dry_cooler.rated_fan_power_w,
            flow_shares={g.id: g.max_power_w / total_max for g in profile.rack_groups},
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
        """Mixed coolant from the racks: inlet plus the captured heat's rise [degC]."""
        return supply_temp_c + captured_w / self.capacity_rate_w_per_k

    def group_outlet_temp_c(self, group: RackGroup, inlet_temp_c: float, power_w: float) -> float:
        """Coolant leaving one rack group [degC]: its share of the loop flow (balanced in
        proportion to rack power) carries its captured heat."""
        c_group = self.capacity_rate_w_per_k * self.flow_shares[group.id]
        return inlet_temp_c + self.captured_w(group, power_w) / c_group

    # -- heat exchangers and dump --------------------------------------------------
    @property
    def order(self) -> tuple[str, ...]:
        """Sink ids in the order the loop water reaches their exchangers."""
        return tuple(self.exchangers)

    def hx_duty_w(self, sink_id: str, hot_in_c: float, cold_in_c: float) -> float:
        """Most heat a sink's exchanger passes [W] (0 when the sink side is warmer)."""
        return self.exchangers[sink_id].max_duty_w(hot_in_c, cold_in_c)

    def next_hot_in_c(self, hot_in_c: float, rack_outlet_c: float, extracted_w: float) -> float:
        """Hot inlet of the next exchanger [degC]: after this one in series; the rack
        outlet again in parallel."""
        if self.topology == "parallel":
            return rack_outlet_c
        return hot_in_c - extracted_w / self.capacity_rate_w_per_k

    def dry_cooler_inlet_c(self, rack_outlet_c: float, extracted_w: float) -> float:
        """Water reaching the dry cooler [degC]: the rack outlet less what every exchanger
        took (branches and bypass mixed)."""
        return rack_outlet_c - extracted_w / self.capacity_rate_w_per_k

    def dump_capacity_w(self, inlet_temp_c: float, ambient_c: float) -> float:
        """Most heat the dry cooler rejects at full fan speed with water arriving at
        ``inlet_temp_c`` [W] (0 when it is warmer outside)."""
        return self.dump_w_per_k * max(0.0, inlet_temp_c - ambient_c)

    def dump_capacity_profile_w(
        self, inlet_temp_c: float, ambient_c: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """:meth:`dump_capacity_w` for each of an array of outdoor temperatures [W]."""
        return self.dump_w_per_k * np.maximum(0.0, inlet_temp_c - np.asarray(ambient_c, float))

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
