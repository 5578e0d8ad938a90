"""The ``rules`` policy: what a good commissioning engineer sets up without an optimiser.

Three rules, each a few lines of a BMS programme:

1. **Sinks in a stated priority, each charged to the top of its band.** The priority
   is the order of ``sinks`` in the profile (first = served first). A sink that calls
   for heat is always served (:func:`thermalctl.control.policy.calls_for_heat`). It
   starts a charge cycle when it calls and keeps charging until
   it reaches the top of its band (less :data:`FULL_MARGIN_K`) with its backup quiet:
   its thermal mass stores the waste heat instead of the dry cooler rejecting it. A
   space-heating loop is never charged at or above its heating limit (summer
   switch-off). Beyond its call, a lower-priority sink charges while every sink above
   it is full, once the loop is within :data:`LADDER_K` of its ceiling (the sinks above
   cannot take more), or while the dry cooler runs.
2. **Dry cooler only when every sink is satisfied or the loop reaches its ceiling**
   (:func:`thermalctl.control.policy.loop_ceiling_c`, with the thermostat's switching
   differential).
3. **Deferrable GPU work runs when a sink wants heat or its deadline nears**: caps at
   the rack limit while any sink charges and the dry cooler is off (with the dry cooler
   running no sink can take more: the loop is at its ceiling), or when the oldest
   waiting work would miss its deadline (less :data:`DEADLINE_MARGIN_H`) at full power
   otherwise; else the cap is the must-run power (inference keeps running, batch work
   waits in the queue). Within 1 K of the racks' inlet limit deferrable work waits
   whatever its deadline (:data:`THERMAL_HOLD_ABOVE_CEILING_K`).

Waiting work's ages are tracked from the queue size alone
(:class:`thermalctl.control.forecast.QueueAges`, first in first out: the safe side).
"""

from __future__ import annotations

from thermalctl.config.site import SiteProfile
from thermalctl.control.forecast import QueueAges
from thermalctl.control.policy import (
    CeilingGuard,
    calls_for_heat,
    heating_allowed,
    loop_ceiling_c,
    surplus_heat_w,
)
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.signals import AMBIENT_TEMP_C, LOOP_SUPPLY_TEMP_C
from thermalctl.points import Decision, Mode

__all__ = [
    "DEADLINE_MARGIN_H",
    "FULL_MARGIN_K",
    "LADDER_K",
    "THERMAL_HOLD_ABOVE_CEILING_K",
    "RulesPolicy",
]

#: A charging sink counts as full this close to the top of its band [K].
FULL_MARGIN_K = 0.2
#: Lower-priority sinks open once the loop supply is this close to its ceiling [K].
LADDER_K = 1.0
#: Deferred work is started this long before the time it would need at full power [h].
DEADLINE_MARGIN_H = 1.0
#: Deferrable work waits, deadline or not, once the loop supply is this far above the
#: ceiling [K] (the ceiling is 2 K below the racks' inlet limit: 1 K from the limit).
THERMAL_HOLD_ABOVE_CEILING_K = 1.0


class RulesPolicy:
    """Priority charging, dry cooler last, work when heat is wanted: see the module."""

    name = "rules"

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.guard = CeilingGuard(loop_ceiling_c(profile))
        self.ceiling_c = self.guard.ceiling_c
        self.charging: set[str] = set()
        self.ages = {g.id: QueueAges() for g in profile.rack_groups}

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        return None

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        p = self.profile
        stale = p.limits.stale_after_s
        outdoor = state.value(AMBIENT_TEMP_C, stale)
        supply = state.value(LOOP_SUPPLY_TEMP_C, stale)
        calling: dict[str, bool] = {}
        for sink in p.sinks:
            temp = state.value(f"sink.{sink.id}.temp_c", stale)
            calling[sink.id] = calls_for_heat(state, sink, settings, outdoor, stale)
            full = temp is not None and temp >= sink.band_high_c - FULL_MARGIN_K
            if not heating_allowed(sink, outdoor) or (full and not calling[sink.id]):
                self.charging.discard(sink.id)
            elif calling[sink.id]:
                self.charging.add(sink.id)
        wanting = bool(self.charging)
        hot = self.guard.hot(state.now_s, supply)
        dump_on = hot or not wanting
        # A calling sink is always served. Charging beyond the call goes in priority
        # order: a sink charges once every sink above it is full, when the loop nears its
        # ceiling, or while the dry cooler runs (never dump what a sink would take).
        open_all = supply is None or supply >= self.ceiling_c - LADDER_K or self.guard.latched
        caps = self._caps(state, wanting and not dump_on, supply)
        requests: dict[str, float] = {}
        full_above = True
        for sink in p.sinks:
            charging = sink.id in self.charging
            open_ = calling[sink.id] or (charging and (full_above or open_all))
            requests[sink.id] = sink.max_heat_w if open_ else 0.0
            full_above = full_above and not charging
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w=caps,
            sink_heat_request_w=requests,
            dump_on=dump_on,
            dump_heat_request_w=surplus_heat_w(state, p, caps) if hot and wanting else 0.0,
        )

    def _caps(self, state: SiteState, wanting: bool, supply: float | None) -> dict[str, float]:
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
            # Near the racks' own limit deferrable work waits, deadline or not.
            guard = supply is not None and supply >= self.ceiling_c + THERMAL_HOLD_ABOVE_CEILING_K
            due = queued is None or self._deadline_near(g.id, queued, must, state.now_s)
            if not guard and (wanting or due):
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
