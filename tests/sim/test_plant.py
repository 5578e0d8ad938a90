"""The simulated plant: conservation with hypothesis, fast paths against the physics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.models.loop import AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
from thermalctl.physics import drycooler, hx
from thermalctl.sim.inputs import SyntheticWeather, SyntheticWorkload, Weather
from thermalctl.sim.plant import Plant

POOL = load_site(POOL_SITE).profile
HOTEL = load_site(HOTEL_SITE).profile


def _stored_kwh(plant: Plant) -> float:
    return (plant.loop_energy_j() - plant.initial_loop_energy_j) / 3.6e6


@settings(max_examples=15, deadline=None)
@given(
    site=st.sampled_from([POOL, HOTEL]),
    cap_fraction=st.floats(0.0, 1.0),
    request_fraction=st.floats(0.0, 1.0),
    dump_on=st.booleans(),
    ambient_c=st.floats(-15.0, 35.0),
    steps=st.integers(1, 12),
)
def test_energy_is_conserved(
    site: SiteProfile,
    cap_fraction: float,
    request_fraction: float,
    dump_on: bool,
    ambient_c: float,
    steps: int,
) -> None:
    plant = Plant(site, 0.0)
    for g in site.rack_groups:
        plant.commands.gpu_power_cap_w[g.id] = cap_fraction * g.max_power_w
    for s in site.sinks:
        plant.commands.sink_heat_request_w[s.id] = request_fraction * s.max_heat_w
    plant.commands.dump_on = dump_on
    for _ in range(steps):
        plant.step(900.0, Weather(ambient_c, 0.7, 3.0))
    t = plant.totals
    out = sum(t.sink_kwh.values()) + t.dumped_kwh + t.loop_loss_kwh + t.uncaptured_kwh
    assert t.it_kwh - out - _stored_kwh(plant) == pytest.approx(0.0, abs=1e-6)
    assert abs(plant.balance_residual_kwh()) <= 1e-9 * max(t.it_kwh, 1.0)
    assert t.rack_limit_violations == 0


def test_queue_running_total_matches_jobs() -> None:
    plant = Plant(POOL, 0.0)
    plant.commands.gpu_power_cap_w["pod"] = 10e3  # hold work back so a queue builds
    weather = SyntheticWeather(POOL.simulation)
    for _ in range(40):
        plant.step(900.0, weather(plant.time_s))
        jobs = sum(j.remaining_kwh for j in plant.queues["pod"])
        assert plant.queued_kwh("pod") == pytest.approx(jobs, rel=1e-9, abs=1e-9)
    assert plant.queued_kwh("pod") > 1.0


def test_constant_exchanger_slopes_match_the_physics() -> None:
    plant = Plant(POOL, 0.0)
    loop = POOL.heat_loop
    c = plant.loop_capacity_rate_w_per_k
    duty = hx.plate_hx_duty_w(loop.hx.ua_w_per_k, 38.0, 30.0, c, c, loop.hx.arrangement)
    assert plant.hx_w_per_k * 8.0 == pytest.approx(float(duty), rel=1e-12)
    c_air = loop.dry_cooler.air_flow_m3_per_s * AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    dump = drycooler.rejection_capacity_w(loop.dry_cooler.ua_w_per_k, 38.0, 10.0, c, c_air)
    assert plant.dump_w_per_k * 28.0 == pytest.approx(float(dump), rel=1e-12)


def test_workload_is_a_pure_function_of_time() -> None:
    group = POOL.rack_groups[0]
    a = SyntheticWorkload(group, 3)
    b = SyntheticWorkload(group, 3)
    whole = a.arrivals_kwh(3600.0, 900.0)
    parts = sum(b.arrivals_kwh(3600.0 + 30.0 * i, 30.0) for i in range(30))
    assert parts == pytest.approx(whole, rel=1e-12)
    assert b.arrival_rate_w(1e6) == a.arrival_rate_w(1e6)


def test_dhw_tank_cannot_be_heated_above_the_loop() -> None:
    plant = Plant(HOTEL, 0.0)
    plant.commands.dump_on = True
    for _ in range(96):
        plant.step(900.0, Weather(5.0, 0.7, 3.0))
    # The preheat coil only ever sees water colder than the loop (plus a small excess
    # from the coil-node mean), so the tank top stays near the loop's set point.
    assert plant.sink_temp_c["dhw"] < HOTEL.heat_loop.supply_temp_setpoint_c + 5.0


def test_space_heating_follows_its_model_and_backup_thermostat() -> None:
    # The hotel's building at 20.0 degC on a -10 degC day: it loses its 90 kW design load
    # scaled to 30 K (87.1 kW) and its backup is fully on (more than 0.3 + 0.4 K below
    # 21 degC); with no loop heat it cools by (120 - 87.1) kW x 900 s / 1.5 GJ/K.
    plant = Plant(HOTEL, 0.0)
    plant.commands.sink_heat_request_w = {s.id: 0.0 for s in HOTEL.sinks}
    plant.sink_temp_c["heating"] = 20.0
    plant.step(900.0, Weather(-10.0, 0.7, 3.0))
    sink = HOTEL.sink("heating")
    loss_w = 90e3 / 31.0 * 30.0
    assert plant.backup_heat_w["heating"] == pytest.approx(sink.backup.max_heat_w)
    expected = 20.0 + (sink.backup.max_heat_w - loss_w) * 900.0 / 1.5e9
    assert plant.sink_temp_c["heating"] == pytest.approx(expected, rel=1e-4)
