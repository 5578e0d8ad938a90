"""The control core: one pure step shared by ``run``, ``demo`` and ``simulate``.

::

    step(snapshot, operator settings, memory) -> (decision, alarms, new memory)

The core does no I/O and has no clock of its own: the time is the snapshot's
``now_s``. It runs the safety interlocks first, keeps the trip latch and the hold
after a trip, applies the operator's mode, asks the policy for targets (falling back
to safe targets, with an alarm, when the policy fails), and lowers GPU caps to the
operator's overrides in every mode. The runtime (:mod:`thermalctl.runtime.controller`)
only polls, actuates, records and schedules around it; the offline simulator
(:mod:`thermalctl.sim.offline`) calls the same step with snapshots built from the
plant, so safe mode, the latch, overrides and the fallback behave the same offline
and online.

The policy is the core's one stateful collaborator: it keeps its current plan and
its forecaster's history (a re-plan is its slow job, :meth:`ControlCore.plan`).
Everything else the core remembers between steps is in :class:`CoreMemory`, an
immutable value the caller hands back on the next step.

Memory, in words:

* ``latched``: a safety trip or a runtime fault put the site in safe mode; it is
  released only after the cause has been gone for :data:`SAFE_HOLD_S`;
* ``trip_cleared_at_s``: when the cause went away (the hold runs from there);
* ``policy_failing``: the policy raised on the last step (safe targets meanwhile);
* ``last_good``: the last decision the policy produced with no trip and no fault
  (what operators see as the last known good targets).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from thermalctl.config.site import SiteProfile
from thermalctl.control import safety
from thermalctl.control.policy import Policy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode

__all__ = ["SAFE_HOLD_S", "ControlCore", "CoreMemory", "StepResult"]

log = logging.getLogger(__name__)

#: After a safety trip clears, stay in safe mode this long before returning to auto [s]
#: (two minutes: longer than the loop's transport delay, short enough not to waste heat).
SAFE_HOLD_S = 120.0


@dataclass(frozen=True)
class CoreMemory:
    """What the core remembers between steps (see the module docstring)."""

    latched: bool = False
    latch_reason: str = ""
    trip_cleared_at_s: float | None = None
    policy_failing: bool = False
    last_good: Decision | None = None

    def mode(self, settings: OperatorSettings) -> Mode:
        """The mode in force: SAFE while latched, failing, or asked for by an operator."""
        if self.latched or self.policy_failing or settings.mode is Mode.SAFE:
            return Mode.SAFE
        return settings.mode

    def latch(self, reason: str) -> CoreMemory:
        """Safe mode for a trip or a runtime fault (released after SAFE_HOLD_S clear)."""
        return dataclasses.replace(
            self, latched=True, latch_reason=reason, trip_cleared_at_s=None
        )


@dataclass(frozen=True)
class StepResult:
    decision: Decision
    alarms: tuple[Alarm, ...]
    memory: CoreMemory

    @property
    def mode(self) -> Mode:
        return self.decision.mode


class ControlCore:
    """The control rules of one site: safety, latch, operator settings, policy, fallback."""

    def __init__(
        self, profile: SiteProfile, policy: Policy, bound_signals: frozenset[str]
    ) -> None:
        self.profile = profile
        self.policy = policy
        self.bound_signals = bound_signals

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        """The slow job: let the policy re-plan from ``state`` (may run in a worker thread)."""
        self.policy.plan(state, settings)

    def step(
        self, state: SiteState, settings: OperatorSettings, memory: CoreMemory
    ) -> StepResult:
        """One decision. Never raises for a failing policy (safe targets and an alarm)."""
        now = state.now_s
        verdict = safety.check(state, self.profile, self.bound_signals)
        alarms: list[Alarm] = list(verdict.alarms)
        if verdict.trip:
            memory = memory.latch("; ".join(verdict.reasons))
            return self._done(self._safe(state, verdict, verdict.reasons), alarms, memory, settings)
        if memory.latched:
            cleared = memory.trip_cleared_at_s if memory.trip_cleared_at_s is not None else now
            memory = dataclasses.replace(memory, trip_cleared_at_s=cleared)
            waited = now - cleared
            if waited < SAFE_HOLD_S:
                why = f"trip cleared {waited:.0f} s ago; safe targets held for {SAFE_HOLD_S:.0f} s"
                held = self._safe(state, verdict, (*verdict.reasons, why))
                return self._done(held, alarms, memory, settings)
            memory = dataclasses.replace(
                memory, latched=False, latch_reason="", trip_cleared_at_s=None
            )
        if settings.mode is Mode.SAFE:
            held = self._safe(state, verdict, ("safe mode set by an operator",))
            return self._done(held, alarms, memory, settings)
        try:
            decision = self.policy.decide(state, settings)
        except Exception as exc:  # a policy bug must not stop the loop (STYLE.md rule 6)
            if not memory.policy_failing:
                log.exception("policy %s failed; safe targets until it works", self.policy.name)
            message = f"policy {self.policy.name} failed: {exc!r}"
            alarms.append(Alarm("policy.failed", message, AlarmSeverity.CRITICAL, now))
            memory = dataclasses.replace(memory, policy_failing=True)
            return self._done(self._safe(state, verdict, (message,)), alarms, memory, settings)
        memory = dataclasses.replace(memory, policy_failing=False)
        for reason in decision.reasons:
            alarms.append(Alarm(f"policy.{decision.policy}", reason, AlarmSeverity.WARNING, now))
        decision = dataclasses.replace(decision, timestamp_s=now, mode=memory.mode(settings))
        decision = _with_overrides(decision, settings)
        memory = dataclasses.replace(memory, last_good=decision)
        return StepResult(decision, tuple(alarms), memory)

    # -- internals -----------------------------------------------------------------
    def _safe(
        self, state: SiteState, verdict: safety.SafetyVerdict, reasons: tuple[str, ...]
    ) -> Decision:
        held = safety.safe_decision(state, self.profile, verdict)
        return dataclasses.replace(held, reasons=reasons)

    def _done(
        self,
        decision: Decision,
        alarms: list[Alarm],
        memory: CoreMemory,
        settings: OperatorSettings,
    ) -> StepResult:
        decision = dataclasses.replace(decision, mode=memory.mode(settings))
        return StepResult(_with_overrides(decision, settings), tuple(alarms), memory)


def _with_overrides(decision: Decision, settings: OperatorSettings) -> Decision:
    """Operators' GPU cap overrides hold in every mode (they only ever lower a cap)."""
    if not settings.gpu_cap_w:
        return decision
    caps = dict(decision.gpu_power_cap_w)
    for gid, cap in settings.gpu_cap_w.items():
        if gid in caps:
            caps[gid] = min(caps[gid], cap)
    return dataclasses.replace(decision, gpu_power_cap_w=caps)
