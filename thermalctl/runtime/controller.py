"""The controller: the runtime around the control core.

One tick = poll the device ports -> snapshot -> :class:`~thermalctl.control.core.ControlCore`
step (safety, latch, operator settings, policy, fallback) -> actuate -> record ->
observers. The rules live in the core, shared with the offline simulator; this
module only does I/O (ports, store) and keeps the core's memory and the operator
settings between ticks. It owns no schedule: :mod:`thermalctl.runtime.app` calls
:meth:`Controller.tick` (fast job) and :meth:`Controller.plan` (slow job).

A failing device, a bad reading or a failing policy never stops a tick: readings
turn bad, safety trips, the policy falls back, and an alarm says so. Operator
settings (mode, set points, GPU cap overrides) are kept in the local store and come
back after a restart, unless the profile's bounds no longer admit them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.modbus_client import ModbusHub, hubs_for
from thermalctl.adapters.ports import DevicePort, ReadingSource, SourcePort, modbus_ports
from thermalctl.adapters.store import LocalStore
from thermalctl.config.loader import Site
from thermalctl.control.core import SAFE_HOLD_S, ControlCore, CoreMemory
from thermalctl.control.policy import Policy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import (
    DUMP_HEAT_REQUEST_W,
    DUMP_ON,
    SafetyUse,
    rack_signal,
    sink_signal,
)
from thermalctl.models.signals import spec as signal_spec
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Reading
from thermalctl.runtime.ledger import CounterSum, EnergyLedger
from thermalctl.runtime.persisted import restored_settings, save_settings

__all__ = [
    "SAFE_HOLD_S",
    "Controller",
    "CounterSum",
    "Observer",
    "ReadingSource",
    "TickResult",
    "actuator_values",
]

log = logging.getLogger(__name__)

#: Re-write unchanged actuator values at least this often [s] (devices may reboot).
ACTUATOR_REFRESH_S = 300.0
#: A read-back further than this (plus 0.1 %) from what was written is re-written: one
#: count of the coarsest actuator register (1 W) with margin.
READBACK_TOLERANCE_W = 1.0
#: A device is polled when its period has elapsed within this share of a period, so a
#: 2 s device on a 2 s tick is read every tick despite scheduling jitter [-].
POLL_PERIOD_TOLERANCE = 0.05


_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process, after the first tick: collect, then move every object alive now
    (site model, hardware maps, policy, ports, clients: they live as long as the process)
    out of the cyclic garbage collector's reach (:func:`gc.freeze`, as the Python docs
    suggest for long-lived processes). Its full collections otherwise walk them all:
    about 35 ms at 48 racks, the tick's p99 (``tools/bench_tick.py``). Objects that die
    later are still freed by reference counting."""
    global _startup_frozen
    if _startup_frozen:
        return
    _startup_frozen = True
    gc.collect()
    gc.freeze()


class AuditSink(Protocol):
    """The audit trail as the controller sees it (:mod:`thermalctl.adapters.audit`)."""

    def record(self, event: str, **fields: object) -> None: ...


class Observer(Protocol):
    """Something that wants to see every tick (MQTT state, BMS registers, ...)."""

    def on_tick(self, result: TickResult) -> None: ...


@dataclass
class TickResult:
    now_s: float
    state: SiteState
    decision: Decision
    alarms: tuple[Alarm, ...]
    readings: int
    bad_readings: int


@dataclass
class _Written:
    value: float
    at_s: float


@dataclass
class _PortState:
    port: DevicePort
    last_poll_s: float = -math.inf
    #: When the port last gave a usable reading (its first poll, until it does).
    last_good_s: float | None = None
    last_reason: str = ""
    #: When every point of the port last read well, and the points bad since.
    last_whole_s: float | None = None
    bad_points: tuple[str, ...] = ()


@dataclass
class _Actuation:
    ports: dict[str, DevicePort] = field(default_factory=dict)  # signal -> port
    written: dict[str, _Written] = field(default_factory=dict)


def _safety_signal(name: str) -> bool:
    try:
        return signal_spec(name).safety is not SafetyUse.NONE
    except KeyError:
        return False


def actuator_values(decision: Decision) -> dict[str, float]:
    """The decision as actuator signal values (canonical units)."""
    values: dict[str, float] = {
        DUMP_ON: 1.0 if decision.dump_on else 0.0,
        DUMP_HEAT_REQUEST_W: decision.dump_heat_request_w,
    }
    for gid, cap in decision.gpu_power_cap_w.items():
        values[rack_signal(gid, "gpu_power_cap_w")] = cap
    for sid, req in decision.sink_heat_request_w.items():
        values[sink_signal(sid, "heat_request_w")] = req
    return values


class Controller:
    """Runs the control loop for one site."""

    def __init__(
        self,
        site: Site,
        store: LocalStore,
        policy: Policy,
        clock: Callable[[], float],
        *,
        hubs: dict[str, ModbusHub] | None = None,
        ports: Sequence[DevicePort] | None = None,
        restore_settings: bool = True,
    ) -> None:
        self.site = site
        self.profile = site.profile
        self.store = store
        self.clock = clock
        if ports is None:
            self.hubs = hubs if hubs is not None else hubs_for(site)
            ports = modbus_ports(self.profile.devices, site.maps, self.hubs)
        else:
            self.hubs = hubs or {}
        self._ports: list[_PortState] = []
        self._point_signal: dict[str, str] = {}
        self._act = _Actuation()
        for port in ports:
            self._add_port(port)
        self.state = SiteState(now_s=clock())
        self.core = ControlCore(self.profile, policy, frozenset(self._point_signal.values()))
        self.memory = CoreMemory()
        self.settings = OperatorSettings()
        if restore_settings:
            self.settings = restored_settings(self.store, self.profile)
        self.observers: list[Observer] = []
        #: Alarm sources polled every tick: the store's write failure (disk full, read
        #: only), and what the services add (telemetry outage, a second instance, ...).
        self.alarm_sources: list[Callable[[float], Sequence[Alarm]]] = [store.failure_alarms]
        #: Where operator changes and safety trips are recorded (see AuditSink).
        self.audit: AuditSink | None = None
        self.active_alarms: dict[str, Alarm] = {}
        #: Alarms the supervisor raises about the jobs themselves (shown with the rest).
        self.runtime_alarms: dict[str, Alarm] = {}
        self.last_decision: Decision | None = None
        self.ledger = EnergyLedger(self.profile)
        self.ticks = 0

    # -- wiring ----------------------------------------------------------------------------
    def _add_port(self, port: DevicePort) -> None:
        self._ports.append(_PortState(port))
        self._point_signal.update(port.point_signals)
        for signal in port.actuators:
            self._act.ports[signal] = port

    def add_port(self, port: DevicePort) -> None:
        """Poll ``port`` with the others; its points are bound to their signals."""
        self._add_port(port)
        self.core.bound_signals = frozenset(self._point_signal.values())

    def add_source(self, source: ReadingSource) -> None:
        """Poll a reading source (MQTT sensors) with the devices."""
        self.add_port(SourcePort(type(source).__name__, source))

    @property
    def bound_signals(self) -> frozenset[str]:
        return self.core.bound_signals

    @property
    def policy(self) -> Policy:
        return self.core.policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self.core.policy = policy

    # -- operator settings -----------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        """Mode in force: safe while a trip or fault is latched or an operator asked for it."""
        return self.memory.mode(self.settings)

    @property
    def requested_mode(self) -> Mode:
        return self.settings.mode

    @property
    def overrides(self) -> dict[str, float]:
        """Operators' GPU cap overrides per rack group [W] (a copy; change with set_gpu_cap)."""
        return dict(self.settings.gpu_cap_w)

    def set_mode(self, mode: Mode) -> None:
        """Operator's mode. An operator's SAFE stays until the operator changes it; a
        latched safety trip still wins over an operator's AUTO or MANUAL."""
        if mode is not self.settings.mode:
            self._act.written.clear()  # re-assert every actuator under the new mode
        self._change_settings(self.settings.with_mode(mode))
        log.info("mode requested: %s (now %s)", mode.value, self.mode.value)

    def set_sink_setpoint(self, sink_id: str, temp_c: float | None) -> None:
        """Operator's set point for a sink [degC] (None: back to the profile's)."""
        self.profile.sink(sink_id)  # unknown sink -> StopIteration is a bug upstream
        self._change_settings(self.settings.with_setpoint(sink_id, temp_c))
        log.info("set point of %s: %s degC", sink_id, temp_c)

    def set_gpu_cap(self, group_id: str, cap_w: float | None) -> None:
        """Operator's GPU cap override for a rack group [W] (None: removed)."""
        self._change_settings(self.settings.with_gpu_cap(group_id, cap_w))
        log.info("GPU cap override of %s: %s W", group_id, cap_w)

    def _change_settings(self, settings: OperatorSettings) -> None:
        self.settings = settings
        save_settings(self.store, settings)

    def audit_change(
        self,
        key: str,
        old: object,
        new: object,
        *,
        source: str,
        accepted: bool,
        reason: str = "",
    ) -> None:
        """Hand an operator change (accepted or refused) to the audit trail, if any."""
        if self.audit is not None:
            self.audit.record(
                "setting", key=key, old=old, new=new, source=source or "unknown",
                accepted=accepted, reason=reason, time_s=self.clock(),
            )

    def _audit_safety(self, event: str, reason: str, now: float) -> None:
        if self.audit is not None:
            self.audit.record(event, source="controller", reason=reason, time_s=now)

    def latch_safe(self, reason: str) -> None:
        """Enter safe mode for a trip or a runtime fault; released after SAFE_HOLD_S clear."""
        if not self.memory.latched:
            log.warning("entering safe mode: %s", reason)
            self._audit_safety("safety_trip", reason, self.clock())
            self._act.written.clear()
        self.memory = self.memory.latch(reason)

    # -- jobs ------------------------------------------------------------------------------
    async def poll(self, now: float) -> list[Reading]:
        """Read every port whose poll period has elapsed, concurrently (one task each)."""
        due = [
            p
            for p in self._ports
            if now - p.last_poll_s >= p.port.poll_period_s * (1.0 - POLL_PERIOD_TOLERANCE)
        ]
        results = await asyncio.gather(*(p.port.read(now) for p in due))
        for p, batch in zip(due, results, strict=True):
            p.last_poll_s = now
            bad = tuple(r.point for r in batch if not r.usable)
            if not bad or p.last_whole_s is None:
                p.last_whole_s = now
            p.bad_points = bad
            if bad:
                p.last_reason = next((r.reason for r in batch if r.reason), "no usable value")
            if any(r.usable for r in batch) or not batch:
                p.last_good_s = now
            else:
                if p.last_good_s is None:
                    p.last_good_s = now
                p.last_reason = next((r.reason for r in batch if r.reason), "no usable value")
        return [r for batch in results for r in batch]

    def device_alarms(self, now: float) -> list[Alarm]:
        """``device.<id>.silent`` for every port with no usable reading for longer than
        ``limits.stale_after_s``: critical when it carries a signal the interlocks read
        (e.g. a rack controller's coolant outlet, whose trip is then disabled); and
        ``device.<id>.degraded`` (warning) for a port that still answers but some of whose
        points have been bad for that long (garbage or out-of-range values)."""
        limit = self.profile.limits.stale_after_s
        out: list[Alarm] = []
        for p in self._ports:
            if p.last_good_s is None or now - p.last_good_s <= limit:
                if p.bad_points and p.last_whole_s is not None and now - p.last_whole_s > limit:
                    out.append(Alarm(  # some points bad (garbage, out of range), not all
                        f"device.{p.port.name}.degraded",
                        f"device {p.port.name}: {len(p.bad_points)} points bad for "
                        f"{now - p.last_whole_s:.0f} s ({p.last_reason[:120]}): "
                        f"{', '.join(p.bad_points[:4])}", AlarmSeverity.WARNING, now))
                continue
            signals = sorted(set(p.port.point_signals.values()))
            safety = [s for s in signals if _safety_signal(s)]
            lost = f"; safety signals lost: {', '.join(safety)}" if safety else ""
            out.append(Alarm(
                f"device.{p.port.name}.silent",
                f"device {p.port.name} has given no usable reading for "
                f"{now - p.last_good_s:.0f} s ({p.last_reason[:120]}){lost}",
                AlarmSeverity.CRITICAL if safety else AlarmSeverity.WARNING,
                now,
            ))
        return out

    async def observe(self) -> list[Reading]:
        """Poll once into the snapshot, without deciding (also the start of every tick;
        at start-up the first plan needs readings before the first decision).

        The snapshot's time is taken before polling, so a fresh reading is never "old" by
        the time the poll took (matters in accelerated time).
        """
        now = self.clock()
        readings = await self.poll(now)
        self.state.now_s = now
        self.state.update(
            (self._point_signal[r.point], r) for r in readings if r.point in self._point_signal
        )
        return readings

    async def tick(self) -> TickResult:
        """One fast cycle. Never raises for device or policy trouble."""
        readings = await self.observe()
        now = self.state.now_s
        was = self.mode
        step = self.core.step(self.state, self.settings, self.memory)
        if step.memory.latched and not self.memory.latched:
            log.warning("entering safe mode: %s", step.memory.latch_reason)
            self._audit_safety("safety_trip", step.memory.latch_reason, now)
        elif self.memory.latched and not step.memory.latched:
            log.info("safety trip cleared for %.0f s, leaving safe mode for %s", SAFE_HOLD_S,
                     self.settings.mode.value)
            self._audit_safety("safety_clear", self.memory.latch_reason, now)
        self.memory = step.memory
        decision = step.decision
        if decision.mode is not was:
            self._act.written.clear()  # re-assert every actuator under the new mode
        alarms = [*step.alarms, *self.runtime_alarms.values(), *self.device_alarms(now)]
        for source in self.alarm_sources:
            alarms.extend(source(now))
        if decision.mode is not Mode.MANUAL:
            alarms.extend(await self._actuate(decision, readings))
        changed = self._update_alarms(alarms, now)
        self.last_decision = decision
        result = TickResult(
            now,
            self.state,
            decision,
            tuple(self.active_alarms.values()),
            len(readings),
            sum(1 for r in readings if not r.usable),
        )
        # Operators see the tick (MQTT, BMS) before it is written: a store that cannot be
        # written must not freeze what they see.
        for obs in self.observers:
            obs.on_tick(result)
        if changed:
            self.store.add_alarms(changed)
        self._record(readings, decision, now)
        self.ticks += 1
        if self.ticks == 1:
            _freeze_startup_objects()
        return result

    def plan(self) -> None:
        """Slow job: let the policy re-plan from the latest snapshot (on this thread)."""
        self.plan_on(*self.plan_inputs())

    def plan_inputs(self) -> tuple[SiteState, OperatorSettings]:
        """A copy of the latest snapshot and the settings, for a re-plan in a thread.

        The snapshot keeps the time of the tick that took it, so values are judged
        fresh or stale as of that tick (the fast job's safety check watches the rest).
        """
        st = self.state
        snapshot = SiteState(
            now_s=st.now_s, readings=dict(st.readings), last_failure=dict(st.last_failure)
        )
        return snapshot, self.settings

    def plan_on(self, state: SiteState, settings: OperatorSettings) -> None:
        """Re-plan from ``state`` (safe to call from a worker thread)."""
        self.core.plan(state, settings)

    # -- internals -------------------------------------------------------------------------
    async def _actuate(self, decision: Decision, readings: Sequence[Reading]) -> list[Alarm]:
        """Write the decision's targets: what changed, what the device no longer holds
        (its read-back differs: rebooted, or changed by hand), and everything every
        ACTUATOR_REFRESH_S."""
        readback = {r.point: r.value for r in readings if r.usable}
        now = self.clock()
        alarms: list[Alarm] = []
        for signal, value in actuator_values(decision).items():
            port = self._act.ports.get(signal)
            if port is None or not math.isfinite(value):
                continue
            prev = self._act.written.get(signal)
            held = readback.get(port.actuators[signal])
            device_agrees = held is None or abs(held - value) <= READBACK_TOLERANCE_W + (
                1e-3 * abs(value)
            )
            if (
                prev is not None
                and abs(prev.value - value) < 1e-6
                and now - prev.at_s < ACTUATOR_REFRESH_S
                and device_agrees
            ):
                continue
            try:
                await port.write(signal, value)
            except AdapterError as exc:
                alarms.append(
                    Alarm(
                        f"actuator.{signal}",
                        f"write {signal} failed: {exc}",
                        AlarmSeverity.WARNING,
                        now,
                    )
                )
                continue
            self._act.written[signal] = _Written(value, now)
        return alarms

    def raise_alarm(self, alarm: Alarm) -> None:
        """Make ``alarm`` active and record it once (ticks keep it or clear it after)."""
        if alarm.code not in self.active_alarms:
            log.warning("alarm raised: %s: %s", alarm.code, alarm.message)
            self.active_alarms[alarm.code] = alarm
            self.store.add_alarms([alarm])

    def _update_alarms(self, alarms: Sequence[Alarm], now: float) -> list[Alarm]:
        """Raise new alarms, clear the gone ones; return the changes to record."""
        current = {a.code: a for a in alarms}
        changed: list[Alarm] = []
        for code, alarm in current.items():
            if code not in self.active_alarms:
                log.warning("alarm raised: %s: %s", code, alarm.message)
                changed.append(alarm)
                self.active_alarms[code] = alarm
        for code in list(self.active_alarms):
            if code not in current:
                old = self.active_alarms.pop(code)
                log.info("alarm cleared: %s", code)
                changed.append(Alarm(code, old.message, old.severity, now, active=False))
        return changed

    def _record(self, readings: list[Reading], decision: Decision, now: float) -> None:
        self.store.add_readings(readings, self._point_signal)
        self.store.add_decision(decision)
        self.store.add_ledger(now, self.ledger_values())

    def ledger_values(self) -> dict[str, float | None]:
        """The energy counters to record for this tick (see :class:`EnergyLedger`)."""
        return self.ledger.values(self.state, self.bound_signals)

    async def close(self) -> None:
        for p in self._ports:
            await p.port.close()
        for hub in self.hubs.values():
            await hub.close()
