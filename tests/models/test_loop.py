"""The heat-loop object: exchangers in their topology, dump, heat pump, for plant, planner,
safety alike."""

from __future__ import annotations

import math

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control import planner, safety
from thermalctl.models.loop import AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K, HeatLoopModel
from thermalctl.physics import drycooler, water
from thermalctl.sim.plant import Plant

PROFILES = [load_site(POOL_SITE).profile, load_site(HOTEL_SITE).profile]


def _counterflow_eps(ntu: float, cr: float) -> float:
    # Incropera et al., Fundamentals of Heat and Mass Transfer, 6th ed., Table 11.3.
    if abs(cr - 1.0) < 1e-12:
        return ntu / (1.0 + ntu)
    e = math.exp(-ntu * (1.0 - cr))
    return (1.0 - e) / (1.0 - cr * e)


def _variant(profile: SiteProfile, **changes: object) -> SiteProfile:
    data = profile.model_dump()
    for path, value in changes.items():
        node = data
        *head, last = path.split("__")
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return SiteProfile.model_validate(data)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.site.id)
def test_each_exchanger_has_its_own_capacity_rates(profile: SiteProfile) -> None:
    loop = HeatLoopModel.from_profile(profile)
    rho_cp = float(water.volumetric_heat_capacity_j_per_m3_k(
        profile.heat_loop.supply_temp_setpoint_c))
    for sink in profile.sinks:
        spec = profile.sink_hx(sink.id)
        ex = loop.exchangers[sink.id]
        c_hot = profile.heat_loop.flow_m3_per_h / 3600.0 * rho_cp  # series: whole loop
        c_cold = (spec.sink_flow_m3_per_h or profile.heat_loop.flow_m3_per_h) / 3600 * rho_cp
        c_min, c_max = min(c_hot, c_cold), max(c_hot, c_cold)
        eps = _counterflow_eps(spec.ua_w_per_k / c_min, c_min / c_max)
        assert ex.duty_w_per_k == pytest.approx(eps * c_min, rel=1e-9)
        assert loop.hx_duty_w(sink.id, 40.0, 30.0) == pytest.approx(10.0 * ex.duty_w_per_k)
        assert loop.hx_duty_w(sink.id, 30.0, 40.0) == 0.0


def test_series_order_and_parallel_branches() -> None:
    hotel = PROFILES[1]
    loop = HeatLoopModel.from_profile(hotel)
    assert loop.order == ("dhw", "heating")  # the hottest sink first
    c = loop.capacity_rate_w_per_k
    # In series the next exchanger sees what the first one left; in parallel the rack outlet.
    assert loop.next_hot_in_c(50.0, 50.0, 10_000.0) == pytest.approx(50.0 - 10_000.0 / c)
    parallel = _variant(hotel, heat_loop__topology="parallel")
    ploop = HeatLoopModel.from_profile(parallel)
    assert ploop.next_hot_in_c(45.0, 50.0, 10_000.0) == 50.0
    # Equal branch shares by default: half the loop flow through each exchanger.
    for ex in ploop.exchangers.values():
        assert ex.hot_capacity_rate_w_per_k == pytest.approx(c / 2.0, rel=1e-12)
    # Either way the dry cooler gets the rack outlet less all that was taken.
    assert ploop.dry_cooler_inlet_c(50.0, 2 * 10_000.0) == pytest.approx(50.0 - 20_000.0 / c)


def test_series_order_is_stated_or_profile_order() -> None:
    hotel = PROFILES[1]
    swapped = _variant(hotel, sinks__0__hx__order=1, sinks__1__hx__order=0)
    assert HeatLoopModel.from_profile(swapped).order == ("heating", "dhw")
    with pytest.raises(ValueError, match="share a series position"):
        _variant(hotel, sinks__0__hx__order=1)


def test_heat_pump_evaporator_and_cop() -> None:
    # An evaporating refrigerant has C_r = 0: eps = 1 - exp(-NTU) (Incropera, Table 11.3).
    hotel = _variant(PROFILES[1], sinks__1__hx__heat_pump={"max_heat_w": 40_000.0,
                                                           "carnot_efficiency": 0.5})
    ex = HeatLoopModel.from_profile(hotel).exchangers["heating"]
    c_hot = ex.hot_capacity_rate_w_per_k
    ua = hotel.sink_hx("heating").ua_w_per_k
    assert ex.duty_w_per_k == pytest.approx((1.0 - math.exp(-ua / c_hot)) * c_hot, rel=1e-6)
    # COP = eta T_hot / (T_hot - T_cold): 0.5 x 328.15 K / 20 K = 8.20 (Carnot heat pump,
    # Cengel & Boles, Thermodynamics, 8th ed., eq. 6-10).
    assert ex.cop(55.0, 35.0) == pytest.approx(0.5 * 328.15 / 20.0, rel=1e-12)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.site.id)
def test_dry_cooler_counts_its_air_side(profile: SiteProfile) -> None:
    loop = HeatLoopModel.from_profile(profile)
    cooler = profile.heat_loop.dry_cooler
    c_air = cooler.air_flow_m3_per_s * AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    c_loop = loop.capacity_rate_w_per_k
    with_air = float(drycooler.rejection_capacity_w(cooler.ua_w_per_k, 40.0, 10.0, c_loop, c_air))
    unlimited_air = float(drycooler.rejection_capacity_w(cooler.ua_w_per_k, 40.0, 10.0, c_loop))
    assert loop.dump_capacity_w(40.0, 10.0) == pytest.approx(with_air, rel=1e-9)
    assert loop.dump_capacity_w(40.0, 10.0) < 0.95 * unlimited_air
    assert loop.dump_capacity_w(10.0, 40.0) == 0.0


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.site.id)
def test_plant_planner_and_safety_share_the_loop(profile: SiteProfile) -> None:
    loop = HeatLoopModel.from_profile(profile)
    plant = Plant(profile)
    assert plant.loop == loop
    model = planner.build(profile, planner.PlannerSettings(horizon_steps=4))
    assert model.site.loop == loop
    trip_c = profile.limits.coolant_supply_trip_c
    assert safety.dump_capacity_w(profile, 20.0) == pytest.approx(
        loop.dump_capacity_w(trip_c, 20.0), rel=1e-12
    )


def test_group_outlets_share_the_flow_by_rack_power() -> None:
    hotel = PROFILES[1]
    loop = HeatLoopModel.from_profile(hotel)
    infer = hotel.rack_group("infer")
    c = loop.capacity_rate_w_per_k
    # infer has 40 of 120 kW of racks: a third of the flow carries its captured heat.
    assert loop.group_outlet_temp_c(infer, 40.0, 40_000.0) == pytest.approx(
        40.0 + 0.75 * 40_000.0 / (c / 3.0), rel=1e-12
    )
    # Coolant limits by cooling type (ASHRAE W45 for direct-to-chip: 45 degC in).
    assert infer.coolant_inlet_limit_c == 45.0 and infer.coolant_outlet_limit_c == 55.0
    assert hotel.coolant_inlet_limit_c == 45.0


def test_fan_affinity_law_and_must_run_clamp() -> None:
    profile = PROFILES[0]
    loop = HeatLoopModel.from_profile(profile)
    rated = profile.heat_loop.dry_cooler.rated_fan_power_w
    # Half the duty at half speed: an eighth of the rated power (P ~ n^3).
    assert loop.dump_fan_w(500.0, 1000.0) == pytest.approx(rated / 8.0)
    assert loop.dump_fan_w(0.0, 0.0) == 0.0
    g = profile.rack_groups[0]
    assert loop.must_run_w(g, 1e9) == g.max_power_w
    assert loop.must_run_w(g, 0.0) == g.idle_power_w
