"""Safety interlocks and the baseline thermostat on plain numbers (no network)."""

from __future__ import annotations

import pytest

from tests.conftest import POOL_SITE
from thermalctl.config import load_site
from thermalctl.control import safety
from thermalctl.control.policy import BaselinePolicy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Mode, Quality, Reading

PROFILE = load_site(POOL_SITE).profile
BOUND = frozenset(
    {"loop.supply_temp_c", "loop.return_temp_c", "sink.pool.temp_c", "ambient.temp_c"}
)


def _state(now: float = 1000.0, **values: float) -> SiteState:
    st = SiteState(now_s=now)
    defaults = {
        "loop.supply_temp_c": 35.0,
        "loop.return_temp_c": 42.0,
        "sink.pool.temp_c": 29.5,
        "ambient.temp_c": 10.0,
    }
    defaults.update({k.replace("__", "."): v for k, v in values.items()})
    st.update((s, Reading(s, v, "degC", Quality.GOOD, now)) for s, v in defaults.items())
    return st


def test_normal_state_does_not_trip() -> None:
    verdict = safety.check(_state(), PROFILE, BOUND)
    assert not verdict.trip and verdict.alarms == ()


def test_supply_above_alarm_warns_without_trip() -> None:
    verdict = safety.check(_state(loop__supply_temp_c=47.0), PROFILE, BOUND)
    assert not verdict.trip
    assert [a.code for a in verdict.alarms] == ["coolant.supply_high"]


@pytest.mark.parametrize(
    ("signal", "value", "code"),
    [
        ("loop__supply_temp_c", 51.0, "coolant.supply_trip"),
        ("loop__return_temp_c", 61.0, "coolant.return_trip"),
        ("loop__supply_temp_c", 400.0, "loop.supply_temp_c.implausible"),
    ],
)
def test_hot_or_implausible_coolant_trips(signal: str, value: float, code: str) -> None:
    verdict = safety.check(_state(**{signal: value}), PROFILE, BOUND)
    assert verdict.trip
    assert code in [a.code for a in verdict.alarms]


def test_stale_reading_trips_after_stale_limit_but_one_bad_poll_does_not() -> None:
    st = _state(now=1000.0)
    st.now_s = 1010.0
    st.update([("loop.supply_temp_c", Reading.bad("loop.supply_temp", "degC", 1010.0, "timeout"))])
    assert not safety.check(st, PROFILE, BOUND).trip  # the last good value is 10 s old
    st.now_s = 1000.0 + PROFILE.limits.stale_after_s + 1
    verdict = safety.check(st, PROFILE, BOUND)
    assert verdict.trip
    assert any("stale" in a.message and "timeout" in a.message for a in verdict.alarms)


def test_never_read_signal_trips() -> None:
    st = SiteState(now_s=5.0)
    verdict = safety.check(st, PROFILE, BOUND)
    assert verdict.trip


def test_safe_decision_caps_deferrable_power_to_dump_capacity() -> None:
    st = _state(loop__supply_temp_c=52.0, ambient__temp_c=35.0)
    verdict = safety.check(st, PROFILE, BOUND)
    d = safety.safe_decision(st, PROFILE, verdict)
    assert d.mode is Mode.SAFE and d.dump_on
    capacity = safety.dump_capacity_w(PROFILE, 35.0)
    group = PROFILE.rack_groups[0]
    expected = min(group.max_power_w, max(group.min_cap_w, capacity / group.capture_fraction))
    assert d.gpu_power_cap_w["pod"] == pytest.approx(expected)
    assert d.gpu_power_cap_w["pod"] < group.max_power_w  # hot day: the dump cannot take it all
    assert d.reasons


def test_dump_capacity_shrinks_as_ambient_rises() -> None:
    assert safety.dump_capacity_w(PROFILE, 10.0) > safety.dump_capacity_w(PROFILE, 30.0) > 0


def test_baseline_heats_cold_sink_and_stops_at_setpoint() -> None:
    policy = BaselinePolicy(PROFILE)
    cold = policy.decide(_state(sink__pool__temp_c=28.0), OperatorSettings())
    warm = policy.decide(_state(sink__pool__temp_c=30.2), OperatorSettings())
    assert cold.sink_heat_request_w["pool"] == PROFILE.sinks[0].max_heat_w
    assert warm.sink_heat_request_w["pool"] == 0.0
    assert cold.gpu_power_cap_w["pod"] == PROFILE.rack_groups[0].max_power_w  # work runs
