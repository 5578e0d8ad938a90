"""Policy interface and the ``thermostat`` policy: what sites do today.

Operator settings (:class:`~thermalctl.control.settings.OperatorSettings`) are an
input of every call: a policy never keeps a copy of them nor a patched profile, so a
set point an operator changes reaches the thermostat, the forecaster and the
planner on the next call.

The thermostat, as a competent site runs it (issue 9, "a fair contest"):

* **GPU work runs when queued**: every rack group's cap is its power limit;
* **a sink's valve opens while it calls for heat** and closes when it stops (no band,
  no charging): full heat request while the sink is colder than the set point in
  force, or while its own backup heater fires (a preheat valve on a heating return or
  ahead of a hot-water heater opens whenever the heater downstream works:
  :func:`calls_for_heat`); a space-heating loop is switched off at and above its
  heating limit (summer switch-off, which every weather-compensated controller has);
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

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import AMBIENT_TEMP_C, LOOP_SUPPLY_TEMP_C
from thermalctl.points import Decision, Mode

__all__ = [
    "DUMP_HYSTERESIS_K",
    "BaselinePolicy",
    "Policy",
    "ThermostatPolicy",
    "calls_for_heat",
    "heating_allowed",
    "loop_ceiling_c",
]

#: Once the loop reached its ceiling, the dry cooler stays enabled until the supply is
#: this much cooler [K] (a 2 K switching differential, as on a boiler thermostat).
DUMP_HYSTERESIS_K = 2.0
AnySink = PoolSink | DhwSink | SpaceHeatingSink

#: The ceiling stays this far below the racks' coolant limits and the supply alarm [K]:
#: the loop may rise by about a kelvin before the next decision sees it (offline, every
#: 5 min), and holding the ceiling must neither raise the alarm nor pass a limit.
CEILING_MARGIN_K = 1.0
#: A sink's backup counts as firing above this share of its rating [-] (1 %: a boiler's
#: lowest modulation is some 10-20 %, so less is meter noise).
BACKUP_FIRING_FRACTION = 0.01
#: A sink that takes heat keeps calling up to this far above its set point [K] (the
#: switching differential of its valve: without it a preheat whose heater the loop has
#: just relieved would close, and its heater fire again, every other interval).
SWITCHING_DIFFERENTIAL_K = 1.0


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

    The lowest of ``limits.coolant_supply_alarm_c``, every rack group's coolant inlet
    limit and its outlet limit less the coolant's rise at full power
    (:class:`~thermalctl.models.loop.HeatLoopModel`, the group's share of the flow),
    all less :data:`CEILING_MARGIN_K`: every figure is one a user reads in the profile.
    """
    from thermalctl.models.loop import HeatLoopModel

    loop = HeatLoopModel.from_profile(profile)
    ceilings = [profile.limits.coolant_supply_alarm_c]
    for g in profile.rack_groups:
        ceilings.append(g.coolant_inlet_limit_c)
        rise = loop.group_outlet_temp_c(g, 0.0, g.max_power_w)
        ceilings.append(g.coolant_outlet_limit_c - rise)
    return min(ceilings) - CEILING_MARGIN_K


def calls_for_heat(
    state: SiteState,
    sink: AnySink,
    settings: OperatorSettings,
    outdoor_c: float | None,
    stale_after_s: float = math.inf,
) -> bool:
    """Whether a sink calls for heat [-], with heating allowed at this outdoor
    temperature:

    * colder than its set point in force (an unreadable temperature counts as colder);
    * or below the top of its band while its own backup heater fires (where metered:
      the heater downstream of a preheat works, so the preheat is wanted);
    * or taking heat (its heat meter, where metered) within
      :data:`SWITCHING_DIFFERENTIAL_K` above its set point.
    """
    if not heating_allowed(sink, outdoor_c):
        return False
    temp = state.value(f"sink.{sink.id}.temp_c", stale_after_s)
    setpoint = settings.setpoint_c(sink)
    if temp is None or temp < setpoint:
        return True
    if temp >= sink.band_high_c:
        return False
    threshold_w = BACKUP_FIRING_FRACTION * sink.backup.max_heat_w
    backup = state.value(f"sink.{sink.id}.backup_heat_w", stale_after_s)
    if backup is not None and backup > threshold_w:
        return True
    heat = state.value(f"sink.{sink.id}.heat_w", stale_after_s)
    taking = heat is not None and heat > BACKUP_FIRING_FRACTION * sink.max_heat_w
    return taking and temp < setpoint + SWITCHING_DIFFERENTIAL_K


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
            cold = calls_for_heat(state, sink, settings, outdoor, stale)
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
