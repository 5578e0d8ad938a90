"""The thermostat and the rules policy, decision by decision, on plain numbers.

Each test builds the snapshot a site's meters would give (a SiteState of GOOD readings)
and checks one rule of :mod:`thermalctl.control.policy` (the thermostat) or
:mod:`thermalctl.control.rules`.
"""

from __future__ import annotations

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control.policy import (
    CEILING_MARGIN_K,
    CeilingGuard,
    ThermostatPolicy,
    calls_for_heat,
    loop_ceiling_c,
)
from thermalctl.control.registry import NotAControllerError, build_policy, canonical
from thermalctl.control.rules import THERMAL_HOLD_ABOVE_CEILING_K, RulesPolicy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.points import Quality, Reading

NOW_S = 1_767_600_000.0


@pytest.fixture(scope="module")
def hotel() -> SiteProfile:
    return load_site(HOTEL_SITE).profile


@pytest.fixture(scope="module")
def pool() -> SiteProfile:
    return load_site(POOL_SITE).profile


def _state(values: dict[str, float], now_s: float = NOW_S) -> SiteState:
    return SiteState(now_s, {k: Reading(k, v, "", Quality.GOOD, now_s) for k, v in values.items()})


def _hotel_values(**over: float) -> dict[str, float]:
    values = {
        "loop.supply_temp_c": 40.0,
        "ambient.temp_c": 2.0,
        "sink.dhw.temp_c": 55.0,
        "sink.dhw.backup_heat_w": 0.0,
        "sink.dhw.heat_w": 0.0,
        "sink.heating.temp_c": 21.5,
        "sink.heating.backup_heat_w": 0.0,
        "sink.heating.heat_w": 0.0,
        "rack.train.power_w": 50_000.0,
        "rack.train.must_run_w": 12_000.0,
        "rack.train.queued_kwh": 0.0,
        "rack.infer.power_w": 30_000.0,
        "rack.infer.must_run_w": 28_000.0,
        "rack.infer.queued_kwh": 0.0,
    }
    values.update({k.replace("__", "."): v for k, v in over.items()})
    return values


def test_ceiling_is_the_lowest_rack_limit_less_the_margin(hotel: SiteProfile) -> None:
    # Hotel: W45 racks (inlet <= 45 degC), alarm 50, outlet 55 less an 8.6 K rise at full
    # load: the inlet limit decides.
    assert loop_ceiling_c(hotel) == pytest.approx(45.0 - CEILING_MARGIN_K)


def test_ceiling_guard_anticipates_the_rise_and_has_a_differential() -> None:
    guard = CeilingGuard(43.0)
    assert not guard.hot(0.0, 40.0)
    assert guard.hot(300.0, 41.6)  # rising 1.6 K per decision: 43.2 by the next one
    assert guard.hot(600.0, 42.5)  # latched ...
    assert not guard.hot(900.0, 41.9)  # ... until 1 K below the ceiling
    assert guard.hot(1200.0, float("nan"))  # no usable reading: reject heat


@pytest.mark.parametrize(
    ("over", "calls"),
    [
        ({"sink__heating__temp_c": 20.5}, True),  # below the set point
        ({"sink__heating__backup_heat_w": 20_000.0}, True),  # its boiler fires
        ({"sink__heating__heat_w": 5_000.0}, True),  # takes heat, within the differential
        ({"sink__heating__temp_c": 22.5, "sink__heating__heat_w": 5_000.0}, False),
        ({"sink__heating__temp_c": 23.5, "sink__heating__backup_heat_w": 9e4}, False),  # top
        ({"sink__heating__temp_c": 20.5, "ambient__temp_c": 16.0}, False),  # heating limit
        ({}, False),
    ],
)
def test_when_a_sink_calls_for_heat(
    hotel: SiteProfile, over: dict[str, float], calls: bool
) -> None:
    state = _state(_hotel_values(**over))
    outdoor = state.value("ambient.temp_c")
    sink = hotel.sink("heating")
    assert calls_for_heat(state, sink, OperatorSettings(), outdoor) is calls


def test_thermostat_keeps_the_dry_cooler_off_while_a_sink_calls(hotel: SiteProfile) -> None:
    policy = ThermostatPolicy(hotel)
    calling = policy.decide(_state(_hotel_values(sink__heating__backup_heat_w=3e4)),
                            OperatorSettings())
    assert not calling.dump_on
    assert calling.sink_heat_request_w["heating"] == hotel.sink("heating").max_heat_w
    assert calling.gpu_power_cap_w == {"train": 80_000.0, "infer": 40_000.0}
    quiet = ThermostatPolicy(hotel).decide(_state(_hotel_values()), OperatorSettings())
    assert quiet.dump_on and quiet.dump_heat_request_w == 0.0  # holds the design supply


def test_thermostat_at_the_ceiling_asks_the_dry_cooler_for_the_surplus(
    hotel: SiteProfile,
) -> None:
    policy = ThermostatPolicy(hotel)
    values = _hotel_values(loop__supply_temp_c=policy.ceiling_c + 0.1,
                           sink__heating__backup_heat_w=3e4, sink__heating__heat_w=20_000.0)
    decision = policy.decide(_state(values), OperatorSettings())
    assert decision.dump_on
    # Racks at their caps (120 kW) x 0.75 captured, less the 20 kW the sinks take.
    assert decision.dump_heat_request_w == pytest.approx(0.75 * 120_000.0 - 20_000.0)


def test_rules_serve_a_calling_sink_and_charge_in_priority_order(hotel: SiteProfile) -> None:
    policy = RulesPolicy(hotel)
    settings = OperatorSettings()
    # The tank (first in priority) below its set point starts charging; the building
    # neither calls nor charges.
    d = policy.decide(_state(_hotel_values(sink__dhw__temp_c=48.0)), settings)
    assert d.sink_heat_request_w == {"dhw": 60_000.0, "heating": 0.0}
    assert not d.dump_on
    # Above its set point the tank keeps charging to the top of its band (60 degC).
    d = policy.decide(_state(_hotel_values(sink__dhw__temp_c=57.0)), settings)
    assert d.sink_heat_request_w["dhw"] == 60_000.0
    # Full: the charge cycle ends and with no sink wanting heat the dry cooler runs.
    d = policy.decide(_state(_hotel_values(sink__dhw__temp_c=59.9)), settings)
    assert d.sink_heat_request_w["dhw"] == 0.0 and d.dump_on


def test_rules_hold_deferrable_work_until_heat_is_wanted_or_a_deadline_nears(
    hotel: SiteProfile,
) -> None:
    policy = RulesPolicy(hotel)
    settings = OperatorSettings()
    full = _hotel_values(sink__dhw__temp_c=59.9, rack__train__queued_kwh=50.0)
    d = policy.decide(_state(full), settings)
    assert d.gpu_power_cap_w["train"] == pytest.approx(12_000.0)  # must-run only
    # 50 kWh at 68 kW headroom takes 0.74 h; the 24 h deadline less 1 h margin nears
    # after 22.3 h of waiting.
    late = policy.decide(_state(full, NOW_S + 22.5 * 3600.0), settings)
    assert late.gpu_power_cap_w["train"] == 80_000.0
    # A sink that wants heat releases the work at once.
    wanting = RulesPolicy(hotel).decide(
        _state(_hotel_values(sink__dhw__temp_c=48.0, rack__train__queued_kwh=50.0)), settings)
    assert wanting.gpu_power_cap_w["train"] == 80_000.0


def test_rules_hold_work_near_the_racks_limit_whatever_the_deadline(hotel: SiteProfile) -> None:
    policy = RulesPolicy(hotel)
    values = _hotel_values(sink__dhw__temp_c=48.0, rack__train__queued_kwh=50.0,
                           loop__supply_temp_c=policy.ceiling_c + THERMAL_HOLD_ABOVE_CEILING_K)
    d = policy.decide(_state(values), OperatorSettings())
    assert d.gpu_power_cap_w["train"] == pytest.approx(12_000.0)
    assert d.dump_on and d.dump_heat_request_w > 0.0


def test_registry_names_and_aliases(pool: SiteProfile) -> None:
    assert canonical("baseline") == "thermostat"
    assert canonical("oracle") == "mpc_perfect"
    assert build_policy("baseline", pool).name == "thermostat"
    assert build_policy("rules", pool).name == "rules"
    with pytest.raises(NotAControllerError, match="bound, not a controller"):
        build_policy("bound", pool)
    with pytest.raises(ValueError, match="needs the true future"):
        build_policy("oracle", pool)
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        build_policy("nope", pool)
