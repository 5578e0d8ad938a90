"""Safety interlocks: always checked first, always win.

Trips (-> safe mode):

* coolant supply or return above its trip limit, or a rack's coolant outlet above
  the return trip limit;
* a critical reading (coolant supply / return temperature) stale, bad or
  outside its plausible range;
* loss of the heat path (the loop controller reports a fault).

A supply temperature above the alarm limit but below the trip raises a warning.

In safe mode deferrable GPU power is capped to what the dry cooler can reject
at the trip temperature, the dump is opened fully, and heat still goes to sinks
whose path is intact.
"""

from __future__ import annotations

from dataclasses import dataclass

from thermalctl.config.site import CRITICAL_SIGNALS, SiteProfile
from thermalctl.control.state import SiteState
from thermalctl.models.loop import HeatLoopModel
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality

__all__ = ["CRITICAL_SIGNALS", "SafetyVerdict", "check", "dump_capacity_w", "safe_decision"]

#: Ambient assumed for the dump's capacity when the outdoor sensor is unusable [degC]
#: (a hot summer afternoon: the conservative side).
WORST_CASE_AMBIENT_C = 35.0


@dataclass(frozen=True)
class SafetyVerdict:
    trip: bool
    alarms: tuple[Alarm, ...]

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
            continue
        value = state.readings[sig].value
        if not lo <= value <= hi:
            crit(f"{sig}.implausible", f"{sig} = {value:.1f} outside plausible {lo}..{hi} degC")

    supply = state.value("loop.supply_temp_c", lim.stale_after_s)
    if supply is not None and lo <= supply <= hi:
        if supply > lim.coolant_supply_trip_c:
            crit(
                "coolant.supply_trip",
                f"coolant supply {supply:.1f} degC above trip {lim.coolant_supply_trip_c} degC",
            )
        elif supply > lim.coolant_supply_alarm_c:
            alarms.append(
                Alarm(
                    "coolant.supply_high",
                    f"coolant supply {supply:.1f} degC above "
                    f"alarm {lim.coolant_supply_alarm_c} degC",
                    AlarmSeverity.WARNING,
                    now,
                )
            )
    ret = state.value("loop.return_temp_c", lim.stale_after_s)
    if ret is not None and lo <= ret <= hi and ret > lim.coolant_return_trip_c:
        crit(
            "coolant.return_trip",
            f"coolant return {ret:.1f} degC above trip {lim.coolant_return_trip_c} degC",
        )
    for g in profile.rack_groups:
        out = state.value(f"rack.{g.id}.coolant_out_temp_c", lim.stale_after_s)
        if out is not None and out > lim.coolant_return_trip_c:
            crit(
                f"rack.{g.id}.outlet_trip",
                f"rack group {g.id} coolant outlet {out:.1f} degC "
                f"above {lim.coolant_return_trip_c} degC",
            )
    if state.value("loop.heat_path_fault", lim.stale_after_s):
        crit("heat_path.lost", "loop controller reports the heat-exchanger path lost")
    trip = any(a.severity is AlarmSeverity.CRITICAL for a in alarms)
    return SafetyVerdict(trip, tuple(alarms))


def dump_capacity_w(profile: SiteProfile, ambient_c: float | None) -> float:
    """Heat the dry cooler can reject with the loop at its supply trip temperature [W]
    (the site's :class:`~thermalctl.models.loop.HeatLoopModel`, air side included)."""
    amb = WORST_CASE_AMBIENT_C if ambient_c is None else ambient_c
    loop = HeatLoopModel.from_profile(profile)
    return loop.dump_capacity_w(profile.limits.coolant_supply_trip_c, amb)


def safe_decision(state: SiteState, profile: SiteProfile, verdict: SafetyVerdict) -> Decision:
    """Targets that keep the racks inside their envelope with only the dump to rely on."""
    ambient = state.value("ambient.temp_c", profile.limits.stale_after_s)
    capacity = dump_capacity_w(profile, ambient)
    total_max = profile.max_it_power_w
    caps: dict[str, float] = {}
    for g in profile.rack_groups:
        share = capacity * g.max_power_w / total_max
        allowed_it = share / g.capture_fraction if g.capture_fraction > 0 else g.max_power_w
        caps[g.id] = min(g.max_power_w, max(g.min_cap_w, g.idle_power_w, allowed_it))
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
