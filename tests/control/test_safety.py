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
    alarm = PROFILE.limits.coolant_supply_alarm_c  # below the racks' inlet limit
    verdict = safety.check(_state(loop__supply_temp_c=alarm + 0.1), PROFILE, BOUND)
    assert not verdict.trip
    assert [a.code for a in verdict.alarms] == ["coolant.supply_high"]


@pytest.mark.parametrize(
    ("signal", "value", "code"),
    [
        ("loop__supply_temp_c", 51.0, "coolant.supply_trip"),
        # the pod's immersion loop accepts at most 40 degC: past it (and a Pt100's 0.25 K)
        ("loop__supply_temp_c", 40.5, "coolant.supply_trip"),
        ("loop__return_temp_c", 61.0, "coolant.return_trip"),
        ("loop__supply_temp_c", 400.0, "loop.supply_temp_c.implausible_high"),
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


def test_a_value_beyond_its_registers_range_trips_at_once_not_after_the_stale_limit() -> None:
    # Finding 4 of issue 11: supply 130 degC on a 0-120 register was a lost poll (28 s on
    # the last good 35 degC). The adapter keeps the value on the BAD reading; it trips now.
    st = _state(now=1000.0)
    st.now_s = 1002.0
    hot = Reading("loop.supply_temp", 130.0, "degC", Quality.BAD, 1002.0,
                  "out of range: 130 above 120")
    st.update([("loop.supply_temp_c", hot)])
    verdict = safety.check(st, PROFILE, BOUND)
    assert verdict.trip and verdict.thermal
    assert "loop.supply_temp_c.implausible_high" in [a.code for a in verdict.alarms]


def test_a_value_below_its_registers_range_is_a_sensor_fault_not_a_thermal_trip() -> None:
    st = _state(now=1000.0)
    cold = Reading("loop.supply_temp", -40.0, "degC", Quality.BAD, 1000.0,
                   "out of range: -40 below 0")
    st.update([("loop.supply_temp_c", cold)])
    verdict = safety.check(st, PROFILE, BOUND)
    assert verdict.trip and not verdict.thermal


def test_safe_mode_for_lost_readings_keeps_must_run_load() -> None:
    # Finding 11 of issue 11: with the devices unreachable, safe mode wrote min_cap_w and
    # cut the inference load the site exists for. Only a thermal trip may cut must-run.
    group = PROFILE.rack_groups[0]
    # Just below the pod's limit: above what the dry cooler rejects on a 35 degC day.
    MUST_W = 39_900.0  # noqa: N806
    st = _state(now=1000.0, ambient__temp_c=35.0)
    st.update([("rack.pod.must_run_w",
                Reading("rack.pod.must_run_w", MUST_W, "W", Quality.GOOD, 1000.0))])
    st.now_s = 1000.0 + 10 * PROFILE.limits.stale_after_s  # everything stale: devices gone
    verdict = safety.check(st, PROFILE, BOUND)
    assert verdict.trip and not verdict.thermal
    lost = safety.safe_decision(st, PROFILE, verdict)
    assert lost.gpu_power_cap_w["pod"] >= MUST_W
    hot_state = _state(now=1000.0, loop__supply_temp_c=52.0, ambient__temp_c=35.0)
    hot_state.update([("rack.pod.must_run_w",
                       Reading("rack.pod.must_run_w", MUST_W, "W", Quality.GOOD, 1000.0))])
    hot = safety.check(hot_state, PROFILE, BOUND)
    assert hot.thermal
    capped = safety.safe_decision(hot_state, PROFILE, hot)
    assert capped.gpu_power_cap_w["pod"] < MUST_W <= group.max_power_w  # the envelope first


def test_must_run_estimate_is_used_before_any_measurement() -> None:
    group = PROFILE.rack_groups[0]
    st = SiteState(now_s=5.0)  # never read anything
    verdict = safety.check(st, PROFILE, BOUND)
    d = safety.safe_decision(st, PROFILE, verdict)
    assert d.gpu_power_cap_w["pod"] >= safety.must_run_estimate_w(group) > group.idle_power_w


def test_a_rack_groups_outlet_above_its_own_limit_trips() -> None:
    group = PROFILE.rack_groups[0]
    signal = f"rack.{group.id}.coolant_out_temp_c"
    at_limit = _state()
    at_limit.update([(signal, Reading(signal, group.coolant_outlet_limit_c, "degC",
                                      Quality.GOOD, 1000.0))])
    assert not safety.check(at_limit, PROFILE, BOUND | {signal}).trip  # within the sensor class
    hot = _state()
    hot.update([(signal, Reading(signal, group.coolant_outlet_limit_c + 1.0, "degC",
                                 Quality.GOOD, 1000.0))])
    verdict = safety.check(hot, PROFILE, BOUND | {signal})
    assert verdict.trip and verdict.thermal
    assert f"rack.{group.id}.outlet_trip" in [a.code for a in verdict.alarms]
