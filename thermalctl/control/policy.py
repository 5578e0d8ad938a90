"""Policy interface and the baseline thermostat policy (what sites do today).

Operator settings (:class:`~thermalctl.control.settings.OperatorSettings`) are an
input of every call: a policy never keeps a copy of them nor a patched profile, so a
set point an operator changes reaches the thermostat, the forecaster and the
planner on the next call.
"""

from __future__ import annotations

from typing import Protocol

from thermalctl.config.site import SiteProfile
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Decision, Mode

__all__ = ["BaselinePolicy", "Policy"]


class Policy(Protocol):
    """A policy plans on the slow job and decides on the fast job."""

    name: str

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        """Re-plan from the latest state (slow job). May do nothing."""

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        """Targets for the next fast interval."""
        ...


class BaselinePolicy:
    """Thermostat: GPU work runs whenever queued; heat to a sink while it is below set
    point, otherwise dumped by the dry cooler."""

    name = "baseline"

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        return None

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        p = self.profile
        stale = p.limits.stale_after_s
        requests: dict[str, float] = {}
        for sink in p.sinks:
            temp = state.value(f"sink.{sink.id}.temp_c", stale)
            cold = temp is None or temp < settings.setpoint_c(sink)
            requests[sink.id] = sink.max_heat_w if cold else 0.0
        return Decision(
            timestamp_s=state.now_s,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w={g.id: g.max_power_w for g in p.rack_groups},
            sink_heat_request_w=requests,
            dump_on=True,
            dump_heat_request_w=0.0,
        )
