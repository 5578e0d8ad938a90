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
#: A read-back further than this (plus 0.1 %) from what was written is re-written: one
#: count of the coarsest actuator register (1 W) with margin.
READBACK_TOLERANCE_W = 1.0


class ReadingSource(Protocol):
    """A non-Modbus source of readings (e.g. MQTT sensors), polled with the devices."""

    @property
    def point_signals(self) -> dict[str, str]: ...

    def readings(self, now_s: float) -> list[Reading]: ...


class CounterSum:
    """A sum of several meters' cumulative counters that one meter's reset cannot break.

    When one meter drops (replaced, or reset) and the next reading confirms the drop,
    the sum goes on from where it was, as if the new meter had started at zero; a
    single low sample that the next reading contradicts is ignored (a gateway answering
    0 while it reboots). The sum is None while any meter is missing or a drop is
    unconfirmed.
    """

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.offset: dict[str, float] = {}
        self.suspect: dict[str, float] = {}

    def update(self, values: Sequence[tuple[str, float | None]]) -> float | None:
        if not values or any(v is None for _, v in values):
            return None
        total = 0.0
        unconfirmed = False
        for signal, value in values:
            assert value is not None
            last = self.last.get(signal)
            if last is not None and value < last:
                if signal not in self.suspect:
                    self.suspect[signal] = value
                    unconfirmed = True
                    continue
                # the drop held for two readings: a new meter (or a reset) from zero
                self.offset[signal] = self.offset.get(signal, 0.0) + last
            self.suspect.pop(signal, None)
            self.last[signal] = value
            total += value + self.offset.get(signal, 0.0)
        return None if unconfirmed else total


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
        self.requested_mode = Mode.AUTO
        # Safe mode entered by a trip or a runtime fault (not by an operator): released
        # automatically once the cause has been gone for SAFE_HOLD_S.
        self._safety_latched = False
        self._trip_cleared_at: float | None = None
        self._policy_failing = False  # safe targets each tick until the policy works again
        self.observers: list[Observer] = []
        self.active_alarms: dict[str, Alarm] = {}
        #: Alarms the supervisor raises about the jobs themselves (shown with the rest).
        self.runtime_alarms: dict[str, Alarm] = {}
        self.last_decision: Decision | None = None
        self._point_signal: dict[str, str] = {}
        self._act = _Actuation()
        for dev in self.profile.devices:
            for sig, reg in dev.signals.items():
                self._point_signal[f"{dev.id}.{reg}"] = sig
            for sig, reg in dev.actuators.items():
                self._act.targets[sig] = _Target(dev, reg)
        self.bound_signals = frozenset(self._point_signal.values())
        self.sources: list[ReadingSource] = []
        self._sums = {"reused": CounterSum(), "backup": CounterSum()}
        self.ticks = 0
        self.overrides: dict[str, float] = {}

    # -- commands from operators (MQTT / BMS) --------------------------------------------
    @property
    def mode(self) -> Mode:
        """Mode in force: safe while a trip or fault is latched or an operator asked for it."""
        if self._safety_latched or self._policy_failing or self.requested_mode is Mode.SAFE:
            return Mode.SAFE
        return self.requested_mode

    def set_mode(self, mode: Mode) -> None:
        """Operator's mode. An operator's SAFE stays until the operator changes it; a
        latched safety trip still wins over an operator's AUTO or MANUAL."""
        if mode is not self.requested_mode:
            self._act.written.clear()  # re-assert every actuator under the new mode
        self.requested_mode = mode
        log.info("mode requested: %s (now %s)", mode.value, self.mode.value)

    def latch_safe(self, reason: str) -> None:
        """Enter safe mode for a trip or a runtime fault; released after SAFE_HOLD_S clear."""
        if not self._safety_latched:
            log.warning("entering safe mode: %s", reason)
            self._act.written.clear()
        self._safety_latched = True
        self._trip_cleared_at = None

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
        verdict = safety.check(self.state, self.profile, self.bound_signals)
        alarms = [*verdict.alarms, *self.runtime_alarms.values()]
        decision = self._decide(verdict, alarms)
        if self.mode is not Mode.MANUAL:
            alarms.extend(await self._actuate(decision, readings))
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
            self.latch_safe("; ".join(verdict.reasons))
            return self._limit(safety.safe_decision(self.state, self.profile, verdict))
        if self._safety_latched:
            if self._trip_cleared_at is None:
                self._trip_cleared_at = now
            waited = now - self._trip_cleared_at
            if waited < SAFE_HOLD_S:
                held = safety.safe_decision(self.state, self.profile, verdict)
                why = f"trip cleared {waited:.0f} s ago; safe targets held for {SAFE_HOLD_S:.0f} s"
                return self._limit(replace(held, reasons=(*held.reasons, why)))
            log.info("safety trip cleared for %.0f s, leaving safe mode for %s", SAFE_HOLD_S,
                     self.requested_mode.value)
            self._safety_latched = False
            self._trip_cleared_at = None
            self._act.written.clear()
        if self.requested_mode is Mode.SAFE:
            held = safety.safe_decision(self.state, self.profile, verdict)
            return self._limit(replace(held, reasons=("safe mode set by an operator",)))
        try:
            decision = self.policy.decide(self.state)
        except Exception as exc:  # a policy bug must not stop the tick (STYLE.md rule 6)
            log.exception("policy %s failed; safe targets this tick", self.policy.name)
            message = f"policy {self.policy.name} failed: {exc!r}"
            alarms.append(Alarm("policy.failed", message, AlarmSeverity.CRITICAL, now))
            self._policy_failing = True
            held = safety.safe_decision(self.state, self.profile, verdict)
            return self._limit(replace(held, reasons=(message,)))
        self._policy_failing = False
        decision = replace(decision, timestamp_s=now, mode=self.mode)
        for reason in decision.reasons:
            alarms.append(Alarm(f"policy.{decision.policy}", reason, AlarmSeverity.WARNING, now))
        return self._limit(decision)

    def _limit(self, decision: Decision) -> Decision:
        """Apply operators' GPU cap overrides in every mode (they only ever lower a cap)."""
        if not self.overrides:
            return decision
        caps = dict(decision.gpu_power_cap_w)
        for gid, cap in self.overrides.items():
            if gid in caps:
                caps[gid] = min(caps[gid], cap)
        return replace(decision, gpu_power_cap_w=caps)

    async def _actuate(self, decision: Decision, readings: Sequence[Reading]) -> list[Alarm]:
        """Write the decision's targets: what changed, what the device no longer holds
        (its read-back differs: rebooted, or changed by hand), and everything every
        ACTUATOR_REFRESH_S."""
        readback = {r.point: r.value for r in readings if r.usable}
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
            dev = target.device
            prev = self._act.written.get(signal)
            held = readback.get(f"{dev.id}.{target.register}")
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

    def raise_alarm(self, alarm: Alarm) -> None:
        """Make ``alarm`` active and record it once (ticks keep it or clear it after)."""
        if alarm.code not in self.active_alarms:
            log.warning("alarm raised: %s: %s", alarm.code, alarm.message)
            self.active_alarms[alarm.code] = alarm
            self.store.add_alarms([alarm])

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
        """The energy counters to record for this tick (None where a meter is not fresh).

        A counter older than ``limits.stale_after_s`` is recorded as missing, so a dead
        meter shows as a gap (and lowers the completeness) instead of a flat line
        followed by a jump. Sums over several meters go through :class:`CounterSum`.
        """
        fresh = self.profile.limits.stale_after_s
        st = self.state
        sinks = [s.id for s in self.profile.sinks]
        backup = [f"sink.{s}.backup_energy_kwh" for s in sinks]
        return {
            "facility_kwh": st.value("facility.energy_kwh", fresh),
            "it_kwh": st.value("it.energy_kwh", fresh),
            "reused_heat_kwh": self._sums["reused"].update(
                [(f"sink.{s}.energy_kwh", st.value(f"sink.{s}.energy_kwh", fresh)) for s in sinks]
            ),
            "dumped_heat_kwh": st.value("dump.energy_kwh", fresh),
            "backup_heat_kwh": self._sums["backup"].update(
                [(sig, st.value(sig, fresh)) for sig in backup if sig in self.bound_signals]
            ),
        }

    async def close(self) -> None:
        for hub in self.hubs.values():
            await hub.close()
