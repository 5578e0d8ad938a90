"""Policy interface and the ``thermostat`` policy: what sites do today.

Operator settings (:class:`~thermalctl.control.settings.OperatorSettings`) are an
input of every call: a policy never keeps a copy of them nor a patched profile, so a
set point an operator changes reaches the thermostat, the forecaster and the
planner on the next call.

The thermostat, as a competent site runs it (issue 9, "a fair contest"):

* **GPU work runs when queued**: every rack group's cap is its power limit;
* **a sink's valve opens below its set point** and closes at it (no band, no
  charging): full heat request while the sink is colder than the set point in force;
  a space-heating loop is switched off above its heating limit (summer switch-off,
  which every weather-compensated heating controller has);
* **the dry cooler holds the rack supply temperature**, and stays off while any sink
  calls for heat, unless the loop reaches its ceiling (:func:`loop_ceiling_c`): a
  dry cooler that holds the design supply temperature while the boiler fires throws
  away heat the sink is asking for, which no commissioning engineer would sign off
  (issue 9 measured 94 % of the pool's dumped heat thrown away that way). The
  thermostat in that form would break the contest's "no heat dumped while a backup
  fires and that sink's exchanger has headroom" invariant by design; this one keeps it.
"""

from __future__ import annotations

import math
from typing import Protocol

from thermalctl.config.site import SiteProfile
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import AMBIENT_TEMP_C, LOOP_SUPPLY_TEMP_C
from thermalctl.points import Decision, Mode

__all__ = [
    "DUMP_HYSTERESIS_K",
    "BaselinePolicy",
    "Policy",
    "ThermostatPolicy",
    "heating_allowed",
    "loop_ceiling_c",
]

#: Once the loop reached its ceiling, the dry cooler stays enabled until the supply is
#: this much cooler [K] (a 2 K switching differential, as on a boiler thermostat).
DUMP_HYSTERESIS_K = 2.0
#: Without rack coolant limits in the profile, the ceiling is this far below the supply
#: alarm [K], so that holding the ceiling never raises the alarm.
CEILING_BELOW_ALARM_K = 1.0


class Policy(Protocol):
    """A policy plans on the slow job and decides on the fast job."""

    name: str

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        """Re-plan from the latest state (slow job). May do nothing."""

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        """Targets for the next fast interval."""
        ...


def loop_ceiling_c(profile: SiteProfile) -> float:
    """Highest coolant supply (rack inlet) temperature a rule-based policy lets the loop
    reach before it enables the dry cooler [degC].

    The lowest of the rack groups' coolant inlet limits, and of their outlet limits less
    the coolant's rise at full power, where the profile states them
    (``rack_groups[].max_inlet_temp_c`` / ``max_outlet_temp_c``); otherwise
    :data:`CEILING_BELOW_ALARM_K` below ``limits.coolant_supply_alarm_c``.
    """
    from thermalctl.models.loop import HeatLoopModel

    alarm = profile.limits.coolant_supply_alarm_c - CEILING_BELOW_ALARM_K
    ceilings = [alarm]
    rate = HeatLoopModel.from_profile(profile).capacity_rate_w_per_k
    captured_full_w = sum(g.capture_fraction * g.max_power_w for g in profile.rack_groups)
    for g in profile.rack_groups:
        inlet = getattr(g, "max_inlet_temp_c", None)
        outlet = getattr(g, "max_outlet_temp_c", None)
        if inlet is not None:
            ceilings.append(float(inlet))
        if outlet is not None:
            ceilings.append(float(outlet) - captured_full_w / rate)
    return min(ceilings)


def heating_allowed(sink: object, outdoor_c: float | None) -> bool:
    """Whether a sink may take heat at this outdoor temperature: False only for a sink
    with a heating limit (space heating) when it is at least that warm outside."""
    limit = getattr(sink, "heating_limit_temp_c", None)
    return limit is None or outdoor_c is None or outdoor_c < float(limit)


class ThermostatPolicy:
    """Today's practice: see the module docstring."""

    name = "thermostat"

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.ceiling_c = loop_ceiling_c(profile)
        self._dump_latched = False

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        return None

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        p = self.profile
        stale = p.limits.stale_after_s
        outdoor = state.value(AMBIENT_TEMP_C, stale)
        requests: dict[str, float] = {}
        calling = False
        for sink in p.sinks:
            temp = state.value(f"sink.{sink.id}.temp_c", stale)
            cold = temp is None or temp < settings.setpoint_c(sink)
            cold = cold and heating_allowed(sink, outdoor)
            calling = calling or cold
            requests[sink.id] = sink.max_heat_w if cold else 0.0
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w={g.id: g.max_power_w for g in p.rack_groups},
            sink_heat_request_w=requests,
            dump_on=self._dump_on(state, calling),
            dump_heat_request_w=0.0,
        )

    def _dump_on(self, state: SiteState, calling: bool) -> bool:
        """Dry cooler: off while a sink calls, unless the loop is at its ceiling."""
        supply = state.value(LOOP_SUPPLY_TEMP_C, self.profile.limits.stale_after_s)
        if supply is None or not math.isfinite(supply):
            return True  # no loop reading: reject heat (safety trips anyway)
        hot = supply >= self.ceiling_c or (
            self._dump_latched and supply > self.ceiling_c - DUMP_HYSTERESIS_K
        )
        self._dump_latched = hot
        return hot or not calling


#: The old name: ``baseline`` is the thermostat (kept for callers and stored decisions).
BaselinePolicy = ThermostatPolicy
