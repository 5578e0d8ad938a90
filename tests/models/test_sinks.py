"""Sink models: the registry, and each kind's plant step against its own physics."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
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
    noon_s = 1_767_571_200.0 + 12 * 3600.0  # no cover at noon
    loss_w = float(pool.pool_heat_loss_w(
        30.0, sink.hall_air_temp_c, sink.hall_relative_humidity, sink.area_m2,
        activity_factor=sink.activity_factor,
        bathers_per_day=sink.fresh_water_m3_per_day / pool.FRESH_WATER_PER_BATHER_M3,
        mains_temp_c=sink.mains_temp_c, ground_ua_w_per_k=sink.ground_ua_w_per_k,
        cover_on=False,
    ))
    step = model.step([30.0], 0.0, 60.0, SinkEnvironment(noon_s, 5.0))
    assert step.backup_w == 0.0  # at the set point the backup is off
    assert step.nodes_c[0] == pytest.approx(30.0 - loss_w * 60.0 / model.capacity_j_per_k,
                                            rel=1e-9)
    # The planner's line at the set point is the plant's line at the set point.
    offset, slope = model.loss_line_w(np.array([noon_s]), np.array([5.0]), None, 30.0)
    assert float(offset[0] + slope[0] * 30.0) == pytest.approx(loss_w, rel=1e-9)


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
    assert step.backup_w == pytest.approx(draw * 1000.0 * 4186.0 * (45.0 - 44.0))
    expected, _ = tank.step_tank(nodes, 60.0, draw, sink.mains_temp_c, 10e3,
                                 HOTEL.heat_loop.plant_room_temp_c, model.tank_params)
    np.testing.assert_allclose(step.nodes_c, expected)
    # The preheat coil sits in the lower third (3 of 8 nodes).
    assert model.hx_inlet_temp_c(nodes) == pytest.approx(20.0)
    assert model.sensor_temp_c(nodes) == 44.0 and model.mean_temp_c(nodes) == 32.0


def test_building_loses_its_design_load_at_design_conditions() -> None:
    # EN 12831-1: the design heat load is the loss at the design outdoor temperature.
    sink = HOTEL.sink("heating")
    design = building_heat_loss_w(sink, sink.indoor_temp_c, sink.design_outdoor_temp_c)
    assert design == pytest.approx(sink.design_heat_w, rel=1e-12)
    model = model_for(sink, HOTEL)
    # Below the heating limit the planner's line is the plant's loss, exactly.
    ambient = np.array([-10.0, 0.0, 10.0])
    offset, slope = model.loss_line_w(np.zeros(3), ambient, None, sink.setpoint_c)
    plant = [building_heat_loss_w(sink, 21.5, a) for a in ambient]
    np.testing.assert_allclose(offset + slope * 21.5, plant, rtol=1e-12)
    # Above it, internal gains cover the loss down to limit + 3 K.
    assert building_heat_loss_w(sink, 18.0, 16.0) == 0.0
    assert model.hx_inlet_temp_c([21.0]) == 31.0  # radiator return 10 K above the room
