"""The ``rules`` policy: what a good commissioning engineer sets up without an optimiser.

Three rules, each a few lines of a BMS programme:

1. **Sinks in a stated priority, each charged to the top of its band.** The priority
   is the order of ``sinks`` in the profile (first = served first). A sink starts
   charging when it falls below the set point in force and keeps charging until it
   reaches the top of its band (less :data:`FULL_MARGIN_K`): its thermal mass stores
   the waste heat instead of the dry cooler rejecting it. A space-heating loop is never
   charged at or above its heating limit (summer switch-off). A lower-priority sink
   may charge while every sink above it is satisfied, or once the loop is within
   :data:`LADDER_K` of its ceiling (the sinks above cannot take more).
2. **Dry cooler only when every sink is satisfied or the loop reaches its ceiling**
   (:func:`thermalctl.control.policy.loop_ceiling_c`, with the thermostat's switching
   differential).
3. **Deferrable GPU work runs when a sink wants heat or its deadline nears**: caps at
   the rack limit while any sink charges, or when the oldest waiting work would miss
   its deadline (less :data:`DEADLINE_MARGIN_H`) at full power otherwise; else the cap
   is the must-run power (inference keeps running, batch work waits in the queue).

Waiting work's ages are tracked from the queue size alone
(:class:`thermalctl.control.forecast.QueueAges`, first in first out: the safe side).
"""

from __future__ import annotations

import math

from thermalctl.config.site import SiteProfile
from thermalctl.control.forecast import QueueAges
from thermalctl.control.policy import DUMP_HYSTERESIS_K, heating_allowed, loop_ceiling_c
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import AMBIENT_TEMP_C, LOOP_SUPPLY_TEMP_C
from thermalctl.points import Decision, Mode

__all__ = ["DEADLINE_MARGIN_H", "FULL_MARGIN_K", "LADDER_K", "RulesPolicy"]

#: A charging sink counts as full this close to the top of its band [K].
FULL_MARGIN_K = 0.2
#: Lower-priority sinks open once the loop supply is this close to its ceiling [K].
LADDER_K = 1.0
#: Deferred work is started this long before the time it would need at full power [h].
DEADLINE_MARGIN_H = 1.0


class RulesPolicy:
    """Priority charging, dry cooler last, work when heat is wanted: see the module."""

    name = "rules"

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.ceiling_c = loop_ceiling_c(profile)
        self.charging: set[str] = set()
        self.ages = {g.id: QueueAges() for g in profile.rack_groups}
        self._dump_latched = False

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        return None

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        p = self.profile
        stale = p.limits.stale_after_s
        outdoor = state.value(AMBIENT_TEMP_C, stale)
        supply = state.value(LOOP_SUPPLY_TEMP_C, stale)
        near_ceiling = supply is None or supply >= self.ceiling_c - LADDER_K
        requests: dict[str, float] = {}
        satisfied_above = True
        for sink in p.sinks:
            temp = state.value(f"sink.{sink.id}.temp_c", stale)
            allowed = heating_allowed(sink, outdoor)
            if not allowed or (temp is not None and temp >= sink.band_high_c - FULL_MARGIN_K):
                self.charging.discard(sink.id)
            elif temp is None or temp < settings.setpoint_c(sink):
                self.charging.add(sink.id)
            wants = sink.id in self.charging
            open_ = wants and (satisfied_above or near_ceiling)
            requests[sink.id] = sink.max_heat_w if open_ else 0.0
            satisfied_above = satisfied_above and not wants
        wanting = bool(self.charging)
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w=self._caps(state, wanting),
            sink_heat_request_w=requests,
            dump_on=self._dump_on(supply, wanting),
            dump_heat_request_w=0.0,
        )

    def _dump_on(self, supply: float | None, wanting: bool) -> bool:
        if supply is None or not math.isfinite(supply):
            return True
        hot = supply >= self.ceiling_c or (
            self._dump_latched and supply > self.ceiling_c - DUMP_HYSTERESIS_K
        )
        self._dump_latched = hot
        return hot or not wanting

    def _caps(self, state: SiteState, wanting: bool) -> dict[str, float]:
        p = self.profile
        stale = p.limits.stale_after_s
        caps: dict[str, float] = {}
        for g in p.rack_groups:
            queued = state.value(f"rack.{g.id}.queued_kwh", stale)
            ages = self.ages[g.id]
            if queued is not None:
                ages.observe(state.now_s, queued)
            must = state.value(f"rack.{g.id}.must_run_w", stale)
            if must is None:
                must = g.idle_power_w
            if wanting or queued is None or self._deadline_near(g.id, queued, must, state.now_s):
                caps[g.id] = g.max_power_w
            else:
                caps[g.id] = min(g.max_power_w, max(g.min_cap_w, must))
        return caps

    def _deadline_near(self, group_id: str, queued_kwh: float, must_w: float, now_s: float) -> bool:
        jobs = self.ages[group_id].jobs
        if queued_kwh <= 0.0 or not jobs:
            return False
        g = self.profile.rack_group(group_id)
        headroom_w = max(1.0, g.max_power_w - must_w)
        needed_h = queued_kwh * 1e3 / headroom_w
        left_h = (jobs[0][0] + g.deadline_h * 3600.0 - now_s) / 3600.0
        return left_h <= needed_h + DEADLINE_MARGIN_H
