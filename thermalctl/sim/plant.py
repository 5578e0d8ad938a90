"""The simulated plant: racks, coolant loop, sink heat exchangers, sinks, dry cooler.

The plant is what a real site's devices would measure. It is stepped in
simulated time with the controller's latest commands (power caps, heat
requests, dump enable) and keeps billing-style energy counters, so the energy
balance can be checked exactly:

    IT electricity + heat-pump electricity
        = heat to sinks + heat dumped + loop losses + uncaptured heat
          + change of heat stored in the loop

The loop runs the way the pipes do (:mod:`thermalctl.models.loop`): rack outlet ->
sink exchangers (series in their order, or parallel branches) -> dry cooler -> rack
inlet; each exchanger's duty from its own hot and cold inlet temperatures and both
capacity rates. A sink's exchanger can be a heat pump's evaporator: the sink then
gets the condenser heat and the heat pump's electricity is counted apart.

The local controllers that a real plant has (and thermalctl does not replace)
are modelled too: the dry cooler's own controller (a requested duty, guarded at the
racks' inlet limit; without a request a PI loop holding the supply set point), each
sink's own backup heater (the building's boiler on
its heating curve, the heater downstream of a preheat tank, the pool's boiler
thermostat) and a preheat tank's daily legionella cycle.

The physics comes from the site models, the same ones the planner takes its linear
coefficients from: the heat loop (:class:`thermalctl.models.loop.HeatLoopModel`) and one
model per sink (:mod:`thermalctl.models.sinks`). The plant holds the state and the
energy books; it never tells sink kinds apart itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from thermalctl.config.site import DhwSink, RackGroup, SiteProfile
from thermalctl.models.loop import ROOM_COOLING_COP, HeatLoopModel
from thermalctl.models.sinks import DhwModel, SinkEnvironment, SinkModel, models_for
from thermalctl.sim.inputs import (
    DrawShape,
    SyntheticWorkload,
    Weather,
    Workload,
    draw_shape_for,
)

__all__ = [
    "COOLANT_LIMIT_TOLERANCE_K",
    "DUMPED_WHILE_BACKUP_TOLERANCE_FRACTION",
    "Commands",
    "Plant",
    "PlantTotals",
]

#: Proportional gain of the dry-cooler loop that holds the coolant supply temperature [W/K].
DUMP_GAIN_W_PER_K = 8000.0
#: In duty mode the dry cooler's guard holds the supply this far below the racks' inlet
#: limit [K] (the guard's control band, so its overshoot stays inside the limit).
DUMP_GUARD_BELOW_LIMIT_K = 0.5
#: The guard is a high-limit override: this many times the set-point loop's gain [-].
DUMP_GUARD_GAIN_FACTOR = 4.0
#: Integral time of that loop [s]: a PI controller (as dry-cooler fan controllers are), so
#: the supply settles at its set point rather than a load-dependent offset above it.
DUMP_INTEGRAL_TIME_S = 300.0
#: Longest internal integration step [s]: a tenth of the loop's time constant (about 330 s
#: for both shipped sites: loop heat capacity over the sum of HX, dump-trim and loss
#: conductances), so explicit Euler stays accurate and stable.
MAX_SUBSTEP_S = 30.0
#: A rack coolant temperature counts as past its limit only beyond this [K]: the
#: accuracy of a class A Pt100 at 40-60 degC (IEC 60751: +-(0.15 + 0.002 t) = 0.23-0.27 K).
COOLANT_LIMIT_TOLERANCE_K = 0.25
#: Heat dumped while a sink's backup fires counts only where the sink's exchanger had
#: more headroom than this share of its rating (valve resolution and meter accuracy,
#: EN 1434 class 2 heat meters: about 2-5 %) [-].
DUMPED_WHILE_BACKUP_TOLERANCE_FRACTION = 0.02


@dataclass
class Commands:
    """What the controller last wrote to the plant."""

    gpu_power_cap_w: dict[str, float]
    sink_heat_request_w: dict[str, float]
    dump_on: bool = True
    dump_heat_request_w: float = 0.0


@dataclass
class PlantTotals:
    """Cumulative figures since the plant started (energies in [kWh]).

    Attributes
    ----------
    it_kwh, facility_kwh : float
        IT and facility electricity (ISO/IEC 30134-2 boundary; heat-pump electricity is
        *not* in it, see ``heat_pump_electricity_kwh``).
    sink_kwh : dict
        Heat delivered into each sink, as its heat meter counts it (for a heat-pump sink
        the condenser heat: loop heat plus the heat pump's electricity).
    heat_kwh : dict
        Useful heat per sink: ``sink_kwh`` less ``overheating_kwh``.
    overheating_kwh : dict
        Heat delivered to a sink while it was above the top of its comfort band in force
        (never useful reuse).
    backup_kwh : dict
        Heat from each sink's own backup heater (legionella cycles and circulation
        losses included for hot water).
    dumped_kwh, loop_loss_kwh, uncaptured_kwh : float
        Heat rejected by the dry cooler, lost from the pipes, not captured by the liquid.
    heat_pump_electricity_kwh : float
        Electricity of the heat pumps that lift loop water for a sink (EnEfG §11 leaves
        electricity used only to upgrade waste heat out of the PUE: it is kept out of
        ``facility_kwh``; per sink in ``sink_heat_pump_electricity_kwh``).
    dumped_while_backup_kwh : float
        Heat dumped while some sink's backup heater fired and that sink's exchanger had
        headroom: per interval ``min(dump, backup, headroom)`` over the sinks (backup less
        what no loop heat can avoid, a hot-water circulation loss), counted where
        the headroom exceeds :data:`DUMPED_WHILE_BACKUP_TOLERANCE_FRACTION` of the sink's
        rating (headroom: what its exchanger could pass now, within the sink's demand cap,
        less what it passes).
    space_heating_above_limit_kwh : float
        Heat from the loop to space heating while the outdoor temperature was at or above
        the sink's heating limit.
    legionella_cycles_due, legionella_cycles_done : dict
        Per hot-water sink that needs one: local days whose cycle hour the run reached,
        and cycles completed (every node at the cycle temperature).
    rack_coolant_limit_violations : int
        Plant steps (calls of :meth:`Plant.step`) in which some group's coolant inlet or
        outlet exceeded its limit by more than :data:`COOLANT_LIMIT_TOLERANCE_K`.
    rack_limit_violations : int
        Sub-steps in which a group ran above its rack power limit.
    comfort_violation_kh, sink_comfort_violation_kh : float, dict
        Kelvin-hours outside the comfort band in force, in total and per sink.
    """

    it_kwh: float = 0.0
    facility_kwh: float = 0.0
    sink_kwh: dict[str, float] = field(default_factory=dict)
    heat_kwh: dict[str, float] = field(default_factory=dict)
    overheating_kwh: dict[str, float] = field(default_factory=dict)
    backup_kwh: dict[str, float] = field(default_factory=dict)
    dumped_kwh: float = 0.0
    loop_loss_kwh: float = 0.0
    uncaptured_kwh: float = 0.0
    heat_pump_electricity_kwh: float = 0.0
    sink_heat_pump_electricity_kwh: dict[str, float] = field(default_factory=dict)
    dumped_while_backup_kwh: float = 0.0
    space_heating_above_limit_kwh: float = 0.0
    legionella_cycles_due: dict[str, int] = field(default_factory=dict)
    legionella_cycles_done: dict[str, int] = field(default_factory=dict)
    group_it_kwh: dict[str, float] = field(default_factory=dict)
    deferred_late_kwh: float = 0.0
    comfort_violation_kh: float = 0.0
    sink_comfort_violation_kh: dict[str, float] = field(default_factory=dict)
    rack_limit_violations: int = 0
    rack_coolant_limit_violations: int = 0


@dataclass
class _Passage:
    """The loop water's passage through the exchangers in one sub-step."""

    extracted_w: float
    sink_w: dict[str, float]
    headroom_w: dict[str, float]
    heat_pump_w: dict[str, float]
    hot_in_c: dict[str, float]


@dataclass
class _Job:
    arrived_s: float
    remaining_kwh: float


class _GroupConstants:
    """One rack group's fixed numbers, looked up once instead of every sub-step (the
    same values the profile and the loop model give)."""

    __slots__ = ("capture_fraction", "coolant_rate_w_per_k", "deadline_s", "id", "idle_w",
                 "inlet_trip_c", "max_w", "outlet_trip_c", "ramp_w_per_s")

    def __init__(self, group: RackGroup, loop: HeatLoopModel) -> None:
        self.id = group.id
        self.idle_w = group.idle_power_w
        self.max_w = group.max_power_w
        self.ramp_w_per_s = group.ramp_w_per_s
        self.deadline_s = group.deadline_h * 3600.0
        self.capture_fraction = group.capture_fraction
        #: The group's share of the loop's capacity rate (as in ``group_outlet_temp_c``).
        self.coolant_rate_w_per_k = loop.capacity_rate_w_per_k * loop.flow_shares[group.id]
        self.inlet_trip_c = group.coolant_inlet_limit_c + COOLANT_LIMIT_TOLERANCE_K
        self.outlet_trip_c = group.coolant_outlet_limit_c + COOLANT_LIMIT_TOLERANCE_K


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
        #: Rack inlet (loop supply) temperature: the loop's one thermal mass [degC].
        self.loop_temp_c = loop.supply_temp_setpoint_c
        self.loop_capacity_j_per_k = self.loop.capacity_j_per_k
        self.loop_capacity_rate_w_per_k = self.loop.capacity_rate_w_per_k
        self.dump_w_per_k = self.loop.dump_w_per_k
        self.sink_temp_c: dict[str, float] = {}
        #: Node temperatures, top first, of every sink with more than one node (tanks).
        self.tank_nodes_c: dict[str, list[float]] = {}
        for sink_id, model in self.sink_models.items():
            nodes = model.initial_nodes_c()
            self.sink_temp_c[sink_id] = model.sensor_temp_c(nodes)
            if model.stratified:
                self.tank_nodes_c[sink_id] = nodes
        tz = profile.site.timezone
        self.workloads: dict[str, Workload] = {
            g.id: SyntheticWorkload(g, profile.simulation.seed + i, tz=tz)
            for i, g in enumerate(profile.rack_groups)
        }
        if workloads is not None:
            self.workloads.update(workloads)
        self.draw_shape: DrawShape = draw_shape or draw_shape_for(tz)
        self.queues: dict[str, deque[_Job]] = {g.id: deque() for g in profile.rack_groups}
        self._queued_kwh = {g.id: 0.0 for g in profile.rack_groups}
        self.commands = Commands(
            gpu_power_cap_w={g.id: g.max_power_w for g in profile.rack_groups},
            sink_heat_request_w={s.id: s.max_heat_w for s in profile.sinks},
        )
        ids = [s.id for s in profile.sinks]
        self._legionella = {
            sid: m for sid, m in self.sink_models.items()
            if isinstance(m, DhwModel) and m.sink.legionella is not None
        }
        self.totals = PlantTotals(
            sink_kwh=dict.fromkeys(ids, 0.0),
            heat_kwh=dict.fromkeys(ids, 0.0),
            overheating_kwh=dict.fromkeys(ids, 0.0),
            backup_kwh=dict.fromkeys(ids, 0.0),
            sink_heat_pump_electricity_kwh={
                sid: 0.0 for sid, ex in self.loop.exchangers.items() if ex.heat_pump is not None
            },
            legionella_cycles_due=dict.fromkeys(self._legionella, 0),
            legionella_cycles_done=dict.fromkeys(self._legionella, 0),
            sink_comfort_violation_kh=dict.fromkeys(ids, 0.0),
            group_it_kwh={g.id: 0.0 for g in profile.rack_groups},
        )
        #: Local day whose legionella cycle is under way or done, per sink.
        self._cycle_day: dict[str, int] = {}
        self._cycle_done_day: dict[str, int] = {}
        # Latest instantaneous values, for the devices to publish.
        self.group_power_w = {g.id: g.idle_power_w for g in profile.rack_groups}
        self.sink_heat_w = dict.fromkeys(ids, 0.0)
        self.backup_heat_w = dict.fromkeys(ids, 0.0)
        self.heat_pump_w = {sid: 0.0 for sid in self.totals.sink_heat_pump_electricity_kwh}
        self.dump_heat_w = 0.0
        self.dump_fan_w = 0.0
        self.pump_w = self.loop.pump_w
        self.facility_w = 0.0
        self.ambient = Weather(10.0, 0.7, 3.0)
        self.heat_path_fault = False
        #: Integral part of the dry-cooler loop's output [W] (reset while the dump is off).
        self._dump_integral_w = 0.0
        #: The racks' coolant inlet limit the dry cooler's guard holds [degC].
        self._inlet_limit_c = profile.coolant_inlet_limit_c
        self.initial_loop_energy_j = self.loop_energy_j()
        # Fixed per-group and per-sink numbers for the sub-step (performance only).
        self._groups = tuple(_GroupConstants(g, self.loop) for g in profile.rack_groups)
        self._group_by_id = {c.id: c for c in self._groups}
        self._exchangers = tuple(
            (sink_id, ex, self.sink_models[sink_id]) for sink_id, ex in self.loop.exchangers.items()
        )
        self._sinks = tuple((sink, self.sink_models[sink.id]) for sink in profile.sinks)
        self._series = self.loop.topology != "parallel"

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
        """Coolant back to the racks (rack inlet) [degC]."""
        return self.loop_temp_c

    def _captured_w(self) -> float:
        power = self.group_power_w
        return sum(power[c.id] * c.capture_fraction for c in self._groups)

    def return_temp_c(self) -> float:
        """Mixed coolant from the racks (rack outlet) [degC]."""
        return self.loop.return_temp_c(self.loop_temp_c, self._captured_w())

    def group_outlet_temp_c(self, group_id: str) -> float:
        """Coolant leaving one rack group [degC]."""
        c = self._group_by_id[group_id]
        return self.loop_temp_c + self.group_power_w[group_id] * c.capture_fraction / (
            c.coolant_rate_w_per_k)

    def balance_residual_kwh(self) -> float:
        """IT and heat-pump electricity minus where their heat went (should be ~0)."""
        t = self.totals
        stored_kwh = (self.loop_energy_j() - self.initial_loop_energy_j) / 3.6e6
        out = (
            sum(t.sink_kwh.values())
            + t.dumped_kwh
            + t.loop_loss_kwh
            + t.uncaptured_kwh
            + stored_kwh
        )
        return t.it_kwh + t.heat_pump_electricity_kwh - out

    # -- stepping ------------------------------------------------------------------
    def step(self, dt_s: float, weather: Weather) -> None:
        """Advance the plant by ``dt_s`` seconds of simulated time."""
        if dt_s <= 0:
            return
        n = max(1, math.ceil(dt_s / MAX_SUBSTEP_S))
        h = dt_s / n
        self.ambient = weather
        # Past the limits at the start or at the end of any sub-step (each sub-step's
        # start is the one before's end).
        breached = self._coolant_breached()
        for _ in range(n):
            self._substep(h, weather)
            breached = breached or self._coolant_breached()
        if breached:
            self.totals.rack_coolant_limit_violations += 1

    def _racks(self, dt_s: float) -> tuple[float, float]:
        """Run the racks for one sub-step: (IT power, captured heat) [W]."""
        t = self.totals
        now = self.time_s
        kwh_per_w = dt_s / 3.6e6
        caps = self.commands.gpu_power_cap_w
        workloads = self.workloads
        queues = self.queues
        queued = self._queued_kwh
        powers = self.group_power_w
        group_kwh = t.group_it_kwh
        captured_w = 0.0
        it_w = 0.0
        for g in self._groups:
            gid = g.id
            wl = workloads[gid]
            queue = queues[gid]
            arrived = wl.arrivals_kwh(now, dt_s)
            if arrived > 0:
                queue.append(_Job(now, arrived))
                queued[gid] += arrived
            # Idle plus the workload's must-run part, never above the rack limit.
            must_w = min(g.idle_w + wl.must_run_w(now), g.max_w)
            cap = caps.get(gid, g.max_w)
            headroom_w = max(0.0, min(cap, g.max_w) - must_w)
            want_w = max(0.0, queued[gid]) * 3.6e6 / dt_s
            defer_w = min(headroom_w, want_w)
            # Ramp limit on the deferrable part.
            prev = powers[gid]
            target = must_w + defer_w
            max_step = g.ramp_w_per_s * dt_s
            target = min(max(target, prev - max_step), prev + max_step)
            target = max(target, must_w)
            defer_w = max(0.0, min(target - must_w, want_w))
            power = must_w + defer_w
            if power > g.max_w + 1e-6:
                t.rack_limit_violations += 1
            t.deferred_late_kwh += self._consume(queue, defer_w * kwh_per_w, now - g.deadline_s)
            # Running total; exact again whenever the queue empties (no drift).
            queued[gid] = queued[gid] - defer_w * kwh_per_w if queue else 0.0
            powers[gid] = power
            it_w += power
            captured_w += power * g.capture_fraction
            group_kwh[gid] += power * kwh_per_w
        return it_w, captured_w

    def _coolant_breached(self) -> bool:
        """Whether some group's coolant inlet or outlet is past its limit now."""
        loop_temp = self.loop_temp_c
        powers = self.group_power_w
        for g in self._groups:
            if loop_temp > g.inlet_trip_c:
                return True
            outlet = loop_temp + powers[g.id] * g.capture_fraction / g.coolant_rate_w_per_k
            if outlet > g.outlet_trip_c:
                return True
        return False

    def _pass_exchangers(
        self, rack_outlet_c: float, nodes: dict[str, list[float]], env: SinkEnvironment
    ) -> _Passage:
        """The loop water through the sink exchangers in their order."""
        requests = self.commands.sink_heat_request_w
        fault = self.heat_path_fault
        c_loop = self.loop.capacity_rate_w_per_k
        series = self._series
        hot_in = rack_outlet_c
        extracted = 0.0
        sink_w: dict[str, float] = {}
        headroom: dict[str, float] = {}
        hp_w: dict[str, float] = {}
        hot_in_at: dict[str, float] = {}
        for sink_id, ex, model in self._exchangers:
            hot_in_at[sink_id] = hot_in
            sink_nodes = nodes[sink_id]
            request = max(0.0, requests.get(sink_id, 0.0))
            cap = min(model.sink.max_heat_w, model.demand_cap_w(sink_nodes, env))
            taken = 0.0
            if ex.heat_pump is not None:
                hp = ex.heat_pump
                evap_max = ex.max_duty_w(hot_in, hp.evaporating_temp_c)
                cop = ex.cop(model.supply_temp_c(sink_nodes, env), hot_in)
                possible = min(cap, hp.max_heat_w, evap_max * cop / (cop - 1.0))
                heat = 0.0 if fault else min(request, possible)
                electricity = heat / cop
                taken = heat - electricity
                hp_w[sink_id] = electricity
            else:
                t_sink = model.hx_inlet_temp_c(sink_nodes, env)
                possible = min(cap, ex.max_duty_w(hot_in, t_sink))
                heat = 0.0 if fault else min(request, possible)
                taken = heat
            sink_w[sink_id] = heat
            headroom[sink_id] = max(0.0, possible - heat)
            extracted += taken
            # The next exchanger's hot inlet: after this one in series, the rack outlet
            # again in parallel (HeatLoopModel.next_hot_in_c).
            hot_in = hot_in - taken / c_loop if series else rack_outlet_c
        return _Passage(extracted, sink_w, headroom, hp_w, hot_in_at)

    def _legionella_active(self, sink_id: str, now: float) -> bool:
        model = self._legionella.get(sink_id)
        if model is None:
            return False
        day = model.local_day(now)
        if not model.legionella_due(now):
            return False
        if self._cycle_day.get(sink_id) != day:
            self._cycle_day[sink_id] = day
            self.totals.legionella_cycles_due[sink_id] += 1
        return self._cycle_done_day.get(sink_id) != day

    def _substep(self, dt_s: float, weather: Weather) -> None:
        p = self.profile
        loop = p.heat_loop
        t = self.totals
        now = self.time_s
        kwh_per_w = dt_s / 3.6e6  # energy [kWh] of 1 W over this step
        commands = self.commands

        it_w, captured_w = self._racks(dt_s)
        uncaptured_w = it_w - captured_w

        # Rack outlet -> sink exchangers (their order) -> dry cooler -> rack inlet.
        loop_temp = self.loop_temp_c
        rack_outlet = self.loop.return_temp_c(loop_temp, captured_w)
        nodes: dict[str, list[float]] = {
            sid: self.tank_nodes_c.get(sid) or [self.sink_temp_c[sid]] for sid in self.sink_models
        }
        env = SinkEnvironment(now, weather.temp_c)
        passage = self._pass_exchangers(rack_outlet, nodes, env)
        dc_inlet = self.loop.dry_cooler_inlet_c(rack_outlet, passage.extracted_w)

        # Dry cooler (its local controller): with a duty requested it runs at that duty,
        # raised only to keep the racks' inlet below their limit; with none it holds the
        # supply temperature at its set point (PI).
        dump_w = 0.0
        fan_w = 0.0
        if commands.dump_on:
            capacity = self.loop.dump_capacity_w(dc_inlet, weather.temp_c)
            duty_mode = commands.dump_heat_request_w > 0.0
            # PI with anti-windup (the integral stays within what the cooler rejects): on
            # the supply set point, or in duty mode on the guard below the inlet limit.
            target_c = (self._inlet_limit_c - DUMP_GUARD_BELOW_LIMIT_K if duty_mode
                        else loop.supply_temp_setpoint_c)
            error_k = loop_temp - target_c
            gain = DUMP_GAIN_W_PER_K * (DUMP_GUARD_GAIN_FACTOR if duty_mode else 1.0)
            self._dump_integral_w = min(capacity, max(0.0, self._dump_integral_w + (
                gain * error_k * dt_s / DUMP_INTEGRAL_TIME_S)))
            wanted = gain * error_k + self._dump_integral_w
            if duty_mode:
                wanted = max(commands.dump_heat_request_w, wanted)
            dump_w = min(max(0.0, wanted), capacity)
            fan_w = self.loop.dump_fan_w(dump_w, capacity)
        else:
            self._dump_integral_w = 0.0
        loss_w = self.loop.loss_w(loop_temp)

        # Loop energy balance (explicit Euler on the rack inlet temperature).
        net_w = captured_w - passage.extracted_w - dump_w - loss_w
        self.loop_temp_c = loop_temp + net_w * dt_s / self.loop_capacity_j_per_k

        # Sinks: their own heat balance and backup heaters.
        wasted_w = 0.0
        sink_temps = self.sink_temp_c
        for sink, model in self._sinks:
            sid = sink.id
            heat_w = passage.sink_w[sid]
            env_s = SinkEnvironment(
                now, weather.temp_c, self._draw_m3_per_s(sid, now),
                self._legionella_active(sid, now), passage.hot_in_c[sid],
            )
            temp_before = sink_temps[sid]
            stepped = model.step(nodes[sid], heat_w, dt_s, env_s)
            if stepped.cycle_complete:
                self._cycle_done_day[sid] = self._legionella[sid].local_day(now)
                t.legionella_cycles_done[sid] += 1
            if model.stratified:
                self.tank_nodes_c[sid] = stepped.nodes_c
            temp = model.sensor_temp_c(stepped.nodes_c)
            sink_temps[sid] = temp
            backup_w = stepped.backup_w
            self.sink_heat_w[sid] = heat_w
            self.backup_heat_w[sid] = backup_w
            t.sink_kwh[sid] += heat_w * kwh_per_w
            if model.overheated(temp_before, now):
                t.overheating_kwh[sid] += heat_w * kwh_per_w
            else:
                t.heat_kwh[sid] += heat_w * kwh_per_w
            t.backup_kwh[sid] += backup_w * kwh_per_w
            if sink.kind == "space_heating" and weather.temp_c >= sink.heating_limit_temp_c:
                t.space_heating_above_limit_kwh += heat_w * kwh_per_w
            headroom = passage.headroom_w[sid]
            avoidable_w = max(0.0, backup_w - model.fixed_backup_w)
            if headroom > DUMPED_WHILE_BACKUP_TOLERANCE_FRACTION * sink.max_heat_w:
                wasted_w = max(wasted_w, min(dump_w, avoidable_w, headroom))
            outside_kh = model.comfort_violation_k(temp, now) * dt_s / 3600.0
            t.comfort_violation_kh += outside_kh
            t.sink_comfort_violation_kh[sid] += outside_kh
        t.dumped_while_backup_kwh += wasted_w * kwh_per_w
        for sink_id, electricity_w in passage.heat_pump_w.items():
            self.heat_pump_w[sink_id] = electricity_w
            t.sink_heat_pump_electricity_kwh[sink_id] += electricity_w * kwh_per_w
            t.heat_pump_electricity_kwh += electricity_w * kwh_per_w

        # Facility power inside the boundary (ISO/IEC 30134-2: all energy to the data
        # centre; heat-pump electricity is outside it, EnEfG §11).
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
