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

The physics comes from the site models, the same ones the planner takes its linear
coefficients from: the heat loop (:class:`thermalctl.models.loop.HeatLoopModel`: rack
capture, exchanger and dry-cooler duty per kelvin, pump, pipe losses) and one model per
sink (:mod:`thermalctl.models.sinks`: state, step, HX inlet, backup, comfort). The plant
holds the state and the energy books; it never tells sink kinds apart itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from thermalctl.config.site import DhwSink, SiteProfile
from thermalctl.models.loop import ROOM_COOLING_COP, HeatLoopModel
from thermalctl.models.sinks import SinkEnvironment, SinkModel, models_for
from thermalctl.sim.inputs import (
    DrawShape,
    SyntheticWorkload,
    Weather,
    Workload,
    draw_shape_fraction,
)

__all__ = ["Commands", "Plant", "PlantTotals"]

#: Proportional gain of the dry-cooler loop that holds the coolant supply temperature [W/K].
DUMP_GAIN_W_PER_K = 8000.0
#: Longest internal integration step [s]: a tenth of the loop's time constant (about 330 s
#: for both shipped sites: loop heat capacity over the sum of HX, dump-trim and loss
#: conductances), so explicit Euler stays accurate and stable.
MAX_SUBSTEP_S = 30.0


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
        #: The heat loop and one model per sink: all physics of the plant comes from them.
        self.loop = HeatLoopModel.from_profile(profile)
        self.sink_models: dict[str, SinkModel] = models_for(profile)
        self.loop_temp_c = loop.supply_temp_setpoint_c
        self.loop_capacity_j_per_k = self.loop.capacity_j_per_k
        self.loop_capacity_rate_w_per_k = self.loop.capacity_rate_w_per_k
        self.hx_w_per_k = self.loop.hx_w_per_k
        self.dump_w_per_k = self.loop.dump_w_per_k
        self.sink_temp_c: dict[str, float] = {}
        #: Node temperatures, top first, of every sink with more than one node (tanks).
        self.tank_nodes_c: dict[str, list[float]] = {}
        for sink_id, model in self.sink_models.items():
            nodes = model.initial_nodes_c()
            self.sink_temp_c[sink_id] = model.sensor_temp_c(nodes)
            if model.stratified:
                self.tank_nodes_c[sink_id] = nodes
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
        self.pump_w = self.loop.pump_w
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
            self.loop.captured_w(g, self.group_power_w[g.id]) for g in self.profile.rack_groups
        )
        return self.loop.return_temp_c(self.loop_temp_c, captured)

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
            must_w = self.loop.must_run_w(g, wl.must_run_w(now))
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
            captured_w += self.loop.captured_w(g, power)
            t.group_it_kwh[g.id] += power * kwh_per_w
        uncaptured_w = it_w - captured_w

        # Heat to the sinks through their plate heat exchangers (duty = eps C_min dT).
        loop_temp = self.loop_temp_c
        sink_w: dict[str, float] = {}
        nodes: dict[str, list[float]] = {}
        for sink in p.sinks:
            model = self.sink_models[sink.id]
            nodes[sink.id] = self.tank_nodes_c.get(sink.id) or [self.sink_temp_c[sink.id]]
            t_sink = model.hx_inlet_temp_c(nodes[sink.id])
            if self.heat_path_fault or loop_temp <= t_sink:
                sink_w[sink.id] = 0.0
                continue
            duty = self.loop.hx_duty_w(loop_temp, t_sink)
            request = max(0.0, commands.sink_heat_request_w.get(sink.id, 0.0))
            sink_w[sink.id] = min(request, duty, sink.max_heat_w)

        # Dry cooler: controller's request, trimmed by the local loop that holds the
        # supply temperature at its set point.
        dump_w = 0.0
        fan_w = 0.0
        if commands.dump_on:
            capacity = self.loop.dump_capacity_w(loop_temp, weather.temp_c)
            trim = DUMP_GAIN_W_PER_K * (loop_temp - loop.supply_temp_setpoint_c)
            wanted = max(commands.dump_heat_request_w, trim)
            dump_w = min(max(0.0, wanted), capacity)
            fan_w = self.loop.dump_fan_w(dump_w, capacity)
        loss_w = self.loop.loss_w(loop_temp)

        # Loop energy balance (explicit Euler on the mixed loop temperature).
        net_w = captured_w - sum(sink_w.values()) - dump_w - loss_w
        self.loop_temp_c = loop_temp + net_w * dt_s / self.loop_capacity_j_per_k

        # Sinks: their own heat balance and backup heaters.
        for sink in p.sinks:
            model = self.sink_models[sink.id]
            env = SinkEnvironment(now, weather.temp_c, self._draw_m3_per_s(sink.id, now))
            stepped = model.step(nodes[sink.id], sink_w[sink.id], dt_s, env)
            if model.stratified:
                self.tank_nodes_c[sink.id] = stepped.nodes_c
            temp = model.sensor_temp_c(stepped.nodes_c)
            self.sink_temp_c[sink.id] = temp
            backup_w = stepped.backup_w
            self.sink_heat_w[sink.id] = sink_w[sink.id]
            self.backup_heat_w[sink.id] = backup_w
            t.sink_kwh[sink.id] += sink_w[sink.id] * kwh_per_w
            t.backup_kwh[sink.id] += backup_w * kwh_per_w
            outside_kh = model.comfort_violation_k(temp) * dt_s / 3600.0
            t.comfort_violation_kh += outside_kh
            t.sink_comfort_violation_kh[sink.id] += outside_kh

        # Facility power inside the boundary (ISO/IEC 30134-2: all energy to the data centre).
        r = p.reporting
        self.pump_w = self.loop.pump_w
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

    def _draw_m3_per_s(self, sink_id: str, time_s: float) -> float:
        """Draw from any sink [m3/s]: zero for sinks nothing is drawn from."""
        model = self.sink_models[sink_id]
        if not model.has_draws:
            return 0.0
        return self.dhw_draw_m3_per_s(model.sink, time_s)  # type: ignore[arg-type]

    def tank_mean_temp_c(self, sink_id: str) -> float:
        """Energy-mean temperature of a hot-water tank [degC] (equal node volumes), as a
        string of tank sensors measures it; the top is ``sink_temp_c``."""
        return self.sink_models[sink_id].mean_temp_c(self.tank_nodes_c[sink_id])
