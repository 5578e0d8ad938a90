"""Rack heat, backup heaters and dry coolers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thermalctl.physics import backup, drycooler, rack
from thermalctl.physics.hx import effectiveness_crossflow_unmixed
from thermalctl.physics.water import density_kg_per_m3, specific_heat_j_per_kg_k

# --- rack ------------------------------------------------------------------


def test_capture_fractions_are_inside_their_documented_ranges() -> None:
    assert set(rack.CAPTURE_FRACTION_BY_COOLING_TYPE) == set(
        rack.CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE
    )
    for kind, value in rack.CAPTURE_FRACTION_BY_COOLING_TYPE.items():
        low, high = rack.CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE[kind]
        assert low <= value <= high, kind
    assert rack.CAPTURE_FRACTION_BY_COOLING_TYPE["air"] == 0.0


def test_captured_heat_and_validation() -> None:
    np.testing.assert_allclose(rack.captured_heat_w([10e3, 20e3], 0.75), [7.5e3, 15e3])
    with pytest.raises(ValueError, match="capture_fraction"):
        rack.captured_heat_w(10e3, 1.2)


def test_outlet_temperature_by_hand() -> None:
    # 30 kW into 0.5 L/s at 40 C: rho = 992.22 kg/m3, cp = 4178.6 J/(kg K) (IAPWS, see
    # test_water) -> dT = 30000 / (0.5e-3 * 992.22 * 4178.6) = 14.47 K. Tolerance 0.01 K
    # covers the rounding of the hand-copied properties.
    assert rack.coolant_outlet_temp_c(40.0, 30e3, 0.5e-3) == pytest.approx(54.47, abs=0.01)
    with pytest.raises(ValueError, match="flow"):
        rack.coolant_outlet_temp_c(40.0, 30e3, 0.0)


@given(heat=st.floats(1.0, 1e6), dt=st.floats(1.0, 30.0), temp=st.floats(5.0, 60.0))
def test_flow_and_outlet_are_inverse(heat: float, dt: float, temp: float) -> None:
    flow = rack.flow_for_delta_t_m3_per_s(heat, dt, temp)
    assert rack.coolant_outlet_temp_c(temp, heat, flow) == pytest.approx(temp + dt, rel=1e-12)


def test_flow_for_delta_t_rejects_non_positive_delta() -> None:
    with pytest.raises(ValueError, match="delta_t_k"):
        rack.flow_for_delta_t_m3_per_s(1e3, 0.0, 30.0)


# --- backup ----------------------------------------------------------------


def test_boiler_and_heat_pump_energy() -> None:
    assert backup.boiler_fuel_w(9.2e3, 0.92) == pytest.approx(10e3)
    assert backup.heat_pump_electricity_w(12e3, 3.0) == pytest.approx(4e3)
    with pytest.raises(ValueError):
        backup.boiler_fuel_w(1e3, 0.0)
    with pytest.raises(ValueError):
        backup.heat_pump_electricity_w(1e3, -1.0)


def test_carnot_cop_by_hand() -> None:
    # Sink 55 C (328.15 K), source 5 C: Carnot COP = 328.15 / 50 = 6.563; x 0.45 = 2.953.
    assert backup.heat_pump_cop(55.0, 5.0) == pytest.approx(0.45 * 328.15 / 50.0, rel=1e-12)
    # Lift below the 5 K floor is held at 5 K instead of dividing by ~0.
    assert backup.heat_pump_cop(30.0, 29.0) == pytest.approx(0.45 * 303.15 / 5.0, rel=1e-12)
    # COP falls as the lift grows.
    cops = backup.heat_pump_cop(np.array([35.0, 45.0, 55.0, 65.0]), 0.0)
    assert np.all(np.diff(cops) < 0)


def test_avoided_co2() -> None:
    # 1 MWh of gas at the BAFA factor 0.201 kg/kWh is 201 kg CO2.
    assert backup.avoided_co2_kg(1000.0, backup.NATURAL_GAS_CO2_KG_PER_KWH_BAFA) == 201.0
    assert backup.NATURAL_GAS_CO2_KG_PER_KWH_BAFA < backup.NATURAL_GAS_CO2E_KG_PER_KWH_GEG


# --- dry cooler ------------------------------------------------------------


def test_rejection_matches_effectiveness_by_hand() -> None:
    # UA 5 kW/K, fluid 4 kW/K (C_min), air 12 kW/K: NTU = 1.25, Cr = 1/3, dT = 15 K.
    eps = effectiveness_crossflow_unmixed(1.25, 1.0 / 3.0)
    q = drycooler.rejection_capacity_w(5000.0, 40.0, 25.0, 4000.0, 12000.0)
    assert q == pytest.approx(eps * 4000.0 * 15.0, rel=1e-12)


def test_rejection_zero_when_fluid_colder_or_no_flow() -> None:
    q = drycooler.rejection_capacity_w(5000.0, [20.0, 25.0, 40.0, 40.0], 25.0, [4e3, 4e3, 4e3, 0])
    np.testing.assert_array_equal(q[[0, 1, 3]], 0.0)
    assert q[2] > 0


def test_rejection_with_infinite_air_capacity() -> None:
    # C_r = 0: eps = 1 - exp(-NTU) (Incropera eq. 11.35a).
    q = drycooler.rejection_capacity_w(4000.0, 35.0, 20.0, 4000.0)
    assert q == pytest.approx((1 - np.exp(-1.0)) * 4000.0 * 15.0, rel=1e-12)


def test_fan_affinity_law() -> None:
    # P ∝ n^3: half speed draws one eighth.
    np.testing.assert_allclose(drycooler.fan_power_w([0.0, 0.5, 1.0], 2000.0), [0, 250, 2000])


@given(duty_fraction=st.floats(0.01, 0.99), ambient=st.floats(-10.0, 30.0))
def test_fan_speed_for_duty_inverts_capacity(duty_fraction: float, ambient: float) -> None:
    args = dict(fluid_in_temp_c=45.0, ambient_temp_c=ambient, fluid_capacity_rate_w_per_k=4e3)
    full = drycooler.rejection_capacity_w(5000.0, air_capacity_rate_w_per_k=12e3, **args)
    duty = duty_fraction * full
    speed = drycooler.fan_speed_for_duty(duty, 5000.0, 45.0, ambient, 4e3, 12e3)
    reached = drycooler.rejection_capacity_w(
        drycooler.ua_at_speed_w_per_k(5000.0, speed), air_capacity_rate_w_per_k=12e3 * speed, **args
    )
    assert 0.0 < speed <= 1.0
    assert reached == pytest.approx(duty, rel=1e-9)


def test_fan_speed_limits() -> None:
    speeds = drycooler.fan_speed_for_duty([0.0, 1e9], 5000.0, 45.0, 25.0, 4e3, 12e3)
    np.testing.assert_array_equal(speeds, [0.0, 1.0])


def test_water_properties_used_by_rack_are_iapws() -> None:
    # Guard that rack uses the same property functions as test_water checks.
    flow = rack.flow_for_delta_t_m3_per_s(1e4, 5.0, 30.0)
    assert flow == pytest.approx(
        1e4 / (density_kg_per_m3(30.0) * specific_heat_j_per_kg_k(30.0) * 5)
    )
