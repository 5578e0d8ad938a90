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
  calls for heat, unless the loop reaches its ceiling (:func:`loop_ceiling_c`; then it
  is asked for the surplus, so it holds the loop just below the racks' inlet limit
  rather than pulling it down to the design supply temperature): a
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
    "CeilingGuard",
    "Policy",
    "ThermostatPolicy",
    "backup_fires",
    "calls_for_heat",
    "heating_allowed",
    "loop_ceiling_c",
    "surplus_heat_w",
]

#: Once the loop reached its ceiling, the dry cooler stays enabled until the supply is
#: this much cooler [K] (a 2 K switching differential, as on a boiler thermostat).
DUMP_HYSTERESIS_K = 1.0
AnySink = PoolSink | DhwSink | SpaceHeatingSink

#: The ceiling stays this far below the racks' coolant limits and the supply alarm [K]:
#: the loop may rise by about a kelvin before the next decision sees it (offline, every
#: 5 min), and holding the ceiling must neither raise the alarm nor pass a limit.
CEILING_MARGIN_K = 2.0
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
    if backup_fires(state, sink, stale_after_s):
        return True
    heat = state.value(f"sink.{sink.id}.heat_w", stale_after_s)
    taking = heat is not None and heat > BACKUP_FIRING_FRACTION * sink.max_heat_w
    return taking and temp < setpoint + SWITCHING_DIFFERENTIAL_K


def backup_fires(state: SiteState, sink: AnySink, stale_after_s: float = math.inf) -> bool:
    """Whether a sink's own backup heater fires now (above :data:`BACKUP_FIRING_FRACTION`
    of its rating, where metered)."""
    backup = state.value(f"sink.{sink.id}.backup_heat_w", stale_after_s)
    return backup is not None and backup > BACKUP_FIRING_FRACTION * sink.backup.max_heat_w


def heating_allowed(sink: object, outdoor_c: float | None) -> bool:
    """Whether a sink may take heat at this outdoor temperature: False only for a sink
    with a heating limit (space heating) when it is at least that warm outside."""
    limit = getattr(sink, "heating_limit_temp_c", None)
    return limit is None or outdoor_c is None or outdoor_c < float(limit)


def surplus_heat_w(
    state: SiteState, profile: SiteProfile, caps_w: dict[str, float] | None = None
) -> float:
    """Captured heat the sinks do not take [W], at least 1 W: what a rule-based policy
    asks the dry cooler for once the loop is at its ceiling. The racks are taken at the
    caps the policy sets (feed-forward: the heat they may make before the next decision),
    else at what they draw now. Any duty asked puts the site's dry-cooler controller in
    duty mode, whose guard holds the supply just below the racks' inlet limit
    (:mod:`thermalctl.sim.plant`), instead of pulling the loop down to its design supply
    temperature while sinks still call."""
    stale = profile.limits.stale_after_s
    captured = 0.0
    for g in profile.rack_groups:
        now = state.value_or(f"rack.{g.id}.power_w", g.max_power_w, stale)
        power = max(now, caps_w.get(g.id, now)) if caps_w is not None else now
        captured += g.capture_fraction * min(power, g.max_power_w)
    taken = sum(state.value_or(f"sink.{s.id}.heat_w", 0.0, stale) for s in profile.sinks)
    return max(1.0, captured - taken)


class CeilingGuard:
    """The dry cooler's high limit: on once the loop supply reaches the ceiling, or would
    reach it before the next decision at its present rate of rise (an anticipator, as
    on a boiler thermostat); off again ``hysteresis_k`` (by default
    :data:`DUMP_HYSTERESIS_K`) below the ceiling."""

    def __init__(self, ceiling_c: float, hysteresis_k: float = DUMP_HYSTERESIS_K) -> None:
        self.ceiling_c = ceiling_c
        self.hysteresis_k = hysteresis_k
        self.latched = False
        #: The loop's rise over the last decision interval [K] (0 when falling).
        self.rise_k = 0.0
        #: The last decision interval [s] (0 before the second decision).
        self.interval_s = 0.0
        self._last: tuple[float, float] | None = None

    def hot(self, now_s: float, supply_c: float | None) -> bool:
        if supply_c is None or not math.isfinite(supply_c):
            self._last = None
            self.rise_k = 0.0
            return True  # no loop reading: reject heat (safety trips anyway)
        rise_k = 0.0
        if self._last is not None and now_s > self._last[0]:
            rise_k = max(0.0, supply_c - self._last[1])  # over one decision interval
            self.interval_s = now_s - self._last[0]
        self._last = (now_s, supply_c)
        self.rise_k = rise_k
        hot = supply_c + rise_k >= self.ceiling_c or (
            self.latched and supply_c > self.ceiling_c - self.hysteresis_k
        )
        self.latched = hot
        return hot


class ThermostatPolicy:
    """Today's practice: see the module docstring."""

    name = "thermostat"

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.guard = CeilingGuard(loop_ceiling_c(profile))

    @property
    def ceiling_c(self) -> float:
        return self.guard.ceiling_c

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
        # Dry cooler: off while a sink calls, unless the loop is at its ceiling.
        hot = self.guard.hot(state.now_s, state.value(LOOP_SUPPLY_TEMP_C, stale))
        caps = {g.id: g.max_power_w for g in p.rack_groups}
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w=caps,
            sink_heat_request_w=requests,
            dump_on=hot or not calling,
            dump_heat_request_w=surplus_heat_w(state, p, caps) if hot and calling else 0.0,
        )


#: The old name: ``baseline`` is the thermostat (kept for callers and stored decisions).
BaselinePolicy = ThermostatPolicy
