"""Safety interlocks: always checked first, always win.

Trips (-> safe mode):

* thermal: coolant supply above its trip limit or above the lowest inlet limit the
  racks accept (``RackGroup.coolant_inlet_limit_c``, plus a sensor's tolerance), the
  return above its trip limit, a rack group's coolant outlet above its outlet limit
  (``coolant_outlet_limit_c``) or the return trip, or a safety reading that the device reports above
  its register's range or the plausible range (it may be real: treated as hot);
* a safety reading stale, bad, never read, or below its plausible range;
* loss of the heat path (the loop controller reports a fault).

A value the device reports outside its register's range trips at once (it is not
taken for a lost poll that only turns stale after ``limits.stale_after_s``).
A supply temperature above the alarm limit (or the racks' inlet limit, if lower)
but below the trip raises a warning.

In safe mode the dump is opened fully and heat still goes to sinks whose path is
intact. GPU caps:

* after a **thermal** trip, each group is capped to its share of what the dry cooler
  can reject at the trip temperature (never below its idle power or lowest cap):
  this may cut must-run work, because the racks' envelope comes first;
* after any other trip (stale or lost readings, heat path lost, an operator's safe
  mode, a failing policy) only **deferrable** work is capped that way; must-run
  (inference) load keeps running: the cap never goes below the group's last known
  must-run power, or the profile's estimate of it when it was never read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from thermalctl.config.site import CRITICAL_SIGNALS, RackGroup, SiteProfile
from thermalctl.control.state import SiteState
from thermalctl.models.loop import HeatLoopModel
from thermalctl.models.signals import (
    AMBIENT_TEMP_C,
    LOOP_RETURN_TEMP_C,
    LOOP_SUPPLY_TEMP_C,
    rack_signal,
)
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality

__all__ = [
    "CRITICAL_SIGNALS",
    "SafetyVerdict",
    "check",
    "dump_capacity_w",
    "must_run_estimate_w",
    "safe_decision",
]

#: Ambient assumed for the dump's capacity when the outdoor sensor is unusable [degC]
#: (a hot summer afternoon: the conservative side).
WORST_CASE_AMBIENT_C = 35.0
#: How a reading's reason starts when the device reported a value outside its register's
#: range (:mod:`thermalctl.adapters.modbus_client` and the MQTT ingestion).
OUT_OF_RANGE = "out of range"
#: A temperature this far past a rack limit trips [K]: the tolerance of a class A Pt100
#: at 50 degC (IEC 60751: 0.15 K + 0.002 |t|), so a sensor within its class never trips.
SENSOR_TOLERANCE_K = 0.25


#: Alarm codes (or code suffixes) of the trips that mean the loop is, or may be, too hot.
THERMAL_TRIP_CODES = ("coolant.supply_trip", "coolant.return_trip")
THERMAL_TRIP_SUFFIXES = (".outlet_trip", ".implausible_high")


@dataclass(frozen=True)
class SafetyVerdict:
    trip: bool
    alarms: tuple[Alarm, ...]

    @property
    def thermal(self) -> bool:
        """A thermal trip: the loop is or may be too hot (must-run load may be cut)."""
        return any(
            a.code in THERMAL_TRIP_CODES or a.code.endswith(THERMAL_TRIP_SUFFIXES)
            for a in self.alarms
        )

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(a.message for a in self.alarms if a.severity is AlarmSeverity.CRITICAL)


def check(state: SiteState, profile: SiteProfile, bound: frozenset[str]) -> SafetyVerdict:
    """Check every interlock. ``bound`` is the set of signals the site measures."""
    lim = profile.limits
    now = state.now_s
    alarms: list[Alarm] = []

    def crit(code: str, msg: str) -> None:
        alarms.append(Alarm(code, msg, AlarmSeverity.CRITICAL, now))

    lo, hi = lim.plausible_temp_c
    for sig in CRITICAL_SIGNALS:
        if sig not in bound:  # the schema requires them; a hand-built profile may not
            crit(f"{sig}.unbound", f"{sig} is not measured: the interlocks cannot work")
            continue
        if _implausible(state, sig, lo, hi, crit):
            continue
        q = state.quality(sig, lim.stale_after_s)
        if q is not Quality.GOOD:
            failure = state.last_failure.get(sig)
            if failure is not None and failure.reason:
                why = failure.reason
            elif sig in state.readings:
                why = f"last good value {state.age_s(sig):.0f} s old"
            else:
                why = "never read"
            crit(f"{sig}.{q.value}", f"{sig} is {q.value} ({why})")
    for g in profile.rack_groups:
        outlet = rack_signal(g.id, "coolant_out_temp_c")
        if outlet in bound:
            _implausible(state, outlet, lo, hi, crit)

    supply = state.value(LOOP_SUPPLY_TEMP_C, lim.stale_after_s)
    # The racks' own coolant limits bound the loop as much as the site's trips do: supply
    # above the lowest inlet limit the racks accept (plus a class A Pt100's 0.25 K)
    # trips, whichever of the two is lower; the alarm warns before either.
    inlet_limit = profile.coolant_inlet_limit_c
    supply_trip = min(lim.coolant_supply_trip_c, inlet_limit + SENSOR_TOLERANCE_K)
    supply_alarm = min(lim.coolant_supply_alarm_c, inlet_limit)
    if supply is not None and lo <= supply <= hi:
        if supply > supply_trip:
            which = ("trip" if supply_trip == lim.coolant_supply_trip_c
                     else "the racks' inlet limit")
            crit(
                "coolant.supply_trip",
                f"coolant supply {supply:.1f} degC above {which} {supply_trip:g} degC",
            )
        elif supply > supply_alarm:
            alarms.append(
                Alarm(
                    "coolant.supply_high",
                    f"coolant supply {supply:.1f} degC above alarm {supply_alarm:g} degC",
                    AlarmSeverity.WARNING,
                    now,
                )
            )
    ret = state.value(LOOP_RETURN_TEMP_C, lim.stale_after_s)
    if ret is not None and lo <= ret <= hi and ret > lim.coolant_return_trip_c:
        crit(
            "coolant.return_trip",
            f"coolant return {ret:.1f} degC above trip {lim.coolant_return_trip_c} degC",
        )
    for g in profile.rack_groups:
        out = state.value(rack_signal(g.id, "coolant_out_temp_c"), lim.stale_after_s)
        limit = min(lim.coolant_return_trip_c, g.coolant_outlet_limit_c + SENSOR_TOLERANCE_K)
        if out is not None and lo <= out <= hi and out > limit:
            crit(
                f"rack.{g.id}.outlet_trip",
                f"rack group {g.id} coolant outlet {out:.1f} degC above {limit:g} degC "
                f"(its outlet limit {g.coolant_outlet_limit_c:g} degC)",
            )
    if state.value("loop.heat_path_fault", lim.stale_after_s):
        crit("heat_path.lost", "loop controller reports the heat-exchanger path lost")
    trip = any(a.severity is AlarmSeverity.CRITICAL for a in alarms)
    return SafetyVerdict(trip, tuple(alarms))


def _implausible(
    state: SiteState, sig: str, lo: float, hi: float, crit: Callable[[str, str], None]
) -> bool:
    """Trip at once on a value outside the plausible range, or one the device reported
    outside its register's range (newer than the last good value). True if tripped."""
    reading = state.readings.get(sig)
    failure = state.last_failure.get(sig)
    newest_bad = failure is not None and (
        reading is None or failure.timestamp_s >= reading.timestamp_s
    )
    if newest_bad and failure is not None and failure.reason.startswith(OUT_OF_RANGE):
        high = not math.isfinite(failure.value) or failure.value > hi
        crit(
            f"{sig}.implausible_{'high' if high else 'low'}",
            f"{sig}: {failure.reason} (taken as {'too hot' if high else 'a sensor fault'})",
        )
        return True
    if reading is None or not reading.usable or newest_bad:
        return False
    if reading.value > hi:
        crit(f"{sig}.implausible_high",
             f"{sig} = {reading.value:.1f} above plausible {lo:g}..{hi:g} degC")
        return True
    if reading.value < lo:
        crit(f"{sig}.implausible_low",
             f"{sig} = {reading.value:.1f} below plausible {lo:g}..{hi:g} degC")
        return True
    return False


def must_run_estimate_w(group: RackGroup) -> float:
    """The profile's estimate of a group's must-run power [W], idle included: idle plus
    the must-run share of the mean utilised power (used until a measurement exists)."""
    utilised_w = group.mean_utilisation_fraction * (group.max_power_w - group.idle_power_w)
    return group.idle_power_w + group.must_run_fraction * utilised_w


def dump_capacity_w(profile: SiteProfile, ambient_c: float | None) -> float:
    """Heat the dry cooler can reject with the loop at its supply trip temperature [W]
    (the site's :class:`~thermalctl.models.loop.HeatLoopModel`, air side included)."""
    amb = WORST_CASE_AMBIENT_C if ambient_c is None else ambient_c
    loop = HeatLoopModel.from_profile(profile)
    return loop.dump_capacity_w(profile.limits.coolant_supply_trip_c, amb)


def safe_decision(state: SiteState, profile: SiteProfile, verdict: SafetyVerdict) -> Decision:
    """Targets that keep the racks inside their envelope with only the dump to rely on
    (see the module docstring for which trips may cut must-run load)."""
    ambient = state.value(AMBIENT_TEMP_C, profile.limits.stale_after_s)
    capacity = dump_capacity_w(profile, ambient)
    total_max = profile.max_it_power_w
    thermal = verdict.thermal
    caps: dict[str, float] = {}
    for g in profile.rack_groups:
        share = capacity * g.max_power_w / total_max
        allowed_it = share / g.capture_fraction if g.capture_fraction > 0 else g.max_power_w
        cap = max(g.min_cap_w, g.idle_power_w, allowed_it)
        if not thermal:
            measured = state.value(rack_signal(g.id, "must_run_w"))  # last known, any age
            must = measured if measured is not None else must_run_estimate_w(g)
            cap = max(cap, must)
        caps[g.id] = min(g.max_power_w, cap)
    path_lost = any(a.code == "heat_path.lost" for a in verdict.alarms)
    requests = {s.id: (0.0 if path_lost else s.max_heat_w) for s in profile.sinks}
    return Decision(
        timestamp_s=state.now_s,
        mode=Mode.SAFE,
        policy="safety",
        gpu_power_cap_w=caps,
        sink_heat_request_w=requests,
        dump_on=True,
        dump_heat_request_w=capacity,
        reasons=verdict.reasons,
    )
