"""The controller: one tick = poll -> state -> safety -> policy -> actuate -> record.

It owns no schedule of its own: :mod:`thermalctl.runtime.app` calls
:meth:`Controller.tick` (fast job) and :meth:`Controller.plan` (slow job) from
APScheduler. A failing device, a bad reading or a failing policy never stops a
tick: readings turn bad, safety trips, the policy falls back, and an alarm says so.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.modbus_client import ModbusHub, hubs_for
from thermalctl.adapters.store import LocalStore
from thermalctl.config.loader import Site
from thermalctl.config.site import DeviceBinding
from thermalctl.control import safety
from thermalctl.control.policy import Policy
from thermalctl.control.state import SiteState
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Reading

__all__ = ["Controller", "Observer", "ReadingSource", "TickResult"]

log = logging.getLogger(__name__)

#: After a safety trip clears, stay in safe mode this long before returning to auto [s].
SAFE_HOLD_S = 120.0
#: Re-write unchanged actuator values at least this often [s] (devices may reboot).
ACTUATOR_REFRESH_S = 300.0


class ReadingSource(Protocol):
    """A non-Modbus source of readings (e.g. MQTT sensors), polled with the devices."""

    @property
    def point_signals(self) -> dict[str, str]: ...

    def readings(self, now_s: float) -> list[Reading]: ...


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
class _Target:
    device: DeviceBinding
    register: str


@dataclass
class _Written:
    value: float
    at_s: float


@dataclass
class _Actuation:
    targets: dict[str, _Target] = field(default_factory=dict)
    written: dict[str, _Written] = field(default_factory=dict)


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
    ) -> None:
        self.site = site
        self.profile = site.profile
        self.store = store
        self.policy = policy
        self.clock = clock
        self.hubs = hubs if hubs is not None else hubs_for(site)
        self.state = SiteState(now_s=clock())
        self.mode = Mode.AUTO
        self.requested_mode = Mode.AUTO
        self.observers: list[Observer] = []
        self.active_alarms: dict[str, Alarm] = {}
        self.last_decision: Decision | None = None
        self.last_good_decision: Decision | None = None
        self._trip_cleared_at: float | None = None
        self._point_signal: dict[str, str] = {}
        self._act = _Actuation()
        for dev in self.profile.devices:
            for sig, reg in dev.signals.items():
                self._point_signal[f"{dev.id}.{reg}"] = sig
            for sig, reg in dev.actuators.items():
                self._act.targets[sig] = _Target(dev, reg)
        self.bound_signals = frozenset(self._point_signal.values())
        self.sources: list[ReadingSource] = []
        self.ticks = 0
        self.overrides: dict[str, float] = {}

    # -- commands from operators (MQTT / BMS) --------------------------------------------
    def set_mode(self, mode: Mode) -> None:
        """Operator's mode. Safety still wins: a trip forces safe mode whatever is asked."""
        self.requested_mode = mode
        if self.mode is not Mode.SAFE or mode is Mode.SAFE:
            self.mode = mode
        log.info("mode requested: %s (now %s)", mode.value, self.mode.value)

    # -- jobs ------------------------------------------------------------------------------
    async def poll(self, now: float) -> list[Reading]:
        """Read every device concurrently (one task per device; a slow one delays none)."""
        tasks = [
            self.hubs[dev.bus_key].read_device(dev, self.site.maps[dev.id], now)
            for dev in self.profile.devices
        ]
        results = await asyncio.gather(*tasks)
        out = [r for batch in results for r in batch]
        for source in self.sources:
            out.extend(source.readings(now))
        return out

    def add_source(self, source: ReadingSource) -> None:
        """Poll ``source`` with the devices; its points are bound to their signals."""
        self.sources.append(source)
        self._point_signal.update(source.point_signals)
        self.bound_signals = frozenset(self._point_signal.values())

    async def tick(self) -> TickResult:
        """One fast cycle. Never raises for device or policy trouble."""
        # The tick's time is taken before polling, so a fresh reading is never "old" by
        # the time the poll took (matters in accelerated time).
        now = self.clock()
        readings = await self.poll(now)
        self.state.now_s = now
        self.state.update(
            (self._point_signal[r.point], r) for r in readings if r.point in self._point_signal
        )
        verdict = safety.check(self.state, self.profile, self.bound_signals)
        alarms = list(verdict.alarms)
        decision = self._decide(verdict, alarms)
        if self.mode is not Mode.MANUAL or verdict.trip:
            alarms.extend(await self._actuate(decision))
        self._update_alarms(alarms, now)
        self.last_decision = decision
        self._record(readings, decision, now)
        result = TickResult(
            now,
            self.state,
            decision,
            tuple(self.active_alarms.values()),
            len(readings),
            sum(1 for r in readings if not r.usable),
        )
        for obs in self.observers:
            obs.on_tick(result)
        self.ticks += 1
        return result

    def plan(self) -> None:
        """Slow job: let the policy re-plan from the latest snapshot.

        The snapshot keeps the time of the tick that took it, so values are judged
        fresh or stale as of that tick (the fast job's safety check watches the rest).
        """
        self.policy.plan(self.state)

    # -- internals -------------------------------------------------------------------------
    def _decide(self, verdict: safety.SafetyVerdict, alarms: list[Alarm]) -> Decision:
        now = self.state.now_s
        if verdict.trip:
            if self.mode is not Mode.SAFE:
                log.warning("safety trip, entering safe mode: %s", "; ".join(verdict.reasons))
            self.mode = Mode.SAFE
            self._trip_cleared_at = None
            return safety.safe_decision(self.state, self.profile, verdict)
        if self.mode is Mode.SAFE:
            if self._trip_cleared_at is None:
                self._trip_cleared_at = now
            waited = now - self._trip_cleared_at
            if waited < SAFE_HOLD_S:
                held = safety.safe_decision(self.state, self.profile, verdict)
                why = f"trip cleared {waited:.0f} s ago; safe targets held for {SAFE_HOLD_S:.0f} s"
                return replace(held, reasons=(*held.reasons, why))
            log.info(
                "safety trip cleared for %.0f s, returning to %s",
                SAFE_HOLD_S,
                self.requested_mode.value,
            )
            self.mode = self.requested_mode if self.requested_mode is not Mode.SAFE else Mode.AUTO
        decision = self.policy.decide(self.state)
        decision = replace(decision, timestamp_s=now, mode=self.mode)
        if self.overrides:
            caps = dict(decision.gpu_power_cap_w)
            for gid, cap in self.overrides.items():
                if gid in caps:
                    caps[gid] = min(caps[gid], cap)
            decision = replace(decision, gpu_power_cap_w=caps)
        for reason in decision.reasons:
            alarms.append(Alarm(f"policy.{decision.policy}", reason, AlarmSeverity.WARNING, now))
        self.last_good_decision = decision
        return decision

    async def _actuate(self, decision: Decision) -> list[Alarm]:
        values: dict[str, float] = {
            "dump.on": 1.0 if decision.dump_on else 0.0,
            "dump.heat_request_w": decision.dump_heat_request_w,
        }
        for gid, cap in decision.gpu_power_cap_w.items():
            values[f"rack.{gid}.gpu_power_cap_w"] = cap
        for sid, req in decision.sink_heat_request_w.items():
            values[f"sink.{sid}.heat_request_w"] = req
        now = self.clock()
        alarms: list[Alarm] = []
        for signal, value in values.items():
            target = self._act.targets.get(signal)
            if target is None or not math.isfinite(value):
                continue
            prev = self._act.written.get(signal)
            if (
                prev is not None
                and abs(prev.value - value) < 1e-6
                and (now - prev.at_s < ACTUATOR_REFRESH_S)
            ):
                continue
            dev = target.device
            try:
                await self.hubs[dev.bus_key].write(
                    dev, self.site.maps[dev.id], target.register, value
                )
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

    def _update_alarms(self, alarms: Sequence[Alarm], now: float) -> None:
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
        if changed:
            self.store.add_alarms(changed)

    def _record(self, readings: list[Reading], decision: Decision, now: float) -> None:
        self.store.add_readings(readings, self._point_signal)
        self.store.add_decision(decision)
        self.store.add_ledger(now, self.ledger_values())

    def ledger_values(self) -> dict[str, float | None]:
        stale = math.inf  # counters: the last good value is the right one to record
        st = self.state

        def total(signals: list[str]) -> float | None:
            vals = [st.value(s, stale) for s in signals]
            if not signals or any(v is None for v in vals):
                return None
            return float(sum(v for v in vals if v is not None))

        sinks = [s.id for s in self.profile.sinks]
        return {
            "facility_kwh": total(["facility.energy_kwh"]),
            "it_kwh": total(["it.energy_kwh"]),
            "reused_heat_kwh": total([f"sink.{s}.energy_kwh" for s in sinks]),
            "dumped_heat_kwh": total(["dump.energy_kwh"])
            if "dump.energy_kwh" in self.bound_signals
            else None,
            "backup_heat_kwh": total(
                [
                    f"sink.{s}.backup_energy_kwh"
                    for s in sinks
                    if f"sink.{s}.backup_energy_kwh" in self.bound_signals
                ]
            ),
        }

    async def close(self) -> None:
        for hub in self.hubs.values():
            await hub.close()
