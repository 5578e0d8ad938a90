"""The control core on plain numbers: safety, latch and hold, operator settings, fallback.

No sockets, no clock: each step gets a snapshot with its own time, as the runtime and
the offline simulator give it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import POOL_SITE
from thermalctl.config import load_site
from thermalctl.control.core import SAFE_HOLD_S, ControlCore, CoreMemory
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Decision, Mode, Quality, Reading

PROFILE = load_site(POOL_SITE).profile
BOUND = frozenset(
    {"loop.supply_temp_c", "loop.return_temp_c", "sink.pool.temp_c", "ambient.temp_c"}
)
FULL_CAP_W = PROFILE.rack_group("pod").max_power_w


def _state(now: float, supply_c: float = 35.0) -> SiteState:
    st = SiteState(now_s=now)
    values = {
        "loop.supply_temp_c": supply_c,
        "loop.return_temp_c": supply_c + 7.0,
        "sink.pool.temp_c": 29.5,
        "ambient.temp_c": 10.0,
    }
    st.update((s, Reading(s, v, "degC", Quality.GOOD, now)) for s, v in values.items())
    return st


@dataclass
class _FullPower:
    """A policy that runs every group at full power and remembers what it was given."""

    name: str = "full"
    fail: bool = False
    seen: list[OperatorSettings] = field(default_factory=list)

    def plan(self, state: SiteState, settings: OperatorSettings) -> None:
        self.seen.append(settings)

    def decide(self, state: SiteState, settings: OperatorSettings) -> Decision:
        self.seen.append(settings)
        if self.fail:
            raise ZeroDivisionError("a bug in a policy")
        return Decision(
            timestamp_s=0.0,
            mode=Mode.AUTO,
            policy=self.name,
            gpu_power_cap_w={g.id: g.max_power_w for g in PROFILE.rack_groups},
            sink_heat_request_w={s.id: s.max_heat_w for s in PROFILE.sinks},
            dump_on=False,
        )


def _core(policy: _FullPower | None = None) -> ControlCore:
    return ControlCore(PROFILE, policy or _FullPower(), BOUND)


def test_a_normal_step_follows_the_policy_in_auto() -> None:
    step = _core().step(_state(0.0), OperatorSettings(), CoreMemory())
    assert step.mode is Mode.AUTO and step.decision.policy == "full"
    assert step.decision.gpu_power_cap_w["pod"] == FULL_CAP_W
    assert step.decision.timestamp_s == 0.0
    assert step.memory.last_good == step.decision


def test_a_trip_latches_and_holds_safe_targets_after_it_clears() -> None:
    core = _core()
    settings = OperatorSettings()
    step = core.step(_state(0.0, supply_c=53.0), settings, CoreMemory())
    assert step.mode is Mode.SAFE and step.decision.policy == "safety"
    assert step.memory.latched and "coolant supply" in step.memory.latch_reason
    assert step.decision.dump_on  # the dump is opened whatever the policy wanted
    memory = step.memory
    # The cause is gone, but the hold runs from the first clear step.
    for t in (10.0, 10.0 + SAFE_HOLD_S - 1.0):
        step = core.step(_state(t), settings, memory)
        memory = step.memory
        assert step.mode is Mode.SAFE, t
        assert any("held" in r for r in step.decision.reasons)
    step = core.step(_state(10.0 + SAFE_HOLD_S), settings, memory)
    assert step.mode is Mode.AUTO and not step.memory.latched
    assert step.decision.policy == "full"


def test_a_new_trip_during_the_hold_restarts_it() -> None:
    core = _core()
    s = OperatorSettings()
    m = core.step(_state(0.0, supply_c=53.0), s, CoreMemory()).memory
    m = core.step(_state(100.0), s, m).memory
    m = core.step(_state(110.0, supply_c=53.0), s, m).memory
    m = core.step(_state(120.0), s, m).memory
    assert core.step(_state(120.0 + SAFE_HOLD_S - 1.0), s, m).mode is Mode.SAFE
    assert core.step(_state(120.0 + SAFE_HOLD_S), s, m).mode is Mode.AUTO


def test_an_operators_safe_mode_is_never_released_by_the_core() -> None:
    core = _core()
    settings = OperatorSettings(mode=Mode.SAFE)
    memory = CoreMemory()
    for t in (0.0, 1e3, 1e5):
        step = core.step(_state(t), settings, memory)
        memory = step.memory
        assert step.mode is Mode.SAFE
        assert step.decision.reasons == ("safe mode set by an operator",)
    assert core.step(_state(2e5), settings.with_mode(Mode.AUTO), memory).mode is Mode.AUTO


def test_manual_mode_still_decides_but_a_trip_wins() -> None:
    core = _core()
    manual = OperatorSettings(mode=Mode.MANUAL)
    assert core.step(_state(0.0), manual, CoreMemory()).mode is Mode.MANUAL
    assert core.step(_state(0.0, supply_c=53.0), manual, CoreMemory()).mode is Mode.SAFE


@pytest.mark.parametrize("supply_c", [35.0, 53.0], ids=["auto", "tripped"])
def test_gpu_cap_overrides_hold_in_every_mode(supply_c: float) -> None:
    settings = OperatorSettings(gpu_cap_w={"pod": 2_000.0})
    step = _core().step(_state(0.0, supply_c=supply_c), settings, CoreMemory())
    assert step.decision.gpu_power_cap_w["pod"] == 2_000.0


def test_an_override_above_the_policys_cap_never_raises_it() -> None:
    settings = OperatorSettings(gpu_cap_w={"pod": 10 * FULL_CAP_W})
    step = _core().step(_state(0.0), settings, CoreMemory())
    assert step.decision.gpu_power_cap_w["pod"] == FULL_CAP_W


def test_a_failing_policy_gives_safe_targets_and_an_alarm_until_it_works() -> None:
    policy = _FullPower(fail=True)
    core = _core(policy)
    step = core.step(_state(0.0), OperatorSettings(), CoreMemory())
    assert step.mode is Mode.SAFE and step.memory.policy_failing
    assert "policy.failed" in [a.code for a in step.alarms]
    assert "ZeroDivisionError" in step.decision.reasons[0]
    policy.fail = False
    step = core.step(_state(10.0), OperatorSettings(), step.memory)
    assert step.mode is Mode.AUTO and not step.memory.policy_failing  # no hazard: no hold


def test_settings_reach_the_policy_as_inputs() -> None:
    policy = _FullPower()
    core = _core(policy)
    settings = OperatorSettings().with_setpoint("pool", 30.5)
    core.plan(_state(0.0), settings)
    core.step(_state(0.0), settings, CoreMemory())
    assert [s.setpoint_c(PROFILE.sink("pool")) for s in policy.seen] == [30.5, 30.5]
    assert PROFILE.sink("pool").setpoint_c != 30.5  # the profile is never patched


def test_a_stale_critical_reading_trips() -> None:
    state = _state(0.0)
    state.now_s = PROFILE.limits.stale_after_s + 1.0
    step = _core().step(state, OperatorSettings(), CoreMemory())
    assert step.mode is Mode.SAFE
    assert any(code.endswith(".stale") for code in (a.code for a in step.alarms))


def test_settings_round_trip_through_json() -> None:
    settings = OperatorSettings(Mode.MANUAL, {"pool": 30.5}, {"pod": 9_000.0})
    assert OperatorSettings.from_json(settings.to_json()) == settings
    assert settings.with_setpoint("pool", None).sink_setpoint_c == {}
    assert settings.with_gpu_cap("pod", None).gpu_cap_w == {}
