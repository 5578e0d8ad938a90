"""Stratified tank: exact energy conservation, plug flow, mixing, losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thermalctl.physics.tank import (
    DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K,
    TankParams,
    mix_inversions,
    step_tank,
    tank_energy_j,
)
from thermalctl.physics.water import volumetric_heat_capacity_j_per_m3_k

temps_st = st.lists(st.floats(5.0, 95.0), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    temps=temps_st,
    dt=st.floats(0.0, 3600.0),
    draw=st.floats(0.0, 5e-4),
    mains=st.floats(2.0, 25.0),
    heat=st.floats(-5e3, 2e4),
    ambient=st.floats(-5.0, 35.0),
    ua=st.floats(0.0, 20.0),
    conductivity=st.floats(0.0, 50.0),
    reference=st.floats(-20.0, 60.0),
)
def test_energy_is_conserved_exactly(
    temps: list[float],
    dt: float,
    draw: float,
    mains: float,
    heat: float,
    ambient: float,
    ua: float,
    conductivity: float,
    reference: float,
) -> None:
    params = TankParams(
        volume_m3=0.3,
        height_m=1.6,
        node_count=len(temps),
        loss_ua_w_per_k=ua,
        effective_conductivity_w_per_m_k=conductivity,
    )
    new, energy = step_tank(temps, dt, draw, mains, heat, ambient, params, reference)
    # Stored-energy change from the temperatures themselves (independent of the accumulators).
    stored = tank_energy_j(new, 0.3, reference) - tank_energy_j(temps, 0.3, reference)
    terms = energy.heat_in_j - energy.draw_out_j + energy.mains_in_j - energy.loss_j
    # Floating-point rounding only: relative to the largest energy handled in the step,
    # including the node temperatures' own rho c_p V T (the step works on temperatures, so
    # its rounding scales with them, not with the energy above the reference).
    scale = max(
        1.0,
        abs(float(tank_energy_j(temps, 0.3, 0.0))),
        abs(float(tank_energy_j(temps, 0.3, reference))),
        abs(float(tank_energy_j(new, 0.3, reference))),
        abs(energy.heat_in_j), abs(energy.draw_out_j), abs(energy.mains_in_j), abs(energy.loss_j),
    )  # fmt: skip
    assert abs(stored - terms) <= 1e-10 * scale
    assert abs(energy.balance_residual_j) <= 1e-10 * scale
    assert energy.heat_in_j == pytest.approx(heat * dt, rel=1e-9, abs=1e-6)
    # Buoyancy: never hotter below than above after the step.
    assert np.all(np.diff(new) <= 1e-9)


def test_plug_flow_shifts_nodes_exactly_at_courant_one() -> None:
    # Drawing exactly one node volume in one step moves every node up by one and brings
    # mains water into the bottom (upwind scheme is exact at Courant number 1).
    params = TankParams(0.3, 1.5, node_count=3, loss_ua_w_per_k=0.0,
                        effective_conductivity_w_per_m_k=0.0)  # fmt: skip
    new, energy = step_tank([60.0, 50.0, 40.0], 100.0, 0.001, 10.0, 0.0, 20.0, params)
    np.testing.assert_allclose(new, [50.0, 40.0, 10.0], atol=1e-12)
    vhc = DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    assert energy.delivered_heat_j == pytest.approx(vhc * 0.1 * (60.0 - 10.0), rel=1e-12)


def test_long_draw_flushes_tank_to_mains() -> None:
    params = TankParams(0.2, 1.2, node_count=8, loss_ua_w_per_k=0.0)
    new, _ = step_tank([60.0] * 8, 3600.0, 2e-4, 12.0, 0.0, 20.0, params)  # 3.6 tank volumes
    np.testing.assert_allclose(new, 12.0, atol=0.5)


def test_mixing_removes_inversions_and_keeps_energy() -> None:
    assert mix_inversions([50.0, 60.0, 40.0]).tolist() == [55.0, 55.0, 40.0]
    assert mix_inversions([40.0, 50.0, 60.0]).tolist() == pytest.approx([50.0] * 3)
    assert mix_inversions([60.0, 20.0, 30.0, 10.0]).tolist() == [60.0, 25.0, 25.0, 10.0]
    profile = np.array([30.0, 70.0, 20.0, 50.0, 45.0])
    mixed = mix_inversions(profile)
    assert mixed.sum() == pytest.approx(profile.sum(), rel=1e-15)
    assert np.all(np.diff(mixed) <= 0)


def test_bottom_heating_of_stratified_tank_mixes_upwards() -> None:
    # Heating the bottom node of a stratified tank makes it rise until stable.
    params = TankParams(0.3, 1.5, node_count=3, loss_ua_w_per_k=0.0,
                        heat_in_node_fractions=(0.0, 0.0, 1.0))  # fmt: skip
    new, energy = step_tank([60.0, 40.0, 20.0], 3600.0, 0.0, 10.0, 10e3, 20.0, params)
    assert np.all(np.diff(new) <= 1e-9)
    assert new[0] > 60.0 - 1e-9
    assert energy.stored_change_j == pytest.approx(10e3 * 3600.0, rel=1e-9)


def test_standing_loss_matches_exponential_decay() -> None:
    # A fully mixed tank (one node) cools as T_amb + (T0 - T_amb) exp(-UA t / C).
    params = TankParams(0.3, 1.5, node_count=1, loss_ua_w_per_k=2.0)
    capacity = DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K * 0.3
    temps = np.array([60.0])
    for _ in range(48):
        temps, _energy = step_tank(temps, 3600.0, 0.0, 10.0, 0.0, 20.0, params)
    expected = 20.0 + 40.0 * math.exp(-2.0 * 48 * 3600.0 / capacity)
    # The loss of a node on its own is integrated exactly, so only rounding remains.
    assert temps[0] == pytest.approx(expected, rel=1e-12)


def test_conduction_destratifies_without_changing_energy() -> None:
    params = TankParams(0.3, 1.5, node_count=10, loss_ua_w_per_k=0.0,
                        effective_conductivity_w_per_m_k=5.0)  # fmt: skip
    start = np.linspace(70.0, 15.0, 10)
    new, energy = step_tank(start, 24 * 3600.0, 0.0, 10.0, 0.0, 20.0, params)
    assert new[0] < 70.0 and new[-1] > 15.0
    assert energy.stored_change_j == pytest.approx(0.0, abs=1e-6 * float(tank_energy_j(start, 0.3)))


def test_default_heat_capacity_is_water_at_45c() -> None:
    assert (
        pytest.approx(float(volumetric_heat_capacity_j_per_m3_k(45.0)))
        == DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    )
    # Constant-capacity error stays below 1.5 % over 10-80 C, as documented.
    for temp in (10.0, 80.0):
        ratio = (
            volumetric_heat_capacity_j_per_m3_k(temp)
            / DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
        )
        assert abs(ratio - 1.0) < 1.5e-2


def test_tank_energy_by_hand_and_over_time_axis() -> None:
    vhc = DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    assert tank_energy_j([60.0, 40.0], 0.3, 10.0) == pytest.approx(vhc * 0.15 * (50.0 + 30.0))
    series = tank_energy_j([[60.0, 40.0], [20.0, 20.0]], 0.3, 10.0)
    assert series.shape == (2,)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"volume_m3": 0.0, "height_m": 1.0},
        {"volume_m3": 0.3, "height_m": 1.0, "node_count": 0},
        {"volume_m3": 0.3, "height_m": 1.0, "node_count": 2, "heat_in_node_fractions": (0.5,)},
        {"volume_m3": 0.3, "height_m": 1.0, "node_count": 2, "loss_node_fractions": (0.5, 0.6)},
    ],
)
def test_invalid_params_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TankParams(**kwargs)  # type: ignore[arg-type]


def test_invalid_step_inputs_are_rejected() -> None:
    params = TankParams(0.3, 1.5, node_count=3)
    with pytest.raises(ValueError, match="3 values"):
        step_tank([50.0, 40.0], 60.0, 0.0, 10.0, 0.0, 20.0, params)
    with pytest.raises(ValueError, match=">= 0"):
        step_tank([50.0, 40.0, 30.0], 60.0, -1e-4, 10.0, 0.0, 20.0, params)
