"""The simulated plant: racks, coolant loop, plate heat exchangers, sinks, dry cooler.

The plant is what a real site's devices would measure. It is stepped in
simulated time with the controller's latest commands (power caps, heat
requests, dump enable) and keeps billing-style energy counters, so the energy
balance can be checked exactly:

    IT electricity = heat to sinks + heat dumped + loop losses + uncaptured heat
                     + change of heat stored in the loop

The local controllers that a real plant has (and thermalctl does not replace)
are modelled too: the dry-cooler loop that trims dump heat to hold the
coolant supply temperature, and each sink's own backup heater thermostat.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.physics import drycooler, hx, pool, tank, water
from thermalctl.sim.inputs import (
    DrawShape,
    SyntheticWorkload,
    Weather,
    Workload,
    draw_shape_fraction,
)

__all__ = ["Commands", "Plant", "PlantTotals"]

#: Coefficient of performance of the room air cooling that removes the IT heat not
#: captured into the liquid (a typical CRAC/CRAH chilled-water system; EN 50600-4-2 treats
#: it as facility load).
ROOM_COOLING_COP = 4.0
#: Proportional gain of the dry-cooler loop that holds the coolant supply temperature [W/K].
DUMP_GAIN_W_PER_K = 8000.0
#: Backup heaters start this far below the sink set point [K] and reach full output one
#: proportional band [K] lower.
BACKUP_OFFSET_K = 0.3
BACKUP_BAND_K = 0.4
#: Longest internal integration step [s]: a tenth of the loop's time constant (about 330 s
#: for both shipped sites: loop heat capacity over the sum of HX, dump-trim and loss
#: conductances), so explicit Euler stays accurate and stable.
MAX_SUBSTEP_S = 30.0
#: Temperature step for the pool loss slope used inside one plant step [K]. Within a step the
#: pool loss is linearised, loss(T) = loss(T0) + slope (T - T0); the pool moves < 0.05 K per
#: 15 min, so the error is far below 0.1 % of the loss (and the bookkeeping stays exact).
POOL_SLOPE_DELTA_K = 0.1
#: Radiator return temperature above room temperature [K]: half a 20 K design lift.
SPACE_HEATING_RETURN_ABOVE_ROOM_K = 10.0
#: Water density times specific heat used for draw-off backup heat [J/(m3 K)].
DRAW_RHO_CP_J_PER_M3_K = 1000.0 * 4186.0


#: Height-to-diameter ratio assumed for hot-water tanks (typical vertical cylinders).
TANK_ASPECT_RATIO = 2.5


def _tank_height_m(volume_m3: float) -> float:
    diameter = (4.0 * volume_m3 / (math.pi * TANK_ASPECT_RATIO)) ** (1.0 / 3.0)
    return TANK_ASPECT_RATIO * diameter


@dataclass
class Commands:
    """What the controller last wrote to the plant."""

    gpu_power_cap_w: dict[str, float]
    sink_heat_request_w: dict[str, float]
    dump_on: bool = True
    dump_heat_request_w: float = 0.0


@dataclass
class PlantTotals:
    """Cumulative energies since the plant started [kWh]."""

    it_kwh: float = 0.0
    facility_kwh: float = 0.0
    sink_kwh: dict[str, float] = field(default_factory=dict)
    backup_kwh: dict[str, float] = field(default_factory=dict)
    dumped_kwh: float = 0.0
    loop_loss_kwh: float = 0.0
    uncaptured_kwh: float = 0.0
    group_it_kwh: dict[str, float] = field(default_factory=dict)
    deferred_late_kwh: float = 0.0
    comfort_violation_kh: float = 0.0
    sink_comfort_violation_kh: dict[str, float] = field(default_factory=dict)
    rack_limit_violations: int = 0


@dataclass
class _Job:
    arrived_s: float
    remaining_kwh: float


class Plant:
    """Mutable plant state, stepped by :meth:`step`."""

    def __init__(
        self,
        profile: SiteProfile,
        start_s: float = 0.0,
        *,
        workloads: Mapping[str, Workload] | None = None,
        draw_shape: DrawShape | None = None,
    ) -> None:
        self.profile = profile
        self.time_s = start_s
        loop = profile.heat_loop
        self.loop_temp_c = loop.supply_temp_setpoint_c
        # Water properties at the loop's design temperature, evaluated once (the loop
        # swings a few kelvin; the properties change by < 0.3 % over that).
        t_design = loop.supply_temp_setpoint_c
        rho_cp = float(
            water.density_kg_per_m3(t_design) * water.specific_heat_j_per_kg_k(t_design)
        )
        self.loop_capacity_j_per_k = loop.volume_m3 * rho_cp
        self.loop_capacity_rate_w_per_k = loop.flow_m3_per_h / 3600.0 * rho_cp
        c_loop = self.loop_capacity_rate_w_per_k
        # Both exchangers work between two fixed capacity rates, so their duty is exactly
        # proportional to the inlet temperature difference: evaluate eps * C_min once.
        self.hx_w_per_k = float(
            hx.plate_hx_duty_w(loop.hx.ua_w_per_k, 1.0, 0.0, c_loop, c_loop, loop.hx.arrangement)
        )
        self.dump_w_per_k = float(
            drycooler.rejection_capacity_w(loop.dry_cooler.ua_w_per_k, 1.0, 0.0, c_loop)
        )
        self._pool_loss_cache: dict[tuple[str, float, bool], tuple[float, float]] = {}
        self.sink_capacity_j_per_k = {
            s.id: s.volume_m3 * float(water.volumetric_heat_capacity_j_per_m3_k(s.setpoint_c))
            for s in profile.sinks
            if isinstance(s, PoolSink)
        }
        self.sink_temp_c: dict[str, float] = {}
        self.tank_nodes_c: dict[str, list[float]] = {}
        for sink in profile.sinks:
            self.sink_temp_c[sink.id] = sink.setpoint_c
            if isinstance(sink, DhwSink):
                self.tank_nodes_c[sink.id] = [sink.setpoint_c] * sink.nodes
        self.tank_params = {
            s.id: tank.TankParams(
                volume_m3=s.volume_m3,
                height_m=_tank_height_m(s.volume_m3),
                node_count=s.nodes,
                loss_ua_w_per_k=s.loss_ua_w_per_k,
            )
            for s in profile.sinks
            if isinstance(s, DhwSink)
        }
        self.workloads: dict[str, Workload] = {
            g.id: SyntheticWorkload(g, profile.simulation.seed + i)
            for i, g in enumerate(profile.rack_groups)
        }
        if workloads is not None:
            self.workloads.update(workloads)
        self.draw_shape: DrawShape = draw_shape or draw_shape_fraction
        self.queues: dict[str, deque[_Job]] = {g.id: deque() for g in profile.rack_groups}
        self._queued_kwh = {g.id: 0.0 for g in profile.rack_groups}
        self.commands = Commands(
            gpu_power_cap_w={g.id: g.max_power_w for g in profile.rack_groups},
            sink_heat_request_w={s.id: s.max_heat_w for s in profile.sinks},
        )
        self.totals = PlantTotals(
            sink_kwh={s.id: 0.0 for s in profile.sinks},
            backup_kwh={s.id: 0.0 for s in profile.sinks},
            sink_comfort_violation_kh={s.id: 0.0 for s in profile.sinks},
            group_it_kwh={g.id: 0.0 for g in profile.rack_groups},
        )
        # Latest instantaneous values, for the devices to publish.
        self.group_power_w = {g.id: g.idle_power_w for g in profile.rack_groups}
        self.sink_heat_w = {s.id: 0.0 for s in profile.sinks}
        self.backup_heat_w = {s.id: 0.0 for s in profile.sinks}
        self.dump_heat_w = 0.0
        self.dump_fan_w = 0.0
        self.pump_w = loop.pump_rated_power_w
        self.facility_w = 0.0
        self.ambient = Weather(10.0, 0.7, 3.0)
        self.heat_path_fault = False
        self.initial_loop_energy_j = self.loop_energy_j()

    # -- bookkeeping ---------------------------------------------------------------
    def loop_energy_j(self) -> float:
        return self.loop_capacity_j_per_k * self.loop_temp_c

    def queued_kwh(self, group_id: str) -> float:
        """Deferred work waiting in ``group_id``'s queue [kWh] (kept as a running total)."""
        return max(0.0, self._queued_kwh[group_id])

    @property
    def loop_flow_m3_per_s(self) -> float:
        return self.profile.heat_loop.flow_m3_per_h / 3600.0

    def supply_temp_c(self) -> float:
        """Coolant back to the racks: the mixed loop temperature."""
        return self.loop_temp_c

    def return_temp_c(self) -> float:
        """Coolant from the racks: loop temperature plus the captured heat's rise."""
        captured = sum(
            self.group_power_w[g.id] * g.capture_fraction for g in self.profile.rack_groups
        )
        return self.loop_temp_c + captured / self.loop_capacity_rate_w_per_k

    def balance_residual_kwh(self) -> float:
        """IT electricity minus where its heat went (should be ~0)."""
        t = self.totals
        stored_kwh = (self.loop_energy_j() - self.initial_loop_energy_j) / 3.6e6
        out = (
            sum(t.sink_kwh.values())
            + t.dumped_kwh
            + t.loop_loss_kwh
            + t.uncaptured_kwh
            + stored_kwh
        )
        return t.it_kwh - out

    # -- stepping ------------------------------------------------------------------
    def step(self, dt_s: float, weather: Weather) -> None:
        """Advance the plant by ``dt_s`` seconds of simulated time."""
        if dt_s <= 0:
            return
        n = max(1, math.ceil(dt_s / MAX_SUBSTEP_S))
        h = dt_s / n
        self.ambient = weather
        for _ in range(n):
            self._substep(h, weather)

    def _substep(self, dt_s: float, weather: Weather) -> None:
        p = self.profile
        loop = p.heat_loop
        t = self.totals
        now = self.time_s
        kwh_per_w = dt_s / 3.6e6  # energy [kWh] of 1 W over this step
        commands = self.commands

        # Racks: must-run load always runs; deferrable work runs up to the cap.
        captured_w = 0.0
        it_w = 0.0
        for g in p.rack_groups:
            wl = self.workloads[g.id]
            queue = self.queues[g.id]
            arrived = wl.arrivals_kwh(now, dt_s)
            if arrived > 0:
                queue.append(_Job(now, arrived))
                self._queued_kwh[g.id] += arrived
            must_w = min(g.idle_power_w + wl.must_run_w(now), g.max_power_w)
            cap = commands.gpu_power_cap_w.get(g.id, g.max_power_w)
            headroom_w = max(0.0, min(cap, g.max_power_w) - must_w)
            want_w = self.queued_kwh(g.id) * 3.6e6 / dt_s
            defer_w = min(headroom_w, want_w)
            # Ramp limit on the deferrable part.
            prev = self.group_power_w[g.id]
            target = must_w + defer_w
            max_step = g.ramp_w_per_s * dt_s
            target = min(max(target, prev - max_step), prev + max_step)
            target = max(target, must_w)
            defer_w = max(0.0, min(target - must_w, want_w))
            power = must_w + defer_w
            if power > g.max_power_w + 1e-6:
                t.rack_limit_violations += 1
            t.deferred_late_kwh += self._consume(
                queue, defer_w * kwh_per_w, now - g.deadline_h * 3600.0
            )
            # Running total; exact again whenever the queue empties (no drift).
            self._queued_kwh[g.id] = self._queued_kwh[g.id] - defer_w * kwh_per_w if queue else 0.0
            self.group_power_w[g.id] = power
            it_w += power
            captured_w += power * g.capture_fraction
            t.group_it_kwh[g.id] += power * kwh_per_w
        uncaptured_w = it_w - captured_w

        # Heat to the sinks through their plate heat exchangers (duty = eps C_min dT).
        loop_temp = self.loop_temp_c
        sink_w: dict[str, float] = {}
        for sink in p.sinks:
            t_sink = self._sink_hx_temp(sink)
            if self.heat_path_fault or loop_temp <= t_sink:
                sink_w[sink.id] = 0.0
                continue
            duty = self.hx_w_per_k * (loop_temp - t_sink)
            request = max(0.0, commands.sink_heat_request_w.get(sink.id, 0.0))
            sink_w[sink.id] = min(request, duty, sink.max_heat_w)

        # Dry cooler: controller's request, trimmed by the local loop that holds the
        # supply temperature at its set point.
        dump_w = 0.0
        fan_w = 0.0
        if commands.dump_on:
            capacity = self.dump_w_per_k * max(0.0, loop_temp - weather.temp_c)
            trim = DUMP_GAIN_W_PER_K * (loop_temp - loop.supply_temp_setpoint_c)
            wanted = max(commands.dump_heat_request_w, trim)
            dump_w = min(max(0.0, wanted), capacity)
            if capacity > 0:
                # Fan affinity law P = P_rated n^3 (thermalctl.physics.drycooler.fan_power_w).
                fan_w = loop.dry_cooler.rated_fan_power_w * min(1.0, dump_w / capacity) ** 3
        loss_w = loop.loss_ua_w_per_k * (loop_temp - loop.plant_room_temp_c)

        # Loop energy balance (explicit Euler on the mixed loop temperature).
        net_w = captured_w - sum(sink_w.values()) - dump_w - loss_w
        self.loop_temp_c = loop_temp + net_w * dt_s / self.loop_capacity_j_per_k

        # Sinks: their own heat balance and backup heaters.
        for sink in p.sinks:
            backup_w = self._step_sink(sink, sink_w[sink.id], dt_s, weather)
            self.sink_heat_w[sink.id] = sink_w[sink.id]
            self.backup_heat_w[sink.id] = backup_w
            t.sink_kwh[sink.id] += sink_w[sink.id] * kwh_per_w
            t.backup_kwh[sink.id] += backup_w * kwh_per_w
            temp = self.sink_temp_c[sink.id]
            outside = max(0.0, sink.band_low_c - temp, temp - sink.band_high_c)
            t.comfort_violation_kh += outside * dt_s / 3600.0
            t.sink_comfort_violation_kh[sink.id] += outside * dt_s / 3600.0

        # Facility power inside the boundary (ISO/IEC 30134-2: all energy to the data centre).
        r = p.reporting
        self.pump_w = loop.pump_rated_power_w
        facility_w = (
            it_w * (1.0 + r.ups_loss_fraction)
            + r.overhead_power_w
            + self.pump_w
            + fan_w
            + uncaptured_w / ROOM_COOLING_COP
        )
        self.dump_heat_w = dump_w
        self.dump_fan_w = fan_w
        self.facility_w = facility_w
        t.it_kwh += it_w * kwh_per_w
        t.facility_kwh += facility_w * kwh_per_w
        t.dumped_kwh += dump_w * kwh_per_w
        t.loop_loss_kwh += loss_w * kwh_per_w
        t.uncaptured_kwh += uncaptured_w * kwh_per_w
        self.time_s += dt_s

    @staticmethod
    def _consume(queue: deque[_Job], energy_kwh: float, overdue_before_s: float) -> float:
        """Run ``energy_kwh`` of queued work, oldest first; return the part done late."""
        late = 0.0
        while queue and energy_kwh > 0:
            job = queue[0]
            used = min(job.remaining_kwh, energy_kwh)
            job.remaining_kwh -= used
            energy_kwh -= used
            if job.arrived_s < overdue_before_s:
                late += used
            if job.remaining_kwh <= 1e-12:
                queue.popleft()
        return late

    def late_kwh(self) -> float:
        """Deferred work still queued past its deadline [kWh]."""
        late = 0.0
        for g in self.profile.rack_groups:
            for job in self.queues[g.id]:
                if self.time_s - job.arrived_s > g.deadline_h * 3600.0:
                    late += job.remaining_kwh
        return late

    def dhw_draw_m3_per_s(self, sink: DhwSink, time_s: float) -> float:
        """Hot-water draw of ``sink`` at ``time_s`` [m3/s] (the oracle may peek)."""
        return sink.draw_m3_per_day * self.draw_shape(time_s)

    def tank_mean_temp_c(self, sink_id: str) -> float:
        """Energy-mean temperature of a hot-water tank [degC] (equal node volumes), as a
        string of tank sensors measures it; the top is ``sink_temp_c``."""
        nodes = self.tank_nodes_c[sink_id]
        return sum(nodes) / len(nodes)

    def _sink_hx_temp(self, sink: PoolSink | DhwSink | SpaceHeatingSink) -> float:
        """Temperature of the sink side entering the heat exchanger."""
        if isinstance(sink, DhwSink):
            # Preheat coil in the lower third: it sees the mean of the nodes it occupies
            # (thermalctl.physics.tank default heat_in_node_fractions).
            nodes = self.tank_nodes_c[sink.id]
            coil = max(1, math.ceil(len(nodes) / 3))
            return sum(nodes[-coil:]) / coil
        if isinstance(sink, SpaceHeatingSink):
            return self.sink_temp_c[sink.id] + SPACE_HEATING_RETURN_ABOVE_ROOM_K
        return self.sink_temp_c[sink.id]

    def _backup_w(self, sink: PoolSink | DhwSink | SpaceHeatingSink, temp_c: float) -> float:
        start = sink.setpoint_c - BACKUP_OFFSET_K
        share = min(1.0, max(0.0, (start - temp_c) / BACKUP_BAND_K))
        return share * sink.backup.max_heat_w

    def pool_cover_on(self, sink: PoolSink, time_s: float) -> bool:
        if sink.cover_hours is None:
            return False
        hour = (time_s % 86400.0) / 3600.0
        a, b = sink.cover_hours
        return (a <= hour < b) if a < b else (hour >= a or hour < b)

    def _pool_loss_line(self, sink: PoolSink, temp_c: float, cover: bool) -> tuple[float, float]:
        """Pool loss [W] at a temperature near ``temp_c`` and its slope [W/K] (cached)."""
        key = (sink.id, round(temp_c, 1), cover)
        line = self._pool_loss_cache.get(key)
        if line is None:
            line = pool.linearised_heat_loss_w(
                key[1], delta_k=POOL_SLOPE_DELTA_K, **sink.loss_model_arguments(cover)
            )
            if len(self._pool_loss_cache) > 4096:
                self._pool_loss_cache.clear()
            self._pool_loss_cache[key] = line
        return line

    def _step_sink(
        self, sink: PoolSink | DhwSink | SpaceHeatingSink, heat_w: float, dt_s: float, w: Weather
    ) -> float:
        if isinstance(sink, PoolSink):
            temp = self.sink_temp_c[sink.id]
            offset, slope = self._pool_loss_line(sink, temp, self.pool_cover_on(sink, self.time_s))
            loss_w = offset + slope * temp
            backup_w = self._backup_w(sink, temp)
            capacity = self.sink_capacity_j_per_k[sink.id]
            self.sink_temp_c[sink.id] = temp + (heat_w + backup_w - loss_w) * dt_s / capacity
            return backup_w
        if isinstance(sink, DhwSink):
            nodes = self.tank_nodes_c[sink.id]
            draw = self.dhw_draw_m3_per_s(sink, self.time_s)
            top = nodes[0]
            # Backup (downstream boiler) lifts drawn water to the draw temperature.
            backup_w = draw * DRAW_RHO_CP_J_PER_M3_K * max(0.0, sink.draw_temp_c - top)
            new_nodes, _terms = tank.step_tank(
                nodes, dt_s, draw, sink.mains_temp_c, heat_w,
                self.profile.heat_loop.plant_room_temp_c, self.tank_params[sink.id],
            )
            self.tank_nodes_c[sink.id] = new_nodes.tolist()
            self.sink_temp_c[sink.id] = float(new_nodes[0])
            return backup_w
        # Space heating: building as one thermal mass, UA from the design heat load.
        temp = self.sink_temp_c[sink.id]
        loss_w = space_heating_loss_w(sink, temp, w.temp_c)
        backup_w = self._backup_w(sink, temp)
        self.sink_temp_c[sink.id] = (
            temp + (heat_w + backup_w - loss_w) * dt_s / sink.thermal_mass_j_per_k
        )
        return backup_w


def space_heating_loss_w(
    sink: SpaceHeatingSink, room_temp_c: float, outdoor_temp_c: float
) -> float:
    """Building heat loss [W]: UA from the design load; above the heating limit only the
    internal-gain-corrected remainder (zero once the room is within 3 K of the limit)."""
    ua = sink.design_heat_w / (sink.indoor_temp_c - sink.design_outdoor_temp_c)
    if outdoor_temp_c >= sink.heating_limit_temp_c:
        return max(0.0, ua * (room_temp_c - sink.heating_limit_temp_c - 3.0))
    return ua * (room_temp_c - outdoor_temp_c)
