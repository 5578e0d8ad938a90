"""Buildings as sinks: heating curve, load fraction, solar shape, mains water."""

from __future__ import annotations

import numpy as np
import pytest

from thermalctl.physics import building, pool, rack

CURVE_35_28 = {
    "indoor_temp_c": 20.0,
    "design_outdoor_temp_c": -10.0,
    "heating_limit_temp_c": 15.0,
    "design_supply_temp_c": 35.0,
    "design_return_temp_c": 28.0,
}


def test_curve_meets_its_design_point_and_the_room_at_the_limit() -> None:
    # At the design outdoor temperature the curve is its design pair; at and above the
    # heating limit supply = return = room (no demand, no jump).
    supply, ret = building.heating_curve_temps_c([-10.0, 15.0, 25.0], **CURVE_35_28,
                                                 emitter_exponent=1.1)
    np.testing.assert_allclose(supply, [35.0, 20.0, 20.0])
    np.testing.assert_allclose(ret, [28.0, 20.0, 20.0])


@pytest.mark.parametrize("exponent", [building.EMITTER_EXPONENT_RADIATOR,
                                      building.EMITTER_EXPONENT_FLOOR])
def test_curve_delivers_the_load_through_the_emitter_characteristic(exponent: float) -> None:
    # EN 442-2: Q / Q_design = (dT_m / dT_m,design)^n with the arithmetic mean excess;
    # at constant flow Q / Q_design = spread / spread_design. Both must give phi.
    outdoor = np.linspace(-10.0, 14.0, 9)
    supply, ret = building.heating_curve_temps_c(outdoor, **CURVE_35_28,
                                                 emitter_exponent=exponent)
    phi = building.heat_load_fraction(outdoor, -10.0, 15.0)
    mean_excess = 0.5 * (supply + ret) - 20.0
    np.testing.assert_allclose((mean_excess / 11.5) ** exponent, phi, rtol=1e-12)
    np.testing.assert_allclose((supply - ret) / 7.0, phi, rtol=1e-12)


def test_load_fraction_is_continuous_at_the_heating_limit() -> None:
    eps = 1e-9
    below = float(building.heat_load_fraction(15.0 - eps, -10.0, 15.0))
    assert below == pytest.approx(0.0, abs=1e-9)
    assert float(building.heat_load_fraction(15.0, -10.0, 15.0)) == 0.0
    assert float(building.heat_load_fraction(-10.0, -10.0, 15.0)) == 1.0
    with pytest.raises(ValueError, match="heating_limit_temp_c"):
        building.heat_load_fraction(0.0, 15.0, 10.0)


def test_mains_temperature_correlation_by_hand() -> None:
    # Burch & Christensen (2007), the EnergyPlus Site:WaterMainsTemperature correlation,
    # worked in degF: annual mean 50 degF, monthly range 30 degF -> ratio 0.46, lag 29 d;
    # peak (50 + 6) + 0.46 x 15 = 62.9 degF = 17.17 degC where 0.986 (d - 44) = 180,
    # trough 49.1 degF = 9.50 degC half a year earlier.
    mean_c, range_k = (50.0 - 32.0) / 1.8, 30.0 / 1.8
    peak_day = 44.0 + 180.0 / 0.986
    trough_day = peak_day - 180.0 / 0.986
    assert float(building.mains_water_temp_c(peak_day, mean_c, range_k)) == pytest.approx(
        (62.9 - 32.0) / 1.8, abs=1e-9)
    assert float(building.mains_water_temp_c(trough_day, mean_c, range_k)) == pytest.approx(
        (49.1 - 32.0) / 1.8, abs=1e-9)
    days = np.arange(1, 366)
    temps = building.mains_water_temp_c(days, mean_c, range_k)
    assert int(days[np.argmax(temps)]) == round(peak_day)
    # The southern hemisphere is half a year out of phase.
    south = building.mains_water_temp_c(days, mean_c, range_k, southern_hemisphere=True)
    assert abs(int(days[np.argmin(south)]) - round(peak_day)) <= 1


def test_solar_shape_is_a_half_sine_over_the_day() -> None:
    hours = np.linspace(0.0, 24.0, 24 * 60, endpoint=False)
    shape = building.solar_gain_shape(hours)
    assert float(shape.mean()) == pytest.approx(1.0 / np.pi, rel=1e-3)
    assert float(building.solar_gain_shape(12.0)) == 1.0
    assert float(building.solar_gain_shape(3.0)) == 0.0


def test_published_tables() -> None:
    # ASHRAE Handbook - HVAC Applications (2019), ch. 6, Table 2.
    assert pool.ACTIVITY_FACTOR_BY_POOL_TYPE["public_school"] == 1.0
    assert pool.ACTIVITY_FACTOR_BY_POOL_TYPE["hotel"] == 0.8
    assert pool.ACTIVITY_FACTOR_BY_POOL_TYPE["residential"] == 0.5
    # ASHRAE TC 9.9 class W45: facility water to the racks up to 45 degC.
    assert rack.COOLANT_LIMITS_BY_COOLING_TYPE["direct_to_chip"][0] == 45.0
    for inlet, outlet in rack.COOLANT_LIMITS_BY_COOLING_TYPE.values():
        assert inlet < outlet
