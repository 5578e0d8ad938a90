"""The simulated plant: conservation with hypothesis, fast paths against the physics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.models.loop import AIR_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
from thermalctl.models.sinks import SinkEnvironment
from thermalctl.physics import drycooler
from thermalctl.sim.inputs import SyntheticWeather, SyntheticWorkload, Weather
from thermalctl.sim.plant import Plant

POOL = load_site(POOL_SITE).profile
HOTEL = load_site(HOTEL_SITE).profile


def _variant(profile: SiteProfile, **changes: object) -> SiteProfile:
    data = profile.model_dump()
    for path, value in changes.items():
        node = data
        *head, last = path.split("__")
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return SiteProfile.model_validate(data)


#: The hotel with a heat pump lifting the loop water for its space heating.
HOTEL_HP = _variant(HOTEL, sinks__1__hx__heat_pump={"max_heat_w": 50_000.0})
#: The hotel with its exchangers side by side on valved branches.
HOTEL_PARALLEL = _variant(HOTEL, heat_loop__topology="parallel")


def _stored_kwh(plant: Plant) -> float:
    return (plant.loop_energy_j() - plant.initial_loop_energy_j) / 3.6e6


@settings(max_examples=15, deadline=None)
@given(
    site=st.sampled_from([POOL, HOTEL, HOTEL_HP, HOTEL_PARALLEL]),
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
    inn = t.it_kwh + t.heat_pump_electricity_kwh
    assert inn - out - _stored_kwh(plant) == pytest.approx(0.0, abs=1e-6)
    assert abs(plant.balance_residual_kwh()) <= 1e-9 * max(t.it_kwh, 1.0)
    assert t.rack_limit_violations == 0
    # Useful and overheating heat split what was delivered, sink by sink.
    for sid, delivered in t.sink_kwh.items():
        assert t.heat_kwh[sid] + t.overheating_kwh[sid] == pytest.approx(delivered, abs=1e-9)


def test_queue_running_total_matches_jobs() -> None:
    plant = Plant(POOL, 0.0)
    plant.commands.gpu_power_cap_w["pod"] = 10e3  # hold work back so a queue builds
    weather = SyntheticWeather(POOL.simulation)
    for _ in range(40):
        plant.step(900.0, weather(plant.time_s))
        jobs = sum(j.remaining_kwh for j in plant.queues["pod"])
        assert plant.queued_kwh("pod") == pytest.approx(jobs, rel=1e-9, abs=1e-9)
    assert plant.queued_kwh("pod") > 1.0


def test_exchangers_in_series_take_the_water_the_one_before_left() -> None:
    # One 30 s sub-step of the hotel at 0 degC: the DHW coil gets the rack outlet, the
    # heating exchanger what the coil left (rack outlet - Q_dhw / C), the dry cooler what
    # both left; each duty eps C_min (T_hot - T_cold) (Incropera eq. 11.20 / Table 11.3).
    plant = Plant(HOTEL, 0.0)
    plant.commands.dump_on = False
    plant.tank_nodes_c["dhw"] = [40.0] * 8
    loop = plant.loop
    plant.step(30.0, Weather(0.0, 0.7, 3.0))
    c = loop.capacity_rate_w_per_k
    captured = sum(g.capture_fraction * plant.group_power_w[g.id] for g in HOTEL.rack_groups)
    outlet = HOTEL.heat_loop.supply_temp_setpoint_c + captured / c
    q_dhw = loop.exchangers["dhw"].duty_w_per_k * (outlet - 40.0)
    assert plant.sink_heat_w["dhw"] == pytest.approx(min(q_dhw, 60e3), rel=1e-9)
    curve_return = float(plant.sink_models["heating"].hx_inlet_temp_c(
        [21.0], SinkEnvironment(0.0, 0.0)))
    second_in = outlet - plant.sink_heat_w["dhw"] / c
    q_heat = loop.exchangers["heating"].duty_w_per_k * (second_in - curve_return)
    assert plant.sink_heat_w["heating"] == pytest.approx(q_heat, rel=1e-9)
    # In parallel the heating exchanger sees the rack outlet itself on its half-flow branch.
    par = Plant(HOTEL_PARALLEL, 0.0)
    par.commands.dump_on = False
    par.tank_nodes_c["dhw"] = [40.0] * 8
    par.step(30.0, Weather(0.0, 0.7, 3.0))
    q_par = par.loop.exchangers["heating"].duty_w_per_k * (outlet - curve_return)
    assert par.sink_heat_w["heating"] == pytest.approx(q_par, rel=1e-9)


def test_dry_cooler_slope_has_its_air_side() -> None:
    plant = Plant(POOL, 0.0)
    loop = POOL.heat_loop
    c = plant.loop_capacity_rate_w_per_k
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
    hottest = 0.0
    for _ in range(96):
        plant.step(900.0, Weather(5.0, 0.7, 3.0))
        hottest = max(hottest, plant.return_temp_c())
    # Outside the legionella cycle (which the boiler pays) the coil only ever sees the
    # rack outlet, so the tank stays below the hottest water the racks gave.
    assert plant.totals.legionella_cycles_done == {"dhw": 1}
    plant.tank_nodes_c["dhw"] = [45.0] * 8
    for _ in range(3):  # 01:00-01:45 local: before the next day's cycle at 02:00
        plant.step(900.0, Weather(5.0, 0.7, 3.0))
    assert max(plant.tank_nodes_c["dhw"]) < hottest + 0.5


def test_space_heating_follows_its_curve_and_boiler() -> None:
    # The hotel's building at 20.0 degC on a -10 degC night: its circuit draws the design
    # load (valves open: 20 degC is below the 21 degC set point); with no loop heat the
    # boiler gives all of it; the room loses 90 kW / 31 K x 30 K and gains 3.75 W/m2 x
    # 5000 m2 (no sun at midnight): dT = (90 + 18.75 - 87.1) kW x 900 s / 1.5 GJ/K.
    plant = Plant(HOTEL, 0.0)
    plant.commands.sink_heat_request_w = {s.id: 0.0 for s in HOTEL.sinks}
    plant.sink_temp_c["heating"] = 20.0
    plant.step(900.0, Weather(-10.0, 0.7, 3.0))
    loss_w = 90e3 / 31.0 * 30.0
    assert plant.backup_heat_w["heating"] == pytest.approx(90e3, rel=1e-3)
    expected = 20.0 + (90e3 + 18_750.0 - loss_w) * 900.0 / 1.5e9
    assert plant.sink_temp_c["heating"] == pytest.approx(expected, rel=1e-4)


def test_space_heating_takes_nothing_above_its_heating_limit() -> None:
    plant = Plant(HOTEL, 0.0)
    for _ in range(8):
        plant.step(900.0, Weather(18.0, 0.7, 3.0))
    assert plant.totals.sink_kwh["heating"] == 0.0
    assert plant.totals.backup_kwh["heating"] == 0.0
    assert plant.totals.space_heating_above_limit_kwh == 0.0


def test_heat_dumped_while_a_backup_fires_with_headroom_is_counted() -> None:
    # The pool below its backup point, its valve shut by the controller, the dry cooler
    # on: everything dumped could have gone to the pool.
    plant = Plant(POOL, 0.0)
    plant.commands.sink_heat_request_w["pool"] = 0.0
    plant.commands.dump_on = True
    plant.commands.dump_heat_request_w = 1e6
    plant.sink_temp_c["pool"] = 28.0
    plant.step(900.0, Weather(5.0, 0.7, 3.0))
    t = plant.totals
    assert t.backup_kwh["pool"] > 0 and t.dumped_kwh > 0
    # Counted: what the open exchanger could have passed while the dump ran (the loop's
    # stored heat dumped beyond that is not counted).
    assert 0.0 < t.dumped_while_backup_kwh <= t.dumped_kwh
    # With the valve open the exchanger has no headroom left to count.
    fair = Plant(POOL, 0.0)
    fair.commands.dump_on = False
    fair.sink_temp_c["pool"] = 28.0
    fair.step(900.0, Weather(5.0, 0.7, 3.0))
    assert fair.totals.dumped_while_backup_kwh == 0.0


def test_heat_pump_lifts_loop_water_and_its_electricity_is_apart() -> None:
    plant = Plant(HOTEL_HP, 0.0)
    plant.step(900.0, Weather(-5.0, 0.7, 3.0))
    t = plant.totals
    hp_w = plant.heat_pump_w["heating"]
    heat_w = plant.sink_heat_w["heating"]
    assert heat_w > 0 and hp_w > 0
    # COP = Q / W within the Carnot-efficiency model (eta 0.45 by default).
    supply = plant.sink_models["heating"].supply_temp_c([21.0], SinkEnvironment(0.0, -5.0))
    # Here the rack outlet is warmer than the heating supply: the lift is held at its 5 K
    # minimum (physics.backup.DEFAULT_MIN_LIFT_K), the COP at its largest.
    assert heat_w / hp_w == pytest.approx(0.45 * (supply + 273.15) / 5.0, rel=1e-9)
    assert t.heat_pump_electricity_kwh == pytest.approx(
        t.sink_heat_pump_electricity_kwh["heating"])
    assert abs(plant.balance_residual_kwh()) <= 1e-9 * t.it_kwh


def test_coolant_limit_violations_are_counted_per_step() -> None:
    plant = Plant(POOL, 0.0)
    plant.loop_temp_c = POOL.rack_groups[0].coolant_inlet_limit_c + 1.0
    plant.commands.dump_on = False
    plant.commands.sink_heat_request_w["pool"] = 0.0
    plant.step(900.0, Weather(5.0, 0.7, 3.0))
    assert plant.totals.rack_coolant_limit_violations == 1
