"""The heat-loop object: one set of exchanger and dump numbers for plant, planner, safety."""

from __future__ import annotations

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.control import planner, safety
from thermalctl.models.loop import AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K, HeatLoopModel
from thermalctl.physics import drycooler
from thermalctl.sim.plant import Plant

PROFILES = [load_site(POOL_SITE).profile, load_site(HOTEL_SITE).profile]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.site.id)
def test_plate_hx_is_counterflow_with_equal_capacity_rates(profile) -> None:
    # Counterflow with C_r = 1: eps = NTU / (1 + NTU) (Incropera et al., Fundamentals of
    # Heat and Mass Transfer, 6th ed., Table 11.3); duty per K = eps C.
    loop = HeatLoopModel.from_profile(profile)
    c = loop.capacity_rate_w_per_k
    ntu = profile.heat_loop.hx.ua_w_per_k / c
    assert loop.hx_w_per_k == pytest.approx(c * ntu / (1.0 + ntu), rel=1e-9)
    assert loop.hx_duty_w(40.0, 30.0) == pytest.approx(10.0 * loop.hx_w_per_k)
    assert loop.hx_duty_w(30.0, 40.0) == 0.0


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.site.id)
def test_dry_cooler_counts_its_air_side(profile) -> None:
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
def test_plant_planner_and_safety_share_the_loop(profile) -> None:
    loop = HeatLoopModel.from_profile(profile)
    plant = Plant(profile)
    assert plant.dump_w_per_k == loop.dump_w_per_k
    assert plant.hx_w_per_k == loop.hx_w_per_k
    model = planner.build(profile, planner.PlannerSettings(horizon_steps=4))
    assert model.site.loop == loop
    trip_c = profile.limits.coolant_supply_trip_c
    assert safety.dump_capacity_w(profile, 20.0) == pytest.approx(
        loop.dump_capacity_w(trip_c, 20.0), rel=1e-12
    )


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
