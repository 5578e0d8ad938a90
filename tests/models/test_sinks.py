"""Sink models: the registry, and each kind's plant step against its own physics."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE, SITE_PROFILES
from thermalctl.config.loader import load_site
from thermalctl.models.sinks import (
    BACKUP_BAND_K,
    BACKUP_START_BELOW_SETPOINT_K,
    DhwModel,
    PoolModel,
    SinkEnvironment,
    SpaceHeatingModel,
    model_for,
    models_for,
)
from thermalctl.models.sinks.space_heating import building_heat_loss_w
from thermalctl.physics import pool, tank

POOL = load_site(POOL_SITE).profile
HOTEL = load_site(HOTEL_SITE).profile
PACKAGE = Path(__file__).resolve().parents[2] / "thermalctl"


def test_registry_maps_every_kind() -> None:
    kinds = {type(m) for m in [*models_for(POOL).values(), *models_for(HOTEL).values()]}
    assert kinds == {PoolModel, DhwModel, SpaceHeatingModel}
    with pytest.raises(ValueError, match="no model for sink kind 'geothermal'"):
        model_for(SimpleNamespace(kind="geothermal"), POOL)  # type: ignore[arg-type]


def test_nothing_outside_the_registry_tests_for_the_sink_class() -> None:
    sink_classes = {"PoolSink", "DhwSink", "SpaceHeatingSink"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "models" / "sinks"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                if names & sink_classes:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders


def test_pool_capacity_is_its_water_at_the_set_point() -> None:
    # IAPWS-95 at 30 degC, 0.1 MPa: rho = 995.65 kg/m3, cp = 4.1798 kJ/(kg K)
    # (Wagner & Pruss, J. Phys. Chem. Ref. Data 31 (2002) 387, Table 13.2); within 0.05 %.
    sink = POOL.sinks[0]
    model = model_for(sink, POOL)
    assert sink.setpoint_c == 30.0
    assert model.capacity_j_per_k == pytest.approx(sink.volume_m3 * 995.65 * 4179.8, rel=5e-4)


def test_pool_step_loses_what_the_physics_says() -> None:
    sink = POOL.sinks[0]
    model = model_for(sink, POOL)
    assert isinstance(model, PoolModel)
    noon_s = 1_767_571_200.0 + 12 * 3600.0  # no cover, open, at noon
    mains = float(model.mains_temp_c(noon_s))
    loss_w = float(pool.pool_heat_loss_w(
        30.0, sink.hall_air_temp_c, sink.hall_relative_humidity, sink.area_m2,
        activity_factor=1.0, surface_temp_c=sink.hall_air_temp_c - 2.0,
        bathers_per_day=sink.fresh_water_m3_per_day / pool.FRESH_WATER_PER_BATHER_M3,
        mains_temp_c=round(mains, 1), ground_ua_w_per_k=sink.ground_ua_w_per_k,
        cover_on=False,
    ))
    step = model.step([30.0], 0.0, 60.0, SinkEnvironment(noon_s, 5.0))
    assert step.backup_w == 0.0  # at the set point the backup is off
    assert step.nodes_c[0] == pytest.approx(30.0 - loss_w * 60.0 / model.capacity_j_per_k,
                                            rel=1e-9)
    # The planner's line at the set point is the plant's line at the set point.
    offset, slope = model.loss_line_w(np.array([noon_s]), np.array([5.0]), None, 30.0)
    assert float(offset[0] + slope[0] * 30.0) == pytest.approx(loss_w, rel=1e-9)


def test_public_pool_evaporates_with_its_ashrae_activity_factor() -> None:
    # ASHRAE Handbook - HVAC Applications (2019), ch. 6, Table 2: public pool 1.0; an
    # unoccupied pool 0.5. Evaporation is proportional to the factor.
    sink = POOL.sinks[0]
    assert sink.pool_type == "public_school" and sink.open_activity_factor == 1.0
    model = model_for(sink, POOL)
    assert isinstance(model, PoolModel)
    open_line = model.loss_line_at(30.0, False, True, 12.0)
    closed_line = model.loss_line_at(30.0, False, False, 12.0)
    evap_open = pool.pool_heat_loss_breakdown(
        30.0, sink.hall_air_temp_c, sink.hall_relative_humidity, sink.area_m2,
        activity_factor=1.0).evaporation_w
    evap_closed = pool.pool_heat_loss_breakdown(
        30.0, sink.hall_air_temp_c, sink.hall_relative_humidity, sink.area_m2,
        activity_factor=0.5).evaporation_w
    at_30 = open_line[0] + 30.0 * open_line[1] - (closed_line[0] + 30.0 * closed_line[1])
    # The difference of the two loss lines is the evaporation difference (its make-up
    # water heating included: a few per cent more).
    assert at_30 == pytest.approx(float(evap_open - evap_closed), rel=0.05)
    assert bool(model.is_open(1_767_571_200.0 + 12 * 3600.0))
    assert not bool(model.is_open(1_767_571_200.0 + 3 * 3600.0))


def test_pool_radiates_to_the_hall_surfaces_not_the_air() -> None:
    # Net long-wave exchange eps sigma A (T_w^4 - T_s^4) (Incropera eq. 1.7): with the
    # surfaces 2 K below the 31 degC air, a 30 degC pool loses heat by radiation.
    sink = POOL.sinks[0]
    args = sink.loss_model_arguments(False)
    assert args["surface_temp_c"] == sink.hall_air_temp_c - 2.0
    breakdown = pool.pool_heat_loss_breakdown(
        30.0, sink.hall_air_temp_c, sink.hall_relative_humidity, sink.area_m2,
        surface_temp_c=29.0)
    expected = 0.95 * 5.670374419e-8 * sink.area_m2 * (303.15**4 - 302.15**4)
    assert float(breakdown.radiation_w) == pytest.approx(expected, rel=1e-6)


def test_make_up_water_follows_the_seasonal_mains_temperature() -> None:
    model = model_for(POOL.sinks[0], POOL)
    jan = 1_767_571_200.0  # 2026-01-05
    aug = jan + 220 * 86_400.0
    assert float(model.mains_temp_c(aug)) > float(model.mains_temp_c(jan)) + 4.0


@pytest.mark.parametrize("profile", [POOL, HOTEL], ids=lambda p: p.site.id)
def test_backup_thermostat_band(profile) -> None:
    for model in models_for(profile).values():
        if not model.backup_heats_sink:
            continue
        sp = model.sink.setpoint_c
        full = model.sink.backup.max_heat_w
        assert model.thermostat_backup_w(sp) == 0.0
        assert model.thermostat_backup_w(sp - BACKUP_START_BELOW_SETPOINT_K) == 0.0
        half = sp - BACKUP_START_BELOW_SETPOINT_K - BACKUP_BAND_K / 2
        assert model.thermostat_backup_w(half) == pytest.approx(full / 2)
        assert model.thermostat_backup_w(sp - 5.0) == full


def test_tank_backup_only_tops_up_draws_and_step_is_the_physics() -> None:
    sink = HOTEL.sink("dhw")
    model = model_for(sink, HOTEL)
    assert isinstance(model, DhwModel) and not model.backup_heats_sink
    nodes = [44.0] * 4 + [20.0] * 4
    draw = 0.5 / 3600.0
    env = SinkEnvironment(0.0, -5.0, draw)
    step = model.step(nodes, 10e3, 60.0, env)
    # The heater downstream lifts the draw to the tap temperature and makes up the
    # circulation loop's loss; the preheat stage does not serve the tap.
    top_up = draw * 1000.0 * 4186.0 * (45.0 - 44.0)
    assert step.backup_w == pytest.approx(top_up + sink.circulation_loss_w)
    expected, _ = tank.step_tank(nodes, 60.0, draw, float(model.mains_temp_c(0.0)), 10e3,
                                 HOTEL.heat_loop.plant_room_temp_c, model.tank_params)
    np.testing.assert_allclose(step.nodes_c, expected)
    # The preheat coil sits in the lower third (3 of 8 nodes).
    assert model.hx_inlet_temp_c(nodes, env) == pytest.approx(20.0)
    assert model.sensor_temp_c(nodes) == 44.0 and model.mean_temp_c(nodes) == 32.0


def test_legionella_cycle_heats_every_node_to_60_with_the_backup() -> None:
    # DVGW W 551: a preheat stage of a large system is heated to >= 60 degC once a day.
    sink = HOTEL.sink("dhw")
    model = model_for(sink, HOTEL)
    assert isinstance(model, DhwModel)
    nodes = [50.0] * 8
    env = SinkEnvironment(0.0, 5.0, 0.0, legionella_active=True)
    step = model.step(nodes, 0.0, 900.0, env)
    # 4 m3 from 50 (less the step's standing loss) to 60 degC: about 46 kWh, more than
    # the 120 kW boiler gives in 15 min (30 kWh): the cycle takes two steps.
    assert not step.cycle_complete
    assert step.backup_w == pytest.approx(sink.backup.max_heat_w + sink.circulation_loss_w,
                                          rel=1e-9)
    step2 = model.step(step.nodes_c, 0.0, 900.0, env)
    assert step2.cycle_complete and min(step2.nodes_c) >= 60.0 - 0.1
    # Energy: what the boiler gave over both steps is the tank's rise plus its loss.
    gave_j = (step.backup_w + step2.backup_w - 2 * sink.circulation_loss_w) * 900.0
    assert gave_j == pytest.approx(model.capacity_j_per_k * (60.0 - 50.0), rel=0.01)
    # The cycle starts at its local hour (02:00 Europe/Berlin = 01:00 UTC in winter).
    jan = 1_767_571_200.0
    assert not model.legionella_due(jan + 0.5 * 3600.0)
    assert model.legionella_due(jan + 1.0 * 3600.0)


def test_forecast_draws_are_the_plants_draws_in_local_time() -> None:
    from thermalctl.sim.plant import Plant

    sink = HOTEL.sink("dhw")
    model = model_for(sink, HOTEL)
    plant = Plant(HOTEL, 0.0)
    times = 1_767_571_200.0 + 900.0 * np.arange(96)
    forecast = model.draw_forecast_m3_per_s(times)
    plant_draws = [plant.dhw_draw_m3_per_s(sink, float(t)) for t in times]  # type: ignore[arg-type]
    np.testing.assert_allclose(forecast, plant_draws, rtol=1e-12)
    # The morning peak at 07:30 local (06:30 UTC in winter).
    assert int(np.argmax(forecast[:48])) == 26


def test_building_loses_its_design_load_at_design_conditions() -> None:
    # EN 12831-1: the design heat load is the loss at the design outdoor temperature.
    sink = HOTEL.sink("heating")
    design = building_heat_loss_w(sink, sink.indoor_temp_c, sink.design_outdoor_temp_c)
    assert design == pytest.approx(sink.design_heat_w, rel=1e-12)
    model = model_for(sink, HOTEL)
    assert isinstance(model, SpaceHeatingModel)
    # The planner's line is the plant's loss less the gains, exactly.
    times = np.array([0.0, 43_200.0, 86_000.0])
    ambient = np.array([-10.0, 0.0, 10.0])
    offset, slope = model.loss_line_w(times, ambient, None, sink.setpoint_c)
    plant = [building_heat_loss_w(sink, 21.5, a) - float(model.gains_w(t))
             for a, t in zip(ambient, times, strict=True)]
    np.testing.assert_allclose(offset + slope * 21.5, plant, rtol=1e-12)


def test_heating_curve_sets_the_exchanger_inlet_and_demand() -> None:
    sink = HOTEL.sink("heating")
    model = model_for(sink, HOTEL)
    assert isinstance(model, SpaceHeatingModel)
    design = SinkEnvironment(0.0, sink.design_outdoor_temp_c)
    # At the design point the curve is its design pair (50/40 degC) and the circuit draws
    # the design load with the room at its set point.
    assert model.supply_temp_c([21.0], design) == pytest.approx(50.0)
    assert model.hx_inlet_temp_c([21.0], design) == pytest.approx(40.0)
    assert model.circuit_draw_w(21.0, design) == pytest.approx(sink.design_heat_w)
    # No jump at the heating limit: the demand goes to zero continuously, and both
    # curve temperatures meet the room temperature there.
    below = SinkEnvironment(0.0, sink.heating_limit_temp_c - 1e-6)
    at = SinkEnvironment(0.0, sink.heating_limit_temp_c)
    assert model.circuit_draw_w(21.0, below) == pytest.approx(0.0, abs=1e-2)
    assert model.circuit_draw_w(21.0, at) == 0.0
    assert model.hx_inlet_temp_c([21.0], at) == pytest.approx(sink.indoor_temp_c)
    # The room valves close over 2 K above the set point (EN 215, xp = 2 K).
    assert model.circuit_draw_w(22.0, design) == pytest.approx(sink.design_heat_w / 2)
    assert model.circuit_draw_w(23.0, design) == 0.0
    # The boiler lifts what the loop does not give to the curve.
    step = model.step([21.0], 30_000.0, 60.0, design)
    assert step.backup_w == pytest.approx(sink.design_heat_w - 30_000.0)
    assert model.demand_cap_w([21.0], design) == pytest.approx(sink.max_heat_w)


@pytest.mark.parametrize("site", SITE_PROFILES, ids=lambda p: p.stem)
def test_band_low_profile_is_the_band_in_force(site: Path) -> None:
    """The planner's vectorised band bottom (night setback included) is :meth:`band_c`'s,
    at every quarter hour of a week."""
    profile = load_site(site).profile
    times = 1767600000.0 + np.arange(0.0, 7 * 86400.0, 900.0)
    for model in models_for(profile).values():
        expected = [model.band_c(float(t))[0] for t in times]
        np.testing.assert_allclose(model.band_low_profile_c(times), expected)
